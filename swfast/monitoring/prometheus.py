"""Expose a swfast :class:`~swfast.monitoring.metrics.Registry` to ``prometheus_client``.

``prometheus_client`` is imported only when :func:`register_with_prometheus` or
:class:`PrometheusCollector` is used.
"""
from __future__ import annotations

from typing import Any, Iterator

from .metrics import REGISTRY, Registry


class PrometheusCollector:
    """A ``prometheus_client`` custom collector reading a swfast registry at scrape time."""

    def __init__(self, registry: Registry = REGISTRY) -> None:
        self._registry = registry

    def describe(self) -> list[Any]:
        # An empty describe keeps prometheus_client from collecting at registration time.
        return []

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import (
            CounterMetricFamily,
            GaugeMetricFamily,
            HistogramMetricFamily,
        )

        for snap in self._registry.collect():
            if snap.kind == "counter":
                fam: Any = CounterMetricFamily(snap.name, snap.documentation, labels=None)
            elif snap.kind == "histogram":
                fam = HistogramMetricFamily(snap.name, snap.documentation, labels=None)
            else:
                fam = GaugeMetricFamily(snap.name, snap.documentation, labels=None)
            for s in snap.samples:
                fam.add_sample(s.name, dict(s.labels), s.value)
            yield fam


def register_with_prometheus(registry: Registry = REGISTRY, prometheus_registry: Any = None) -> PrometheusCollector:
    """Register ``registry`` with ``prometheus_client`` (its default registry unless given)."""
    if prometheus_registry is None:
        from prometheus_client import REGISTRY as prometheus_registry
    collector = PrometheusCollector(registry)
    prometheus_registry.register(collector)
    return collector


__all__ = ["PrometheusCollector", "register_with_prometheus"]

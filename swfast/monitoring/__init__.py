"""Monitoring: the metrics core (counters, gauges, histograms), collector, aggregator,
exporters, multi-process metrics, health checks, dashboard and alert view.

Only the metrics core is imported eagerly; the rest loads on first attribute access.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .metrics import (
    CONTENT_TYPE_LATEST,
    DEFAULT_BUCKETS,
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    MetricSnapshot,
    Registry,
    Sample,
    render_text,
)

_LAZY = {
    "MetricsCollector": "collector",
    "SeriesStore": "collector",
    "MetricsAggregator": "aggregator",
    "WindowedSketch": "aggregator",
    "calculate_statistics": "aggregator",
    "MetricsExporter": "exporters",
    "render_openmetrics": "exporters",
    "MultiProcessDir": "multiprocess",
    "HealthChecker": "health",
    "HealthReporter": "health",
    "DashboardGenerator": "dashboard",
    "AlertVisualizer": "dashboard",
    "AlertStore": "alerts",
    "alert_store": "alerts",
    "ProcessSampler": "system",
    "cgroup_limits": "system",
}

if TYPE_CHECKING:
    from .aggregator import MetricsAggregator as MetricsAggregator, WindowedSketch as WindowedSketch, calculate_statistics as calculate_statistics
    from .alerts import AlertStore as AlertStore, alert_store as alert_store
    from .collector import MetricsCollector as MetricsCollector, SeriesStore as SeriesStore
    from .dashboard import AlertVisualizer as AlertVisualizer, DashboardGenerator as DashboardGenerator
    from .exporters import MetricsExporter as MetricsExporter, render_openmetrics as render_openmetrics
    from .health import HealthChecker as HealthChecker, HealthReporter as HealthReporter
    from .multiprocess import MultiProcessDir as MultiProcessDir
    from .system import ProcessSampler as ProcessSampler, cgroup_limits as cgroup_limits


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'swfast.monitoring' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "CONTENT_TYPE_LATEST",
    "Counter",
    "DEFAULT_BUCKETS",
    "Gauge",
    "Histogram",
    "MetricSnapshot",
    "REGISTRY",
    "Registry",
    "Sample",
    "render_text",
    *_LAZY,
]

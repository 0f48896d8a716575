"""Scrape-time metrics of every live circuit breaker (nothing is counted on the call path).

The kernel keeps lifetime counters; one collector registered with the process registry reads
them from a weak set of breakers when metrics are collected.
"""
from __future__ import annotations

import threading
import weakref
from typing import TYPE_CHECKING, Iterable

from ..monitoring.metrics import REGISTRY, MetricSnapshot, Sample

if TYPE_CHECKING:
    from .breaker import CircuitBreaker

_BREAKERS: "weakref.WeakSet[CircuitBreaker]" = weakref.WeakSet()
_LOCK = threading.Lock()
_REGISTERED = False

TRANSITIONS = REGISTRY.counter(
    "swfast_resilience_breaker_transitions_total", "Circuit breaker state transitions.",
    ("name", "from_state", "to_state"),
)


def track(breaker: "CircuitBreaker") -> None:
    """Expose ``breaker``'s counters from now on (until it is garbage collected)."""
    global _REGISTERED
    with _LOCK:
        _BREAKERS.add(breaker)
        if not _REGISTERED:
            REGISTRY.register_collector(collect)
            _REGISTERED = True


def collect() -> Iterable[MetricSnapshot]:
    """Snapshots of state, rates and call counters of every tracked breaker."""
    state, rate, slow_rate, calls, slow = [], [], [], [], []
    for b in list(_BREAKERS):
        snap = b.metrics()
        lab = {"name": b.name}
        state.append(Sample("swfast_resilience_breaker_state", lab, float(snap["state"])))
        # metrics()' ratios 0-1; one not yet known (None: fewer than minimum_calls) has no sample
        failure_ratio, slow_ratio = snap["failure_ratio"], snap["slow_call_ratio"]
        if failure_ratio is not None:
            rate.append(Sample("swfast_resilience_breaker_failure_ratio", lab, float(failure_ratio)))
        if slow_ratio is not None:
            slow_rate.append(Sample("swfast_resilience_breaker_slow_call_ratio", lab, float(slow_ratio)))
        for outcome in ("successful", "failed", "ignored", "not_permitted"):
            calls.append(Sample("swfast_resilience_breaker_calls_total", {**lab, "outcome": outcome},
                                float(snap[outcome])))
        slow.append(Sample("swfast_resilience_breaker_slow_calls_total", lab, float(snap["slow"])))
    return [
        MetricSnapshot("swfast_resilience_breaker_state", "gauge",
                       "Breaker state: 0 closed, 1 open, 2 half-open, 3 forced open, 4 disabled.", state),
        MetricSnapshot("swfast_resilience_breaker_failure_ratio", "gauge",
                       "Failed share of the calls in the window, 0-1 (no sample until minimum_calls).", rate),
        MetricSnapshot("swfast_resilience_breaker_slow_call_ratio", "gauge",
                       "Slow share of the calls in the window, 0-1 (no sample until minimum_calls).", slow_rate),
        MetricSnapshot("swfast_resilience_breaker_calls_total", "counter",
                       "Calls through circuit breakers by outcome.", calls),
        MetricSnapshot("swfast_resilience_breaker_slow_calls_total", "counter",
                       "Calls slower than the slow-call threshold.", slow),
    ]


__all__ = ["TRANSITIONS", "collect", "track"]

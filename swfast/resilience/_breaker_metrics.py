"""Scrape-time metrics of every live circuit breaker (nothing is counted on the call path).

The kernel keeps lifetime counters; one collector registered with the process registry reads
them from a weak set of breakers when metrics are collected.
"""
from __future__ import annotations

import threading
import weakref
from typing import TYPE_CHECKING, Any, Iterable

from ..monitoring.metrics import REGISTRY, MetricSnapshot, Sample
from .history import CircuitState

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


# Severity rank of each state, least first: when live breakers share a name, their one ``state``
# sample is the most severe state among them (a forced-open or open one is what an alert on that name must see).
_SEVERITY = {int(s): rank for rank, s in enumerate((CircuitState.DISABLED, CircuitState.CLOSED, CircuitState.HALF_OPEN,
                                                     CircuitState.OPEN, CircuitState.FORCED_OPEN))}
_CALLS = ("successful", "failed", "ignored", "not_permitted")  # outcomes of ..._calls_total


def collect() -> Iterable[MetricSnapshot]:
    """Snapshots of state, rates and call counters of every tracked breaker.

    One series per breaker name: breakers that share a name (two caches over the same Redis
    node, a breaker rebuilt before the old one is collected) are merged, not written twice
    (Prometheus keeps only one of two samples of the same series in a scrape, silently): the
    counters are summed, the state is the most severe one (forced open, open, half-open, closed,
    disabled) and each ratio the highest known.
    """
    merged: dict[str, dict[str, Any]] = {}
    for b in list(_BREAKERS):
        snap: dict[str, Any] = dict(b.metrics())
        m = merged.setdefault(b.name, snap)
        if m is snap:
            continue
        if _SEVERITY[snap["state"]] > _SEVERITY[m["state"]]:
            m["state"] = snap["state"]
        for ratio in ("failure_ratio", "slow_call_ratio"):
            m[ratio] = _highest(m[ratio], snap[ratio])
        for count in (*_CALLS, "slow"):
            m[count] += snap[count]
    state, rate, slow_rate, calls, slow = [], [], [], [], []
    for name, m in merged.items():
        lab = {"name": name}
        state.append(Sample("swfast_resilience_breaker_state", lab, float(m["state"])))
        # metrics()' ratios 0-1; one not yet known (None: fewer than minimum_calls) has no sample
        failure_ratio, slow_ratio = m["failure_ratio"], m["slow_call_ratio"]
        if failure_ratio is not None:
            rate.append(Sample("swfast_resilience_breaker_failure_ratio", lab, float(failure_ratio)))
        if slow_ratio is not None:
            slow_rate.append(Sample("swfast_resilience_breaker_slow_call_ratio", lab, float(slow_ratio)))
        for outcome in _CALLS:
            calls.append(Sample("swfast_resilience_breaker_calls_total", {**lab, "outcome": outcome},
                                float(m[outcome])))
        slow.append(Sample("swfast_resilience_breaker_slow_calls_total", lab, float(m["slow"])))
    return [
        MetricSnapshot("swfast_resilience_breaker_state", "gauge",
                       "Breaker state: 0 closed, 1 open, 2 half-open, 3 forced open, 4 disabled "
                       "(the most severe of the live breakers of that name).", state),
        MetricSnapshot("swfast_resilience_breaker_failure_ratio", "gauge",
                       "Failed share of the calls in the window, 0-1 (no sample until minimum_calls).", rate),
        MetricSnapshot("swfast_resilience_breaker_slow_call_ratio", "gauge",
                       "Slow share of the calls in the window, 0-1 (no sample until minimum_calls).", slow_rate),
        MetricSnapshot("swfast_resilience_breaker_calls_total", "counter",
                       "Calls through circuit breakers by outcome.", calls),
        MetricSnapshot("swfast_resilience_breaker_slow_calls_total", "counter",
                       "Calls slower than the slow-call threshold.", slow),
    ]


def _highest(a: float | None, b: float | None) -> float | None:
    """The larger of two ratios, either of which may be unknown (``None``)."""
    if a is None:
        return b
    return a if b is None or a >= b else b


__all__ = ["TRANSITIONS", "collect", "track"]

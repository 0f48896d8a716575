"""Scrape-time metrics of every live rate limiter (the kernel counts; nothing on the call path).

Each limiter's kernel keeps ``admitted``/``rejected`` counters; one collector registered with
the process registry reads them, with the tokens available (single buckets) or the number of
keys held (keyed limiters), from a weak set of limiters when metrics are collected.
"""
from __future__ import annotations

import threading
import weakref
from typing import Any, Iterable

from ..monitoring.metrics import REGISTRY, MetricSnapshot, Sample

_LIMITERS: "weakref.WeakSet[Any]" = weakref.WeakSet()
_LOCK = threading.Lock()
_REGISTERED = False


def track(limiter: Any) -> None:
    """Expose ``limiter``'s counters from now on (until it is garbage collected)."""
    global _REGISTERED
    with _LOCK:
        _LIMITERS.add(limiter)
        if not _REGISTERED:
            REGISTRY.register_collector(collect)
            _REGISTERED = True


def collect() -> Iterable[MetricSnapshot]:
    """Decisions per limiter, tokens of single buckets and keys of keyed ones."""
    decisions, tokens, keys = [], [], []
    for lim in list(_LIMITERS):
        lab = {"name": lim.name}
        decisions.append(Sample("swfast_resilience_ratelimit_decisions_total", {**lab, "decision": "admitted"},
                                float(lim.admitted)))
        decisions.append(Sample("swfast_resilience_ratelimit_decisions_total", {**lab, "decision": "rejected"},
                                float(lim.rejected)))
        if hasattr(lim, "prune"):
            keys.append(Sample("swfast_resilience_ratelimit_keys", lab, float(len(lim))))
        else:
            tokens.append(Sample("swfast_resilience_ratelimit_tokens", lab, float(lim.available())))
    return [
        MetricSnapshot("swfast_resilience_ratelimit_decisions_total", "counter",
                       "Rate limiter decisions (try_acquire and reservations).", decisions),
        MetricSnapshot("swfast_resilience_ratelimit_tokens", "gauge", "Tokens available now.", tokens),
        MetricSnapshot("swfast_resilience_ratelimit_keys", "gauge", "Keys held by keyed limiters.", keys),
    ]


__all__ = ["collect", "track"]

"""Usage tracker: hot keys from a compact frequency sketch, per-key demand forecasts, insights.

``track_usage(key)`` costs one sketch increment plus, for keys already hot, one decayed-rate
update. Hot keys are kept in a bounded table ranked by an exponentially decayed request rate
(half-life ``half_life`` seconds), admitted when the count-min sketch says they are frequent.
The last ``trace_size`` keys are kept to compute an LRU miss-ratio curve: the hit rate L1 would
reach at other sizes, which :meth:`CacheAnalyzer.optimize` turns into sizing advice.
"""
from __future__ import annotations

import math
import time
from collections import OrderedDict, deque
from typing import Any, Callable, Iterable

from .._native.sketch import FrequencySketch


class UsageTracker:
    """Tracks what is asked for, to find hot keys and forecast demand.

    Args:
        capacity: distinct keys the sketch tracks well.
        top_k: size of the hot-key table.
        trace_size: recent requests kept for the miss-ratio curve.
        half_life: seconds for a key's decayed rate to halve without requests.
        clock: monotonic clock.
    """

    def __init__(self, *, capacity: int = 10_000, top_k: int = 100, trace_size: int = 100_000,
                 half_life: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        if top_k < 1 or trace_size < 1 or half_life <= 0:
            raise ValueError("top_k, trace_size: must be >= 1; half_life: must be > 0 seconds")
        self.sketch = FrequencySketch(capacity)
        self.top_k, self.clock = top_k, clock
        self.capacity_hint = capacity
        self._tau = half_life / math.log(2)
        self._hot: dict[Any, list[float]] = {}  # key -> [decayed score, last time]
        self._trace: deque[Any] = deque(maxlen=trace_size)
        self.total = 0
        self._started = clock()

    def _decayed(self, entry: list[float], now: float) -> float:
        return entry[0] * math.exp(-(now - entry[1]) / self._tau)

    def track_usage(self, key: Any) -> None:
        """Record one request for ``key``."""
        now = self.clock()
        self.total += 1
        self._trace.append(key)
        self.sketch.increment(key)
        entry = self._hot.get(key)
        if entry is not None:
            entry[0] = self._decayed(entry, now) + 1.0
            entry[1] = now
            return
        est = self.sketch.estimate(key)
        if len(self._hot) < self.top_k:
            self._hot[key] = [float(est), now]
            return
        if est < 2:
            return
        coldest = min(self._hot, key=lambda k: self._decayed(self._hot[k], now))
        if self._decayed(self._hot[coldest], now) < est:
            del self._hot[coldest]
            self._hot[key] = [float(est), now]

    def track_many(self, keys: Iterable[Any]) -> None:
        """Record a batch of requests."""
        for k in keys:
            self.track_usage(k)

    def hot_keys(self, n: int = 10) -> list[tuple[Any, float]]:
        """The ``n`` hottest keys with their current rate (requests per second)."""
        now = self.clock()
        ranked = sorted(((k, self._decayed(e, now) / self._tau) for k, e in self._hot.items()),
                        key=lambda kv: kv[1], reverse=True)
        return ranked[:n]

    def predict_usage(self, key: Any, horizon: float = 60.0) -> float:
        """Expected requests for ``key`` in the next ``horizon`` seconds.

        Hot keys use their decayed rate; others the sketch count over the observed span
        (counts saturate at 15, so cold keys are never over-forecast by much).
        """
        now = self.clock()
        entry = self._hot.get(key)
        if entry is not None:
            return self._decayed(entry, now) / self._tau * horizon
        span = max(now - self._started, 1e-9)
        return self.sketch.estimate(key) / max(span, self._tau) * horizon

    def miss_ratio_curve(self, sizes: Iterable[int]) -> dict[int, float]:
        """LRU hit rate of the recorded trace at each cache size (simulated, exact for LRU)."""
        trace = list(self._trace)
        out: dict[int, float] = {}
        for size in sorted(set(sizes)):
            lru: OrderedDict[Any, None] = OrderedDict()
            hits = 0
            for k in trace:
                if k in lru:
                    lru.move_to_end(k)
                    hits += 1
                else:
                    lru[k] = None
                    if len(lru) > size:
                        lru.popitem(last=False)
            out[size] = hits / len(trace) if trace else 0.0
        return out

    def generate_insights(self, sizes: Iterable[int] | None = None) -> list[dict[str, Any]]:
        """Plain findings with numbers: traffic concentration, the hottest keys, L1 sizing."""
        insights: list[dict[str, Any]] = []
        if not self.total:
            return insights
        trace = list(self._trace)
        hot = self.hot_keys(10)
        if trace:
            hot_set = {k for k, _ in hot}
            share = sum(1 for k in trace if k in hot_set) / len(trace)
            distinct = len(set(trace))
            insights.append({"kind": "concentration", "top10_share": share, "distinct_keys": distinct,
                             "requests": len(trace),
                             "text": f"the 10 hottest keys take {share:.1%} of {len(trace)} recent requests "
                                     f"over {distinct} distinct keys"})
        insights.append({"kind": "hot_keys", "keys": [{"key": k, "rate_per_s": r} for k, r in hot],
                         "text": "hottest keys by decayed request rate"})
        cands = sorted(set(sizes or (100, 1_000, 10_000, 100_000)))
        curve = self.miss_ratio_curve(cands)
        best = max(curve.values()) if curve else 0.0
        enough = next((s for s in cands if curve[s] >= 0.95 * best), cands[-1]) if cands else 0
        insights.append({"kind": "l1_size", "hit_rate_by_size": curve, "recommended": enough,
                         "text": f"an L1 of {enough} entries reaches {curve.get(enough, 0.0):.1%} hit rate, "
                                 f"95% of the best measured ({best:.1%})"})
        return insights


__all__ = ["UsageTracker"]

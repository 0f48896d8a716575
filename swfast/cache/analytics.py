"""Cache analytics: per-tier hit rates over time windows, bytes per tier, advice backed by numbers.

:class:`TierStats` is the manager's counter block (plain integers on the hot path, exported
through the metrics core by a scrape-time collector). :class:`CacheAnalyzer` turns it into
``analyze_hit_rate``, ``analyze_memory_usage`` and ``optimize``; the usage tracker
(``track_usage``, ``predict_usage``, ``generate_insights``) lives in :mod:`swfast.cache.usage`.
"""
from __future__ import annotations

import time
from collections import deque
from typing import Any, Callable

from ..monitoring.metrics import REGISTRY, MetricSnapshot, Sample

TIERS = ("l1", "l2", "l3")


class TierStats:
    """Hit, miss, error and load counters per tier (plain ints: cheap on the hit path).

    Args:
        l1_hits: reads the L1 hit count, which the compiled front keeps on the manager.
    """

    __slots__ = ("_l1_hits", "hits", "misses", "errors", "loads")

    def __init__(self, l1_hits: Callable[[], int] = lambda: 0) -> None:
        self._l1_hits = l1_hits
        self.hits = {"l2": 0, "l3": 0}
        self.misses = {"l1": 0, "l2": 0, "l3": 0}
        self.errors = {"l1": 0, "l2": 0, "l3": 0}
        self.loads = 0

    def hit(self, tier: str) -> None:
        """Count a hit in L2 or L3."""
        self.hits[tier] += 1

    def miss(self, tier: str) -> None:
        """Count a miss in ``tier``."""
        self.misses[tier] += 1

    def error(self, tier: str) -> None:
        """Count a failure in ``tier``."""
        self.errors[tier] = self.errors.get(tier, 0) + 1

    def snapshot(self) -> dict[str, Any]:
        """Totals since creation: ``{"hits": {...}, "misses": {...}, "errors": {...}, "loads": n}``."""
        return {"hits": {"l1": self._l1_hits(), **self.hits}, "misses": dict(self.misses),
                "errors": dict(self.errors), "loads": self.loads}


def _rate(h: int, m: int) -> float:
    return h / (h + m) if h + m else 0.0


class CacheAnalyzer:
    """Hit rates over sliding windows and memory per tier, for one :class:`TieredCache`.

    Call :meth:`sample` periodically (or let :meth:`analyze_hit_rate` do it); windows are
    computed from the differences between samples.

    Args:
        cache: the tiered cache.
        horizon: seconds of samples kept.
        clock: monotonic clock.
    """

    def __init__(self, cache: Any, *, horizon: float = 3600.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.cache, self.horizon, self.clock = cache, horizon, clock
        self._samples: deque[tuple[float, dict[str, Any]]] = deque()
        self.sample()

    def sample(self) -> None:
        """Record the current totals."""
        now = self.clock()
        self._samples.append((now, self.cache.stats.snapshot()))
        while self._samples and self._samples[0][0] < now - self.horizon:
            self._samples.popleft()

    def analyze_hit_rate(self, windows: tuple[float, ...] = (60.0, 300.0, 3600.0)) -> dict[str, Any]:
        """Per-tier and overall hit rate, over all time and over each window (seconds).

        A tier's rate is hits / lookups that reached it; ``overall`` counts a request as a hit
        when any tier answered it without the loader.
        """
        self.sample()
        now, cur = self._samples[-1]
        out: dict[str, Any] = {"total": self._rates(cur, None)}
        for w in windows:
            base = next((s for t, s in self._samples if t >= now - w), self._samples[0][1])
            out[f"{int(w)}s"] = self._rates(cur, base)
        return out

    @staticmethod
    def _rates(cur: dict[str, Any], base: dict[str, Any] | None) -> dict[str, float]:
        def d(kind: str, tier: str) -> int:
            return int(cur[kind][tier] - (base[kind][tier] if base else 0))

        out = {t: _rate(d("hits", t), d("misses", t)) for t in TIERS}
        requests = d("hits", "l1") + d("misses", "l1")
        served = d("hits", "l1") + d("hits", "l2") + d("hits", "l3")
        out["overall"] = served / requests if requests else 0.0
        return out

    def analyze_memory_usage(self) -> dict[str, dict[str, float]]:
        """Entries and bytes per tier (L2 bytes from Redis ``MEMORY USAGE`` is not sampled)."""
        out: dict[str, dict[str, float]] = {}
        l1 = self.cache.l1
        st = l1.stats() if hasattr(l1, "stats") else {}
        out["l1"] = {"entries": float(st.get("size", len(l1))), "bytes": float(st.get("bytes", 0))}
        if self.cache.l3 is not None:
            s3 = self.cache.l3.stats()
            out["l3"] = {"entries": float(s3["entries"]), "bytes": float(s3["bytes"])}
        if self.cache.l2 is not None:
            entries = 0.0
            for node in self.cache.l2.nodes.values():
                try:
                    entries += float(node.client.dbsize())
                except Exception:  # a node down: reported as unknown below
                    entries = float("nan")
                    break
            out["l2"] = {"entries": entries, "bytes": float("nan")}
        return out

    def optimize(self, tracker: Any = None) -> list[dict[str, Any]]:
        """Concrete advice with the numbers behind it.

        With a :class:`~swfast.cache.usage.UsageTracker` it includes the L1 hit rate the
        observed trace would reach at other L1 sizes (its miss-ratio curve).
        """
        advice: list[dict[str, Any]] = []
        rates = self.analyze_hit_rate()["total"]
        snap = self.cache.stats.snapshot()
        if tracker is not None:
            size = int(getattr(self.cache.l1, "maxsize", 0) or tracker.capacity_hint)
            curve = tracker.miss_ratio_curve([max(1, size // 2), size, size * 2, size * 4])
            best = max(curve.items(), key=lambda kv: kv[1])
            if size and curve.get(size * 2, 0) - curve.get(size, 0) >= 0.02:
                advice.append({"action": "grow_l1", "current_size": size, "hit_rate_by_size": curve,
                               "reason": f"doubling L1 to {size * 2} entries would raise its hit rate "
                                         f"from {curve[size]:.3f} to {curve[size * 2]:.3f}"})
            elif size and curve.get(size, 0) - curve.get(max(1, size // 2), 0) < 0.01:
                advice.append({"action": "shrink_l1", "current_size": size, "hit_rate_by_size": curve,
                               "reason": f"halving L1 loses under 1 point of hit rate ({curve[size]:.3f})"})
            else:
                advice.append({"action": "keep_l1", "current_size": size, "hit_rate_by_size": curve,
                               "reason": f"best measured size {best[0]} gives {best[1]:.3f}"})
        errors = sum(snap["errors"].values())
        if errors:
            advice.append({"action": "check_tiers", "errors": snap["errors"],
                           "reason": f"{errors} tier failures were served as misses"})
        if rates["l2"] < 0.2 and snap["hits"]["l2"] + snap["misses"]["l2"] > 100:
            advice.append({"action": "review_l2", "l2_hit_rate": rates["l2"],
                           "reason": "L2 answers under 20% of the lookups that reach it"})
        return advice


def register_metrics(cache: Any, name: str = "default") -> Callable[[], list[MetricSnapshot]]:
    """Export ``cache.stats`` through the metrics core at scrape time (label ``cache=name``)."""

    def collect() -> list[MetricSnapshot]:
        snap = cache.stats.snapshot()
        out = []
        for kind in ("hits", "misses", "errors"):
            metric = f"swfast_cache_tier_{kind}_total"
            out.append(MetricSnapshot(metric, "counter", f"tiered cache {kind} per tier",
                                      [Sample(metric, {"cache": name, "tier": t}, float(v))
                                       for t, v in snap[kind].items()]))
        out.append(MetricSnapshot("swfast_cache_loads_total", "counter", "loader calls",
                                  [Sample("swfast_cache_loads_total", {"cache": name}, float(snap["loads"]))]))
        return out

    REGISTRY.register_collector(collect)
    return collect


__all__ = ["CacheAnalyzer", "TierStats", "register_metrics"]

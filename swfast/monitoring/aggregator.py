"""Aggregation over fixed windows with per-type rules (DogStatsD-style), sketch percentiles.

* counter -> ``increase`` and ``rate`` (per second) over the window,
* gauge -> ``last``/``min``/``max``/``mean``,
* histogram -> ``count``/``sum``/``mean``/``p50``/``p90``/``p95``/``p99``.

Sources: the series recorded by :class:`~swfast.monitoring.collector.MetricsCollector` (their
ring of points) and the metrics of the registry (the aggregator keeps a bounded history of
registry snapshots, one per :meth:`MetricsAggregator.aggregate` or :meth:`tick` call, to compute
increases; registry histograms get percentiles interpolated within their buckets, as
``histogram_quantile`` does). Percentiles of raw values come from the compiled mergeable
:class:`~swfast._native.qsketch.QuantileSketch` (≤ 1 % relative error at any quantile).

:class:`WindowedSketch` is a ring of sketches, one per time slice, merged on read: the
percentiles of the last ``window`` seconds in bounded memory, mergeable across threads and
processes (``to_bytes``).
"""
from __future__ import annotations

import math
import threading
import time
from collections import deque
from typing import Any, Callable, Iterable, Mapping, Sequence

from .._durations import seconds
from .._native.qsketch import QuantileSketch
from ..errors import ConfigurationError, ValidationError
from .collector import MetricsCollector
from .metrics import REGISTRY, MetricSnapshot, Registry

PERCENTILES = (0.5, 0.9, 0.95, 0.99)


def calculate_statistics(values: Iterable[float] | QuantileSketch, *,
                         relative_accuracy: float = 0.01) -> dict[str, float]:
    """``count, sum, mean, min, max, stdev, p50, p90, p95, p99`` of values (or of a sketch).

    Percentiles come from a quantile sketch (≤ ``relative_accuracy`` relative error). NaN or
    infinite values raise :class:`~swfast.errors.ValidationError` naming the item.
    """
    if isinstance(values, QuantileSketch):
        sk = values
        stdev = math.nan
    else:
        sk = QuantileSketch(relative_accuracy)
        try:
            if hasattr(values, "__array__") or isinstance(values, (bytes, memoryview)):
                sk.add_many(values)
                import numpy as np

                arr = np.asarray(values, dtype=float)
                stdev = float(arr.std(ddof=1)) if arr.size > 1 else 0.0 if arr.size else math.nan
            else:
                vals = [float(v[1]) if isinstance(v, tuple) else float(v) for v in values]
                sk.add_many(vals)
                stdev = _stdev(vals)
        except ValueError as exc:
            raise ValidationError(f"values: {exc}", path="values") from None
    out = {"count": sk.count, "sum": sk.sum, "mean": sk.mean, "min": sk.min, "max": sk.max, "stdev": stdev}
    for q in PERCENTILES:
        out[f"p{round(q * 100)}"] = sk.quantile(q)
    return out


def _stdev(vals: Sequence[float]) -> float:
    n = len(vals)
    if n < 2:
        return 0.0 if n else math.nan
    mean = sum(vals) / n
    return math.sqrt(sum((v - mean) ** 2 for v in vals) / (n - 1))


class WindowedSketch:
    """Percentiles over the last ``window`` seconds: a ring of ``slices`` sketches.

    Args:
        window: seconds covered (default 60); a slice is ``window / slices`` seconds.
        slices: sketches in the ring (default 6).
        clock: injectable monotonic clock.
    """

    def __init__(self, window: float = 60.0, slices: int = 6, *, relative_accuracy: float = 0.01,
                 clock: Callable[[], float] = time.monotonic) -> None:
        w = seconds(window, param="window", allow_zero=False)
        assert w is not None
        if int(slices) < 1:
            raise ConfigurationError("slices", f"must be >= 1, got {slices!r}")
        self.window = w
        self.slices = int(slices)
        self._span = w / self.slices
        self._alpha = relative_accuracy
        self._clock = clock
        self._ring: deque[tuple[int, QuantileSketch]] = deque()
        self._lock = threading.Lock()

    def _current(self) -> QuantileSketch:
        idx = int(self._clock() // self._span)
        ring = self._ring
        while ring and ring[0][0] <= idx - self.slices:
            ring.popleft()
        if not ring or ring[-1][0] != idx:
            ring.append((idx, QuantileSketch(self._alpha)))
        return ring[-1][1]

    def add(self, value: float) -> None:
        with self._lock:
            self._current().add(value)

    def merged(self) -> QuantileSketch:
        """One sketch of every value still inside the window."""
        with self._lock:
            self._current()
            out = QuantileSketch(self._alpha)
            for _, sk in self._ring:
                out.merge(sk)
        return out

    def quantile(self, q: float) -> float:
        return self.merged().quantile(q)

    def statistics(self) -> dict[str, float]:
        return calculate_statistics(self.merged())


def _bucket_quantile(q: float, buckets: list[tuple[float, float]]) -> float:
    """``histogram_quantile`` over cumulative ``(le, count)`` buckets."""
    if not buckets or buckets[-1][1] <= 0:
        return math.nan
    total = buckets[-1][1]
    rank = q * total
    prev_le, prev_c = 0.0, 0.0
    for le, c in buckets:
        if c >= rank:
            if le == math.inf:
                return prev_le
            if c == prev_c:
                return le
            return prev_le + (le - prev_le) * (rank - prev_c) / (c - prev_c)
        prev_le, prev_c = le, c
    return prev_le


class MetricsAggregator:
    """Aggregates collector series and registry metrics over windows.

    Args:
        collector: whose series to aggregate (a default :class:`MetricsCollector`).
        registry: registry metrics to include (the shared one by default).
        history: registry snapshots kept for counter increases (default 360).
        clock: wall clock (injectable).
    """

    def __init__(self, collector: MetricsCollector | None = None, registry: Registry | None = None, *,
                 history: int = 360, clock: Callable[[], float] | None = None) -> None:
        self._collector = collector
        self._registry = registry
        self._history: deque[tuple[float, dict[str, MetricSnapshot]]] = deque(maxlen=max(int(history), 2))
        self._clock = clock
        self._lock = threading.Lock()

    @property
    def collector(self) -> MetricsCollector:
        if self._collector is None:
            self._collector = MetricsCollector(self._registry)
        return self._collector

    @property
    def registry(self) -> Registry:
        return self._registry if self._registry is not None else REGISTRY

    def _now(self) -> float:
        return (self._clock or self.collector.store.clock)()

    def tick(self) -> None:
        """Take a registry snapshot now (call periodically for counter rates)."""
        snaps = {s.name: s for s in self.registry.collect()}
        with self._lock:
            self._history.append((self._now(), snaps))

    # -- rules ------------------------------------------------------------------------------
    @staticmethod
    def _series_rule(kind: str, pts: list[tuple[float, float]], window: float) -> dict[str, float]:
        vals = [v for _, v in pts]
        if kind == "counter":
            inc = sum(vals)
            span = max(pts[-1][0] - pts[0][0], window if window != math.inf else 0.0) if pts else 0.0
            return {"increase": inc, "rate": inc / span if span > 0 else 0.0, "count": float(len(vals))}
        if kind == "gauge":
            if not vals:
                return {"last": math.nan, "min": math.nan, "max": math.nan, "mean": math.nan, "count": 0.0}
            return {"last": vals[-1], "min": min(vals), "max": max(vals), "mean": sum(vals) / len(vals),
                    "count": float(len(vals))}
        stats = calculate_statistics(vals)
        return {k: stats[k] for k in ("count", "sum", "mean", "p50", "p90", "p95", "p99", "min", "max")}

    def aggregate(self, window: float | str | None = 60.0) -> dict[str, list[dict[str, Any]]]:
        """``{name: [{"labels": {...}, "kind": ..., <rule fields>}]}`` over the last ``window`` s."""
        w = math.inf if window is None else seconds(window, param="window", allow_zero=False)
        assert w is not None
        now = self._now()
        out: dict[str, list[dict[str, Any]]] = {}
        store = self.collector.store
        for fam in list(store.families.values()):
            rows = []
            for key, series in list(fam.series.items()):
                pts = series.window(now - w if w != math.inf else None)
                rows.append({"labels": dict(key), "kind": fam.kind, **self._series_rule(fam.kind, pts, w)})
            out[fam.name] = rows
        self._aggregate_registry(now, w, out, skip=set(out) | {n + "_total" for n in out})
        return out

    def _aggregate_registry(self, now: float, w: float, out: dict[str, list[dict[str, Any]]],
                            skip: set[str]) -> None:
        current = {s.name: s for s in self.registry.collect()}
        with self._lock:
            self._history.append((now, current))
            base_t, base = self._history[0]
            for t, snaps in self._history:
                if now - t <= w:
                    base_t, base = t, snaps
                    break
        dt = now - base_t
        for name, snap in current.items():
            if name in skip or snap.kind not in ("counter", "gauge", "histogram"):
                continue
            rows: list[dict[str, Any]] = []
            if snap.kind == "histogram":
                rows = self._histogram_rows(snap, base.get(name))
            else:
                old = {tuple(sorted(s.labels.items())): s.value for s in base[name].samples} \
                    if name in base else {}
                for s in snap.samples:
                    if snap.kind == "counter":
                        # a series born after the base snapshot started from 0; a counter that
                        # went down was reset (its whole value is the increase)
                        start = old.get(tuple(sorted(s.labels.items())), 0.0 if dt > 0 else s.value)
                        inc = s.value - start if s.value >= start else s.value
                        rows.append({"labels": dict(s.labels), "kind": "counter", "value": s.value,
                                     "increase": inc, "rate": inc / dt if dt > 0 else 0.0})
                    else:
                        rows.append({"labels": dict(s.labels), "kind": "gauge", "last": s.value,
                                     "min": s.value, "max": s.value, "mean": s.value, "count": 1.0})
            out[name] = rows

    @staticmethod
    def _histogram_rows(snap: MetricSnapshot, base: MetricSnapshot | None) -> list[dict[str, Any]]:
        def group(sn: MetricSnapshot | None) -> dict[tuple[tuple[str, str], ...], dict[str, Any]]:
            res: dict[tuple[tuple[str, str], ...], dict[str, Any]] = {}
            for s in (sn.samples if sn else []):
                labels = {k: v for k, v in s.labels.items() if k != "le"}
                g = res.setdefault(tuple(sorted(labels.items())), {"labels": labels, "buckets": [],
                                                                  "sum": 0.0, "count": 0.0})
                if s.name.endswith("_bucket"):
                    le = s.labels.get("le", "+Inf")
                    g["buckets"].append((math.inf if le == "+Inf" else float(le), s.value))
                elif s.name.endswith("_sum"):
                    g["sum"] = s.value
                elif s.name.endswith("_count"):
                    g["count"] = s.value
            return res

        now_g, old_g = group(snap), group(base) if base is not snap else {}
        rows = []
        for key, g in now_g.items():
            o = old_g.get(key)
            if o is not None and o["count"] <= g["count"]:
                olds = dict(o["buckets"])
                buckets = [(le, c - olds.get(le, 0.0)) for le, c in g["buckets"]]
                count, total = g["count"] - o["count"], g["sum"] - o["sum"]
            else:
                buckets, count, total = g["buckets"], g["count"], g["sum"]
            row: dict[str, Any] = {"labels": g["labels"], "kind": "histogram", "count": count, "sum": total,
                                   "mean": total / count if count else math.nan}
            for q in PERCENTILES:
                row[f"p{round(q * 100)}"] = _bucket_quantile(q, buckets)
            rows.append(row)
        return rows

    def calculate_statistics(self, values: Iterable[float] | QuantileSketch | str,
                             window: int | float | str | None = None, **labels: Any) -> dict[str, float]:
        """Statistics of values, of a sketch, or of a recorded series (given its name)."""
        if isinstance(values, str):
            values = self.collector.get_values(values, window, **labels)
        return calculate_statistics(values)

    def generate_summaries(self, window: float | str | None = 60.0, *,
                           as_text: bool = False) -> dict[str, Any] | str:
        """The :meth:`aggregate` result per metric; ``as_text=True`` gives a readable table."""
        agg = self.aggregate(window)
        if not as_text:
            return {"window_seconds": None if window is None else seconds(window, param="window"),
                    "generated_at": self._now(), "metrics": agg}
        return format_table(agg)


_COLUMNS = ("last", "min", "max", "mean", "increase", "rate", "count", "p50", "p95", "p99")


def format_table(agg: Mapping[str, list[Mapping[str, Any]]]) -> str:
    """A fixed-width text table of an :meth:`MetricsAggregator.aggregate` result."""
    head = ["metric", "labels", "kind", *_COLUMNS]
    rows = [head]
    for name in sorted(agg):
        for r in agg[name]:
            labels = ",".join(f"{k}={v}" for k, v in sorted(r["labels"].items())) or "-"
            rows.append([name, labels, r["kind"], *(_cell(r.get(c)) for c in _COLUMNS)])
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = ["  ".join(c.ljust(widths[i]) for i, c in enumerate(row)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines) + "\n"


def _cell(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        if v != v:
            return "nan"
        return f"{v:.6g}"
    return str(v)


__all__ = ["MetricsAggregator", "PERCENTILES", "WindowedSketch", "calculate_statistics", "format_table"]

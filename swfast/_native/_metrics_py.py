"""Pure-Python twin of the metrics kernel (``_metrics_c.pyx``).

Cells hold a metric's numbers; a cell created with label names is a *family* whose
``labels(...)`` returns (and caches) one child cell per tuple of label values. Policy (names,
help text, registries, exposition) lives in :mod:`swfast.monitoring.metrics`.

Thread safety: each update is atomic. The compiled kernel relies on the GIL (no Python call
happens inside an update); this twin takes a per-cell lock, since ``x += 1`` in Python bytecode
is not atomic.
"""
from __future__ import annotations

import math
import threading
from bisect import bisect_left
from typing import Any, Iterable

_LABELLED = "metric has label names {names}: call .labels(...) first"


class _Cell:
    __slots__ = ("_labelnames", "_children", "_lock", "__weakref__", "__dict__")

    def __init__(self, labelnames: Iterable[str] = ()) -> None:
        names = tuple(labelnames)
        for n in names:
            if not isinstance(n, str):
                raise TypeError(f"labelnames: label names must be str, got {type(n).__name__}")
        self._labelnames = names
        self._children: dict[tuple[str, ...], Any] = {}
        self._lock = threading.Lock()

    @property
    def labelnames(self) -> tuple[str, ...]:
        return self._labelnames

    def labels(self, *values: Any, **kwvalues: Any) -> Any:
        """Return the child cell for these label values (positional or by name)."""
        if kwvalues:
            if values:
                raise ValueError("labels: pass label values positionally or by name, not both")
            try:
                values = tuple(kwvalues[n] for n in self._labelnames)
            except KeyError as exc:
                raise ValueError(
                    f"labels: missing label {exc.args[0]!r}; expected {self._labelnames}"
                ) from None
            if len(kwvalues) != len(self._labelnames):
                extra = sorted(set(kwvalues) - set(self._labelnames))
                raise ValueError(f"labels: unknown label names {extra}; expected {self._labelnames}")
        child = self._children.get(values)
        if child is not None:
            return child
        if not self._labelnames:
            raise ValueError("labels: this metric has no label names")
        if len(values) != len(self._labelnames):
            raise ValueError(
                f"labels: expected {len(self._labelnames)} values for {self._labelnames}, got {len(values)}"
            )
        key = tuple(v if type(v) is str else str(v) for v in values)
        with self._lock:
            child = self._children.get(key)
            if child is None:
                child = self._new_child()  # type: ignore[attr-defined]
                self._children[key] = child
            if key != values:
                self._children[values] = child
        return child

    def children(self) -> list[tuple[tuple[str, ...], Any]]:
        """Snapshot of ``(label values, child)`` pairs, one per distinct child."""
        seen: set[int] = set()
        out = []
        for key, child in list(self._children.items()):
            if id(child) in seen or not all(type(v) is str for v in key):
                continue
            seen.add(id(child))
            out.append((key, child))
        return out

    def remove(self, *values: Any) -> None:
        """Forget the child for these label values."""
        key = tuple(str(v) for v in values)
        with self._lock:
            child = self._children.pop(key, None)
            for k in [k for k, c in self._children.items() if c is child]:
                del self._children[k]

    def clear(self) -> None:
        """Forget every child."""
        with self._lock:
            self._children.clear()

    def _check_unlabelled(self) -> None:
        if self._labelnames:
            raise ValueError(_LABELLED.format(names=self._labelnames))


class CounterCell(_Cell):
    """A monotonically increasing float."""

    __slots__ = ("_value",)

    def __init__(self, labelnames: Iterable[str] = ()) -> None:
        super().__init__(labelnames)
        self._value = 0.0

    def _new_child(self) -> "CounterCell":
        return CounterCell()

    def inc(self, amount: float = 1.0) -> None:
        """Add ``amount`` (must be >= 0)."""
        if self._labelnames:
            self._check_unlabelled()
        amount = float(amount)
        if not amount >= 0.0:
            raise ValueError(f"amount: counters only go up; got {amount!r}")
        with self._lock:
            self._value += amount

    def get(self) -> float:
        return self._value

    def reset(self) -> None:
        with self._lock:
            self._value = 0.0


class GaugeCell(_Cell):
    """A float that goes up and down."""

    __slots__ = ("_value",)

    def __init__(self, labelnames: Iterable[str] = ()) -> None:
        super().__init__(labelnames)
        self._value = 0.0

    def _new_child(self) -> "GaugeCell":
        return GaugeCell()

    def inc(self, amount: float = 1.0) -> None:
        if self._labelnames:
            self._check_unlabelled()
        amount = float(amount)
        with self._lock:
            self._value += amount

    def dec(self, amount: float = 1.0) -> None:
        if self._labelnames:
            self._check_unlabelled()
        amount = float(amount)
        with self._lock:
            self._value -= amount

    def set(self, value: float) -> None:
        if self._labelnames:
            self._check_unlabelled()
        self._value = float(value)

    def get(self) -> float:
        return self._value

    def reset(self) -> None:
        self._value = 0.0


def check_bounds(bounds: Iterable[float]) -> tuple[float, ...]:
    """Validate histogram upper bounds: finite, strictly increasing, at least one."""
    out = tuple(float(b) for b in bounds)
    if not out:
        raise ValueError("buckets: need at least one finite upper bound")
    for i, b in enumerate(out):
        if math.isnan(b) or math.isinf(b):
            raise ValueError(f"buckets: bound {b!r} must be finite (+Inf is implicit)")
        if i and b <= out[i - 1]:
            raise ValueError(f"buckets: bounds must be strictly increasing, got {out}")
    return out


class HistogramCell(_Cell):
    """Fixed-bucket histogram: per-bucket counts (the last bucket is +Inf), sum and count."""

    __slots__ = ("_bounds", "_counts", "_sum")

    def __init__(self, bounds: Iterable[float], labelnames: Iterable[str] = ()) -> None:
        super().__init__(labelnames)
        self._bounds = check_bounds(bounds)
        self._counts = [0] * (len(self._bounds) + 1)
        self._sum = 0.0

    def _new_child(self) -> "HistogramCell":
        return HistogramCell(self._bounds)

    @property
    def bounds(self) -> tuple[float, ...]:
        return self._bounds

    def observe(self, value: float) -> None:
        """Record one observation (``le`` semantics: value == bound falls in that bucket)."""
        if self._labelnames:
            self._check_unlabelled()
        value = float(value)
        if value != value:
            raise ValueError("value: NaN cannot be observed")
        i = bisect_left(self._bounds, value)
        with self._lock:
            self._counts[i] += 1
            self._sum += value

    def get(self) -> tuple[list[int], float, int]:
        """Return ``(per-bucket counts, sum, count)``; counts are not cumulative."""
        with self._lock:
            counts = list(self._counts)
            total = self._sum
        return counts, total, sum(counts)

    def reset(self) -> None:
        with self._lock:
            self._counts = [0] * (len(self._bounds) + 1)
            self._sum = 0.0


__all__ = ["CounterCell", "GaugeCell", "HistogramCell", "check_bounds"]

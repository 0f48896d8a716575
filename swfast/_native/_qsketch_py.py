"""Pure-Python twin of the quantile sketch kernel (``_qsketch_c.pyx``).

A DDSketch-style mergeable quantile sketch: a value ``x > 0`` goes to the log bucket
``k = ceil(log(x) / log(gamma))`` with ``gamma = (1 + a) / (1 - a)``; a quantile is answered with
``2 * gamma**k / (gamma + 1)``, within relative error ``a`` (``relative_accuracy``) of the true
value at any quantile. Negative values use a mirrored store; ``|x| < min_value`` counts as zero.

Memory is bounded by ``bin_limit`` buckets per sign (default 2,048: 1 % accuracy over
``gamma**2048`` ≈ 6e17, e.g. 80 µs to about a year in seconds). When a store would span more
buckets, its lowest buckets are folded into the lowest kept one (accuracy is lost only for the
smallest values, exactly as DDSketch's "collapsing lowest" store).

Sketches with the same parameters merge exactly (``merge``), also across processes through
``to_bytes``/``from_bytes``. Not thread-safe: guard a shared sketch with a lock, or keep one per
thread and merge.
"""
from __future__ import annotations

import math
import struct
from typing import Iterable

_HEADER = struct.Struct("<4sdidddddiiii")
_MAGIC = b"QSK1"


class _Store:
    __slots__ = ("bins", "lo", "hi", "limit")

    def __init__(self, limit: int) -> None:
        self.bins: dict[int, float] = {}
        self.lo = 0
        self.hi = -1
        self.limit = limit

    def add(self, key: int, w: float) -> None:
        bins = self.bins
        if not bins:
            bins[key] = w
            self.lo = self.hi = key
            return
        if key < self.lo:
            floor = self.hi - self.limit + 1
            if key < floor:
                key = floor
            if key < self.lo:
                self.lo = key
        elif key > self.hi:
            self.hi = key
            floor = key - self.limit + 1
            if floor > self.lo:
                folded = 0.0
                for k in [k for k in bins if k < floor]:
                    folded += bins.pop(k)
                if folded:
                    bins[floor] = bins.get(floor, 0.0) + folded
                self.lo = floor
        bins[key] = bins.get(key, 0.0) + w

    def items(self) -> list[tuple[int, float]]:
        return sorted(self.bins.items())

    def clear(self) -> None:
        self.bins.clear()
        self.lo = 0
        self.hi = -1


class QuantileSketch:
    """Mergeable log-bucket quantile sketch with relative-error guarantees.

    Args:
        relative_accuracy: ``a`` in (0, 1); every quantile is within ``a`` of the true value
            (relative), 0.01 by default.
        bin_limit: most buckets kept per sign (>= 16).
        min_value: magnitudes below it count as zero (default 1e-9).
    """

    def __init__(self, relative_accuracy: float = 0.01, bin_limit: int = 2048, min_value: float = 1e-9) -> None:
        a = float(relative_accuracy)
        if not 0.0 < a < 1.0:
            raise ValueError(f"relative_accuracy: must be in (0, 1), got {relative_accuracy!r}")
        if int(bin_limit) < 16:
            raise ValueError(f"bin_limit: must be >= 16, got {bin_limit!r}")
        if not float(min_value) > 0.0:
            raise ValueError(f"min_value: must be > 0, got {min_value!r}")
        self._alpha = a
        self._gamma = (1.0 + a) / (1.0 - a)
        if not self._gamma > 1.0:
            raise ValueError(f"relative_accuracy: {relative_accuracy!r} is too small, "
                             "(1 + a) / (1 - a) rounds to 1; use at least 1e-15")
        self._inv_lg = 1.0 / math.log(self._gamma)
        self._limit = int(bin_limit)
        self._min_value = float(min_value)
        self._pos = _Store(self._limit)
        self._neg = _Store(self._limit)
        self._zero = 0.0
        self._count = 0.0
        self._sum = 0.0
        self._min = math.inf
        self._max = -math.inf

    @property
    def relative_accuracy(self) -> float:
        return self._alpha

    @property
    def bin_limit(self) -> int:
        return self._limit

    @property
    def count(self) -> float:
        return self._count

    @property
    def sum(self) -> float:
        return self._sum

    @property
    def min(self) -> float:
        return self._min if self._count else math.nan

    @property
    def max(self) -> float:
        return self._max if self._count else math.nan

    @property
    def mean(self) -> float:
        return self._sum / self._count if self._count else math.nan

    def add(self, value: float, weight: float = 1.0) -> None:
        """Add ``value`` (finite) with ``weight`` (> 0)."""
        x = float(value)
        w = float(weight)
        if x != x or x in (math.inf, -math.inf):
            raise ValueError(f"value: must be finite, got {value!r}")
        if not w > 0.0 or w == math.inf:
            raise ValueError(f"weight: must be finite and > 0, got {weight!r}")
        if x > self._min_value:
            self._pos.add(math.ceil(math.log(x) * self._inv_lg), w)
        elif x < -self._min_value:
            self._neg.add(math.ceil(math.log(-x) * self._inv_lg), w)
        else:
            self._zero += w
        self._count += w
        self._sum += x * w
        if x < self._min:
            self._min = x
        if x > self._max:
            self._max = x

    def add_many(self, values: Iterable[float]) -> None:
        """Add every value of an iterable (or a float64 buffer such as a numpy array)."""
        for i, v in enumerate(values):
            x = float(v)
            if x != x or x in (math.inf, -math.inf):
                raise ValueError(f"values: item {i} is not finite ({x!r}); items before it were added")
            self.add(x)

    def _value(self, key: int) -> float:
        return 2.0 * self._gamma ** key / (self._gamma + 1.0)

    def quantile(self, q: float) -> float:
        """The ``q``-quantile (0 <= q <= 1); NaN when empty."""
        q = float(q)
        if not 0.0 <= q <= 1.0:
            raise ValueError(f"q: must be in [0, 1], got {q!r}")
        if not self._count:
            return math.nan
        if q == 0.0:
            return self._min
        if q == 1.0:
            return self._max
        rank = q * (self._count - 1.0)
        acc = 0.0
        out = None
        for key, c in reversed(self._neg.items()):
            acc += c
            if acc > rank:
                out = -self._value(key)
                break
        if out is None:
            acc += self._zero
            if acc > rank:
                out = 0.0
        if out is None:
            items = self._pos.items()
            for key, c in items:
                acc += c
                if acc > rank:
                    out = self._value(key)
                    break
            else:
                out = self._value(items[-1][0]) if items else 0.0
        return min(max(out, self._min), self._max)

    def quantiles(self, qs: Iterable[float]) -> list[float]:
        """``[quantile(q) for q in qs]``."""
        return [self.quantile(q) for q in qs]

    def _check_same(self, other: "QuantileSketch") -> None:
        if not isinstance(other, QuantileSketch):
            raise TypeError(f"other: expected QuantileSketch, got {type(other).__name__}")
        if other._alpha != self._alpha or other._limit != self._limit or other._min_value != self._min_value:
            raise ValueError("other: sketches differ in relative_accuracy, bin_limit or min_value")

    def merge(self, other: "QuantileSketch") -> None:
        """Add every value of ``other`` (same parameters) into this sketch."""
        self._check_same(other)
        if not other._count:
            return
        for key, c in other._pos.items():
            self._pos.add(key, c)
        for key, c in other._neg.items():
            self._neg.add(key, c)
        self._zero += other._zero
        self._count += other._count
        self._sum += other._sum
        self._min = min(self._min, other._min)
        self._max = max(self._max, other._max)

    def copy(self) -> "QuantileSketch":
        """An independent copy."""
        out = QuantileSketch(self._alpha, self._limit, self._min_value)
        out.merge(self)
        return out

    def clear(self) -> None:
        """Forget every value."""
        self._pos.clear()
        self._neg.clear()
        self._zero = self._count = self._sum = 0.0
        self._min = math.inf
        self._max = -math.inf

    def bins(self) -> int:
        """Number of non-empty buckets (both signs, plus zero)."""
        return len(self._pos.bins) + len(self._neg.bins) + (1 if self._zero else 0)

    def to_bytes(self) -> bytes:
        """Serialise (little-endian) for merging in another process; ``from_bytes`` reads it."""
        pos = self._pos.items()
        neg = self._neg.items()
        plo = pos[0][0] if pos else 0
        nlo = neg[0][0] if neg else 0
        plen = pos[-1][0] - plo + 1 if pos else 0
        nlen = neg[-1][0] - nlo + 1 if neg else 0
        head = _HEADER.pack(_MAGIC, self._alpha, self._limit, self._min_value, self._zero, self._count,
                            self._min, self._max, plo, plen, nlo, nlen)
        dense = [0.0] * (plen + nlen)
        for k, c in pos:
            dense[k - plo] = c
        for k, c in neg:
            dense[plen + k - nlo] = c
        return head + struct.pack(f"<{plen + nlen}d", *dense) + struct.pack("<d", self._sum)

    @classmethod
    def from_bytes(cls, data: bytes) -> "QuantileSketch":
        """Rebuild a sketch written by ``to_bytes`` (either implementation)."""
        data = bytes(data)
        if len(data) < _HEADER.size + 8 or data[:4] != _MAGIC:
            raise ValueError("data: not a serialised QuantileSketch")
        (_, alpha, limit, min_value, zero, count, vmin, vmax, plo, plen, nlo, nlen) = _HEADER.unpack_from(data)
        if plen < 0 or nlen < 0 or len(data) != _HEADER.size + 8 * (plen + nlen + 1):
            raise ValueError("data: truncated or corrupt QuantileSketch")
        out = cls(alpha, limit, min_value)
        dense = struct.unpack_from(f"<{plen + nlen}d", data, _HEADER.size)
        for i in range(plen):
            if dense[i]:
                out._pos.add(plo + i, dense[i])
        for i in range(nlen):
            if dense[plen + i]:
                out._neg.add(nlo + i, dense[plen + i])
        out._zero = zero
        out._count = count
        out._min = vmin
        out._max = vmax
        (out._sum,) = struct.unpack_from("<d", data, _HEADER.size + 8 * (plen + nlen))
        return out

    def __reduce__(self) -> tuple[object, tuple[bytes]]:
        return (type(self).from_bytes, (self.to_bytes(),))

    def __len__(self) -> int:
        return int(self._count)

    def __repr__(self) -> str:
        return f"QuantileSketch(relative_accuracy={self._alpha}, count={self._count:g})"


__all__ = ["QuantileSketch"]

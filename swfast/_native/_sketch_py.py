"""Pure-Python twin of the sketch kernel (``_sketch_c.pyx``): same hashing, counts and evictions.

Count-min with 4 rows of 8-bit counters saturating at 15, conservative update, and halving of
every counter after ``sample_size`` increments. Row ``i`` uses index ``(h1 + i * h2) & mask``
where ``h`` is a 64-bit mix of ``hash(key) ^ seed``.
"""
from __future__ import annotations

import time
from typing import Any, Callable, Iterable, Iterator

_M64 = 0xFFFFFFFFFFFFFFFF
_DEPTH = 4
_MAXC = 15


def _mix(h: int) -> int:
    h ^= h >> 33
    h = (h * 0xFF51AFD7ED558CCD) & _M64
    h ^= h >> 33
    h = (h * 0xC4CEB9FE1A85EC53) & _M64
    h ^= h >> 33
    return h


class FrequencySketch:
    """Approximate per-key counts in fixed memory.

    Args:
        capacity: number of distinct keys to track well (width = next power of two >= 2x capacity).
        sample_size: increments between halvings (default ``10 * capacity``).
        seed: hash seed (any int).
    """

    def __init__(self, capacity: int, sample_size: int | None = None, seed: int = 0x9E3779B97F4A7C15) -> None:
        if capacity < 1:
            raise ValueError(f"capacity: must be >= 1, got {capacity}")
        w = 16
        while w < 2 * capacity:
            w <<= 1
        self.width = w
        self._mask = w - 1
        self._seed = seed & _M64
        self.sample_size = 10 * capacity if sample_size is None else sample_size
        if self.sample_size < 1:
            raise ValueError(f"sample_size: must be >= 1, got {sample_size}")
        self.additions = 0
        self._table = bytearray(_DEPTH * w)

    def hash_of(self, key: Any) -> int:
        """The sketch's 64-bit hash of ``key``."""
        return _mix((hash(key) & _M64) ^ self._seed)

    def _slots_h(self, h: int) -> list[int]:
        h1, h2 = h & 0xFFFFFFFF, (h >> 32) | 1
        return [i * self.width + ((h1 + i * h2) & self._mask) for i in range(_DEPTH)]

    def increment(self, key: Any) -> None:
        """Count one occurrence of ``key``."""
        self.increment_h(self.hash_of(key))

    def increment_h(self, h: int) -> None:
        """Count one occurrence of a pre-hashed key."""
        t = self._table
        slots = self._slots_h(h)
        m = min(t[s] for s in slots)
        if m < _MAXC:
            for s in slots:  # conservative update: raise only the minimal counters
                if t[s] == m:
                    t[s] = m + 1
        self.additions += 1
        if self.additions >= self.sample_size:
            self._table = bytearray(b >> 1 for b in t)
            self.additions //= 2

    def estimate(self, key: Any) -> int:
        """Estimated count of ``key`` (0..15, an overestimate at worst)."""
        return self.estimate_h(self.hash_of(key))

    def estimate_h(self, h: int) -> int:
        """Estimated count of a pre-hashed key."""
        t = self._table
        return min(t[s] for s in self._slots_h(h))

    def increment_many(self, keys: Iterable[Any]) -> None:
        """Count every key of an iterable."""
        for key in keys:
            self.increment(key)

    def clear(self) -> None:
        """Zero every counter."""
        self._table = bytearray(len(self._table))
        self.additions = 0


WINDOW, PROBATION, PROTECTED = 0, 1, 2
_MISSING = object()


class _Node:
    __slots__ = ("key", "value", "exp", "h", "seg")

    def __init__(self, key: Any, value: Any, exp: float, h: int) -> None:
        self.key, self.value, self.exp, self.h, self.seg = key, value, exp, h, WINDOW


class WTinyLFU:
    """A bounded cache with W-TinyLFU admission (Einziger, Friedman, Manes 2017).

    New keys enter a small LRU window (``window_fraction`` of the capacity). A key pushed out of
    the window competes with the main space's eviction victim: the one the frequency sketch has
    seen more often stays. The main space is a segmented LRU (probation, then protected = 80 %).

    Args:
        maxsize: maximum entries (>= 1).
        window_fraction: share of ``maxsize`` for the admission window.
        ttl: default lifetime in seconds (``None`` = none).
        clock: monotonic clock; ``None`` uses ``time.monotonic``.

    Every operation is O(1). Thread safety: not atomic in this twin; guard it with a lock when
    sharing it between threads without the compiled kernel.
    """

    def __init__(self, maxsize: int, window_fraction: float = 0.01, ttl: float | None = None,
                 clock: Callable[[], float] | None = None) -> None:
        if maxsize < 1:
            raise ValueError(f"maxsize: must be >= 1, got {maxsize}")
        if not 0.0 < window_fraction < 1.0:
            raise ValueError(f"window_fraction: must be in (0, 1), got {window_fraction}")
        if ttl is not None and ttl < 0:
            raise ValueError(f"ttl: must be >= 0 seconds or None, got {ttl}")
        self._cap = maxsize
        self._wcap = min(maxsize, max(1, int(maxsize * window_fraction + 0.5)))
        self._pcap = int((maxsize - self._wcap) * 0.8)
        self._map: dict[Any, _Node] = {}
        self._segs: list[dict[Any, _Node]] = [{}, {}, {}]  # insertion order = LRU order
        self._sketch = FrequencySketch(maxsize)
        self._clock = clock or time.monotonic
        self._ttl = 0.0 if ttl is None else float(ttl)
        self.hits = self.misses = self.evictions = self.rejections = 0

    def _push(self, n: _Node, seg: int) -> None:
        n.seg = seg
        self._segs[seg][n.key] = n

    def _drop(self, n: _Node) -> None:
        del self._segs[n.seg][n.key]
        del self._map[n.key]

    def _touch(self, n: _Node) -> None:
        seg = n.seg
        del self._segs[seg][n.key]
        if seg == WINDOW:
            self._push(n, WINDOW)
        else:
            self._push(n, PROTECTED)
            prot = self._segs[PROTECTED]
            if len(prot) > self._pcap:
                v = prot.pop(next(iter(prot)))
                self._push(v, PROBATION)

    def _evict(self) -> None:
        window = self._segs[WINDOW]
        if len(window) <= self._wcap:
            return
        c = window.pop(next(iter(window)))
        self._push(c, PROBATION)
        prob, prot = self._segs[PROBATION], self._segs[PROTECTED]
        if len(prob) + len(prot) <= self._cap - self._wcap:
            return
        v = prob[next(iter(prob))]
        if v is c:
            v = prot[next(iter(prot))] if prot else c
        if v is not c and self._sketch.estimate_h(c.h) > self._sketch.estimate_h(v.h):
            self._drop(v)
            self.evictions += 1
        else:
            self._drop(c)
            self.rejections += 1

    def fast_get(self, key: Any, default: Any = None) -> Any:
        """The value of ``key`` if present and fresh, else ``default``; counts the access."""
        n = self._map.get(key)
        if n is None:
            self.misses += 1  # the sketch counts the key when it is set
            return default
        if n.exp != 0.0 and n.exp <= self._clock():
            self._drop(n)
            self._sketch.increment_h(n.h)
            self.misses += 1
            return default
        self._sketch.increment_h(n.h)
        self._touch(n)
        self.hits += 1
        return n.value

    def fast_set(self, key: Any, value: Any, ttl: float | None = None) -> None:
        """Store ``value``; ``ttl`` seconds (default the cache's), ``0`` removes the key."""
        t = self._ttl if ttl is None else float(ttl)
        if t < 0:
            raise ValueError(f"ttl: must be >= 0 seconds, got {ttl}")
        if ttl is not None and t == 0.0:
            self.pop(key, None)
            return
        h = self._sketch.hash_of(key)
        exp = self._clock() + t if t > 0.0 else 0.0
        n = self._map.get(key)
        if n is not None:
            n.value, n.exp = value, exp
            self._sketch.increment_h(h)
            self._touch(n)
            return
        self._sketch.increment_h(h)
        n = _Node(key, value, exp, h)
        self._map[key] = n
        self._push(n, WINDOW)
        self._evict()

    def check_vitality(self, key: Any) -> bool:
        """Whether ``key`` is present and fresh (no access counted)."""
        n = self._map.get(key)
        return n is not None and not (n.exp != 0.0 and n.exp <= self._clock())

    def remaining_ttl(self, key: Any) -> float | None:
        """Seconds left for ``key``, ``None`` without TTL; ``KeyError`` if absent or expired."""
        n = self._map.get(key)
        if n is None:
            raise KeyError(key)
        if n.exp == 0.0:
            return None
        left = n.exp - self._clock()
        if left <= 0:
            raise KeyError(key)
        return left

    def pop(self, key: Any, default: Any = _MISSING) -> Any:
        """Remove ``key`` and return its value (``default`` or ``KeyError`` if absent)."""
        n = self._map.get(key)
        if n is None:
            if default is _MISSING:
                raise KeyError(key)
            return default
        self._drop(n)
        return n.value

    def expire(self) -> int:
        """Remove every expired entry; returns how many."""
        now = self._clock()
        doomed = [n for n in self._map.values() if n.exp != 0.0 and n.exp <= now]
        for n in doomed:
            self._drop(n)
        return len(doomed)

    def clear(self) -> None:
        """Remove every entry (the frequency history stays)."""
        for n in list(self._map.values()):
            self._drop(n)

    def __len__(self) -> int:
        return len(self._map)

    def __contains__(self, key: Any) -> bool:
        return self.check_vitality(key)

    def __iter__(self) -> Iterator[Any]:
        return iter(list(self._map))

    def segment_sizes(self) -> tuple[int, int, int]:
        """``(window, probation, protected)`` entry counts."""
        return (len(self._segs[WINDOW]), len(self._segs[PROBATION]), len(self._segs[PROTECTED]))

    def limits(self) -> tuple[int, int, int]:
        """``(maxsize, window capacity, protected capacity)``."""
        return (self._cap, self._wcap, self._pcap)


__all__ = ["FrequencySketch", "WTinyLFU"]

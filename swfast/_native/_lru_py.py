"""Pure-Python twin of the LRU+TTL kernel (``_lru_c.pyx``): same names, same behaviour.

An ``OrderedDict`` kept in recency order (least recent first) maps each key to a list
``[value, expire, size]``. Thread safety: an ``RLock`` makes each operation atomic (the
compiled kernel relies on the GIL instead). Callbacks (``sizeof``, an injected clock) run
before the lock is taken, and removed objects are released after it is dropped, so
destructors that re-enter the cache cannot deadlock or see a half-updated table.
"""
from __future__ import annotations

import math
import sys
import threading
import time
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Callable, Hashable, Iterator

if TYPE_CHECKING:
    from datetime import timedelta

from ..errors import CacheKeyError, ConfigurationError

_MISSING: Any = object()
_INF = math.inf
_MAXSIZE = 0x3FFFFFFF
_NO_COPY = ("an L1 cache cannot be copied or pickled (it owns its table); build a new one and "
            "update() it from items() instead")


def _hash(key: Any) -> None:
    try:
        hash(key)
    except TypeError:
        raise CacheKeyError(
            f"key: unhashable type {type(key).__name__!r}; use a hashable key (str, int, bytes or a tuple of them)"
        ) from None


def _check_ttl(ttl: Any, none_value: float) -> float:
    if ttl is None:
        return none_value
    if isinstance(ttl, bool) or not isinstance(ttl, (int, float)):
        if hasattr(ttl, "total_seconds"):
            ttl = ttl.total_seconds()
        else:
            raise TypeError(f"ttl: expected seconds as int or float (or a timedelta), got {type(ttl).__name__}")
    t = float(ttl)
    if math.isnan(t) or t < 0.0:
        raise ValueError(f"ttl: must be >= 0 seconds (0 stores nothing), got {ttl!r}")
    return t


def _check_size(size: Any, limit: int) -> int:
    if isinstance(size, bool) or not isinstance(size, int):
        raise TypeError(f"sizeof: must return an int, got {type(size).__name__}")
    if size < 0:
        raise ValueError(f"sizeof: returned a negative size {size}")
    if limit >= 0 and size > limit:
        raise ValueError(
            f"value: size {size} is larger than max_bytes={limit}; store a smaller value or raise max_bytes"
        )
    return size


def _clock_probe() -> tuple[float, float, bool]:
    """``(lower, upper, calibrated)`` as the compiled kernel reports them; the twin reads the
    clock itself, so both bounds are exact."""
    lo = time.monotonic()
    return lo, time.monotonic(), True


class LRUCore:
    """Bounded LRU map with optional per-entry TTL and byte budget; O(1) operations."""

    def __init__(
        self,
        maxsize: int,
        ttl: float | timedelta | None = None,
        max_bytes: int | None = None,
        size_fn: Callable[[Any], int] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        if isinstance(maxsize, bool) or not isinstance(maxsize, int):
            raise TypeError(f"an integer is required for maxsize, got {type(maxsize).__name__}")
        if maxsize < 1 or maxsize > _MAXSIZE:
            raise ValueError(f"maxsize: must be between 1 and {_MAXSIZE}, got {maxsize}")
        t = _check_ttl(ttl, _INF)
        mb = -1
        if max_bytes is not None:
            if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 1:
                raise ValueError(f"max_bytes: must be an int >= 1 or None, got {max_bytes!r}")
            mb = max_bytes
            if size_fn is None:
                size_fn = sys.getsizeof
        if size_fn is not None and not callable(size_fn):
            raise TypeError(f"sizeof: must be callable, got {type(size_fn).__name__}")
        if clock is not None and not callable(clock):
            raise TypeError(f"clock: must be a callable returning seconds, got {type(clock).__name__}")
        self._maxsize = maxsize
        self.default_ttl = t
        self._max_bytes = mb
        self._sizeof = size_fn
        self._clock = clock
        self._data: OrderedDict[Hashable, list[Any]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.RLock()
        self.hits = self.misses = self.evictions = self.expirations = 0

    def _now(self) -> float:
        return time.monotonic() if self._clock is None else float(self._clock())

    def _evict_tail(self, junk: list[Any]) -> None:
        key, entry = self._data.popitem(last=False)
        self._bytes -= entry[2]
        self.evictions += 1
        junk.append((key, entry))

    def fast_get(self, key: Hashable, default: Any = None) -> Any:
        """Value of ``key`` if present and fresh (marking it most recent), else ``default``."""
        _hash(key)
        now = self._now() if self._clock is not None else 0.0
        junk = None
        with self._lock:
            entry = self._data.get(key)
            if entry is None:
                self.misses += 1
                return default
            if entry[1] != _INF:
                if self._clock is None:
                    now = time.monotonic()
                if now >= entry[1]:
                    junk = self._data.pop(key)
                    self._bytes -= entry[2]
                    self.expirations += 1
                    self.misses += 1
                    return default
            self._data.move_to_end(key)
            self.hits += 1
            return entry[0]

    def fast_set(self, key: Hashable, value: Any, ttl: float | timedelta | None = None) -> None:
        """Store ``value`` under ``key`` as most recent; ``ttl`` seconds (None: the default TTL).

        ``ttl=0`` stores nothing (and removes an existing entry). Raises ``TypeError`` for an
        unhashable key and ``ValueError`` for a negative TTL or an entry over ``max_bytes``;
        the cache is unchanged after any error.
        """
        _hash(key)
        t = self.default_ttl if ttl is None else _check_ttl(ttl, _INF)
        size = 0
        if self._sizeof is not None:
            size = _check_size(self._sizeof(value), self._max_bytes)
        expire = self._now() + t if (t != _INF and t > 0.0) else _INF
        junk: list[Any] = []
        with self._lock:
            old = self._data.get(key)
            if t == 0.0:
                if old is not None:
                    junk.append(self._data.pop(key))
                    self._bytes -= old[2]
                return
            if old is not None:
                junk.append(old[0])
                self._bytes += size - old[2]
                old[0], old[1], old[2] = value, expire, size
                self._data.move_to_end(key)
                while self._max_bytes >= 0 and self._bytes > self._max_bytes and len(self._data) > 1:
                    self._evict_tail(junk)
                return
            while len(self._data) >= self._maxsize or (
                self._max_bytes >= 0 and self._data and self._bytes + size > self._max_bytes
            ):
                self._evict_tail(junk)
            self._data[key] = [value, expire, size]
            self._bytes += size

    def check_vitality(self, key: Hashable) -> bool:
        """True if ``key`` is present and fresh; does not change recency or statistics."""
        _hash(key)
        now = self._now()
        entry = self._data.get(key)
        return entry is not None and now < entry[1]

    def remaining_ttl(self, key: Hashable) -> float | None:
        """Seconds until ``key`` expires, None if it never does; ``KeyError`` if absent or stale."""
        _hash(key)
        now = self._now()
        entry = self._data.get(key)
        if entry is None or now >= entry[1]:
            raise KeyError(key)
        return None if entry[1] == _INF else entry[1] - now

    def pop(self, key: Hashable, default: Any = _MISSING) -> Any:
        """Remove ``key`` and return its value if fresh; else ``default`` (``KeyError`` if not given)."""
        _hash(key)
        now = self._now()
        with self._lock:
            entry = self._data.pop(key, None)
            if entry is not None:
                self._bytes -= entry[2]
                if now < entry[1]:
                    return entry[0]
                self.expirations += 1
        if default is _MISSING:
            raise KeyError(key)
        return default

    def __getitem__(self, key: Hashable) -> Any:
        value = self.fast_get(key, _MISSING)
        if value is _MISSING:
            raise KeyError(key)
        return value

    def __setitem__(self, key: Hashable, value: Any) -> None:
        self.fast_set(key, value)

    def __delitem__(self, key: Hashable) -> None:
        self.pop(key)

    def __contains__(self, key: object) -> bool:
        return self.check_vitality(key)

    def __len__(self) -> int:
        return len(self._data)

    def _order(self) -> list[Hashable]:
        """Keys from least to most recently used, stale ones included."""
        with self._lock:
            return list(self._data)

    def items(self) -> list[tuple[Hashable, Any]]:
        """Snapshot of fresh ``(key, value)`` pairs, least recent first; recency unchanged."""
        now = self._now()
        with self._lock:
            return [(k, e[0]) for k, e in self._data.items() if now < e[1]]

    def keys(self) -> list[Hashable]:
        """Snapshot of fresh keys, least recent first."""
        return [kv[0] for kv in self.items()]

    def values(self) -> list[Any]:
        """Snapshot of fresh values, least recent first."""
        return [kv[1] for kv in self.items()]

    def __iter__(self) -> Iterator[Hashable]:
        return iter(self.keys())

    def expire(self) -> int:
        """Remove every stale entry now; returns how many were removed."""
        now = self._now()
        with self._lock:
            stale = [k for k, e in self._data.items() if now >= e[1]]
            junk = [self._data.pop(k) for k in stale]
            for e in junk:
                self._bytes -= e[2]
            self.expirations += len(stale)
        return len(stale)

    def clear(self) -> None:
        """Remove every entry (statistics are kept)."""
        with self._lock:
            junk = self._data
            self._data = OrderedDict()
            self._bytes = 0
        del junk

    def resize(self, maxsize: int) -> None:
        """Change the entry bound, evicting least recent entries if needed."""
        if maxsize < 1 or maxsize > _MAXSIZE:
            raise ValueError(f"maxsize: must be between 1 and {_MAXSIZE}, got {maxsize}")
        junk: list[Any] = []
        with self._lock:
            while len(self._data) > maxsize:
                self._evict_tail(junk)
            self._maxsize = maxsize

    @property
    def maxsize(self) -> int:
        return self._maxsize

    @property
    def max_bytes(self) -> int | None:
        """The byte bound (``None``: unbounded); assigning evicts least recent entries down to it."""
        return None if self._max_bytes < 0 else self._max_bytes

    @max_bytes.setter
    def max_bytes(self, value: int | None) -> None:
        self.set_max_bytes(value)

    def set_max_bytes(self, max_bytes: int | None) -> None:
        """Change the byte bound at run time, evicting least recent entries until it holds.

        ``None`` removes the bound (sizes stay accounted). A cache built without
        ``max_bytes`` or ``sizeof`` never measured its values, so it cannot take a bound later.
        """
        mb = -1
        if max_bytes is not None:
            if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 1:
                raise ConfigurationError("max_bytes", f"must be an int >= 1 or None, got {max_bytes!r}")
            if self._sizeof is None:
                raise ConfigurationError("max_bytes", "this cache was built without max_bytes or sizeof, so its "
                                                      "values were never measured; build it with max_bytes")
            mb = max_bytes
        junk: list[Any] = []
        with self._lock:
            while mb >= 0 and self._bytes > mb and self._data:
                self._evict_tail(junk)
            self._max_bytes = mb
        del junk

    def __reduce__(self) -> Any:
        raise TypeError(_NO_COPY)

    def __copy__(self) -> Any:
        raise TypeError(_NO_COPY)

    def __deepcopy__(self, memo: Any) -> Any:
        raise TypeError(_NO_COPY)

    @property
    def ttl(self) -> float | None:
        return None if self.default_ttl == _INF else self.default_ttl

    @property
    def currsize_bytes(self) -> int:
        return self._bytes

    def _validate(self) -> bool:
        """Check internal invariants; raises AssertionError describing the first violation."""
        with self._lock:
            assert len(self._data) <= self._maxsize, f"size {len(self._data)} > maxsize {self._maxsize}"
            total = sum(e[2] for e in self._data.values())
            assert total == self._bytes, f"bytes {total} != accounted {self._bytes}"
        return True


__all__ = ["LRUCore"]

"""L1: the in-process LRU+TTL cache over the compiled kernel.

:class:`L1Cache` *is* the kernel (:class:`swfast._native.lru.LRUCore`) plus a name, statistics
and metrics export, so ``fast_get``/``fast_set`` run without a Python frame in between. It is
a :class:`collections.abc.MutableMapping`.

Concurrency: on CPython with the GIL every operation is atomic, with no Python-level lock
(the "lock-free" L1 of the design): an operation runs as one C call, and the only Python code
that can run inside it (a key's ``__eq__``, an injected clock or ``sizeof``, destructors) runs
at points where the table is consistent. Free-threaded builds (3.13t/3.14t) are not
supported: the compiled module does not declare itself free-threading safe, so importing it
there re-enables the GIL. The pure-Python twin (``SWFAST_NO_EXTENSIONS=1``) takes a lock.
"""
from __future__ import annotations

import itertools
import threading
import weakref
from _collections_abc import MutableMapping  # collections.abc without importing collections

from .._native.lru import LRUCore
from ..errors import ConfigurationError
from ..monitoring.metrics import REGISTRY, MetricSnapshot, Registry, Sample

TYPE_CHECKING = False  # typing and datetime stay off the import path
if TYPE_CHECKING:
    from datetime import timedelta
    from typing import Any, Callable, Hashable, Iterable, TypedDict

    class CacheStats(TypedDict):
        """Counters of one cache since creation."""

        hits: int
        misses: int
        evictions: int
        expirations: int
        size: int
        maxsize: int
        bytes: int
        hit_rate: float
else:
    CacheStats = dict  #: Counters of one cache since creation (a TypedDict for type checkers).


_names = itertools.count(1)


class L1Cache(LRUCore, MutableMapping):  # type: ignore[misc,type-arg]
    """Bounded in-process LRU cache with per-entry TTL, optionally bounded by bytes.

    Args:
        maxsize: most entries held (>= 1); the least recently used is evicted beyond it.
        ttl: default time to live in seconds (or a ``timedelta``, or a string such as ``"10m"``) for entries set without
            one; None means entries never expire by time.
        max_bytes: optional bound on the sum of ``sizeof(value)`` over entries.
        sizeof: size function for ``max_bytes`` (default ``sys.getsizeof``).
        clock: monotonic clock in seconds, injectable for tests (default: the C
            ``CLOCK_MONOTONIC``, read only when an entry has a TTL).
        name: label of this cache in metrics (``cache="<name>"``).
        registry: metrics registry to export statistics to; None exports nothing.

    Raises:
        ValueError: ``maxsize < 1``, a negative ``ttl``, ``max_bytes < 1``.
        TypeError: a non-callable ``sizeof`` or ``clock``.

    An expired entry is never returned; ``ttl=0`` stores nothing; setting over an expired
    entry stores the new value with a fresh TTL. Every operation is O(1) except ``expire()``
    (a sweep) and the snapshot methods ``items``/``keys``/``values``.
    """

    def __init__(
        self,
        maxsize: int = 1024,
        *,
        ttl: float | timedelta | str | None = None,
        max_bytes: int | None = None,
        sizeof: Callable[[Any], int] | None = None,
        clock: Callable[[], float] | None = None,
        name: str | None = None,
        registry: Registry | None = REGISTRY,
    ) -> None:
        if isinstance(maxsize, bool) or not isinstance(maxsize, int):
            raise ConfigurationError("maxsize", f"must be an int >= 1, got {maxsize!r}")
        if maxsize < 1:
            raise ConfigurationError("maxsize", f"must be >= 1, got {maxsize}")
        if isinstance(ttl, str):  # "10m", "250ms": the one duration parser (numbers/timedelta: the kernel)
            from .._durations import seconds

            ttl = seconds(ttl, param="ttl")
        super().__init__(maxsize, ttl, max_bytes, sizeof, clock)
        self.name = name if name is not None else f"l1-{next(_names)}"
        if registry is not None:
            _export(self, registry)

    #: Alias of :meth:`fast_get`.
    get = LRUCore.fast_get
    #: Alias of :meth:`fast_set`.
    set = LRUCore.fast_set

    def stats(self) -> CacheStats:
        """Hits, misses, evictions, expirations, size, bounds and hit rate since creation."""
        lookups = self.hits + self.misses
        return CacheStats(
            hits=self.hits,
            misses=self.misses,
            evictions=self.evictions,
            expirations=self.expirations,
            size=len(self),
            maxsize=self.maxsize,
            bytes=self.currsize_bytes,
            hit_rate=self.hits / lookups if lookups else 0.0,
        )

    def update(self, other: Iterable[tuple[Hashable, Any]] | dict[Hashable, Any] = (), /, **kwargs: Any) -> None:  # type: ignore[override]
        """Set many entries (each with the default TTL)."""
        items = other.items() if isinstance(other, dict) else other
        for k, v in items:
            self.fast_set(k, v)
        for k, v in kwargs.items():
            self.fast_set(k, v)

    def __repr__(self) -> str:
        return f"L1Cache(name={self.name!r}, size={len(self)}, maxsize={self.maxsize}, ttl={self.ttl})"

    __eq__ = object.__eq__  # caches compare by identity, not by content
    __hash__ = object.__hash__


# --------------------------------------------------------------------- metrics export
_exported: "weakref.WeakKeyDictionary[Registry, weakref.WeakSet[L1Cache]]" = weakref.WeakKeyDictionary()
_export_lock = threading.Lock()

_COUNTERS = (
    ("hits", "swfast_cache_hits_total", "Cache lookups that found a fresh entry."),
    ("misses", "swfast_cache_misses_total", "Cache lookups that found nothing fresh."),
    ("evictions", "swfast_cache_evictions_total", "Entries evicted to respect a bound."),
    ("expirations", "swfast_cache_expirations_total", "Entries removed because their TTL passed."),
)
_GAUGES = (
    ("size", "swfast_cache_entries", "Entries held (stale ones not yet swept included)."),
    ("bytes", "swfast_cache_bytes", "Sum of sizeof(value) over entries (0 without max_bytes)."),
    ("hit_rate", "swfast_cache_hit_ratio", "hits / (hits + misses) since creation."),
)


def _export(cache: L1Cache, registry: Registry) -> None:
    with _export_lock:
        caches = _exported.get(registry)
        if caches is None:
            caches = weakref.WeakSet()
            _exported[registry] = caches
            registry.register_collector(lambda: _collect(caches))
        caches.add(cache)


def _collect(caches: "weakref.WeakSet[L1Cache]") -> list[MetricSnapshot]:
    stats = [(c.name, c.stats()) for c in list(caches)]
    out = []
    for field, name, doc in _COUNTERS:
        out.append(MetricSnapshot(name, "counter", doc, [
            Sample(name, {"cache": n, "tier": "l1"}, float(s[field])) for n, s in stats  # type: ignore[literal-required]
        ]))
    for field, name, doc in _GAUGES:
        out.append(MetricSnapshot(name, "gauge", doc, [
            Sample(name, {"cache": n, "tier": "l1"}, float(s[field])) for n, s in stats  # type: ignore[literal-required]
        ]))
    return out


__all__ = ["CacheStats", "L1Cache"]

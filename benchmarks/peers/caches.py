"""In-process cache peers behind one shape: ``make(maxsize) -> (get, set)``.

Every cache holds values with a TTL where it supports one (swfast with ``ttl`` on), so the
comparison is the fastest LRU+TTL in Python against plain LRUs and dict as the floor.
"""
from __future__ import annotations

import os
from typing import Any, Callable

Getter = Callable[[Any], Any]
Setter = Callable[[Any, Any], None]
TTL = 3600.0


def _swfast(maxsize: int) -> tuple[Getter, Setter]:
    from swfast.cache import L1Cache

    c = L1Cache(maxsize, ttl=TTL, registry=None)
    return c.fast_get, c.fast_set


def _swfast_py(maxsize: int) -> tuple[Getter, Setter]:
    from swfast._native._lru_py import LRUCore

    c = LRUCore(maxsize, TTL)
    return c.fast_get, c.fast_set


def _dict(maxsize: int) -> tuple[Getter, Setter]:
    d: dict[Any, Any] = {}
    return d.get, d.__setitem__


def _cachebox(maxsize: int) -> tuple[Getter, Setter]:
    import cachebox

    c = cachebox.LRUCache(maxsize)
    return c.get, c.__setitem__


def _lru_dict(maxsize: int) -> tuple[Getter, Setter]:
    import lru

    c = lru.LRU(maxsize)
    return c.get, c.__setitem__


def _cachetools_lru(maxsize: int) -> tuple[Getter, Setter]:
    import cachetools

    c = cachetools.LRUCache(maxsize)
    return c.get, c.__setitem__


def _cachetools_ttl(maxsize: int) -> tuple[Getter, Setter]:
    import cachetools

    c = cachetools.TTLCache(maxsize, TTL)
    return c.get, c.__setitem__


PEERS: dict[str, Callable[[int], tuple[Getter, Setter]]] = {
    "swfast": _swfast,
    "dict": _dict,
    "cachebox.LRUCache": _cachebox,
    "lru-dict": _lru_dict,
    "cachetools.LRUCache": _cachetools_lru,
    "cachetools.TTLCache": _cachetools_ttl,
}
if os.environ.get("SWFAST_NO_EXTENSIONS", "") in ("", "0"):
    PEERS["swfast-py"] = _swfast_py


def lru_cache_peer(maxsize: int) -> Callable[[Any], Any]:
    """functools.lru_cache over an identity function: a hit is one call."""
    import functools

    @functools.lru_cache(maxsize=maxsize)
    def f(k: Any) -> Any:
        return k

    return f

"""The asyncio half of :class:`~swfast.cache.manager.TieredCache` (mixed into it).

``asmart_get`` shares the manager's generation tokens and tiers: one load per key per event
loop runs as its own task, so cancelling a waiting caller never cancels the load; L2 reads use
the asyncio tier (``al2``) when given, L3 and writes run in a worker thread so the loop never
blocks on disk or on SQLite's lock.
"""
from __future__ import annotations

import asyncio
import functools
import inspect
import logging
from typing import TYPE_CHECKING, Any, Callable, Sequence

from .policy import InvalidationReport, Priority, parse_ttl

if TYPE_CHECKING:
    import threading

    from .analytics import TierStats

log = logging.getLogger("swfast.cache.manager")
_MISS: Any = object()  # the manager's miss sentinel (shared with manager.py)


class _Soft:
    """An L1 value with a soft deadline (stale-while-revalidate)."""

    __slots__ = ("value", "soft")

    def __init__(self, value: Any, soft: float) -> None:
        self.value, self.soft = value, soft


class AsyncTierMixin:
    """Async methods of the tiered cache; see :class:`~swfast.cache.manager.TieredCache`."""

    if TYPE_CHECKING:  # provided by TieredCache
        _l1_get: Callable[[Any, Any], Any]
        l1_hits: int
        tracker: Any
        stats: TierStats
        al2: Any
        l2: Any
        l3: Any
        default_ttl: float | None
        _lock: threading.Lock
        _aflights: dict[Any, asyncio.Future[Any]]
        _refreshing: set[Any]
        _tasks: set[asyncio.Future[Any]]
        monotonic: Callable[[], float]

        def _token(self, key: Any) -> tuple[int, int]: ...
        def _release(self, key: Any) -> None: ...
        def _err(self, tier: str, op: str, exc: BaseException) -> None: ...
        def _lower(self, key: Any) -> tuple[Any, float | None, str] | None: ...
        def _store_loaded(self, key: Any, value: Any, ttl: float | None, token: tuple[int, int],
                          found: tuple[Any, float | None, str] | None) -> None: ...
        def smart_set(self, key: Any, value: Any, ttl: Any = None, *, priority: Priority = "normal",
                      tiers: Sequence[str] | None = None) -> tuple[str, ...]: ...
        def drop_local(self, keys: Any) -> None: ...
        def batch_invalidate(self, keys: Sequence[Any]) -> InvalidationReport: ...

    async def asmart_get(self, key: Any, loader: Callable[[], Any] | None = None, *, ttl: Any = None,
                         default: Any = None) -> Any:
        """Async :meth:`smart_get`: ``loader`` may be sync or async; one load per key per loop."""
        if self.tracker is not None:
            self.tracker.track_usage(key)
        try:
            v = self._l1_get(key, _MISS)
        except Exception as exc:
            self._err("l1", "get", exc)
            v = _MISS
        if v is not _MISS:
            self.l1_hits += 1
            if type(v) is _Soft:
                if loader is not None and v.soft <= self.monotonic():
                    self._arefresh(key, loader, ttl)
                return v.value
            return v
        self.stats.miss("l1")
        fut = self._aflights.get(key)
        if fut is None or fut.get_loop() is not asyncio.get_running_loop():
            with self._lock:
                token = self._token(key)
            seconds = parse_ttl(ttl) if ttl is not None else self.default_ttl
            fut = asyncio.ensure_future(self._aload(key, loader, seconds, token))
            fut.add_done_callback(functools.partial(self._adone, key))
            self._aflights[key] = fut
        value = await asyncio.shield(fut)
        return default if value is _MISS else value

    def _arefresh(self, key: Any, loader: Callable[[], Any], ttl: Any) -> None:
        """Start one background refresh of a soft-expired key (stale-while-revalidate)."""
        with self._lock:
            if key in self._refreshing:
                return
            self._refreshing.add(key)
            token = self._token(key)

        async def run() -> None:
            try:
                value = loader()
                if inspect.isawaitable(value):
                    value = await value
                self.stats.loads += 1
                seconds = parse_ttl(ttl) if ttl is not None else self.default_ttl
                await asyncio.to_thread(self._store_loaded, key, value, seconds, token, None)
            except Exception as exc:
                log.warning("background refresh of %r failed; the stale value stays until its TTL: %s", key, exc)
            finally:
                with self._lock:
                    self._refreshing.discard(key)
                    self._release(key)

        task = asyncio.ensure_future(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _adone(self, key: Any, fut: asyncio.Future[Any]) -> None:
        if not fut.cancelled():
            fut.exception()  # retrieved here; waiters re-raise it
        with self._lock:
            if self._aflights.get(key) is fut:
                del self._aflights[key]
            self._release(key)

    async def _aload(self, key: Any, loader: Callable[[], Any] | None, ttl: float | None,
                     token: tuple[int, int]) -> Any:
        found = None
        if self.al2 is not None:
            try:
                entry = await self.al2.get_entry(key)
            except Exception as exc:
                self._err("l2", "get", exc)
                entry = None
            if entry is not None:
                found = (entry[0], entry[1], "l2")
        if found is None and (self.l3 is not None or (self.l2 is not None and self.al2 is None)):
            found = await asyncio.to_thread(self._lower, key)
        if found is not None:
            self.stats.hit(found[2])
            if found[2] == "l2":
                self._store_loaded(key, None, None, token, found)  # L1 only: no I/O
            else:
                await asyncio.to_thread(self._store_loaded, key, None, None, token, found)
            return found[0]
        if loader is None:
            return _MISS
        value = loader()
        if inspect.isawaitable(value):
            value = await value
        self.stats.loads += 1
        await asyncio.to_thread(self._store_loaded, key, value, ttl, token, None)
        return value

    async def asmart_set(self, key: Any, value: Any, ttl: Any = None, *, priority: Priority = "normal",
                         tiers: Sequence[str] | None = None) -> tuple[str, ...]:
        """Async :meth:`smart_set` (the tier writes run in a worker thread)."""
        return await asyncio.to_thread(self.smart_set, key, value, ttl, priority=priority, tiers=tiers)

    async def ainvalidate(self, key: Any) -> InvalidationReport:
        """Async :meth:`invalidate`: local L1 is dropped before the first await."""
        self.drop_local([key])
        return await asyncio.to_thread(self.batch_invalidate, [key])


__all__ = ["AsyncTierMixin"]

"""``cached``: memoize sync and async functions in an L1 cache, one computation per key.

Single flight: however many threads or asyncio tasks miss the same key at once, the function
runs once; the others wait for that run and get its result or its exception. Exceptions are
never cached. Coroutine objects are never cached: an async function's awaited *result* is.
If the task computing an async value is cancelled, waiting tasks take over instead of seeing
the cancellation.
"""
from __future__ import annotations

import functools
import threading

from .l1 import L1Cache

TYPE_CHECKING = False  # asyncio, inspect and typing load only when a function is decorated
if TYPE_CHECKING:
    import concurrent.futures
    from datetime import timedelta
    from typing import Any, Awaitable, Callable, Hashable, ParamSpec, Protocol, TypeVar, overload

    from .l1 import CacheStats

    P = ParamSpec("P")
    R = TypeVar("R")
    R_co = TypeVar("R_co", covariant=True)

    class CachedFunction(Protocol[P, R_co]):
        """What :func:`cached` returns: the function, plus its cache's handles.

        For annotations only (import it under ``TYPE_CHECKING``).
        """

        cache: L1Cache

        def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R_co: ...

        def cache_clear(self) -> None:
            """Drop every stored result."""

        def cache_info(self) -> CacheStats:
            """The cache's counters (:meth:`L1Cache.stats`)."""

        def in_flight(self) -> int:
            """Keys being computed right now."""

_MISSING = object()
_KWMARK = object()


def _isawaitable(value: object) -> bool:
    import inspect

    return inspect.isawaitable(value)


def make_key(*args: Any, **kwargs: Any) -> Hashable:
    """Default cache key: the positional arguments and sorted keyword arguments."""
    if not kwargs:
        return args[0] if len(args) == 1 and type(args[0]) in (str, int) else args
    return (*args, _KWMARK, *sorted(kwargs.items()))


class _Flight:
    """One in-progress computation that other callers wait for."""

    __slots__ = ("future",)

    def __init__(self) -> None:
        from concurrent.futures import Future

        self.future: concurrent.futures.Future[Any] = Future()


class _Abandoned(Exception):
    """The leader of a flight was cancelled; a waiter should try again."""


class _Singleflight:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._flights: dict[Hashable, _Flight] = {}

    def join(self, key: Hashable) -> tuple[_Flight, bool]:
        """The flight for ``key`` and whether the caller leads it."""
        with self._lock:
            flight = self._flights.get(key)
            if flight is not None:
                return flight, False
            flight = self._flights[key] = _Flight()
            return flight, True

    def land(self, key: Hashable, flight: _Flight) -> None:
        with self._lock:
            if self._flights.get(key) is flight:
                del self._flights[key]

    def __len__(self) -> int:
        return len(self._flights)


_WAIT, _CALL = "wait", "call"


def _miss(store: Any, flights: _Singleflight, k: Hashable, ttl: Any) -> Any:
    """One miss of ``k``, sans I/O: yields ``(_WAIT, flight)`` (the driver waits for another
    caller's result) or ``(_CALL, flight)`` (the driver runs the function); each answer or
    exception is sent back in. The single-flight policy, written once for both wrappers."""
    while True:
        flight, leader = flights.join(k)
        if not leader:
            try:
                return (yield _WAIT, flight)
            except _Abandoned:  # the leader was cancelled: take over (or find its result)
                value = store.fast_get(k, _MISSING)
                if value is not _MISSING:
                    return value
                continue
        try:
            value = yield _CALL, flight
        except BaseException as exc:  # exceptions reach every waiter and are never cached
            flight.future.set_exception(exc)
            raise
        else:
            if not _isawaitable(value):  # never cache a coroutine object
                store.fast_set(k, value, ttl)
            flight.future.set_result(value)
            return value
        finally:
            flights.land(k, flight)


def _run(step: Any, call: Callable[[], Any]) -> Any:
    """Drive :func:`_miss` in the calling thread."""
    try:
        what, flight = next(step)
        while True:
            try:
                value = flight.future.result() if what is _WAIT else call()
            except BaseException as exc:
                what, flight = step.throw(exc)
                continue
            what, flight = step.send(value)
    except StopIteration as stop:
        return stop.value


async def _arun(step: Any, call: Callable[[], Awaitable[Any]]) -> Any:
    """Drive :func:`_miss` in a task; a cancelled leader hands the flight to a waiter."""
    import asyncio

    try:
        what, flight = next(step)
        while True:
            try:
                value = await (asyncio.wrap_future(flight.future) if what is _WAIT else call())
            except asyncio.CancelledError:
                if what is _CALL:
                    try:
                        step.throw(_Abandoned())  # waiters retry instead of seeing our cancellation
                    except _Abandoned:
                        pass
                raise
            except BaseException as exc:
                what, flight = step.throw(exc)
                continue
            what, flight = step.send(value)
    except StopIteration as stop:
        return stop.value


if TYPE_CHECKING:

    @overload
    def cached(func: Callable[P, R], /) -> CachedFunction[P, R]: ...
    @overload
    def cached(
        *,
        cache: L1Cache | None = None,
        key: Callable[..., Hashable] | None = None,
        ttl: float | timedelta | None = None,
        maxsize: int = 1024,
    ) -> Callable[[Callable[P, R]], CachedFunction[P, R]]: ...


def cached(
    func: Callable[P, R] | None = None,
    /,
    *,
    cache: L1Cache | None = None,
    key: Callable[..., Hashable] | None = None,
    ttl: float | timedelta | None = None,
    maxsize: int = 1024,
) -> Any:
    """Memoize ``func`` (sync or ``async def``) in an L1 cache with single-flight misses.

    Args:
        cache: the cache to use (shared caches need distinct ``key`` functions); by default a
            private :class:`L1Cache` of ``maxsize`` entries with ``ttl``.
        key: builds the cache key from the call's arguments (default :func:`make_key`).
        ttl: time to live of stored results, seconds or ``timedelta`` (default: the cache's).
        maxsize: size of the private cache when ``cache`` is not given.

    The wrapper has ``cache``, ``cache_clear()`` and ``cache_info()`` attributes.
    """

    def decorate(fn: Callable[P, R]) -> CachedFunction[P, R]:
        store = cache if cache is not None else L1Cache(maxsize, ttl=ttl, name=f"cached:{fn.__qualname__}")
        keyfn = key or make_key
        flights = _Singleflight()
        ttl_arg = ttl if cache is not None else None

        import inspect

        if inspect.iscoroutinefunction(fn):
            afn: Callable[..., Awaitable[Any]] = fn

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                k = keyfn(*args, **kwargs)
                value = store.fast_get(k, _MISSING)
                if value is not _MISSING:
                    return value
                return await _arun(_miss(store, flights, k, ttl_arg), lambda: afn(*args, **kwargs))

            wrapper: Any = async_wrapper
        else:

            @functools.wraps(fn)
            def sync_wrapper(*args: Any, **kwargs: Any) -> Any:
                k = keyfn(*args, **kwargs)
                value = store.fast_get(k, _MISSING)
                if value is not _MISSING:
                    return value
                return _run(_miss(store, flights, k, ttl_arg), lambda: fn(*args, **kwargs))

            wrapper = sync_wrapper

        wrapper.cache = store
        wrapper.cache_clear = store.clear
        wrapper.cache_info = store.stats
        wrapper.in_flight = flights.__len__
        return wrapper  # type: ignore[no-any-return]

    if func is not None:
        return decorate(func)
    return decorate


__all__ = ["cached", "make_key"]

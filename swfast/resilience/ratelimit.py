"""Token-bucket rate limiting: one bucket, or one per key, with blocking and async acquire.

The buckets are the compiled kernel (:mod:`swfast._native.bucket`), so ``try_acquire`` is one C
call that reads the C monotonic clock. ``acquire``/``aacquire`` reserve tokens on credit and
sleep for exactly the deficit (first come, first served); a waiter that is cancelled,
interrupted or would exceed its ``timeout`` gives its reservation back, so no token is lost.
``set_rate`` changes the rate live: time already elapsed is credited at the old rate.

Guarantees (tested with a fake clock): after any idle time a burst never exceeds ``burst``;
over ``T`` seconds of continuous demand between ``rate*T - 1`` and ``rate*T + burst`` are
admitted; concurrent ``try_acquire`` calls never double-spend a token.

Example:
    >>> limiter = RateLimiter(100.0, 10)
    >>> limiter.try_acquire()
    True

Thread safety: all methods may be called from any thread; ``aacquire`` from any event loop.
"""
from __future__ import annotations

import functools
import inspect
import logging
import time
from typing import Any, Awaitable, Callable, Hashable, ParamSpec, TypeVar

from .._native import bucket as _k
from ..errors import ConfigurationError, RateLimitExceeded
from ..monitoring.metrics import REGISTRY
from . import _ratelimit_metrics
from . import _aio
from ._validate import positive

P = ParamSpec("P")
R = TypeVar("R")
log = logging.getLogger("swfast.resilience")

_WAITS = REGISTRY.counter("swfast_resilience_ratelimit_waits_total",
                          "Blocking acquisitions that had to wait for tokens.", ("name",))
_REJECTED = REGISTRY.counter("swfast_resilience_ratelimit_rejected_total",
                             "Blocking acquisitions refused (timeout) or abandoned (cancelled).", ("name", "reason"))
_INF = float("inf")


def _check(rate: float, burst: float | None) -> tuple[float, float]:
    r = positive("rate", rate)
    b = positive("burst", burst if burst is not None else max(1.0, r))
    if b < 1:
        raise ConfigurationError("burst", f"must be >= 1 so one token fits, got {burst!r}")
    return r, b


def _tokens(n: float, burst: float) -> float:
    if not n > 0:
        raise ConfigurationError("n", f"must be > 0, got {n!r}")
    if n > burst:
        raise ConfigurationError("n", f"{n} tokens can never be available with burst {burst}; raise burst or split the request")
    return n


def _timeout(timeout: float | None) -> float:
    if timeout is None:
        return _INF
    if not timeout >= 0:
        raise ConfigurationError("timeout", f"must be >= 0 seconds or None, got {timeout!r}")
    return float(timeout)


class _Limiter:
    """The limiting policy, written once for both limiters over their bucket kernel.

    ``key`` is the kernel's key arguments: ``()`` for :class:`RateLimiter`'s one bucket,
    ``(key,)`` for a :class:`KeyedRateLimiter`; everything else (validation, waiting, refunds
    on timeout, interruption or cancellation, metrics, decorators, context managers) is shared.
    """

    name: str
    _sleep: Callable[[float], object]
    _asleep: Callable[[float], Awaitable[object]]
    _what = "rate limiter"
    capacity: float
    reserve: Callable[..., float]
    refund: Callable[..., None]

    def _setup(self, name: str, sleep: Callable[[float], object],
               asleep: Callable[[float], Awaitable[object]]) -> None:
        self.name = name
        self._sleep = sleep
        self._asleep = asleep
        _ratelimit_metrics.track(self)

    def set_rate(self, rate: float, now: float | None = None) -> None:
        """Change the rate live (``> 0``); time already elapsed is credited at the old rate."""
        super().set_rate(positive("rate", rate), now)  # type: ignore[misc]
        log.info("%s %r: rate set to %g/s", self._what, self.name, rate)

    def _reserve(self, key: tuple[Any, ...], n: float, timeout: float | None) -> float:
        """The wait for ``n`` tokens taken on credit (``-1``: refused, counted)."""
        wait = self.reserve(*key, _tokens(n, self.capacity), _timeout(timeout))
        if wait < 0:
            _REJECTED.labels(self.name, "timeout").inc()
        elif wait > 0:
            _WAITS.labels(self.name).inc()
        return wait

    def _abandon(self, key: tuple[Any, ...], n: float, reason: str) -> None:
        self.refund(*key, n)
        _REJECTED.labels(self.name, reason).inc()

    def _acquire(self, key: tuple[Any, ...], n: float, timeout: float | None) -> bool:
        wait = self._reserve(key, n, timeout)
        if wait > 0:
            try:
                self._sleep(wait)
            except BaseException:
                self._abandon(key, n, "interrupted")
                raise
        return wait >= 0

    async def _aacquire(self, key: tuple[Any, ...], n: float, timeout: float | None) -> bool:
        wait = self._reserve(key, n, timeout)
        if wait > 0:
            try:
                await self._asleep(wait)
            except BaseException:
                self._abandon(key, n, "cancelled")
                raise
        return wait >= 0

    def _limit(self, key_of: Callable[..., tuple[Any, ...]], n: float,
               timeout: float | None) -> Callable[[Callable[P, R]], Callable[P, R]]:
        _tokens(n, self.capacity)

        def deco(fn: Callable[P, Any]) -> Callable[P, Any]:
            if inspect.iscoroutinefunction(fn):
                @functools.wraps(fn)
                async def awrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
                    if not await self._aacquire(key_of(*args, **kwargs), n, timeout):
                        raise RateLimitExceeded(f"{self._what} {self.name!r}: no token within {timeout}s")
                    return await fn(*args, **kwargs)
                return awrapper

            @functools.wraps(fn)
            def wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
                if not self._acquire(key_of(*args, **kwargs), n, timeout):
                    raise RateLimitExceeded(f"{self._what} {self.name!r}: no token within {timeout}s")
                return fn(*args, **kwargs)
            return wrapper
        return deco

    def _hold(self, key: tuple[Any, ...], n: float, timeout: float | None) -> "Hold":
        return Hold(self, key, _tokens(n, self.capacity), timeout)


def _no_key(*args: Any, **kwargs: Any) -> tuple[Any, ...]:
    return ()


class RateLimiter(_Limiter, _k.TokenBucket):
    """A token bucket admitting ``rate`` operations per second with bursts up to ``burst``.

    Every kernel method it inherits validates its arguments (in both implementations):
    ``try_acquire(n)`` and ``reserve(n, max_wait)`` raise
    :class:`~swfast.errors.ConfigurationError` unless ``0 < n <= burst`` and ``max_wait >= 0``,
    ``refund(n)`` unless ``n >= 0``, and any ``now=`` that is not finite is refused.

    Args:
        rate: tokens per second (``> 0``).
        burst: bucket capacity (``>= 1``); defaults to ``max(1, rate)``.
        name: label for metrics and logs.
        clock: monotonic clock in seconds for tests; default is the C monotonic clock.
        sleep: blocking sleep used by :meth:`acquire` (tests pass a fake).
        asleep: coroutine sleep used by :meth:`aacquire`.
    """

    def __init__(self, rate: float, burst: float | None = None, *, name: str = "default",
                 clock: Callable[[], float] | None = None, sleep: Callable[[float], object] = time.sleep,
                 asleep: Callable[[float], Awaitable[object]] = _aio.asleep) -> None:
        r, b = _check(rate, burst)
        _k.TokenBucket.__init__(self, r, b, clock)
        self._setup(name, sleep, asleep)

    def acquire(self, n: float = 1, timeout: float | None = None) -> bool:
        """Block until ``n`` tokens are granted; False if that would take longer than ``timeout``.

        Raises:
            ConfigurationError: ``n`` is not in ``(0, burst]`` or ``timeout`` is negative.
        """
        return self._acquire((), n, timeout)

    async def aacquire(self, n: float = 1, timeout: float | None = None) -> bool:
        """Await ``n`` tokens; False if that would take longer than ``timeout`` seconds.

        A cancelled waiter gives its reservation back before the cancellation propagates.
        """
        return await self._aacquire((), n, timeout)

    def limit(self, n: float = 1, timeout: float | None = None) -> Callable[[Callable[P, R]], Callable[P, R]]:
        """Decorator: each call first acquires ``n`` tokens (sync or async function).

        Raises:
            RateLimitExceeded: (from the decorated call) no tokens within ``timeout``.
        """
        return self._limit(_no_key, n, timeout)

    def hold(self, n: float = 1, timeout: float | None = None) -> "Hold":
        """A context manager (sync and async) acquiring ``n`` tokens on entry.

        Raises:
            RateLimitExceeded: (on entry) no tokens within ``timeout``.
        """
        return self._hold((), n, timeout)

    def __enter__(self) -> "RateLimiter":
        self._acquire((), 1, None)
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    async def __aenter__(self) -> "RateLimiter":
        await self._aacquire((), 1, None)
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    def __repr__(self) -> str:
        return f"RateLimiter({self.rate:g}/s, burst={self.capacity:g}, name={self.name!r})"


class KeyedRateLimiter(_Limiter, _k.KeyedBuckets):
    """One token bucket per key (tenant, user, API key), all with the same rate and burst.

    The inherited kernel methods validate as :class:`RateLimiter`'s do, with the key first
    (``try_acquire(key, n)``, ``reserve(key, n, max_wait)``, ``refund(key, n)``).
    ``with limiter.hold(key):`` (or ``async with``) acquires one token for the block;
    :meth:`limit` decorates a function.

    Args:
        rate: tokens per second per key (``> 0``).
        burst: capacity per key (``>= 1``).
        max_keys: when this many keys are held, buckets that refilled to full are dropped
            before a new key is added (``0`` never prunes automatically).
        name, clock, sleep, asleep: as for :class:`RateLimiter`.
    """

    _what = "keyed rate limiter"

    def __init__(self, rate: float, burst: float | None = None, *, name: str = "default",
                 max_keys: int = 100_000, clock: Callable[[], float] | None = None,
                 sleep: Callable[[float], object] = time.sleep,
                 asleep: Callable[[float], Awaitable[object]] = _aio.asleep) -> None:
        r, b = _check(rate, burst)
        if isinstance(max_keys, bool) or not isinstance(max_keys, int) or max_keys < 0:
            raise ConfigurationError("max_keys", f"must be an int >= 0, got {max_keys!r}")
        _k.KeyedBuckets.__init__(self, r, b, clock, max_keys)
        self._setup(name, sleep, asleep)

    def acquire(self, key: Hashable, n: float = 1, timeout: float | None = None) -> bool:
        """Block until ``key`` is granted ``n`` tokens; False past ``timeout``."""
        return self._acquire((key,), n, timeout)

    async def aacquire(self, key: Hashable, n: float = 1, timeout: float | None = None) -> bool:
        """Await ``n`` tokens for ``key``; False past ``timeout``; cancellation refunds."""
        return await self._aacquire((key,), n, timeout)

    def limit(self, key: Hashable | Callable[..., Hashable], n: float = 1,
              timeout: float | None = None) -> Callable[[Callable[P, R]], Callable[P, R]]:
        """Decorator: each call first acquires ``n`` tokens for ``key``.

        Args:
            key: a fixed key, or a callable receiving the call's arguments and returning it.

        Raises:
            RateLimitExceeded: (from the decorated call) no tokens within ``timeout``.
        """
        if callable(key):
            pick = key
            return self._limit(lambda *a, **k: (pick(*a, **k),), n, timeout)
        fixed = (key,)
        return self._limit(lambda *a, **k: fixed, n, timeout)

    def hold(self, key: Hashable, n: float = 1, timeout: float | None = None) -> "Hold":
        """A context manager (sync and async) acquiring ``n`` tokens for ``key`` on entry.

        Raises:
            RateLimitExceeded: (on entry) no tokens within ``timeout``.
        """
        return self._hold((key,), n, timeout)


class Hold:
    """``with limiter.hold(...)`` / ``async with``: ``n`` tokens acquired on entry."""

    __slots__ = ("_limiter", "_key", "_n", "_timeout")

    def __init__(self, limiter: _Limiter, key: tuple[Any, ...], n: float, timeout: float | None) -> None:
        self._limiter, self._key, self._n, self._timeout = limiter, key, n, timeout

    def _refused(self) -> RateLimitExceeded:
        target = f" for {self._key[0]!r}" if self._key else ""
        return RateLimitExceeded(f"{self._limiter._what} {self._limiter.name!r}: no token{target} "
                                 f"within {self._timeout}s")

    def __enter__(self) -> "Hold":
        if not self._limiter._acquire(self._key, self._n, self._timeout):
            raise self._refused()
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    async def __aenter__(self) -> "Hold":
        if not await self._limiter._aacquire(self._key, self._n, self._timeout):
            raise self._refused()
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None


__all__ = ["Hold", "KeyedRateLimiter", "RateLimiter"]

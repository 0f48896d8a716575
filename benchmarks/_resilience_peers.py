"""Adapters giving every resilience peer the same shape, for asv and the quick benchmarks.

Each ``*_limiter`` returns a zero-argument callable making one admission decision (the limit
is huge so every call is admitted: steady-state decision cost); each ``*_keyed`` returns a
callable of one key; each ``*_breaker``/``*_retry`` returns ``fn`` wrapped by the peer.
"""
from __future__ import annotations

import time
from typing import Any, Callable

HUGE = 10**12


class PurePythonBucket:
    """The 15-line pure-Python token bucket of the issue (the floor to beat)."""

    def __init__(self, rate: float, capacity: float) -> None:
        self.rate, self.capacity = rate, capacity
        self.tokens, self.last = capacity, time.monotonic()

    def try_acquire(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class PurePythonKeyed:
    """Pure-Python keyed buckets: a dict of ``[tokens, last]``."""

    def __init__(self, rate: float, capacity: float) -> None:
        self.rate, self.capacity, self.buckets = rate, capacity, {}

    def try_acquire(self, key: Any) -> bool:
        now = time.monotonic()
        b = self.buckets.get(key)
        if b is None:
            b = self.buckets[key] = [self.capacity, now]
        b[0] = min(self.capacity, b[0] + (now - b[1]) * self.rate)
        b[1] = now
        if b[0] >= 1:
            b[0] -= 1
            return True
        return False


def swfast_limiter() -> Callable[[], bool]:
    from swfast.resilience import RateLimiter

    return RateLimiter(HUGE, HUGE).try_acquire


def swfast_py_limiter() -> Callable[[], bool]:
    from swfast._native._bucket_py import TokenBucket

    return TokenBucket(HUGE, HUGE).try_acquire


def swfast_keyed() -> Callable[[Any], bool]:
    from swfast.resilience import KeyedRateLimiter

    return KeyedRateLimiter(HUGE, HUGE).try_acquire


def swfast_py_keyed() -> Callable[[Any], bool]:
    from swfast._native._bucket_py import KeyedBuckets

    return KeyedBuckets(HUGE, HUGE).try_acquire


def python_limiter() -> Callable[[], bool]:
    return PurePythonBucket(HUGE, HUGE).try_acquire


def python_keyed() -> Callable[[Any], bool]:
    return PurePythonKeyed(HUGE, HUGE).try_acquire


def limits_keyed() -> Callable[[Any], bool]:
    import limits
    from limits.storage import MemoryStorage
    from limits.strategies import FixedWindowRateLimiter

    limiter, item = FixedWindowRateLimiter(MemoryStorage()), limits.parse(f"{10**9}/second")
    return lambda key: limiter.hit(item, key)


def limits_limiter() -> Callable[[], bool]:
    hit = limits_keyed()
    return lambda: hit("one")


def pyrate_keyed() -> Callable[[Any], bool]:
    import pyrate_limiter as p

    limiter = p.Limiter(p.Rate(10**9, p.Duration.SECOND))
    return lambda key: limiter.try_acquire(str(key), blocking=False)  # type: ignore[return-value]


def pyrate_limiter() -> Callable[[], bool]:
    acquire = pyrate_keyed()
    return lambda: acquire("one")


def swfast_breaker(fn: Callable[[], Any], twin: bool = False) -> Callable[[], Any]:
    if twin:
        from swfast._native._breaker_py import BreakerCore, CountWindow

        core = BreakerCore(CountWindow(100), 100, 50.0, 100.0, 60.0, 60.0, 10, 0.0)
        return core.wrap(fn)  # type: ignore[return-value]
    from swfast.resilience import CircuitBreaker

    return CircuitBreaker("bench")(fn)


def pybreaker_breaker(fn: Callable[[], Any]) -> Callable[[], Any]:
    import pybreaker

    return pybreaker.CircuitBreaker(fail_max=5, reset_timeout=60)(fn)  # type: ignore[no-any-return]


def swfast_retry(fn: Callable[[], Any]) -> Callable[[], Any]:
    from swfast.resilience import retry

    return retry(on=OSError)(fn)


def tenacity_retry(fn: Callable[[], Any]) -> Callable[[], Any]:
    import tenacity

    return tenacity.retry(retry=tenacity.retry_if_exception_type(OSError),  # type: ignore[no-any-return]
                          stop=tenacity.stop_after_attempt(10), wait=tenacity.wait_random_exponential())(fn)


def stamina_retry(fn: Callable[[], Any]) -> Callable[[], Any]:
    import stamina

    return stamina.retry(on=OSError)(fn)  # type: ignore[no-any-return]


def python_retry(fn: Callable[[], Any]) -> Callable[[], Any]:
    """A minimal pure-Python retry wrapper (the issue's 85-220 ns floor)."""
    def wrapper() -> Any:
        for attempt in range(3):
            try:
                return fn()
            except OSError:
                if attempt == 2:
                    raise
        return None

    return wrapper


def python_delay() -> Callable[[int], float]:
    """Capped exponential backoff in plain Python."""
    def delay(attempt: int, base: float = 0.1, factor: float = 2.0, cap: float = 5.0) -> float:
        if attempt > 64:
            return cap
        return min(cap, base * factor ** (attempt - 1))

    return delay

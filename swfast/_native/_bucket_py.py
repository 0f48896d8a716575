"""Pure-Python twin of the token-bucket kernel (``_bucket_c.pyx``).

Tokens refill continuously at ``rate`` per second up to ``capacity``; time is seconds on a
monotonic clock: the injected ``now`` argument, else the bucket's ``clock`` callable, else
:func:`time.monotonic`. A clock that goes backwards refills nothing. ``reserve`` may take
tokens on credit (the balance goes negative) and returns how long the caller must wait;
``refund`` gives a reservation back. ``admitted`` and ``rejected`` count decisions (for
scrape-time metrics). Thread-safe: one lock per structure, held only for the arithmetic.
"""
from __future__ import annotations

import math
import threading
import time
from typing import Callable, Hashable

from ..errors import ConfigurationError

_monotonic = time.monotonic


def _bad_n(n: float, capacity: float) -> None:
    if n > capacity:
        raise ConfigurationError("n", f"{n:g} tokens can never be available with burst {capacity:g}; "
                                      "raise burst or split the request")
    raise ConfigurationError("n", f"must be > 0, got {n!r}")


def _check_wait(max_wait: float) -> None:
    if not max_wait >= 0.0:
        raise ConfigurationError("max_wait", f"must be >= 0 seconds (inf waits for ever), got {max_wait!r}")


def _given_now(now: float) -> float:
    if isinstance(now, (str, bytes, bytearray)):  # float() would parse them; the kernel refuses
        raise TypeError(f"now: must be a real number, not {type(now).__name__}")
    t = float(now)
    if not math.isfinite(t):
        raise ConfigurationError("now", f"must be a finite time in seconds, got {now!r}")
    return t


def _check_refund(n: float) -> None:
    if not n >= 0.0:
        raise ConfigurationError("n", f"refund must be >= 0 tokens, got {n!r}")


class TokenBucket:
    """One token bucket.

    Args:
        rate: tokens added per second (``> 0``).
        capacity: maximum tokens held (``>= 1``); the bucket starts full.
        clock: optional monotonic clock in seconds, read when ``now`` is not passed.
    """

    __slots__ = ("_rate", "_capacity", "_tokens", "_last", "_clock", "_lock", "admitted", "rejected",
                 "__weakref__")

    def __init__(self, rate: float, capacity: float, clock: Callable[[], float] | None = None) -> None:
        self._rate = float(rate)
        self._capacity = float(capacity)
        self._tokens = self._capacity
        self._clock = clock
        self._last = clock() if clock is not None else _monotonic()
        self._lock = threading.Lock()
        self.admitted = 0
        self.rejected = 0

    @property
    def rate(self) -> float:
        return self._rate

    @property
    def capacity(self) -> float:
        return self._capacity

    def _now(self, now: float | None) -> float:
        if now is not None:
            return _given_now(now)
        return self._clock() if self._clock is not None else _monotonic()

    def _refill(self, now: float) -> None:
        if now > self._last:
            t = self._tokens + (now - self._last) * self._rate
            self._tokens = t if t < self._capacity else self._capacity
            self._last = now

    def try_acquire(self, n: float = 1, now: float | None = None) -> bool:
        """Take ``n`` tokens (``0 < n <= capacity``) if available now; never waits."""
        if not 0.0 < n <= self._capacity:
            _bad_n(n, self._capacity)
        t = self._now(now)
        with self._lock:
            self._refill(t)
            if self._tokens >= n:
                self._tokens -= n
                self.admitted += 1
                return True
            self.rejected += 1
            return False

    def reserve(self, n: float, max_wait: float, now: float | None = None) -> float:
        """Take ``n`` tokens on credit if they are available within ``max_wait`` seconds.

        Returns the wait in seconds (``0.0`` when available now), or ``-1.0`` when the wait
        would exceed ``max_wait`` (nothing is taken then).
        """
        if not 0.0 < n <= self._capacity:
            _bad_n(n, self._capacity)
        _check_wait(max_wait)
        t = self._now(now)
        with self._lock:
            self._refill(t)
            deficit = n - self._tokens
            wait = deficit / self._rate if deficit > 0 else 0.0
            if wait > max_wait:
                self.rejected += 1
                return -1.0
            self._tokens -= n
            self.admitted += 1
            return wait

    def refund(self, n: float) -> None:
        """Give back ``n`` tokens of an abandoned reservation (never above capacity)."""
        _check_refund(n)
        with self._lock:
            t = self._tokens + n
            self._tokens = t if t < self._capacity else self._capacity

    def available(self, now: float | None = None) -> float:
        """Tokens available now (negative while reservations are outstanding)."""
        t = self._now(now)
        with self._lock:
            self._refill(t)
            return self._tokens

    def set_rate(self, rate: float, now: float | None = None) -> None:
        """Change the refill rate; time already elapsed is credited at the old rate."""
        t = self._now(now)
        with self._lock:
            self._refill(t)
            self._rate = float(rate)


class KeyedBuckets:
    """A family of token buckets, one per key, sharing one rate and capacity.

    A key's bucket is created full on first use; ``prune`` drops buckets that have refilled to
    capacity (indistinguishable from absent ones), which bounds memory for idle keys. With
    ``max_keys`` set, a new key arriving when that many are held prunes first (amortised: the
    next automatic prune waits until the family has doubled again).
    """

    __slots__ = ("_rate", "_capacity", "_buckets", "_clock", "_lock", "_max_keys", "_prune_at", "admitted",
                 "rejected", "__weakref__")

    def __init__(self, rate: float, capacity: float, clock: Callable[[], float] | None = None,
                 max_keys: int = 0) -> None:
        self._max_keys = int(max_keys)
        self._prune_at = self._max_keys
        self._rate = float(rate)
        self._capacity = float(capacity)
        self._clock = clock
        self._buckets: dict[Hashable, list[float]] = {}
        self._lock = threading.Lock()
        self.admitted = 0
        self.rejected = 0

    @property
    def rate(self) -> float:
        return self._rate

    @property
    def capacity(self) -> float:
        return self._capacity

    def __len__(self) -> int:
        return len(self._buckets)

    def _now(self, now: float | None) -> float:
        if now is not None:
            return _given_now(now)
        return self._clock() if self._clock is not None else _monotonic()

    def _slot(self, key: Hashable, now: float) -> list[float]:
        slot = self._buckets.get(key)
        if slot is None:
            if self._prune_at and len(self._buckets) >= self._prune_at:
                self._prune_full(now)
                self._prune_at = max(self._max_keys, 2 * len(self._buckets))
            slot = self._buckets[key] = [self._capacity, now]
        elif now > slot[1]:
            t = slot[0] + (now - slot[1]) * self._rate
            slot[0] = t if t < self._capacity else self._capacity
            slot[1] = now
        return slot

    def try_acquire(self, key: Hashable, n: float = 1, now: float | None = None) -> bool:
        """Take ``n`` tokens (``0 < n <= capacity``) from ``key``'s bucket if available now."""
        if not 0.0 < n <= self._capacity:
            _bad_n(n, self._capacity)
        t = self._now(now)
        with self._lock:
            slot = self._slot(key, t)
            if slot[0] >= n:
                slot[0] -= n
                self.admitted += 1
                return True
            self.rejected += 1
            return False

    def reserve(self, key: Hashable, n: float, max_wait: float, now: float | None = None) -> float:
        """As :meth:`TokenBucket.reserve`, for ``key``'s bucket."""
        if not 0.0 < n <= self._capacity:
            _bad_n(n, self._capacity)
        _check_wait(max_wait)
        t = self._now(now)
        with self._lock:
            slot = self._slot(key, t)
            deficit = n - slot[0]
            wait = deficit / self._rate if deficit > 0 else 0.0
            if wait > max_wait:
                self.rejected += 1
                return -1.0
            slot[0] -= n
            self.admitted += 1
            return wait

    def refund(self, key: Hashable, n: float) -> None:
        """Give back ``n`` tokens to ``key``'s bucket (never above capacity)."""
        _check_refund(n)
        with self._lock:
            slot = self._buckets.get(key)
            if slot is not None:
                t = slot[0] + n
                slot[0] = t if t < self._capacity else self._capacity

    def available(self, key: Hashable, now: float | None = None) -> float:
        """Tokens available now in ``key``'s bucket."""
        t = self._now(now)
        with self._lock:
            return self._slot(key, t)[0]

    def set_rate(self, rate: float, now: float | None = None) -> None:
        """Change the refill rate of every key; elapsed time is credited at the old rate."""
        t = self._now(now)
        with self._lock:
            for key in list(self._buckets):
                self._slot(key, t)
            self._rate = float(rate)

    def prune(self, now: float | None = None) -> int:
        """Drop buckets that are full again; returns how many were dropped."""
        t = self._now(now)
        with self._lock:
            return self._prune_full(t)

    def _prune_full(self, now: float) -> int:
        full = [k for k in list(self._buckets) if self._slot(k, now)[0] >= self._capacity]
        for k in full:
            del self._buckets[k]
        return len(full)


__all__ = ["KeyedBuckets", "TokenBucket"]

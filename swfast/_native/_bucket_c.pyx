# cython: freethreading_compatible = False, cdivision = True
"""Compiled token-bucket kernel; the pure-Python twin is ``_bucket_py.py``.

The clock is read first (C ``clock_gettime(CLOCK_MONOTONIC)`` unless ``now`` or a ``clock``
callable is given); the arithmetic after it calls no Python code, so each method is one atomic
step under the GIL and no lock is needed. Not declared free-threading compatible.
"""
from libc.math cimport isfinite
from swfast._native._clock cimport mono as _mono

from swfast.errors import ConfigurationError


cdef int _bad_n(double n, double capacity) except -1:
    if n > capacity:
        raise ConfigurationError("n", f"{n:g} tokens can never be available with burst {capacity:g}; "
                                      "raise burst or split the request")
    raise ConfigurationError("n", f"must be > 0, got {n!r}")


cdef int _bad_refund(double n) except -1:
    raise ConfigurationError("n", f"refund must be >= 0 tokens, got {n!r}")


cdef int _bad_wait(double max_wait) except -1:
    raise ConfigurationError("max_wait", f"must be >= 0 seconds (inf waits for ever), got {max_wait!r}")


cdef double _given_now(object now) except? -1.0:
    cdef double t = <double>now
    if not isfinite(t):
        raise ConfigurationError("now", f"must be a finite time in seconds, got {now!r}")
    return t


cdef class TokenBucket:
    """One token bucket (see the twin for the argument meanings)."""

    cdef double _rate, _capacity, _tokens, _last
    cdef object _clock
    cdef readonly unsigned long long admitted, rejected
    cdef object __weakref__

    def __init__(self, double rate, double capacity, clock=None):
        self._rate = rate
        self._capacity = capacity
        self._tokens = capacity
        self._clock = clock
        self._last = float(clock()) if clock is not None else _mono()

    @property
    def rate(self):
        return self._rate

    @property
    def capacity(self):
        return self._capacity

    cdef inline double _now(self, object now) except? -1.0:
        if now is not None:
            return _given_now(now)
        if self._clock is not None:
            return <double>self._clock()
        return _mono()

    cdef inline void _refill(self, double now) noexcept:
        cdef double t
        if now > self._last:
            t = self._tokens + (now - self._last) * self._rate
            self._tokens = t if t < self._capacity else self._capacity
            self._last = now

    def try_acquire(self, double n=1, now=None):
        """Take ``n`` tokens (``0 < n <= capacity``) if available now; never waits."""
        if not (n > 0.0 and n <= self._capacity):
            _bad_n(n, self._capacity)
        cdef double t = _mono() if now is None and self._clock is None else self._now(now)
        self._refill(t)
        if self._tokens >= n:
            self._tokens -= n
            self.admitted += 1
            return True
        self.rejected += 1
        return False

    def reserve(self, double n, double max_wait, now=None):
        """Take ``n`` tokens on credit if available within ``max_wait`` s; wait or ``-1.0``."""
        if not (n > 0.0 and n <= self._capacity):
            _bad_n(n, self._capacity)
        if not max_wait >= 0.0:
            _bad_wait(max_wait)
        cdef double t = self._now(now)
        cdef double deficit, wait
        self._refill(t)
        deficit = n - self._tokens
        wait = deficit / self._rate if deficit > 0 else 0.0
        if wait > max_wait:
            self.rejected += 1
            return -1.0
        self._tokens -= n
        self.admitted += 1
        return wait

    def refund(self, double n):
        """Give back ``n`` tokens of an abandoned reservation (never above capacity)."""
        if not n >= 0.0:
            _bad_refund(n)
        cdef double t = self._tokens + n
        self._tokens = t if t < self._capacity else self._capacity

    def available(self, now=None):
        """Tokens available now (negative while reservations are outstanding)."""
        self._refill(self._now(now))
        return self._tokens

    def set_rate(self, double rate, now=None):
        """Change the refill rate; time already elapsed is credited at the old rate."""
        self._refill(self._now(now))
        self._rate = rate


cdef class _Slot:
    cdef double tokens, last


cdef class KeyedBuckets:
    """A family of token buckets, one per key (see the twin)."""

    cdef double _rate, _capacity
    cdef dict _buckets
    cdef object _clock
    cdef Py_ssize_t _max_keys, _prune_at
    cdef readonly unsigned long long admitted, rejected
    cdef object __weakref__

    def __init__(self, double rate, double capacity, clock=None, Py_ssize_t max_keys=0):
        self._max_keys = max_keys
        self._prune_at = max_keys
        self._rate = rate
        self._capacity = capacity
        self._clock = clock
        self._buckets = {}

    @property
    def rate(self):
        return self._rate

    @property
    def capacity(self):
        return self._capacity

    def __len__(self):
        return len(self._buckets)

    cdef inline double _now(self, object now) except? -1.0:
        if now is not None:
            return _given_now(now)
        if self._clock is not None:
            return <double>self._clock()
        return _mono()

    cdef inline _Slot _slot(self, object key, double now):
        cdef _Slot slot
        cdef double t
        cdef object found = self._buckets.get(key)
        if found is None:
            if self._prune_at and len(self._buckets) >= self._prune_at:
                self._prune_full(now)
                self._prune_at = max(self._max_keys, 2 * len(self._buckets))
            slot = _Slot.__new__(_Slot)
            slot.tokens = self._capacity
            slot.last = now
            self._buckets[key] = slot
        else:
            slot = <_Slot>found
            if now > slot.last:
                t = slot.tokens + (now - slot.last) * self._rate
                slot.tokens = t if t < self._capacity else self._capacity
                slot.last = now
        return slot

    def try_acquire(self, key, double n=1, now=None):
        """Take ``n`` tokens (``0 < n <= capacity``) from ``key``'s bucket if available now."""
        if not (n > 0.0 and n <= self._capacity):
            _bad_n(n, self._capacity)
        cdef double t = _mono() if now is None and self._clock is None else self._now(now)
        cdef _Slot slot = self._slot(key, t)
        if slot.tokens >= n:
            slot.tokens -= n
            self.admitted += 1
            return True
        self.rejected += 1
        return False

    def reserve(self, key, double n, double max_wait, now=None):
        """As ``TokenBucket.reserve``, for ``key``'s bucket."""
        if not (n > 0.0 and n <= self._capacity):
            _bad_n(n, self._capacity)
        if not max_wait >= 0.0:
            _bad_wait(max_wait)
        cdef double t = self._now(now)
        cdef _Slot slot = self._slot(key, t)
        cdef double deficit = n - slot.tokens
        cdef double wait = deficit / self._rate if deficit > 0 else 0.0
        if wait > max_wait:
            self.rejected += 1
            return -1.0
        slot.tokens -= n
        self.admitted += 1
        return wait

    def refund(self, key, double n):
        """Give back ``n`` tokens to ``key``'s bucket (never above capacity)."""
        if not n >= 0.0:
            _bad_refund(n)
        cdef object found = self._buckets.get(key)
        cdef _Slot slot
        cdef double t
        if found is not None:
            slot = <_Slot>found
            t = slot.tokens + n
            slot.tokens = t if t < self._capacity else self._capacity

    def available(self, key, now=None):
        """Tokens available now in ``key``'s bucket."""
        return self._slot(key, self._now(now)).tokens

    def set_rate(self, double rate, now=None):
        """Change the refill rate of every key; elapsed time is credited at the old rate."""
        cdef double t = self._now(now)
        for key in list(self._buckets):
            self._slot(key, t)
        self._rate = rate

    def prune(self, now=None):
        """Drop buckets that are full again; returns how many were dropped."""
        return self._prune_full(self._now(now))

    cdef Py_ssize_t _prune_full(self, double now) except -1:
        full = [k for k in list(self._buckets) if self._slot(k, now).tokens >= self._capacity]
        for k in full:
            del self._buckets[k]
        return len(full)

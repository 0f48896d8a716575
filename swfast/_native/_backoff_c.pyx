# cython: freethreading_compatible = False, cdivision = True
"""Compiled backoff kernel; the pure-Python twin is ``_backoff_py.py`` (same numbers).

Attempts are 1-based and clamped to ``2**63 - 1`` through ``PyLong_AsLongLongAndOverflow``
before any arithmetic, and the power is skipped once it would reach the cap, so no attempt
overflows silently, returns inf/NaN, or raises. One call is one C operation under the GIL.
"""
from libc.math cimport exp, log, pow, INFINITY
from libc.stdint cimport uint64_t
from cpython.long cimport PyLong_AsLongLongAndOverflow

import random as _random

CONSTANT = 0
LINEAR = 1
EXPONENTIAL = 2
FULL_JITTER = 3
EQUAL_JITTER = 4
DECORRELATED_JITTER = 5
FIBONACCI = 6

cdef long long _LLONG_MAX = 9223372036854775807
cdef double _INV53 = 1.0 / 9007199254740992.0


cdef long long _clamp_attempt(object attempt) except -1:
    cdef int overflow = 0
    cdef long long k
    if type(attempt) is not int:
        if isinstance(attempt, bool) or not isinstance(attempt, int):
            raise TypeError(f"attempt: expected an int >= 1, got {type(attempt).__name__}")
        attempt = int(attempt)
    k = PyLong_AsLongLongAndOverflow(attempt, &overflow)
    if overflow > 0:
        return _LLONG_MAX
    if overflow < 0 or k < 1:
        raise ValueError(f"attempt: must be >= 1 (attempts are 1-based), got {attempt}")
    return k


cdef class BackoffKernel:
    """Delay arithmetic for one strategy (see the twin for the argument meanings)."""

    cdef readonly int kind
    cdef readonly double base, cap, factor, step, jitter
    cdef uint64_t _state
    cdef double _prev, _log_ratio, _log_factor, _log_base
    cdef object __weakref__

    def __init__(self, int kind, double base, double cap, double factor=2.0, double step=0.0,
                 double jitter=0.0, seed=None):
        self.kind = kind
        self.base = base
        self.cap = cap
        self.factor = factor
        self.step = step
        self.jitter = jitter
        self._state = <uint64_t>((_random.getrandbits(64) if seed is None else int(seed)) & 0xFFFFFFFFFFFFFFFF)
        self._prev = 0.0
        self._log_factor = log(factor) if factor > 0 else 0.0
        self._log_base = log(base) if base > 0 and cap > 0 else 0.0
        self._log_ratio = log(cap) - self._log_base if base > 0 and cap > 0 else INFINITY

    cdef inline double _rand(self) noexcept:
        cdef uint64_t z
        self._state += 0x9E3779B97F4A7C15ULL
        z = self._state
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL
        z ^= z >> 31
        return <double>(z >> 11) * _INV53

    def random(self):
        """Next uniform sample in ``[0, 1)`` of the splitmix64 stream."""
        return self._rand()

    cdef inline double _exp(self, long long k) noexcept:
        cdef double e, d, x
        if self.base <= 0.0:
            return 0.0
        if self.cap <= self.base:
            return self.cap
        e = <double>(k - 1)
        x = e * self._log_factor
        if x >= self._log_ratio:
            return self.cap
        d = self.base * pow(self.factor, e) if x < 700.0 else exp(self._log_base + x)
        return d if d < self.cap else self.cap

    cdef inline double _fib(self, long long k) noexcept:
        cdef double a = 1.0, b = 2.0, t, d
        cdef long long i = 1
        if self.base <= 0.0:
            return 0.0
        while i < k:
            if a * self.base >= self.cap:
                return self.cap
            t = a + b
            a = b
            b = t
            i += 1
        d = a * self.base
        return d if d < self.cap else self.cap

    cdef inline double _proportional(self, double d) noexcept:
        if self.jitter > 0.0:
            d = d * (1.0 - self.jitter + 2.0 * self.jitter * self._rand())
            if d > self.cap:
                d = self.cap
        return d

    cdef double _next(self, long long k, double prev) except? -1.0:
        cdef int kind = self.kind
        cdef double d, half, hi, lo
        if kind == EXPONENTIAL:
            return self._proportional(self._exp(k))
        if kind == FULL_JITTER:
            return self._exp(k) * self._rand()
        if kind == EQUAL_JITTER:
            half = self._exp(k) * 0.5
            return half + half * self._rand()
        if kind == CONSTANT:
            return self._proportional(self.base if self.base < self.cap else self.cap)
        if kind == LINEAR:
            if self.step > 0.0 and <double>(k - 1) >= (self.cap - self.base) / self.step:
                return self._proportional(self.cap)
            d = self.base + self.step * <double>(k - 1)
            return self._proportional(d if d < self.cap else self.cap)
        if kind == DECORRELATED_JITTER:
            hi = prev * 3.0 if prev > self.base else self.base * 3.0
            if hi > self.cap:
                hi = self.cap
            lo = self.base if self.base < hi else hi
            return lo + (hi - lo) * self._rand()
        if kind == FIBONACCI:
            return self._proportional(self._fib(k))
        raise ValueError(f"kind: unknown backoff kind {kind}")

    def next_delay(self, attempt, double prev):
        """Delay before retry ``attempt`` given the previous delay (used by decorrelated jitter)."""
        return self._next(_clamp_attempt(attempt), prev)

    def calculate_delay(self, attempt):
        """Delay in seconds before retry ``attempt`` (1-based); exact for deterministic kinds."""
        cdef double d = self._next(_clamp_attempt(attempt), self._prev)
        self._prev = d
        return d

"""Pure-Python twin of the backoff kernel (``_backoff_c.pyx``): same names, same numbers.

Attempts are 1-based. Every strategy is capped; huge attempts (up to and beyond ``2**63``) are
clamped before any arithmetic so no strategy overflows, returns inf/NaN, or raises. Jitter uses
a splitmix64 generator with the same stream as the compiled kernel, so a seeded strategy gives
identical delays in both implementations.
"""
from __future__ import annotations

import math
import random

CONSTANT = 0
LINEAR = 1
EXPONENTIAL = 2
FULL_JITTER = 3
EQUAL_JITTER = 4
DECORRELATED_JITTER = 5
FIBONACCI = 6

_M64 = (1 << 64) - 1
_LLONG_MAX = (1 << 63) - 1
_INV53 = 1.0 / 9007199254740992.0


def _clamp_attempt(attempt: int) -> int:
    if type(attempt) is not int:
        if isinstance(attempt, bool) or not isinstance(attempt, int):
            raise TypeError(f"attempt: expected an int >= 1, got {type(attempt).__name__}")
        attempt = int(attempt)
    if attempt < 1:
        raise ValueError(f"attempt: must be >= 1 (attempts are 1-based), got {attempt}")
    return attempt if attempt < _LLONG_MAX else _LLONG_MAX


class BackoffKernel:
    """Delay arithmetic for one strategy.

    Args:
        kind: one of the module constants (``EXPONENTIAL``...).
        base: first delay in seconds (``>= 0``).
        cap: maximum delay in seconds (``>= base``).
        factor: growth factor of the exponential strategies (``>= 1``).
        step: increment of ``LINEAR`` per attempt (``>= 0``).
        jitter: proportional jitter fraction in ``[0, 1]`` for the deterministic strategies
            (``0.5`` gives ``delay * U(0.5, 1.5)``, then capped).
        seed: seed of the jitter generator; ``None`` draws one from :mod:`random`.
    """

    __slots__ = ("kind", "base", "cap", "factor", "step", "jitter", "_state", "_prev", "_log_ratio", "_log_factor",
                 "_log_base")

    def __init__(self, kind: int, base: float, cap: float, factor: float = 2.0, step: float = 0.0,
                 jitter: float = 0.0, seed: int | None = None) -> None:
        self.kind = int(kind)
        self.base = float(base)
        self.cap = float(cap)
        self.factor = float(factor)
        self.step = float(step)
        self.jitter = float(jitter)
        self._state = (random.getrandbits(64) if seed is None else int(seed)) & _M64
        self._prev = 0.0
        self._log_factor = math.log(self.factor) if self.factor > 0 else 0.0
        positive = self.base > 0 and self.cap > 0
        self._log_base = math.log(self.base) if positive else 0.0
        self._log_ratio = math.log(self.cap) - self._log_base if positive else math.inf

    def random(self) -> float:
        """Next uniform sample in ``[0, 1)`` of the splitmix64 stream."""
        self._state = s = (self._state + 0x9E3779B97F4A7C15) & _M64
        z = ((s ^ (s >> 30)) * 0xBF58476D1CE4E5B9) & _M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
        z ^= z >> 31
        return (z >> 11) * _INV53

    def _exp(self, k: int) -> float:
        # base * factor**(k-1), capped; the power is skipped once it would reach the cap.
        # Past exp(700) the power alone could overflow (tiny bases): go through logarithms.
        if self.base <= 0.0:
            return 0.0
        if self.cap <= self.base:
            return self.cap
        e = float(k - 1)
        x = e * self._log_factor
        if x >= self._log_ratio:
            return self.cap
        d = self.base * math.pow(self.factor, e) if x < 700.0 else math.exp(self._log_base + x)
        return d if d < self.cap else self.cap

    def _fib(self, k: int) -> float:
        # base * F(k) with F = 1, 2, 3, 5, 8, ...; stops as soon as the cap is reached.
        if self.base <= 0.0:
            return 0.0
        a, b = 1.0, 2.0
        i = 1
        while i < k:
            if a * self.base >= self.cap:
                return self.cap
            a, b = b, a + b
            i += 1
        d = a * self.base
        return d if d < self.cap else self.cap

    def _proportional(self, d: float) -> float:
        if self.jitter > 0.0:
            d = d * (1.0 - self.jitter + 2.0 * self.jitter * self.random())
            if d > self.cap:
                d = self.cap
        return d

    def next_delay(self, attempt: int, prev: float) -> float:
        """Delay before retry ``attempt`` given the previous delay (used by decorrelated jitter)."""
        k = _clamp_attempt(attempt)
        kind = self.kind
        if kind == EXPONENTIAL:
            return self._proportional(self._exp(k))
        if kind == FULL_JITTER:
            return self._exp(k) * self.random()
        if kind == EQUAL_JITTER:
            half = self._exp(k) * 0.5
            return half + half * self.random()
        if kind == CONSTANT:
            return self._proportional(self.base if self.base < self.cap else self.cap)
        if kind == LINEAR:
            if self.step > 0.0 and float(k - 1) >= (self.cap - self.base) / self.step:
                return self._proportional(self.cap)
            d = self.base + self.step * float(k - 1)
            return self._proportional(d if d < self.cap else self.cap)
        if kind == DECORRELATED_JITTER:
            hi = prev * 3.0 if prev > self.base else self.base * 3.0
            if hi > self.cap:
                hi = self.cap
            lo = self.base if self.base < hi else hi
            return lo + (hi - lo) * self.random()
        if kind == FIBONACCI:
            return self._proportional(self._fib(k))
        raise ValueError(f"kind: unknown backoff kind {kind}")

    def calculate_delay(self, attempt: int) -> float:
        """Delay in seconds before retry ``attempt`` (1-based); exact for deterministic kinds."""
        d = self.next_delay(attempt, self._prev)
        self._prev = d
        return d


__all__ = [
    "CONSTANT", "DECORRELATED_JITTER", "EQUAL_JITTER", "EXPONENTIAL", "FIBONACCI",
    "FULL_JITTER", "LINEAR", "BackoffKernel",
]

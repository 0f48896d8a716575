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


def _real(value: object) -> float:
    """``value`` as the kernel's ``double`` argument takes it: a real number, else TypeError."""
    if isinstance(value, (str, bytes, bytearray)) or not hasattr(value, "__float__"):
        raise TypeError(f"prev: must be a real number, not {type(value).__name__}")
    return float(value)


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

    __slots__ = ("_kind", "_base", "_cap", "_factor", "_step", "_jitter", "_state", "_prev", "_log_ratio", "_log_factor",
                 "_log_base")

    def __init__(self, kind: int, base: float, cap: float, factor: float = 2.0, step: float = 0.0,
                 jitter: float = 0.0, seed: int | None = None) -> None:
        self._kind = int(kind)
        self._base = float(base)
        self._cap = float(cap)
        self._factor = float(factor)
        self._step = float(step)
        self._jitter = float(jitter)
        self._state = (random.getrandbits(64) if seed is None else int(seed)) & _M64
        self._prev = 0.0
        self._log_factor = math.log(self._factor) if self._factor > 0 else 0.0
        positive = self._base > 0 and self._cap > 0
        self._log_base = math.log(self._base) if positive else 0.0
        self._log_ratio = math.log(self._cap) - self._log_base if positive else math.inf

    @property
    def kind(self) -> int:
        """Read-only, as the kernel's ``kind``."""
        return self._kind

    @property
    def base(self) -> float:
        """Read-only, as the kernel's ``base``."""
        return self._base

    @property
    def cap(self) -> float:
        """Read-only, as the kernel's ``cap``."""
        return self._cap

    @property
    def factor(self) -> float:
        """Read-only, as the kernel's ``factor``."""
        return self._factor

    @property
    def step(self) -> float:
        """Read-only, as the kernel's ``step``."""
        return self._step

    @property
    def jitter(self) -> float:
        """Read-only, as the kernel's ``jitter``."""
        return self._jitter

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
        if self._base <= 0.0:
            return 0.0
        if self._cap <= self._base:
            return self._cap
        e = float(k - 1)
        x = e * self._log_factor
        if x >= self._log_ratio:
            return self._cap
        d = self._base * math.pow(self._factor, e) if x < 700.0 else math.exp(self._log_base + x)
        return d if d < self._cap else self._cap

    def _fib(self, k: int) -> float:
        # base * F(k) with F = 1, 2, 3, 5, 8, ...; stops as soon as the cap is reached.
        if self._base <= 0.0:
            return 0.0
        a, b = 1.0, 2.0
        i = 1
        while i < k:
            if a * self._base >= self._cap:
                return self._cap
            a, b = b, a + b
            i += 1
        d = a * self._base
        return d if d < self._cap else self._cap

    def _proportional(self, d: float) -> float:
        if self._jitter > 0.0:
            d = d * (1.0 - self._jitter + 2.0 * self._jitter * self.random())
            if d > self._cap:
                d = self._cap
        return d

    def next_delay(self, attempt: int, prev: float) -> float:
        """Delay before retry ``attempt`` given the previous delay (used by decorrelated jitter)."""
        k = _clamp_attempt(attempt)
        if not isinstance(prev, (int, float)):
            prev = _real(prev)
        kind = self._kind
        if kind == EXPONENTIAL:
            return self._proportional(self._exp(k))
        if kind == FULL_JITTER:
            return self._exp(k) * self.random()
        if kind == EQUAL_JITTER:
            half = self._exp(k) * 0.5
            return half + half * self.random()
        if kind == CONSTANT:
            return self._proportional(self._base if self._base < self._cap else self._cap)
        if kind == LINEAR:
            if self._step > 0.0 and float(k - 1) >= (self._cap - self._base) / self._step:
                return self._proportional(self._cap)
            d = self._base + self._step * float(k - 1)
            return self._proportional(d if d < self._cap else self._cap)
        if kind == DECORRELATED_JITTER:
            hi = prev * 3.0 if prev > self._base else self._base * 3.0
            if hi > self._cap:
                hi = self._cap
            lo = self._base if self._base < hi else hi
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

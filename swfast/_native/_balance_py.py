"""Pure-Python twin of ``_balance_c``: power-of-two-choices over weighted, health-aware targets.

:meth:`P2C.pick` draws two distinct healthy targets (xorshift64*, seeded, the same sequence as the
compiled kernel) and returns the one with the lower ``(active + 1) / effective_weight``, where
``effective_weight = weight * ramp`` and ``ramp`` rises linearly from ``min_ramp`` to 1 over
``slow_start_s`` after a target is added (Envoy's slow start). Ties go to the first draw.
Thread safety: the compiled kernel relies on the GIL; the twin is not thread-safe for writers.
"""
from __future__ import annotations

import time
from typing import Any

_MASK = (1 << 64) - 1


class P2C:
    """Targets with weights, health and active counts; ``pick`` is the hot path."""

    def __init__(self, seed: int = 0x9E3779B97F4A7C15, slow_start_s: float = 0.0, min_ramp: float = 0.1) -> None:
        self._state = (seed & _MASK) or 1
        self.slow_start_s = float(slow_start_s)
        self.min_ramp = float(min_ramp)
        self._targets: list[Any] = []
        self._weight: list[float] = []
        self._active: list[int] = []
        self._healthy: list[bool] = []
        self._added: list[float] = []
        self._live: list[int] = []
        self._fixed_now = -1.0
        self._warm_until = -1.0

    def _now(self) -> float:
        return self._fixed_now if self._fixed_now >= 0 else time.monotonic()

    def set_time(self, now: float | None) -> None:
        """Fix the clock (tests); None returns to ``time.monotonic``."""
        self._fixed_now = -1.0 if now is None else float(now)

    def _rand(self) -> int:
        x = self._state
        x ^= x >> 12
        x ^= (x << 25) & _MASK
        x ^= x >> 27
        self._state = x
        return (x * 0x2545F4914F6CDD1D) & _MASK

    def _rebuild(self) -> None:
        self._live = [i for i, ok in enumerate(self._healthy) if ok]

    def add(self, target: Any, weight: float = 1.0) -> int:
        if not weight > 0:
            raise ValueError(f"weight: must be > 0, got {weight!r}")
        now = self._now()
        self._targets.append(target)
        self._weight.append(float(weight))
        self._active.append(0)
        self._healthy.append(True)
        self._added.append(now)
        if self.slow_start_s > 0:
            self._warm_until = max(self._warm_until, now + self.slow_start_s)
        self._rebuild()
        return len(self._targets) - 1

    def __len__(self) -> int:
        return len(self._targets)

    def target(self, index: int) -> Any:
        return self._targets[index]

    def set_healthy(self, index: int, healthy: bool) -> None:
        self._healthy[index] = bool(healthy)
        self._rebuild()

    def is_healthy(self, index: int) -> bool:
        return self._healthy[index]

    def set_weight(self, index: int, weight: float) -> None:
        if not weight > 0:
            raise ValueError(f"weight: must be > 0, got {weight!r}")
        self._weight[index] = float(weight)

    def weight(self, index: int) -> float:
        return self._weight[index]

    def active(self, index: int) -> int:
        return self._active[index]

    def acquire(self, index: int) -> None:
        self._active[index] += 1

    def release(self, index: int) -> None:
        if self._active[index] > 0:
            self._active[index] -= 1

    def healthy_count(self) -> int:
        return len(self._live)

    def _score(self, i: int, now: float) -> float:
        w = self._weight[i]
        if now < self._warm_until:
            ramp = (now - self._added[i]) / self.slow_start_s
            if ramp < 1.0:
                w *= ramp if ramp > self.min_ramp else self.min_ramp
        return (self._active[i] + 1) / w

    def pick_index(self) -> int:
        """Index of the chosen target, -1 when none is healthy."""
        live = self._live
        m = len(live)
        if m == 0:
            return -1
        if m == 1:
            return live[0]
        r = self._rand()
        ia = r % m
        ib = (ia + 1 + (r >> 32) % (m - 1)) % m
        a, b = live[ia], live[ib]
        now = self._now() if self._warm_until >= 0 else 0.0
        return b if self._score(b, now) < self._score(a, now) else a

    def pick(self) -> Any:
        """The chosen target, None when none is healthy."""
        i = self.pick_index()
        return None if i < 0 else self._targets[i]


__all__ = ["P2C"]

"""LoadBalancer: power of two choices over least-loaded targets (CPU pools, GPUs, workers).

Weighted (score ``(active + 1) / weight``), health-aware (a target whose circuit breaker is open
is skipped; half-open ones get traffic again), with slow start for new targets. The pick is the
compiled :mod:`swfast._native.balance` kernel: ``LoadBalancer.pick`` *is* the kernel's bound
method, so a pick costs one C call.
"""
from __future__ import annotations

import contextlib
import os
import threading
from typing import Any, Callable, Iterable, Iterator

from .._native.balance import P2C
from ..errors import ConfigurationError
from ._common import Action, check_amount

_OPEN_STATES = ("OPEN", "FORCED_OPEN")


class LoadBalancer:
    """Power-of-two-choices balancer.

    Args:
        targets: initial targets (weight 1).
        slow_start_s: seconds over which a new target's weight ramps from ``min_ramp`` to full.
        seed: RNG seed (default from ``os.urandom``); the same seed gives the same picks.
    ``pick()`` returns a target (None when none is healthy); ``acquire()``/``release()`` or
    ``lease()`` count requests in flight, which is what "least loaded" compares.
    Thread-safe for picks (GIL); configuration changes take a lock.
    """

    def __init__(self, targets: Iterable[Any] = (), *, slow_start_s: float = 0.0, min_ramp: float = 0.1,
                 seed: int | None = None) -> None:
        check_amount(slow_start_s, "slow_start_s", allow_zero=True)
        if seed is None:
            seed = int.from_bytes(os.urandom(8), "little")
        self._core = P2C(seed & ((1 << 64) - 1), float(slow_start_s), float(min_ramp))
        self.pick: Callable[[], Any] = self._core.pick
        self.pick_index: Callable[[], int] = self._core.pick_index
        self._index: dict[Any, int] = {}
        self._breakers: dict[int, Any] = {}
        self._lock = threading.Lock()
        for t in targets:
            self.add_target(t)

    def __len__(self) -> int:
        return len(self._core)

    @property
    def targets(self) -> list[Any]:
        return [self._core.target(i) for i in range(len(self._core))]

    def _idx(self, target: Any) -> int:
        try:
            return self._index[target]
        except (KeyError, TypeError):
            raise ConfigurationError("target", f"unknown target {target!r}; add_target it first") from None

    def add_target(self, target: Any, *, weight: float = 1.0, breaker: Any = None) -> int:
        """Add ``target`` (hashable); with ``breaker`` it is skipped while the breaker is open."""
        w = check_amount(weight, "weight")
        with self._lock:
            if target in self._index:
                raise ConfigurationError("target", f"{target!r} was already added")
            i: int = self._core.add(target, w)
            self._index[target] = i
            if breaker is not None:
                self._breakers[i] = breaker
                breaker.add_listener(lambda t, i=i: self._core.set_healthy(i, t.to_state.name not in _OPEN_STATES))
                self._core.set_healthy(i, breaker.check_state().name not in _OPEN_STATES)
        return i

    def set_weight(self, target: Any, weight: float) -> None:
        self._core.set_weight(self._idx(target), check_amount(weight, "weight"))

    def set_healthy(self, target: Any, healthy: bool) -> None:
        self._core.set_healthy(self._idx(target), healthy)

    def is_healthy(self, target: Any) -> bool:
        return bool(self._core.is_healthy(self._idx(target)))

    def active(self, target: Any) -> int:
        return int(self._core.active(self._idx(target)))

    def set_time(self, now: float | None) -> None:
        """Fix the slow-start clock (tests); None returns to the monotonic clock."""
        self._core.set_time(now)

    def acquire(self) -> Any:
        """Pick a target and count one request in flight on it (None when none is healthy)."""
        i = self._core.pick_index()
        if i < 0:
            return None
        self._core.acquire(i)
        return self._core.target(i)

    def release(self, target: Any) -> None:
        self._core.release(self._idx(target))

    @contextlib.contextmanager
    def lease(self) -> Iterator[Any]:
        """``with lb.lease() as target:`` — acquire, then release on exit."""
        target = self.acquire()
        try:
            yield target
        finally:
            if target is not None:
                self.release(target)

    def refresh_health(self, *, dry_run: bool = False) -> list[Action]:
        """Poll every breaker (open → half-open happens on time, without a transition event) and
        apply the health it implies; returns the changes."""
        actions: list[Action] = []
        for i, br in list(self._breakers.items()):
            ok = br.check_state().name not in _OPEN_STATES
            if ok != bool(self._core.is_healthy(i)):
                if not dry_run:
                    self._core.set_healthy(i, ok)
                actions.append(Action("set_health", str(self._core.target(i)), {"healthy": ok}, not dry_run))
        return actions

    def loads(self) -> dict[Any, dict[str, float]]:
        """Per target: active requests, weight, health."""
        return {self._core.target(i): {"active": float(self._core.active(i)), "weight": self._core.weight(i),
                                       "healthy": float(self._core.is_healthy(i))} for i in range(len(self._core))}


__all__ = ["LoadBalancer"]

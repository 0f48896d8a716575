"""The fault gate guarding each L2 node: a small consecutive-failure circuit breaker.

Kept private to the cache tier so it can be swapped for ``swfast.resilience``'s breaker: the
tier only calls :meth:`FaultGate.allow`, :meth:`FaultGate.success` and :meth:`FaultGate.failure`.
"""
from __future__ import annotations

import logging
import time
from typing import Callable

from ..monitoring.metrics import REGISTRY

log = logging.getLogger("swfast.cache.l2")
SKIPPED = REGISTRY.counter("swfast_cache_l2_skipped_total", "L2 calls skipped by an open fault gate", ("node",))
GATE_OPEN = REGISTRY.gauge("swfast_cache_l2_gate_open", "1 while a node's fault gate is open", ("node",))


class FaultGate:
    """A small consecutive-failure breaker guarding one Redis node.

    Closed: every call goes through. After ``trip_after`` consecutive failures it opens: calls
    are refused at once. After ``reset_timeout`` seconds one call is let through as a probe
    (half-open); its success closes the gate, its failure re-opens it for another period.
    Meant to be swapped for ``swfast.resilience``'s breaker: the tier only calls
    :meth:`allow`, :meth:`success` and :meth:`failure`.

    Args:
        name: node name for metrics and logs.
        trip_after: consecutive failures that open the gate.
        reset_timeout: seconds open before a probe.
        clock: monotonic clock (injected in tests).
    """

    __slots__ = ("name", "trip_after", "reset_timeout", "clock", "failures", "opened_at", "probing")

    def __init__(self, name: str, trip_after: int = 5, reset_timeout: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.name, self.trip_after, self.reset_timeout, self.clock = name, trip_after, reset_timeout, clock
        self.failures = 0
        self.opened_at: float | None = None
        self.probing = False

    @property
    def state(self) -> str:
        """``"closed"``, ``"open"`` or ``"half-open"``."""
        if self.opened_at is None:
            return "closed"
        return "half-open" if self.probing or self.clock() - self.opened_at >= self.reset_timeout else "open"

    def allow(self) -> bool:
        """Whether a call may go to the node now (claims the probe when half-open)."""
        if self.opened_at is None:
            return True
        if not self.probing and self.clock() - self.opened_at >= self.reset_timeout:
            self.probing = True
            return True
        SKIPPED.labels(self.name).inc()
        return False

    def success(self) -> None:
        """Record a successful call; closes the gate."""
        if self.opened_at is not None:
            log.info("L2 node %s answered again; gate closed", self.name)
            GATE_OPEN.labels(self.name).set(0)
        self.failures, self.opened_at, self.probing = 0, None, False

    def failure(self) -> None:
        """Record a failed call; opens the gate after ``trip_after`` in a row or a failed probe."""
        self.failures += 1
        if self.probing or self.failures >= self.trip_after:
            if self.opened_at is None or self.probing:
                log.warning("L2 node %s failing (%d in a row); skipping it for %.3fs",
                            self.name, self.failures, self.reset_timeout)
            self.opened_at, self.probing = self.clock(), False
            GATE_OPEN.labels(self.name).set(1)


__all__ = ["FaultGate"]

"""Graceful degradation: a service level (normal, degraded, minimal) that follows breakers,
health and fallbacks, and switches non-essential work off.

The level is the worst of three inputs:

* watched breakers: any not CLOSED gives DEGRADED, all OPEN gives MINIMAL;
* an optional ``health`` callable returning a :class:`DegradationLevel`;
* fallbacks: :meth:`DegradationManager.report_fallback` raises the level to DEGRADED until the
  first success reported after the breakers have closed (:meth:`report_success`).

Each change is logged once (``swfast.resilience``), exported as the gauge
``swfast_resilience_degradation_level{name}`` and sent to listeners; a raising listener or
health check is logged and ignored.

Example:
    >>> levels = DegradationManager("search")
    >>> levels.register_feature("recommendations", disable_at=DegradationLevel.DEGRADED)
    >>> levels.is_enabled("recommendations")
    True

Thread safety: one lock around the level computation; listeners run outside it.
"""
from __future__ import annotations

import enum
import logging
import threading
from typing import Any, Callable, Iterable, TypeVar

from ..errors import ConfigurationError
from ..monitoring.metrics import REGISTRY
from .breaker import CircuitBreaker
from .history import CircuitState, Transition

R = TypeVar("R")
log = logging.getLogger("swfast.resilience")
_LEVEL = REGISTRY.gauge("swfast_resilience_degradation_level",
                        "Service level: 0 normal, 1 degraded, 2 minimal.", ("name",))


class DegradationLevel(enum.IntEnum):
    """Service levels, from full service to essentials only."""

    NORMAL = 0
    DEGRADED = 1
    MINIMAL = 2


class DegradationManager:
    """Tracks one service's level.

    Args:
        name: label for logs and metrics.
        breakers: breakers whose state the level follows (more with :meth:`watch`).
        health: optional callable returning the level health checks demand.
    """

    def __init__(self, name: str = "default", *, breakers: Iterable[CircuitBreaker] = (),
                 health: Callable[[], DegradationLevel] | None = None) -> None:
        self.name = name
        self._health = health
        self._breakers: list[CircuitBreaker] = []
        self._features: dict[str, DegradationLevel] = {}
        self._listeners: list[Callable[[DegradationLevel, DegradationLevel, str], object]] = []
        self._fallback_active = False
        self._level = DegradationLevel.NORMAL
        self._lock = threading.Lock()
        _LEVEL.labels(name).set(0)
        for b in breakers:
            self.watch(b)

    @property
    def level(self) -> DegradationLevel:
        """The current level."""
        return self._level

    def watch(self, breaker: CircuitBreaker) -> None:
        """Follow ``breaker``'s transitions."""
        self._breakers.append(breaker)
        breaker.add_listener(self._on_transition)
        self.evaluate(f"watching breaker {breaker.name!r}")

    def add_listener(self, listener: Callable[[DegradationLevel, DegradationLevel, str], object]) -> None:
        """Call ``listener(old, new, reason)`` on every level change."""
        self._listeners.append(listener)

    def register_feature(self, feature: str, *, disable_at: DegradationLevel = DegradationLevel.DEGRADED) -> None:
        """Declare non-essential work switched off from level ``disable_at`` upwards."""
        if DegradationLevel(disable_at) is DegradationLevel.NORMAL:
            raise ConfigurationError("disable_at", "must be DEGRADED or MINIMAL: a feature off at NORMAL is never on")
        self._features[feature] = DegradationLevel(disable_at)

    def is_enabled(self, feature: str) -> bool:
        """Whether ``feature`` may run at the current level (unregistered features always may)."""
        limit = self._features.get(feature)
        return limit is None or self._level < limit

    def run_if_enabled(self, feature: str, fn: Callable[..., R], /, *args: Any, **kwargs: Any) -> R | None:
        """Run ``fn`` only when ``feature`` is enabled; None otherwise."""
        return fn(*args, **kwargs) if self.is_enabled(feature) else None

    def report_fallback(self, reason: str = "fallback served") -> None:
        """A fallback answered instead of the primary: at least DEGRADED until a success."""
        self._fallback_active = True
        self.evaluate(reason)

    def report_success(self) -> None:
        """The primary answered: clears the fallback mark once every breaker is closed."""
        if self._fallback_active and self._breaker_level() is DegradationLevel.NORMAL:
            self._fallback_active = False
            self.evaluate("primary succeeded")

    def _breaker_level(self) -> DegradationLevel:
        states = [b.check_state() for b in self._breakers]
        if not states or all(s in (CircuitState.CLOSED, CircuitState.DISABLED) for s in states):
            return DegradationLevel.NORMAL
        if all(s in (CircuitState.OPEN, CircuitState.FORCED_OPEN) for s in states):
            return DegradationLevel.MINIMAL
        return DegradationLevel.DEGRADED

    def evaluate(self, reason: str = "evaluate") -> DegradationLevel:
        """Recompute the level from breakers, health and fallbacks; returns it."""
        health = DegradationLevel.NORMAL
        if self._health is not None:
            try:
                health = DegradationLevel(self._health())
            except Exception:
                log.exception("degradation %r: health check failed; assuming DEGRADED", self.name)
                health = DegradationLevel.DEGRADED
        with self._lock:
            breaker_level = self._breaker_level()  # follows the breakers: not sticky
            floor = DegradationLevel.DEGRADED if self._fallback_active else DegradationLevel.NORMAL
            new = max(breaker_level, health, floor)
            old, self._level = self._level, new
        if new is not old:
            self._changed(old, new, reason)
        return new

    def _on_transition(self, t: Transition) -> None:
        self.evaluate(f"breaker {t.name!r} {t.from_state.name} -> {t.to_state.name}")

    def _changed(self, old: DegradationLevel, new: DegradationLevel, reason: str) -> None:
        log.log(logging.WARNING if new > old else logging.INFO,
                "degradation %r: %s -> %s (%s)", self.name, old.name, new.name, reason)
        try:
            _LEVEL.labels(self.name).set(int(new))
        except Exception:
            log.exception("degradation %r: level metric failed", self.name)
        for listener in list(self._listeners):
            try:
                listener(old, new, reason)
            except Exception:
                log.exception("degradation %r: listener %r failed", self.name, listener)


__all__ = ["DegradationLevel", "DegradationManager"]

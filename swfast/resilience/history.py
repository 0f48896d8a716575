"""Breaker states and the bounded record of their transitions.

A :class:`Transition` is one state change with its time and reason; :class:`BoundedHistory`
keeps the last ``maxlen`` of them (``store_history`` appends, memory stays flat however many
transitions happen). Any object with ``append(transition)`` can replace it as a history store.
"""
from __future__ import annotations

import enum
import threading
from collections import deque
from dataclasses import dataclass
from typing import Iterator, Protocol

from .._native import breaker as _k


class CircuitState(enum.IntEnum):
    """Breaker states (resilience4j's, without METRICS_ONLY)."""

    CLOSED = _k.CLOSED
    OPEN = _k.OPEN
    HALF_OPEN = _k.HALF_OPEN
    FORCED_OPEN = _k.FORCED_OPEN
    DISABLED = _k.DISABLED


@dataclass(frozen=True, slots=True)
class Transition:
    """One state change of a breaker.

    Attributes:
        name: the breaker's name.
        from_state: state before.
        to_state: state after.
        at: the breaker clock's time of the change (seconds, monotonic).
        reason: why (``"failure rate 60.0% >= 50%"``, ``"trip_breaker"``...).
        origin: where the change came from: :data:`LOCAL` (this breaker's own calls or an
            explicit :meth:`~swfast.resilience.CircuitBreaker.transition`) or :data:`SHARED`
            (a state adopted from a shared state store, which does not publish it back).
    """

    name: str
    from_state: CircuitState
    to_state: CircuitState
    at: float
    reason: str
    origin: str = "local"


#: :attr:`Transition.origin` of a breaker's own transitions.
LOCAL = "local"
#: :attr:`Transition.origin` of a state adopted from shared state.
SHARED = "shared"
ORIGINS = (LOCAL, SHARED)


class HistoryStore(Protocol):
    """Where a breaker stores its transitions."""

    def append(self, transition: Transition) -> None:
        """Store one transition."""
        ...  # pragma: no cover - protocol


class BoundedHistory:
    """The last ``maxlen`` transitions, oldest first. Thread-safe."""

    def __init__(self, maxlen: int = 100) -> None:
        if maxlen < 1:
            raise ValueError(f"maxlen: history must keep at least 1 transition, got {maxlen}")
        self._items: deque[Transition] = deque(maxlen=maxlen)
        self._lock = threading.Lock()
        self.total = 0

    def append(self, transition: Transition) -> None:
        """Store one transition, dropping the oldest when full."""
        with self._lock:
            self._items.append(transition)
            self.total += 1

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Transition]:
        with self._lock:
            return iter(list(self._items))

    def clear(self) -> None:
        """Forget every stored transition."""
        with self._lock:
            self._items.clear()


__all__ = ["LOCAL", "ORIGINS", "SHARED", "BoundedHistory", "CircuitState", "HistoryStore", "Transition"]

"""Pure-Python twin of ``_lease_c``: a budget and the leases taken against it.

A :class:`Budget` is bookkeeping of what was promised (CPUs, bytes), not a measurement: each
:class:`Lease` holds ``amount`` until :meth:`Lease.release`, the end of a ``with`` block, or its
garbage collection. Amounts are floats (fractional CPUs; bytes are exact below 2**53).

Thread safety: every method takes the budget's lock (the compiled kernel relies on the GIL).
"""
from __future__ import annotations

import threading
from typing import Any, Callable

_EPS = 1e-9


class Budget:
    """A capacity and the amounts leased from it, in total and per owner."""

    def __init__(self, capacity: float) -> None:
        self._capacity = float(capacity)
        self._used = 0.0
        self._count = 0
        self._by_owner: dict[str, float] = {}
        self._lock = threading.Lock()

    @property
    def capacity(self) -> float:
        return self._capacity

    @property
    def used(self) -> float:
        return self._used

    @property
    def available(self) -> float:
        return self._capacity - self._used

    @property
    def count(self) -> int:
        """Leases currently held."""
        return self._count

    def set_capacity(self, capacity: float) -> None:
        """Change the capacity; held leases stay (``available`` may go negative)."""
        self._capacity = float(capacity)

    def by_owner(self) -> dict[str, float]:
        """A copy of the amount held per owner."""
        with self._lock:
            return dict(self._by_owner)

    def held_by(self, owner: str) -> float:
        return self._by_owner.get(owner, 0.0)

    def try_acquire(self, amount: float, owner: str) -> "Lease | None":
        """A lease of ``amount`` for ``owner``, or None when it does not fit (nothing is held)."""
        with self._lock:
            if self._used + amount > self._capacity + _EPS:
                return None
            self._used += amount
            self._count += 1
            self._by_owner[owner] = self._by_owner.get(owner, 0.0) + amount
        return Lease(self, amount, owner)

    def _give_back(self, amount: float, owner: str) -> None:
        with self._lock:
            self._used -= amount
            if self._used < _EPS:
                self._used = 0.0
            self._count -= 1
            left = self._by_owner.get(owner, 0.0) - amount
            if left <= _EPS:
                self._by_owner.pop(owner, None)
            else:
                self._by_owner[owner] = left


class Lease:
    """``amount`` held from a :class:`Budget` by ``owner``; a context manager, released once."""

    def __init__(self, budget: Budget, amount: float, owner: str) -> None:
        self._budget: Budget | None = budget
        self._amount = amount
        self._owner = owner
        self.on_release: Callable[[], Any] | None = None

    @property
    def amount(self) -> float:
        return self._amount

    @property
    def owner(self) -> str:
        return self._owner

    @property
    def released(self) -> bool:
        return self._budget is None

    def release(self) -> bool:
        """Give the amount back; True the first time, False when already released."""
        budget, self._budget = self._budget, None
        if budget is None:
            return False
        budget._give_back(self._amount, self._owner)
        hook, self.on_release = self.on_release, None
        if hook is not None:
            hook()
        return True

    def __enter__(self) -> "Lease":
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def __del__(self) -> None:
        if getattr(self, "_budget", None) is not None:
            try:
                self.release()
            except Exception:  # pragma: no cover - interpreter shutdown
                pass

    def __repr__(self) -> str:
        state = "released" if self._budget is None else "held"
        return f"Lease(amount={self._amount:g}, owner={self._owner!r}, {state})"


__all__ = ["Budget", "Lease"]

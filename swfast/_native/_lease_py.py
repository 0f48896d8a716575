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
    """A capacity and the amounts leased from it, in total and per owner.

    ``resolver``, when given, is called once for the capacity the first time it is needed (so an
    allocator's constructor can build its budget without reading cgroup files).
    """

    def __init__(self, capacity: float = 0.0, resolver: Callable[[], float] | None = None) -> None:
        self._capacity = float(capacity)
        self._resolver = resolver
        self._used = 0.0
        self._count = 0
        self._by_owner: dict[str, float] = {}
        self._lock = threading.Lock()

    def _resolve(self) -> None:
        fn = self._resolver
        if fn is not None:
            self._resolver = None
            self._capacity = float(fn())

    @property
    def resolved(self) -> bool:
        """False until a lazily given capacity (``resolver``) was first needed."""
        return self._resolver is None

    @property
    def capacity(self) -> float:
        self._resolve()
        return self._capacity

    @property
    def used(self) -> float:
        return self._used

    @property
    def available(self) -> float:
        self._resolve()
        return self._capacity - self._used

    @property
    def count(self) -> int:
        """Leases currently held."""
        return self._count

    def set_capacity(self, capacity: float) -> None:
        """Change the capacity; held leases stay (``available`` may go negative)."""
        self._resolver = None
        self._capacity = float(capacity)

    def by_owner(self) -> dict[str, float]:
        """A copy of the amount held per owner."""
        with self._lock:
            return dict(self._by_owner)

    def held_by(self, owner: str) -> float:
        return self._by_owner.get(owner, 0.0)

    def try_acquire(self, amount: float, owner: str) -> "Lease | None":
        """A lease of ``amount`` for ``owner``, or None when it does not fit (nothing is held)."""
        if self._resolver is not None:
            self._resolve()
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


class CpuFastPath:
    """``allocate_cpu`` for the common call (a positive finite number of CPUs, a str owner, normal
    priority, no affinity). Anything else, or a lease that does not fit, goes to ``slow`` with the
    same arguments (which validates and raises the typed errors)."""

    def __init__(self, budget: Budget, slow: Callable[..., Lease]) -> None:
        self._budget = budget
        self._slow = slow

    def __call__(self, cpus: float | None = None, *, fraction: float | None = None, owner: str = "default",
                 priority: int | str = "normal", affinity: bool = False) -> Lease:
        tc = type(cpus)
        if (fraction is None and priority == "normal" and affinity is False and (tc is float or tc is int)
                and type(owner) is str and owner and 0 < cpus < float("inf")):  # type: ignore[operator]
            lease = self._budget.try_acquire(float(cpus), owner)  # type: ignore[arg-type]
            if lease is not None:
                return lease
        return self._slow(cpus, fraction=fraction, owner=owner, priority=priority, affinity=affinity)


__all__ = ["Budget", "CpuFastPath", "Lease"]

"""The lease kernel (compiled and twin): budgets, owners, release on exit / GC, idempotence."""
from __future__ import annotations

import gc

import pytest

from tests.conftest import Impl


def test_acquire_release_and_owners(impl: Impl) -> None:
    k = impl.load("lease")
    b = k.Budget(4.0)
    a = b.try_acquire(1.5, "svc")
    c = b.try_acquire(2.0, "svc")
    assert b.used == 3.5 and b.count == 2 and b.by_owner() == {"svc": 3.5}
    assert b.try_acquire(1.0, "other") is None  # does not fit: nothing held
    assert b.used == 3.5 and b.held_by("other") == 0.0
    assert a.release() is True and a.release() is False  # released once
    assert a.released and b.by_owner() == {"svc": 2.0}
    with c:
        assert not c.released
    assert c.released and b.used == 0.0 and b.count == 0 and b.by_owner() == {}


def test_released_on_garbage_collection(impl: Impl) -> None:
    k = impl.load("lease")
    b = k.Budget(2.0)
    lease = b.try_acquire(2.0, "x")
    assert b.available == 0.0
    del lease
    gc.collect()
    assert b.available == 2.0 and b.count == 0


def test_on_release_hook_runs_once(impl: Impl) -> None:
    k = impl.load("lease")
    b = k.Budget(1.0)
    calls: list[int] = []
    lease = b.try_acquire(1.0, "x")
    lease.on_release = lambda: calls.append(1)
    lease.release()
    lease.release()
    assert calls == [1]


def test_capacity_change_keeps_leases(impl: Impl) -> None:
    k = impl.load("lease")
    b = k.Budget(4.0)
    lease = b.try_acquire(3.0, "x")
    b.set_capacity(2.0)
    assert b.available == -1.0 and b.try_acquire(0.5, "y") is None
    lease.release()
    assert b.available == 2.0
    assert "held" in repr(b.try_acquire(1.0, "z"))

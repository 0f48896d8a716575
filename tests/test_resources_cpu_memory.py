"""CPU and memory allocators: leases, typed errors, adaptive limits, priority aging, optimize_usage."""
from __future__ import annotations

import gc
import importlib.util
import os
import threading
from typing import Any

import pytest

from swfast.cache import L1Cache
from swfast.errors import BudgetExceeded, ConfigurationError
from swfast.monitoring.metrics import REGISTRY
from swfast.resource_management import CPUAllocator, MemoryAllocator
from swfast.resource_management.cpu import AdaptiveLimit, PriorityExecutor, limit_blas_threads
from swfast.resource_management.memory import CallbackConsumer


# ----------------------------------------------------------------------------- CPU
def test_constructors_are_cheap_and_lazy() -> None:
    cpu, mem = CPUAllocator(), MemoryAllocator()
    assert not cpu.budget.resolved and mem._budget is None and cpu._executors == {}  # nothing read yet
    assert cpu.budget.capacity >= 1 and mem.budget.capacity >= 0


def test_cpu_lease_and_fraction() -> None:
    cpu = CPUAllocator(capacity_cpus=4)
    with cpu.allocate_cpu(1.5, owner="a") as lease:
        assert lease.amount == 1.5 and cpu.reservations() == {"a": 1.5}
        half = cpu.allocate_cpu(fraction=0.5, owner="b")
        assert half.amount == 2.0
        with pytest.raises(BudgetExceeded) as info:
            cpu.allocate_cpu(1.0, owner="a")
        err = info.value
        assert err.budget == "cpu:default" and err.owner == "a" and err.owner_held == 1.5
        assert "already holds 1.5" in str(err)
        half.release()
    assert cpu.reservations() == {}


@pytest.mark.parametrize("kwargs, param", [
    ({"cpus": -1}, "cpus"), ({"cpus": float("nan")}, "cpus"), ({"fraction": 1.5}, "fraction"),
    ({"fraction": 0.0}, "fraction"), ({}, "cpus"), ({"cpus": 1, "fraction": 0.5}, "cpus"),
    ({"cpus": 1, "priority": "urgent"}, "priority"), ({"cpus": 1, "owner": ""}, "owner"),
])
def test_cpu_bad_input_reserves_nothing(kwargs: dict[str, Any], param: str) -> None:
    cpu = CPUAllocator(capacity_cpus=2)
    with pytest.raises(ConfigurationError) as info:
        cpu.allocate_cpu(**kwargs)
    assert info.value.param == param and cpu.budget.used == 0.0


def test_low_priority_keeps_a_reserve() -> None:
    cpu = CPUAllocator(capacity_cpus=2, reserve_cpus=1)
    low = cpu.allocate_cpu(1, priority="low")
    with pytest.raises(BudgetExceeded, match="low priority"):
        cpu.allocate_cpu(0.5, priority="low")
    high = cpu.allocate_cpu(1, priority="high")  # the reserve is for this
    low.release(), high.release()


def test_affinity_pins_and_restores() -> None:
    current = {0, 1, 2, 3}
    calls: list[set[int]] = []

    def setaff(pid: int, cpus: set[int]) -> None:
        calls.append(set(cpus))
        current.clear()
        current.update(cpus)

    cpu = CPUAllocator(capacity_cpus=4, setaffinity=setaff, getaffinity=lambda pid: set(current))
    lease = cpu.allocate_cpu(1.2, affinity=True)
    assert calls[-1] == {0, 1}
    lease.release()
    assert current == {0, 1, 2, 3}


def test_lease_released_by_gc() -> None:
    cpu = CPUAllocator(capacity_cpus=1)
    cpu.allocate_cpu(1)  # dropped at once
    gc.collect()
    assert cpu.allocate_cpu(1).amount == 1.0


def test_gradient2_shrinks_on_latency_and_grows_back() -> None:
    lim = AdaptiveLimit(initial=10, max_limit=40, long_window=10)
    for _ in range(50):
        lim.update(0.010, inflight=lim.limit)
    steady = lim.limit
    assert steady > 10  # latency flat: grows by queue_size steps
    for _ in range(10):
        lim.update(0.100, inflight=lim.limit)  # 10x slower
    assert lim.limit < steady
    low = lim.limit
    assert lim.update(0.010, inflight=0) == low  # app-limited: no growth
    for _ in range(60):
        lim.update(0.010, inflight=lim.limit)
    assert lim.limit > low


def test_aimd_and_metric() -> None:
    cpu = CPUAllocator(capacity_cpus=2, name="aimdtest", limit=AdaptiveLimit(algorithm="aimd", initial=8, max_limit=16))
    assert cpu.optimize_threads(0.01, inflight=8) == 9
    assert cpu.optimize_threads(0.01, inflight=8, dropped=True) == 8  # 9 * 0.9 = 8.1
    text = REGISTRY.render_text().decode()
    assert 'swfast_resources_concurrency_limit{name="aimdtest"} 8.0' in text
    with pytest.raises(ConfigurationError):
        AdaptiveLimit(algorithm="vegas2")


def test_priority_executor_aging_bound() -> None:
    t = [0.0]
    ex = PriorityExecutor(1, aging_s=1.0, clock=lambda: t[0])
    gate = threading.Event()
    order: list[str] = []
    ex.submit(gate.wait)  # occupies the only worker
    ex.submit(order.append, "low", priority="low")  # rank 0 + 2*1 = 2
    for i in range(5):  # a flood of high-priority tasks, 0.5 s apart
        t[0] = 0.5 * i
        ex.submit(order.append, f"high{i}", priority="high")
    last = ex.submit(order.append, "end", priority="high")
    gate.set()
    last.result(timeout=10)
    ex.shutdown()
    # high0..high3 (ranks 0..1.5) run first; high4 at rank 2.0 ties and loses to the older low
    assert order == ["high0", "high1", "high2", "high3", "low", "high4", "end"]


def test_manage_priority_background_and_blas() -> None:
    cpu = CPUAllocator(capacity_cpus=1)
    assert cpu._executors == {}
    assert cpu.manage_priority(lambda x: x * 2, 21).result(timeout=10) == 42
    assert cpu.manage_priority(lambda: 7, background=True, blas_threads=1).result(timeout=10) == 7
    with limit_blas_threads(1) as applied:
        assert applied == (importlib.util.find_spec("threadpoolctl") is not None)

    def policy() -> tuple[int, int]:
        return os.sched_getscheduler(0), os.nice(0)

    main_before = policy()
    bg = cpu.manage_priority(policy, background=True).result(timeout=10)
    fg = cpu.manage_priority(policy).result(timeout=10)
    # background workers run SCHED_IDLE (or nice 19 where that is refused); normal ones and the
    # caller's thread keep their policy
    assert bg[0] == os.SCHED_IDLE or bg[1] == 19, bg
    assert fg == main_before and policy() == main_before
    cpu.shutdown()


async def test_amanage_priority() -> None:
    cpu = CPUAllocator(capacity_cpus=1)
    assert await cpu.amanage_priority(sum, [1, 2, 3]) == 6
    cpu.shutdown()


# ----------------------------------------------------------------------------- memory
def test_memory_reservation_error_names_budget_and_owner() -> None:
    mem = MemoryAllocator(capacity_bytes=1000, name="models")
    r = mem.allocate_memory(600, owner="bert")
    with pytest.raises(BudgetExceeded) as info:
        mem.allocate_memory(500, owner="bert")
    assert info.value.budget == "memory:models" and info.value.owner_held == 600
    assert "bert" in str(info.value) and "600 bytes" in str(info.value)
    assert mem.reservations() == {"bert": 600}
    r.release()
    assert mem.reservations() == {}


@pytest.mark.parametrize("nbytes", [-1, float("nan"), 1.5, "10", True])
def test_memory_bad_sizes(nbytes: Any) -> None:
    mem = MemoryAllocator(capacity_bytes=1000)
    with pytest.raises(ConfigurationError) as info:
        mem.allocate_memory(nbytes)
    assert info.value.param == "nbytes" and mem.budget.used == 0


def test_memory_default_budget_is_cgroup_aware() -> None:
    from swfast.resource_management import memory_budget_bytes
    mem = MemoryAllocator(headroom_fraction=0.25)
    assert mem.budget.capacity == int((memory_budget_bytes() or 0) * 0.75)
    with pytest.raises(ConfigurationError, match="grow_below"):
        MemoryAllocator(shrink_above=0.5, grow_below=0.6)


def test_optimize_usage_shrinks_a_real_l1_cache_and_grows_it_back() -> None:
    """SPEC cache <-> resources: the cache size follows the (injected) memory pressure."""
    pressure = [0.5]
    cache = L1Cache(maxsize=1000, max_bytes=1 << 20)
    for i in range(1000):
        cache[f"k{i}"] = i
    mem = MemoryAllocator(capacity_bytes=1 << 30, pressure=lambda: pressure[0])
    mem.register_cache(cache, name="l1", priority=5, min_entries=100)
    trimmed: list[float] = []
    mem.register_consumer(CallbackConsumer("l3", lambda f: trimmed.append(f), priority=1))
    assert mem.optimize_usage() == []  # calm
    pressure[0] = 0.9
    first = mem.optimize_usage()
    assert [(a.kind, a.target) for a in first] == [("shrink", "l3")]  # least important first
    assert trimmed == [0.5]
    plan = mem.optimize_usage(dry_run=True)
    assert plan[0].applied is False and cache.maxsize == 1000
    mem._consumers = [c for c in mem._consumers if c.name != "l3"]
    act = mem.optimize_usage()
    assert act[0].target == "l1" and act[0].detail["to_entries"] == 500
    assert cache.maxsize == 500 and len(cache) == 500
    mem.optimize_usage(), mem.optimize_usage(), mem.optimize_usage()
    assert cache.maxsize == 100  # floor
    assert mem.optimize_usage() == []
    pressure[0] = 0.8  # between the thresholds: hold
    assert mem.optimize_usage() == [] and cache.maxsize == 100
    pressure[0] = 0.3
    sizes = []
    while (acts := mem.optimize_usage()):
        sizes.append(cache.maxsize)
    assert sizes[-1] == 1000 and sizes == sorted(sizes)
    prop = getattr(type(cache), "max_bytes", None)
    if hasattr(cache, "set_max_bytes") or (isinstance(prop, property) and prop.fset is not None):
        # the runtime max_bytes change (when this L1Cache has one) follows the entry bound
        assert act[0].detail["to_max_bytes"] == (1 << 20) // 2
    else:
        assert "to_max_bytes" not in act[0].detail


def test_optimize_usage_survives_a_failing_consumer() -> None:
    def boom(f: float) -> None:
        raise RuntimeError("nope")
    mem = MemoryAllocator(capacity_bytes=10, pressure=lambda: 1.0)
    mem.register_consumer(CallbackConsumer("bad", boom))
    assert mem.optimize_usage() == []
    with pytest.raises(ConfigurationError):
        mem.register_consumer(object())


def test_defragment_throttled_and_leak_check() -> None:
    t = [100.0]
    mem = MemoryAllocator(capacity_bytes=10, defrag_interval_s=30, clock=lambda: t[0])
    rep = mem.defragment()
    assert not rep.skipped and rep.rss_before_bytes and rep.rss_after_bytes
    assert rep.malloc_trimmed is True  # glibc on this platform
    assert mem.defragment().skipped
    t[0] += 31
    assert not mem.defragment().skipped
    assert mem.leak_check() == []
    hoard = [bytearray(1000) for _ in range(200)]
    grown = mem.leak_check()
    assert grown and sum(size for _, size in grown) >= 150_000
    del hoard
    import tracemalloc
    tracemalloc.stop()

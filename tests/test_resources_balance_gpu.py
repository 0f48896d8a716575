"""LoadBalancer kernel (compiled and twin), GPU allocator on the fake backend, the optimizer."""
from __future__ import annotations

import gc
import os
from collections import Counter
from typing import Any

import pytest

from swfast.errors import BudgetExceeded, ConfigurationError, NoGPUError
from swfast.resilience.breaker import CircuitBreaker
from swfast.resilience.history import CircuitState
from swfast.resource_management import (CPUAllocator, FakeGPUBackend, GPUAllocator, LoadBalancer, MemoryAllocator,
                                        ResourceOptimizer)
from swfast.resource_management.cgroup import Limits
from swfast.resource_management.gpu import CupyNvmlBackend, FakeOutOfMemory
from tests.conftest import Impl

GiB = 1 << 30


def test_p2c_kernel_same_picks_in_both_impls(impl: Impl) -> None:
    k = impl.load("balance")
    p = k.P2C(seed=1234)
    for i in range(6):
        p.add(f"t{i}", 1.0 + i)
    picks = [p.pick_index() for _ in range(50)]
    from swfast._native import _balance_py
    q = _balance_py.P2C(seed=1234)
    for i in range(6):
        q.add(f"t{i}", 1.0 + i)
    assert picks == [q.pick_index() for _ in range(50)]
    with pytest.raises(ValueError):
        p.add("bad", 0.0)
    if impl.name == "c":
        with pytest.raises(IndexError):
            p.set_healthy(99, False)


def test_p2c_least_loaded_weighted_and_health(impl: Impl) -> None:
    k = impl.load("balance")
    p = k.P2C(seed=7)
    for name in "abc":
        p.add(name)
    assert p.pick() is not None and p.healthy_count() == 3
    for _ in range(10):
        p.acquire(0)
    counts = Counter(p.pick() for _ in range(3000))
    assert counts["a"] < 0.05 * 3000  # the loaded one only wins when drawn with itself... never
    p.set_healthy(1, False)
    p.set_healthy(2, False)
    assert {p.pick() for _ in range(20)} == {"a"}
    p.set_healthy(0, False)
    assert p.pick() is None and p.pick_index() == -1
    q = k.P2C(seed=3)
    q.add("light", 1.0)
    q.add("heavy", 4.0)
    counts = Counter()
    for _ in range(2000):  # keep requests open: weight 4 should carry ~4x the load
        i = q.pick_index()
        q.acquire(i)
        counts[i] += 1
    assert 3.0 < counts[1] / counts[0] < 5.0
    for _ in range(5):
        q.release(0)
    assert q.active(0) == counts[0] - 5


def test_p2c_slow_start(impl: Impl) -> None:
    k = impl.load("balance")
    p = k.P2C(seed=11, slow_start_s=10.0, min_ramp=0.1)
    p.set_time(100.0)
    p.add("old")
    p.set_time(200.0)
    p.add("new")  # ramp 0.1 at t=200
    early = Counter(p.pick() for _ in range(1000))
    assert early["old"] == 1000  # same active counts: the old one's score is 10x lower
    p.set_time(211.0)  # past the ramp
    for _ in range(3):
        p.acquire(0)
    assert Counter(p.pick() for _ in range(100))["new"] == 100


def test_load_balancer_breakers_and_leases() -> None:
    br = CircuitBreaker("lb-test-b")
    lb = LoadBalancer(["cpu-pool"], seed=5)
    lb.add_target("gpu0", weight=2.0, breaker=br)
    assert lb.pick is lb.pick  # the kernel's bound method, no wrapper
    with lb.lease() as t:
        assert lb.active(t) == 1
    assert lb.active(t) == 0
    br.transition(CircuitState.FORCED_OPEN, "test")
    assert not lb.is_healthy("gpu0") and {lb.pick() for _ in range(50)} == {"cpu-pool"}
    br.transition(CircuitState.CLOSED, "test")
    assert lb.is_healthy("gpu0")
    lb.set_healthy("gpu0", False)  # drifted from the breaker: refresh fixes it
    plan = lb.refresh_health(dry_run=True)
    assert plan[0].applied is False and not lb.is_healthy("gpu0")
    opt = ResourceOptimizer(balancer=lb)
    acts = opt.balance_load()
    assert [(a.kind, a.target, a.detail) for a in acts] == [("set_health", "gpu0", {"healthy": True})]
    assert lb.loads()["gpu0"]["weight"] == 2.0
    with pytest.raises(ConfigurationError):
        lb.add_target("gpu0")
    with pytest.raises(ConfigurationError):
        lb.release("nope")
    with pytest.raises(ConfigurationError):
        lb.set_weight("gpu0", -1)
    assert LoadBalancer().pick() is None and LoadBalancer().acquire() is None


# ----------------------------------------------------------------------------- GPU (fake backend)
def _gpu(**kw: Any) -> GPUAllocator:
    backend = FakeGPUBackend([{"total_bytes": 8 * GiB, "utilization_percent": 10},
                              {"total_bytes": 8 * GiB, "utilization_percent": 90}])
    return GPUAllocator(backend=backend, headroom_bytes=GiB, seed=1, **kw)


def test_gpu_no_gpu_state_is_clear() -> None:
    gpu = GPUAllocator(backend=FakeGPUBackend(available=False))
    assert gpu.status() == {"available": False, "reason": "fake backend: no GPU", "devices": 0}
    with pytest.raises(NoGPUError, match="no GPU"):
        gpu.allocate_gpu(1024)
    with pytest.raises(NoGPUError):
        gpu.optimize_workload()
    assert gpu.stats() == [] and gpu.device_readings() == []


def test_gpu_real_backend_without_cupy_reports_no_gpu() -> None:
    try:
        import cupy  # noqa: F401
        pytest.skip("CuPy installed: covered by the gpu-marked tests")
    except ImportError:
        pass
    status = GPUAllocator(backend=CupyNvmlBackend()).status()
    assert status["available"] is False and "CuPy is not installed" in status["reason"]
    assert GPUAllocator()._backend is None  # constructor imports nothing


def test_gpu_leases_budgets_and_tenant_shares() -> None:
    gpu = _gpu()
    gpu.share_resources({"a": 0.5, "b": 0.25})
    la = gpu.allocate_gpu(3 * GiB, device=0, tenant="a")
    assert la.nbytes == 3 * GiB and la.device == 0
    with pytest.raises(BudgetExceeded) as info:
        gpu.allocate_gpu(1 * GiB, device=0, tenant="a")  # a's share is 0.5 * 7 GiB = 3.5 GiB
    assert info.value.budget == "gpu:0/tenant:a" and info.value.owner_held == 3 * GiB
    assert gpu._device_budgets[0].used == 3 * GiB  # the device lease was given back
    lb = gpu.allocate_gpu(fraction=0.25, device=0, tenant="b")
    assert lb.nbytes == int(0.25 * 7 * GiB)
    row = gpu.stats()[0]
    assert row["tenants"]["a"]["limit_bytes"] == int(3.5 * GiB) and row["tenants"]["a"]["leased_bytes"] == 3 * GiB
    la.release(), lb.release()
    with gpu.allocate_gpu(GiB, device=1, tenant="c") as lc:  # no share: the whole device
        assert repr(lc).startswith("GPULease(device=1")
    assert lc.released
    for kwargs, param in [({"nbytes": -5}, "nbytes"), ({"fraction": 2.0}, "fraction"), ({"nbytes": 1, "device": 7}, "device"),
                          ({"nbytes": 1, "tenant": ""}, "tenant"), ({}, "nbytes"), ({"nbytes": float("nan")}, "nbytes")]:
        with pytest.raises(ConfigurationError) as e:
            gpu.allocate_gpu(**kwargs)
        assert e.value.param == param
    with pytest.raises(ConfigurationError, match="sum"):
        gpu.share_resources({"x": 0.6, "y": 0.6})
    assert gpu._device_budgets[0].used == 0 and gpu._device_budgets[1].used == 0


def test_gpu_oom_frees_cached_blocks_and_retries_once() -> None:
    gpu = _gpu()
    gpu.share_resources({"t": 0.5})
    lease = gpu.allocate_gpu(3 * GiB, device=0, tenant="t")
    limit = lease.pool.get_limit()
    blocks = [lease.malloc(limit // 4 - 512) for _ in range(4)]
    del blocks  # cached in the pool, in four pieces
    gc.collect()
    assert lease.pool.free_bytes() > limit // 2
    frag = gpu.stats()[0]["tenants"]["t"]["fragmentation"]
    assert frag == pytest.approx(0.75, abs=0.01)  # 1 - largest/free with four equal blocks
    big = lease.malloc(limit // 2)  # does not fit one block; the pool is at its limit: OOM -> free -> retry
    assert gpu.retries == 1 and big.size >= limit // 2
    with pytest.raises(FakeOutOfMemory):
        lease.malloc(limit)  # still too big after the retry
    assert gpu.retries == 2
    assert gpu.free_cached() >= 0
    with lease.use() as pool:
        assert pool is lease.pool
    assert gpu.pinned_pool() is gpu.backend.pinned


def test_gpu_optimize_workload_picks_the_idle_device_and_runs() -> None:
    gpu = _gpu()
    assert Counter(gpu.optimize_workload() for _ in range(20)) == Counter({0: 20})  # 10 % vs 90 % busy
    assert gpu.allocate_gpu(GiB).device == 0
    gpu.backend.devices[0]["free_bytes"] = 1000  # device 0 full
    assert gpu.optimize_workload(GiB) == 1
    calls: list[int] = []

    def job(device: int) -> str:
        calls.append(device)
        if len(calls) == 1:
            raise FakeOutOfMemory("first try")
        return f"ran on {device}"
    assert gpu.optimize_workload(GiB, fn=job) == "ran on 1" and calls == [1, 1]


def test_optimizer_reduce_waste_and_allocation() -> None:
    gpu = _gpu()
    lease = gpu.allocate_gpu(2 * GiB, device=0)
    b = lease.malloc(GiB)
    b.free()
    mem = MemoryAllocator(capacity_bytes=GiB, pressure=lambda: 0.1)
    lim = Limits(cpu_budget=3, memory_budget_bytes=2 * GiB)
    opt = ResourceOptimizer(cpu=CPUAllocator(), memory=MemoryAllocator(pressure=lambda: 0.1), gpu=gpu,
                            limits_reader=lambda: lim, waste_free_bytes=1 << 20)
    plan = opt.reduce_waste(dry_run=True)
    assert [a.kind for a in plan] == ["free_blocks", "defragment"] and not any(a.applied for a in plan)
    assert lease.pool.free_bytes() == GiB
    acts = opt.reduce_waste()
    assert acts[0].detail == {"freed_bytes": GiB} and lease.pool.free_bytes() == 0
    assert acts[1].kind == "defragment" and acts[1].applied
    acts = opt.optimize_allocation()
    kinds = {a.kind: a for a in acts}
    assert kinds["resize_cpu_budget"].detail["to_cpus"] == 3.0 and opt.cpu.budget.capacity == 3
    assert kinds["resize_memory_budget"].detail["to_bytes"] == int(2 * GiB * 0.9)
    assert opt.optimize_allocation() == []  # in step now
    assert ResourceOptimizer().balance_load() == [] and mem.optimize_usage() == []


def _real_gpu() -> GPUAllocator:
    gpu = GPUAllocator(backend=CupyNvmlBackend())
    status = gpu.status()
    if not status["available"]:
        if os.environ.get("SWFAST_REQUIRE_GPU") == "1":
            pytest.fail(f"SWFAST_REQUIRE_GPU=1 but no GPU: {status['reason']}")
        pytest.skip(f"no GPU here: {status['reason']}")
    return gpu


@pytest.mark.gpu
def test_real_cupy_pool_lease_stats_and_workload() -> None:
    """Runs only on a machine with an NVIDIA GPU and CuPy (scripts/gpu-check)."""
    gpu = _real_gpu()
    import cupy
    gpu.share_resources({"bench": 0.25})
    with gpu.allocate_gpu(256 << 20, device=0, tenant="bench") as lease:
        mem = lease.malloc(64 << 20)
        assert lease.pool.used_bytes() >= 64 << 20
        del mem
        with lease.use():
            x = cupy.ones((1024, 1024), dtype=cupy.float32)
            assert float(x.sum()) == 1024 * 1024
            assert lease.pool.used_bytes() >= 4 << 20  # the array came from the tenant's pool
        row = gpu.stats()[0]
        assert row["total_bytes"] > 0 and 0 <= row["utilization_percent"] <= 100
        assert row["tenants"]["bench"]["limit_bytes"] == int(0.25 * (row["total_bytes"] - gpu.headroom_bytes))
    assert gpu.optimize_workload(1 << 20) in range(gpu.status()["devices"])


@pytest.mark.gpu
def test_real_cupy_oom_under_limit_is_retried_after_free_all_blocks() -> None:
    gpu = _real_gpu()
    lease = gpu.allocate_gpu(64 << 20, device=0, tenant="oomtest")
    lease.pool.set_limit(64 << 20)
    parts = [lease.malloc(16 << 20) for _ in range(4)]
    del parts  # cached: the pool holds 64 MiB in four blocks
    gc.collect()
    big = lease.malloc(48 << 20)  # over the limit with the cache: OOM -> free_all_blocks -> retry
    assert gpu.retries == 1 and big.mem.size >= 48 << 20
    lease.release()

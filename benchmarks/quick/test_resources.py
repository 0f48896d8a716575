"""Quick benchmarks of swfast.resource_management against peers (ratios printed by the quick conftest).

Groups: resources.read (the caller's read of CPU/memory), anomaly.score_1e6 (EWMA + MAD scores of
10^6 points), balancer.pick (8 targets), lease.acquire_release (CPU lease), gpu.pool_malloc_free
(only with CuPy and a GPU).
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import _resources_peers as peers  # noqa: E402

from swfast._native import _anomaly_py, _balance_py, _lease_py  # noqa: E402
from swfast._native._compat import NO_EXTENSIONS  # noqa: E402
from swfast.resource_management import CPUAllocator, LoadBalancer, ResourceMonitor  # noqa: E402
from swfast.resource_management.monitor import score_series  # noqa: E402

SELF = "swfast-py" if NO_EXTENSIONS else "swfast"
N = 1_000_000


def _tag(benchmark, group: str, impl: str, ops: int = 1) -> None:  # type: ignore[no-untyped-def]
    benchmark.group = group
    benchmark.extra_info["impl"] = impl
    benchmark.extra_info["ops_per_round"] = ops


@pytest.mark.parametrize("impl", [SELF, "psutil-direct"])
def test_read(benchmark, impl: str) -> None:  # type: ignore[no-untyped-def]
    if impl == "psutil-direct":
        fn = peers.psutil_read()
    else:
        mon = ResourceMonitor(interval_s=1.0)
        mon.monitor_usage()
        fn = mon.monitor_usage
    _tag(benchmark, "resources.read", impl)
    benchmark(fn)
    if impl != "psutil-direct":
        mon.stop()


@pytest.fixture(scope="module")
def series() -> np.ndarray:
    rng = np.random.default_rng(0)
    x = rng.normal(50.0, 5.0, N)
    x[::10_000] += 60.0
    return x


@pytest.mark.parametrize("impl", [SELF, "numpy+pandas"])
def test_anomaly_scores(benchmark, impl: str, series: np.ndarray) -> None:  # type: ignore[no-untyped-def]
    _tag(benchmark, "anomaly.score_1e6", impl)
    if impl == "numpy+pandas":
        pytest.importorskip("pandas")
        benchmark.pedantic(peers.pandas_scores, args=(series,), rounds=3, iterations=1)
    else:
        benchmark.pedantic(score_series, args=(series,), kwargs={"warmup": 64}, rounds=5, iterations=1)


def test_anomaly_twin_1e4(benchmark) -> None:  # type: ignore[no-untyped-def]
    """The pure-Python twin on 10^4 points (reported per 10^6 for comparison)."""
    x = np.random.default_rng(1).normal(size=10_000)
    _tag(benchmark, "anomaly.score_1e6", "swfast-py", ops=1)
    benchmark.extra_info["ops_per_round"] = 0.01  # 10^4 of 10^6 points
    benchmark.pedantic(lambda: _anomaly_py.AnomalyScorer().score(x), rounds=3, iterations=1)


@pytest.mark.parametrize("impl", [SELF, "swfast-py", "python-p2c"])
def test_pick(benchmark, impl: str) -> None:  # type: ignore[no-untyped-def]
    if impl == "python-p2c":
        fn = peers.PythonP2C(8).pick
    elif impl == "swfast-py":
        core = _balance_py.P2C(seed=1)
        for i in range(8):
            core.add(f"t{i}")
        fn = core.pick
    else:
        lb = LoadBalancer([f"t{i}" for i in range(8)], seed=1)
        fn = lb.pick
    _tag(benchmark, "balancer.pick", impl)
    benchmark(fn)


@pytest.mark.parametrize("impl", [SELF, "swfast-py", "semaphore"])
def test_lease(benchmark, impl: str) -> None:  # type: ignore[no-untyped-def]
    if impl == "semaphore":
        fn = peers.semaphore_lease()
    elif impl == "swfast-py":
        budget = _lease_py.Budget(4.0)

        def fn() -> None:
            budget.try_acquire(1.0, "bench").release()
    else:
        cpu = CPUAllocator(capacity_cpus=4)
        alloc = cpu.allocate_cpu

        def fn() -> None:
            alloc(1.0, owner="bench").release()
    _tag(benchmark, "lease.acquire_release", impl)
    benchmark(fn)


def _cupy_or_skip():  # type: ignore[no-untyped-def]
    cupy = pytest.importorskip("cupy")
    try:
        if cupy.cuda.runtime.getDeviceCount() < 1:
            pytest.skip("no CUDA device")
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"CUDA unavailable: {exc}")
    return cupy


@pytest.mark.parametrize("impl", [SELF, "cupy-raw"])
def test_gpu_pool_malloc_free(benchmark, impl: str) -> None:  # type: ignore[no-untyped-def]
    cupy = _cupy_or_skip()
    if impl == "cupy-raw":
        pool = cupy.cuda.MemoryPool()

        def fn() -> None:
            pool.malloc(1 << 20)
    else:
        from swfast.resource_management import GPUAllocator
        lease = GPUAllocator().allocate_gpu(64 << 20, device=0, tenant="bench")

        def fn() -> None:
            lease.malloc(1 << 20)
    _tag(benchmark, "gpu.pool_malloc_free", impl)
    benchmark(fn)

"""limits() over fixture cgroup trees (v1, v2, hybrid, nested) and the real host."""
from __future__ import annotations

import math
from pathlib import Path

import pytest

from swfast.errors import ConfigurationError
from swfast.resource_management import cpu_budget, limits, memory_budget_bytes
from swfast.resource_management.cgroup import parse_cpuset, parse_pressure

TREES = Path(__file__).parent / "data" / "cgroups"
HOST_MEM = 16384000 * 1024


def test_v2_leaf_quota_cpuset_memory_and_cgroup_psi() -> None:
    lim = limits(TREES / "v2", affinity=range(8))
    assert lim.cgroup_version == "v2"
    assert lim.cgroup_path == "/app.slice/svc.scope"
    assert lim.cpu_quota_cores == pytest.approx(1.5)
    assert lim.cpuset_cpus == frozenset({0, 1, 2, 3})
    assert lim.cpu_budget == 2  # ceil(1.5), like nproc
    assert lim.memory_max_bytes == 512 * 1024 * 1024
    assert lim.memory_high_bytes is None  # "max"
    assert lim.memory_current_bytes == 100 * 1024 * 1024
    assert lim.host_memory_bytes == HOST_MEM
    assert lim.memory_budget_bytes == 512 * 1024 * 1024
    # the cgroup's own memory.pressure wins over the host's /proc/pressure/memory
    assert lim.pressure["memory"].some_avg10_percent == 12.5
    assert lim.pressure["memory"].full_total_us == 555
    assert lim.pressure["cpu"].some_avg10_percent == 1.5  # host file


def test_nested_minimum_wins_over_the_ancestry() -> None:
    lim = limits(TREES / "nested", affinity=range(16))
    assert lim.cpu_quota_cores == pytest.approx(0.5)  # pod1 (0.5) < ctr (2) < kubepods (4)
    assert lim.cpu_budget == 1
    assert lim.memory_max_bytes == 256 * 1024 * 1024  # parent's limit, child says "max"
    assert lim.memory_high_bytes == 300 * 1024 * 1024
    assert lim.memory_budget_bytes == 256 * 1024 * 1024


def test_v1_quota_and_unlimited_sentinel() -> None:
    lim = limits(TREES / "v1", affinity=range(8))
    assert lim.cgroup_version == "v1"
    assert lim.cpu_quota_cores == pytest.approx(2.0)
    assert lim.cpuset_cpus == frozenset({0, 1, 4})
    assert lim.cpu_budget == 2
    assert lim.memory_max_bytes is None  # 9223372036854771712 means unlimited
    assert lim.memory_current_bytes == 50 * 1024 * 1024
    assert lim.memory_budget_bytes == HOST_MEM


def test_v1_affinity_smaller_than_quota() -> None:
    assert limits(TREES / "v1", affinity=[4]).cpu_budget == 1  # cpuset ∩ affinity = {4}


def test_hybrid_reads_v1_controllers_and_host_psi() -> None:
    lim = limits(TREES / "hybrid", affinity=range(4))
    assert lim.cgroup_version == "hybrid"
    assert lim.cpu_quota_cores is None
    assert lim.cpuset_cpus == frozenset({0, 1})
    assert lim.cpu_budget == 2
    assert lim.memory_max_bytes == 1 << 30
    assert lim.memory_budget_bytes == 1 << 30
    assert lim.pressure["memory"].some_avg60_percent == 0.8


def test_missing_leaf_falls_back_to_the_mount_root(tmp_path: Path) -> None:
    # no cgroup namespace: /proc/self/cgroup names a host path absent from the container's mount
    (tmp_path / "proc" / "self").mkdir(parents=True)
    (tmp_path / "proc" / "self" / "cgroup").write_text("0::/host/only/path\n")
    cg = tmp_path / "sys" / "fs" / "cgroup"
    cg.mkdir(parents=True)
    (cg / "cgroup.controllers").write_text("cpu memory\n")
    (cg / "cpu.max").write_text("250000 100000\n")
    lim = limits(tmp_path, affinity=range(8))
    assert lim.cpu_quota_cores == pytest.approx(2.5)
    assert lim.cpu_budget == 3
    assert lim.memory_budget_bytes is None and lim.pressure == {}


def test_no_cgroup_at_all(tmp_path: Path) -> None:
    lim = limits(tmp_path, affinity=[0, 1, 2])
    assert lim.cgroup_version == "none" and lim.cpu_budget == 3 and lim.cpu_quota_cores is None


def test_bad_root() -> None:
    with pytest.raises(ConfigurationError, match="root"):
        limits("/definitely/not/here")


def test_parsers() -> None:
    assert parse_cpuset("0-2,5,7-8\n") == frozenset({0, 1, 2, 5, 7, 8})
    assert parse_cpuset("") == frozenset()
    p = parse_pressure("some avg10=3.25 avg60=1.00 avg300=0.10 total=42\n")
    assert p.some_avg10_percent == 3.25 and p.some_total_us == 42 and p.full_avg10_percent == 0.0


def test_real_host_is_consistent() -> None:
    lim = limits()
    assert 1 <= lim.cpu_budget <= len(lim.affinity_cpus)
    if lim.cpu_quota_cores is not None:
        assert lim.cpu_budget <= math.ceil(lim.cpu_quota_cores)
    assert cpu_budget() == lim.cpu_budget
    budget = memory_budget_bytes()
    assert budget is None or budget > 0

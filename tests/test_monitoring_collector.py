"""MetricsCollector, SeriesStore, the process sampler (cgroup-aware) and MetricsAggregator."""
from __future__ import annotations

import asyncio
import math
import os
import random
import time
from pathlib import Path

import pytest

from swfast.errors import ConfigurationError, MetricNotFound, ValidationError
from swfast.monitoring import metrics as core
from swfast.monitoring.aggregator import MetricsAggregator, WindowedSketch, calculate_statistics
from swfast.monitoring.collector import OVERFLOW, MetricsCollector, SeriesStore
from swfast.monitoring.system import ProcessSampler, cgroup_limits


class Clock:
    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def env():  # type: ignore[no-untyped-def]
    clock = Clock()
    reg = core.Registry()
    store = SeriesStore(clock=clock, capacity=50, max_series=5)
    return clock, reg, store, MetricsCollector(reg, store)


def test_constructor_is_cheap_idempotent_and_side_effect_free() -> None:
    import threading

    before = threading.active_count()
    collectors = [MetricsCollector() for _ in range(50)]
    aggs = [MetricsAggregator() for _ in range(50)]
    assert threading.active_count() == before
    assert len({id(c.store) for c in collectors}) == 1
    assert aggs[0].collector.store is collectors[0].store
    assert not collectors[0].sampler.running


def test_collect_metric_number_mapping_and_record(env) -> None:  # type: ignore[no-untyped-def]
    clock, reg, store, c = env
    c.collect_metric("load_ratio", 0.5)
    c.collect_metric("load_ratio", 0.75)
    c.collect_metric("infer", {"latency_ms": 250, "ok": True, "gpu": {"mem_mib": 2}, "model": "m1"})
    c.record("batch", {"size": 32, "model": "m2"}, model_kind="x")
    assert c.get_values("load_ratio") == [0.5, 0.75]
    assert c.get_values("infer_latency_seconds") == [0.25]
    assert c.get_values("infer_gpu_mem_bytes") == [2 * 1024 ** 2]
    assert c.get_values("infer_ok") == [1.0]
    assert c.get_values("batch_size", model_kind="x") == [32.0]
    assert store.ignored_fields == 2  # "model" strings are not allow-listed
    text = reg.render_text().decode()
    assert "load_ratio 0.75" in text and 'batch_size{model_kind="x"} 32.0' in text


def test_allow_listed_string_fields_become_labels() -> None:
    reg, store = core.Registry(), SeriesStore()
    c = MetricsCollector(reg, store, label_fields=("model",))
    c.record("infer", {"latency_seconds": 0.1, "model": "m1"})
    assert c.get_values("infer_latency_seconds", model="m1") == [0.1]


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, "12", object()])
def test_bad_values_raise_a_typed_error_naming_the_field(env, bad) -> None:  # type: ignore[no-untyped-def]
    _, _, _, c = env
    c.collect_metric("x", 1.0)
    with pytest.raises(ValidationError, match="x"):
        c.collect_metric("x", bad)
    if not isinstance(bad, str):  # strings in a record are labels (allow-listed) or ignored
        with pytest.raises(ValidationError, match="req_latency"):
            c.record("req", {"latency": bad})
    assert c.get_values("x") == [1.0]


def test_unknown_metric_and_bad_window_are_typed_errors(env) -> None:  # type: ignore[no-untyped-def]
    _, _, _, c = env
    with pytest.raises(MetricNotFound, match="nope"):
        c.get_metric("nope")
    c.collect_metric("y", 1, host="a")
    with pytest.raises(MetricNotFound, match="labels"):
        c.get_metric("y", host="b")
    with pytest.raises(ConfigurationError, match="window"):
        c.get_metric("y", window=-1, host="a")
    with pytest.raises(ConfigurationError, match="name"):
        c.collect_metric("bad name", 1.0)
    with pytest.raises(ConfigurationError, match="labels"):
        c.collect_metric("y", 1, other="z")


def test_ring_is_bounded_and_windows_by_count_and_time(env) -> None:  # type: ignore[no-untyped-def]
    clock, _, _, c = env
    for i in range(120):
        c.collect_metric("g", float(i))
        clock.t += 1.0
    pts = c.get_metric("g")
    assert len(pts) == 50 and pts[-1][1] == 119.0  # capacity 50
    assert [v for _, v in c.get_metric("g", window=3)] == [117.0, 118.0, 119.0]
    assert [v for _, v in c.get_metric("g", window=2.5)] == [118.0, 119.0]
    assert [v for _, v in c.get_metric("g", window="5s")] == [115.0, 116.0, 117.0, 118.0, 119.0]
    assert asyncio.run(c.aget_metric("g", window=1)) == pts[-1:]


def test_label_cardinality_is_capped_with_an_overflow_series_and_a_counter(env) -> None:  # type: ignore[no-untyped-def]
    _, reg, store, c = env
    for i in range(100):
        c.collect_metric("req", 1.0, kind="counter", user_id=str(i))
    fam = store.families["req"]
    assert len(fam.series) == 6  # 5 + overflow
    assert fam.dropped == 95
    assert sum(s.total for s in fam.series.values()) == 100.0  # nothing lost
    assert c.get_metric("req", user_id=OVERFLOW)
    text = reg.render_text().decode()
    assert 'swfast_monitoring_dropped_series_total{family="req"} 95.0' in text


def test_credentials_never_reach_label_values(env) -> None:  # type: ignore[no-untyped-def]
    _, reg, _, c = env
    c.collect_metric("conn", 1.0, url="redis://user:hunter2@host:6379/0")
    assert "hunter2" not in reg.render_text().decode()


def test_collect_metrics_snapshot_has_registry_and_system(env) -> None:  # type: ignore[no-untyped-def]
    _, reg, _, c = env
    reg.counter("swfast_test_events_total", "t").inc(3)
    snap = c.collect_metrics()
    assert snap["metrics"]["swfast_test_events_total"]["samples"][0]["value"] == 3.0
    sysm = snap["system"]
    assert sysm["process_resident_memory_bytes"] > 0 and sysm["process_threads"] >= 1
    assert 0.0 <= sysm["process_cpu_usage_ratio"] <= 1.0
    assert sysm["system_cpu_limit_cores"] >= 1


def test_first_cpu_reading_is_primed_not_zero() -> None:
    end = time.process_time() + 0.05
    while time.process_time() < end:
        pass
    s = ProcessSampler()
    first = s.read()
    assert first["process_cpu_usage_ratio"] > 0.0


def test_background_sampler_serves_cached_readings_and_stops() -> None:
    s = ProcessSampler(interval=0.05)
    with s:
        assert s.running
        deadline = time.monotonic() + 5
        while not s._last and time.monotonic() < deadline:
            time.sleep(0.01)
        a = s.sample()
        assert a["sample_timestamp_seconds"] == s._last["sample_timestamp_seconds"]
    assert not s.running


def _fake_cgroup(tmp: Path, version: int, mem: str, cpu: tuple[str, str] | str) -> tuple[str, str]:
    proc = tmp / "proc_cgroup"
    if version == 2:
        d = tmp / "cg" / "kubepods" / "pod1"
        d.mkdir(parents=True)
        (d / "memory.max").write_text(mem + "\n")
        (d / "memory.current").write_text("1048576\n")
        (d / "cpu.max").write_text(f"{cpu}\n")
        proc.write_text("0::/kubepods/pod1\n")
    else:
        m = tmp / "cg" / "memory" / "docker" / "abc"
        m.mkdir(parents=True)
        (m / "memory.limit_in_bytes").write_text(mem + "\n")
        (m / "memory.usage_in_bytes").write_text("2097152\n")
        c = tmp / "cg" / "cpu,cpuacct" / "docker" / "abc"
        c.mkdir(parents=True)
        (c / "cpu.cfs_quota_us").write_text(cpu[0] + "\n")
        (c / "cpu.cfs_period_us").write_text(cpu[1] + "\n")
        proc.write_text("12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n")
    return str(tmp / "cg"), str(proc)


def test_cgroup_v2_limits(tmp_path: Path) -> None:
    root, proc = _fake_cgroup(tmp_path, 2, "536870912", "150000 100000")
    lim = cgroup_limits(root, proc)
    assert lim == {"memory_limit_bytes": 536870912.0, "memory_usage_bytes": 1048576.0, "cpu_limit_cores": 1.5}
    s = ProcessSampler(cgroup_root=root, proc_cgroup=proc)
    r = s.read()
    assert r["system_memory_limit_bytes"] == 536870912.0 and r["system_cpu_limit_cores"] == 1.5
    assert r["system_memory_usage_ratio"] == pytest.approx(1048576 / 536870912)


def test_cgroup_v2_unlimited(tmp_path: Path) -> None:
    root, proc = _fake_cgroup(tmp_path, 2, "max", "max 100000")
    assert cgroup_limits(root, proc)["memory_limit_bytes"] is None
    assert cgroup_limits(root, proc)["cpu_limit_cores"] is None


def test_cgroup_v1_limits_and_sentinels(tmp_path: Path) -> None:
    root, proc = _fake_cgroup(tmp_path / "a", 1, "268435456", ("50000", "100000"))
    assert cgroup_limits(root, proc) == {"memory_limit_bytes": 268435456.0, "memory_usage_bytes": 2097152.0,
                                         "cpu_limit_cores": 0.5}
    root, proc = _fake_cgroup(tmp_path / "b", 1, "9223372036854771712", ("-1", "100000"))
    lim = cgroup_limits(root, proc)
    assert lim["memory_limit_bytes"] is None and lim["cpu_limit_cores"] is None


def test_this_host_reads_without_error() -> None:
    lim = cgroup_limits()
    assert set(lim) == {"memory_limit_bytes", "memory_usage_bytes", "cpu_limit_cores"}


# -- aggregator ---------------------------------------------------------------------------------
def test_aggregate_per_type_rules(env) -> None:  # type: ignore[no-untyped-def]
    clock, reg, store, c = env
    agg = MetricsAggregator(c, reg)
    for i in range(40):
        c.collect_metric("temp", float(i))
        c.collect_metric("done", 2, kind="counter")
        c.collect_metric("latency_seconds", (i + 1) / 40, kind="histogram")
        clock.t += 1.0
    res = agg.aggregate(window=20)
    g = res["temp"][0]
    assert (g["last"], g["min"], g["max"], g["mean"]) == (39.0, 20.0, 39.0, 29.5)
    k = res["done"][0]
    assert k["increase"] == 40.0 and k["rate"] == pytest.approx(2.0)
    h = res["latency_seconds"][0]
    assert h["count"] == 20 and h["p50"] == pytest.approx(0.75, rel=0.02)
    assert h["p99"] == pytest.approx(0.975, rel=0.01)  # rank 0.99 * 19 -> the 19th of 20 values


def test_aggregate_registry_counters_and_histograms(env) -> None:  # type: ignore[no-untyped-def]
    clock, reg, _, c = env
    cnt = reg.counter("jobs_total", "j", ("queue",))
    hist = reg.histogram("work_seconds", "w", buckets=(0.1, 0.2, 0.4, 0.8))
    agg = MetricsAggregator(c, reg)
    agg.tick()
    clock.t += 10.0
    cnt.labels("a").inc(50)
    for i in range(100):
        hist.observe(0.15)
    res = agg.aggregate(window=60)
    row = res["jobs_total"][0]
    assert row["increase"] == 50.0 and row["rate"] == pytest.approx(5.0)
    h = res["work_seconds"][0]
    assert h["count"] == 100 and 0.1 <= h["p50"] <= 0.2


def test_calculate_statistics_matches_exact_within_one_percent() -> None:
    rng = random.Random(2)
    values = [rng.lognormvariate(0, 1) for _ in range(10000)]
    st = calculate_statistics(values)
    s = sorted(values)
    for key, q in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99)):
        assert abs(st[key] - s[int(q * (len(s) - 1))]) <= 0.01 * s[int(q * (len(s) - 1))]
    assert st["count"] == 10000 and st["min"] == s[0] and st["max"] == s[-1]
    with pytest.raises(ValidationError, match="values"):
        calculate_statistics([1.0, math.nan])


def test_windowed_sketch_forgets_old_slices() -> None:
    clock = Clock(0.0)
    ws = WindowedSketch(window=60, slices=6, clock=clock)
    for _ in range(100):
        ws.add(1000.0)
    clock.t = 30.0
    for _ in range(100):
        ws.add(1.0)
    assert ws.merged().count == 200
    clock.t = 65.0
    assert ws.merged().count == 100 and ws.quantile(0.99) == 1.0


def test_generate_summaries_dict_and_text(env) -> None:  # type: ignore[no-untyped-def]
    clock, reg, _, c = env
    c.collect_metric("queue_depth", 3.0)
    agg = MetricsAggregator(c, reg)
    d = agg.generate_summaries()
    assert isinstance(d, dict) and d["metrics"]["queue_depth"][0]["last"] == 3.0
    text = agg.generate_summaries(as_text=True)
    assert isinstance(text, str) and "queue_depth" in text.splitlines()[2] and text.startswith("metric")


def test_collect_metric_hot_path_kernel_matches_the_validating_path(impl) -> None:  # type: ignore[no-untyped-def]
    """Compiled and twin ``make_collect_metric``: every event lands exactly as the slow path would."""
    import numpy as np

    make = impl.load("collect").make_collect_metric
    clock = Clock()
    store = SeriesStore(clock=clock, capacity=100, max_series=5)
    c = MetricsCollector(core.Registry(), store)
    fast = make(store.fast, store.routes, store.clock, c._collect_slow)
    events: list[tuple[tuple[object, ...], dict[str, object]]] = [
        (("load", 0.5), {}), (("load", 2), {}), (("load", 0.25), {}),  # unlabelled gauge, float and int
        (("latency_ms", 250.0), {"model": "m1"}), (("latency_ms", 500), {"model": "m1"}),  # unit factor route
        (("reqs_total", 1.0, "counter"), {}), (("reqs_total", 2.0, "counter"), {}),  # non-gauge route
        (("load", True), {}), (("load", np.float64(0.75)), {}),  # bool and numpy go through the slow path
    ]
    for args, labels in events:
        clock.t += 1
        fast(*args, **labels)
    assert c.get_metric("load") == [(1001.0, 0.5), (1002.0, 2), (1003.0, 0.25), (1008.0, 1.0), (1009.0, 0.75)]
    assert c.get_metric("latency_seconds", model="m1") == [(1004.0, 0.25), (1005.0, 0.5)]
    assert c.get_metric("reqs_total") == [(1006.0, 1.0), (1007.0, 2.0)]
    for bad in (math.nan, math.inf, -math.inf, "1"):
        with pytest.raises(ValidationError, match="load"):
            fast("load", bad)
        with pytest.raises(ValidationError, match="latency"):
            fast("latency_ms", bad, model="m1")
    assert len(c.get_metric("load")) == 5  # refused values are never stored


def test_collect_metric_reads_the_wall_clock_when_the_store_uses_time_time(impl) -> None:  # type: ignore[no-untyped-def]
    make = impl.load("collect").make_collect_metric
    store = SeriesStore()
    c = MetricsCollector(core.Registry(), store)
    fast = make(store.fast, store.routes, store.clock, c._collect_slow)
    fast("wall_probe", 1.0)
    before = time.time()
    fast("wall_probe", 2.0)
    after = time.time()
    (ts, value), = c.get_metric("wall_probe", window=1)
    assert value == 2.0 and before - 1e-3 <= ts <= after + 1e-3


def test_collector_binds_the_compiled_hot_path_unless_overridden() -> None:
    from swfast._native.collect import make_collect_metric

    c = MetricsCollector(core.Registry(), SeriesStore())
    assert type(c.collect_metric).__name__ == type(make_collect_metric(
        {}, {}, time.time, c._collect_slow)).__name__ and "collect_metric" in vars(c)

    class Custom(MetricsCollector):
        def collect_metric(self, name: str, value: object, kind: str = "gauge", **labels: object) -> None:
            super().collect_metric(name, value, kind, **labels)

    assert "collect_metric" not in vars(Custom(core.Registry(), SeriesStore()))

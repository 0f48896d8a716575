"""Quick monitoring benchmarks, peers in the same run.

Goals (issue 13): sketch insert <= 50 ns compiled (per value in ``add_many``; ``add`` from Python
also shown); p50/p95/p99 over a stream of 10^6 values >= 5x faster than ``numpy.percentile`` and
within 1 % of it; ``collect_metric(name, number)`` <= 300 ns; a scrape with 4 live workers after
100 restarts >= 10x faster than prometheus_client's MultiProcessCollector; the dashboard JSON
endpoint <= 5 ms for 500 series.
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _monitoring_peers import prometheus_dir, swfast_dir  # noqa: E402

VALUES = np.random.default_rng(42).lognormal(-3.0, 1.0, 1_000_000)
BATCH = 10_000
QS = (0.5, 0.95, 0.99)
NATIVE = os.environ.get("SWFAST_NO_EXTENSIONS", "") in ("", "0")


def _tag(benchmark, group: str, impl: str, ops: int) -> None:
    benchmark.group = group
    benchmark.extra_info["impl"] = impl
    benchmark.extra_info["ops_per_round"] = ops


def _sketch(impl: str):
    from swfast._native import _qsketch_py

    if impl == "swfast":
        from swfast._native.qsketch import QuantileSketch

        return QuantileSketch
    return _qsketch_py.QuantileSketch


SKETCHES = ["swfast", "swfast-py"] if NATIVE else ["swfast-py"]


@pytest.mark.parametrize("impl", SKETCHES + ["ddsketch"])
def test_sketch_add(benchmark, impl):
    vals = VALUES[:BATCH].tolist()
    if impl == "ddsketch":
        ddsketch = pytest.importorskip("ddsketch")
        add = ddsketch.DDSketch(0.01).add
    else:
        add = _sketch(impl)().add
    _tag(benchmark, "monitoring.sketch_add", impl, BATCH)

    def run():
        for v in vals:
            add(v)

    benchmark(run)


@pytest.mark.parametrize("impl", SKETCHES)
def test_sketch_add_many(benchmark, impl):
    cls = _sketch(impl)
    data = VALUES[:BATCH]
    _tag(benchmark, "monitoring.sketch_add_many", impl, BATCH)
    benchmark(lambda: cls().add_many(data))


def _stream_sketch(cls):
    sk = cls()
    out = None
    for i in range(0, len(VALUES), 10 * BATCH):
        sk.add_many(VALUES[i:i + 10 * BATCH])
        out = sk.quantiles(QS)
    return out


def _stream_numpy():
    out = None
    for i in range(0, len(VALUES), 10 * BATCH):
        out = np.percentile(VALUES[: i + 10 * BATCH], [50, 95, 99])
    return out


@pytest.mark.parametrize("impl", ["swfast", "numpy.percentile"] if NATIVE else ["numpy.percentile"])
def test_stream_percentiles(benchmark, impl):
    """10^6 values arriving in 10 batches; p50/p95/p99 asked after every batch."""
    _tag(benchmark, "monitoring.stream_p50_p95_p99_1e6", impl, len(VALUES))
    if impl == "swfast":
        got = benchmark(_stream_sketch, _sketch("swfast"))
        exact = np.percentile(VALUES, [50, 95, 99], method="lower")
        assert all(abs(g - e) <= 0.01 * e for g, e in zip(got, exact))
    else:
        benchmark(_stream_numpy)


@pytest.mark.parametrize("impl", ["swfast", "prometheus_client"])
def test_collect_metric_number(benchmark, impl):
    if impl == "swfast":
        from swfast.monitoring.collector import MetricsCollector, SeriesStore
        from swfast.monitoring.metrics import Registry

        c = MetricsCollector(Registry(), SeriesStore())
        c.collect_metric("bench_load_ratio", 0.5)
        fn = c.collect_metric

        def run():
            for _ in range(BATCH):
                fn("bench_load_ratio", 0.5)
    else:
        import prometheus_client as pc

        g = pc.Gauge("bench_load_ratio", "g", registry=pc.CollectorRegistry())
        setv = g.set

        def run():
            for _ in range(BATCH):
                setv(0.5)
    _tag(benchmark, "monitoring.collect_metric", impl, BATCH)
    benchmark(run)


@pytest.fixture(scope="module", params=["swfast", "prometheus_client"])
def churned(request):
    build = swfast_dir if request.param == "swfast" else prometheus_dir
    scrape, stop = build(tempfile.mkdtemp(prefix="swfast-bench-mp-"), restarts=100, live=4)
    yield request.param, scrape
    stop()


def test_scrape_after_100_restarts(benchmark, churned):
    impl, scrape = churned
    _tag(benchmark, "monitoring.scrape_4_live_after_100_restarts", impl, 1)
    body = benchmark(scrape)
    assert body.count(b"app_requests") >= 20


def test_dashboard_json_500_series(benchmark):
    from swfast.monitoring.dashboard import DashboardGenerator
    from swfast.monitoring.metrics import Registry

    reg = Registry()
    c = reg.counter("swfast_bench_sent_total", "s", ("topic",))
    h = reg.histogram("swfast_bench_get_seconds", "g", ("tier",))
    g = reg.gauge("swfast_bench_lag", "lag", ("topic",))
    for i in range(167):
        c.labels(str(i)).inc(i)
        h.labels(str(i)).observe(0.01 * i)
        g.labels(str(i)).set(i)
    dash = DashboardGenerator(reg)
    for _ in range(61):
        dash.tick()
    _tag(benchmark, "monitoring.dashboard_json_500_series", "swfast (uncached render)", 1)

    def cold():
        dash._json_cache = None
        return dash.render_json()

    benchmark(cold)


CONSTRUCTED = ("MetricsCollector", "MetricsAggregator", "MetricsExporter", "HealthChecker", "HealthReporter",
               "DashboardGenerator", "AlertVisualizer")


@pytest.mark.parametrize("name", CONSTRUCTED)
def test_constructor_cost(benchmark, name):
    """Goal: every no-argument constructor <= 50 us (model code builds them dozens of times)."""
    from swfast import monitoring

    cls = getattr(monitoring, name)
    cls()
    _tag(benchmark, "monitoring.constructor", f"swfast {name}()", 100)

    def run():
        for _ in range(100):
            cls()

    benchmark(run)

"""Quick metrics-core benchmarks against prometheus_client, per 10k-operation batch.

Goals (issue 2): Counter.inc <= 1/3 of prometheus_client's, Histogram.observe <= 1/4, a labelled
increment with labels resolved per call <= 1/4.
"""
from __future__ import annotations

import os

import pytest

BATCH = 10_000
RANGE = range(BATCH)


def _swfast(module: str):
    import importlib

    k = importlib.import_module(f"swfast._native.{module}")
    return k.CounterCell(), k.HistogramCell((0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)), k.CounterCell(("method", "code"))


def _public():
    from swfast.monitoring.metrics import Counter, Histogram, Registry

    reg = Registry()
    return (Counter("c_total", registry=reg), Histogram("h_seconds", registry=reg),
            Counter("l_total", labelnames=("method", "code"), registry=reg))


def _prometheus():
    import prometheus_client as pc

    reg = pc.CollectorRegistry()
    return (pc.Counter("c", "c", registry=reg), pc.Histogram("h", "h", registry=reg),
            pc.Counter("l", "l", ["method", "code"], registry=reg))


IMPLS = {"swfast": _public, "prometheus_client": _prometheus}
if os.environ.get("SWFAST_NO_EXTENSIONS", "") in ("", "0"):
    IMPLS["swfast-py"] = lambda: _swfast("_metrics_py")


def _tag(benchmark, group: str, impl: str) -> None:
    benchmark.group = group
    benchmark.extra_info["impl"] = impl
    benchmark.extra_info["ops_per_round"] = BATCH


@pytest.mark.parametrize("impl", list(IMPLS))
def test_counter_inc(benchmark, impl):
    counter, _, _ = IMPLS[impl]()
    _tag(benchmark, "metrics.counter_inc", impl)
    inc = counter.inc

    def run():
        for _ in RANGE:
            inc()

    benchmark(run)


@pytest.mark.parametrize("impl", list(IMPLS))
def test_histogram_observe(benchmark, impl):
    _, hist, _ = IMPLS[impl]()
    _tag(benchmark, "metrics.histogram_observe", impl)
    observe = hist.observe

    def run():
        for _ in RANGE:
            observe(0.3)

    benchmark(run)


@pytest.mark.parametrize("impl", list(IMPLS))
def test_labelled_inc(benchmark, impl):
    _, _, fam = IMPLS[impl]()
    _tag(benchmark, "metrics.labelled_inc", impl)
    labels = fam.labels

    def run():
        for _ in RANGE:
            labels("get", "200").inc()

    benchmark(run)

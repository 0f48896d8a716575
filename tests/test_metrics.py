"""The metrics core: kernels (both implementations), registry, exposition, prometheus adapter."""
from __future__ import annotations

import math
import threading

import pytest

from swfast.errors import ConfigurationError
from swfast.monitoring.metrics import Counter, Gauge, Histogram, Registry, render_text


def test_counter_cell(impl):
    k = impl.load("metrics")
    c = k.CounterCell()
    c.inc()
    c.inc(2.5)
    assert c.get() == 3.5
    with pytest.raises(ValueError, match="amount"):
        c.inc(-1)
    with pytest.raises(ValueError, match="amount"):
        c.inc(float("nan"))
    assert c.get() == 3.5


def test_gauge_cell(impl):
    g = impl.load("metrics").GaugeCell()
    g.inc(5)
    g.dec(2)
    assert g.get() == 3
    g.set(-7.5)
    assert g.get() == -7.5


def test_histogram_cell_le_semantics(impl):
    h = impl.load("metrics").HistogramCell([1.0, 2.0, 5.0])
    for v in (0.5, 1.0, 1.5, 2.0, 4.0, 5.0, 9.0, float("inf"), float("-inf")):
        h.observe(v)
    counts, total, count = h.get()
    assert counts == [3, 2, 2, 2]  # (-inf,1], (1,2], (2,5], (5,+inf)
    assert count == 9 and math.isnan(total)  # inf + -inf
    with pytest.raises(ValueError, match="NaN"):
        h.observe(float("nan"))
    for bad in ([], [2.0, 1.0], [1.0, 1.0], [float("inf")], [float("nan")]):
        with pytest.raises(ValueError, match="buckets"):
            impl.load("metrics").HistogramCell(bad)


def test_labels_cell(impl):
    k = impl.load("metrics")
    fam = k.CounterCell(("method", "code"))
    fam.labels("get", "200").inc()
    fam.labels(method="get", code="200").inc()
    fam.labels("get", 200).inc()  # values are stringified: same child
    fam.labels("post", "500").inc(3)
    got = {key: child.get() for key, child in fam.children()}
    assert got == {("get", "200"): 3.0, ("post", "500"): 3.0}
    with pytest.raises(ValueError, match="labels"):
        fam.inc()
    with pytest.raises(ValueError, match="expected 2"):
        fam.labels("get")
    with pytest.raises(ValueError, match="missing label"):
        fam.labels(method="get")
    with pytest.raises(ValueError, match="unknown label"):
        fam.labels(method="get", code="1", extra="x")
    fam.remove("post", "500")
    assert [key for key, _ in fam.children()] == [("get", "200")]
    with pytest.raises(ValueError, match="no label names"):
        k.CounterCell().labels("x")


def test_concurrent_increments_are_not_lost(impl):
    c = impl.load("metrics").CounterCell()
    h = impl.load("metrics").HistogramCell([0.5])
    fam = impl.load("metrics").CounterCell(("t",))

    def work() -> None:
        for _ in range(20_000):
            c.inc()
            h.observe(1.0)
            fam.labels("x").inc()

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert c.get() == 160_000
    assert h.get()[2] == 160_000
    assert fam.labels("x").get() == 160_000


def test_registry_exposition_format():
    reg = Registry()
    c = Counter("requests", "Requests\nserved.", labelnames=("path",), registry=reg)
    c.labels('/a"b\\').inc(2)
    Gauge("temp_celsius", "Temperature.", registry=reg).set(21.5)
    h = Histogram("latency_seconds", "Latency.", buckets=(0.1, 1.0), registry=reg)
    h.observe(0.05)
    h.observe(0.5)
    text = reg.render_text().decode()
    assert text == (
        "# HELP latency_seconds Latency.\n"
        "# TYPE latency_seconds histogram\n"
        'latency_seconds_bucket{le="0.1"} 1.0\n'
        'latency_seconds_bucket{le="1.0"} 2.0\n'
        'latency_seconds_bucket{le="+Inf"} 2.0\n'
        "latency_seconds_sum 0.55\n"
        "latency_seconds_count 2.0\n"
        "# HELP requests_total Requests\\nserved.\n"
        "# TYPE requests_total counter\n"
        'requests_total{path="/a\\"b\\\\"} 2.0\n'
        "# HELP temp_celsius Temperature.\n"
        "# TYPE temp_celsius gauge\n"
        "temp_celsius 21.5\n"
    )


def test_exposition_parses_with_prometheus_client():
    parser = pytest.importorskip("prometheus_client.parser")
    reg = Registry()
    Counter("jobs_total", "Jobs.", labelnames=("kind",), registry=reg).labels("a").inc(4)
    h = Histogram("size_bytes", "Sizes.", buckets=(10, 100), labelnames=("kind",), registry=reg)
    h.labels("x").observe(50)
    fams = {f.name: f for f in parser.text_string_to_metric_families(reg.render_text().decode())}
    assert fams["jobs"].type == "counter"
    assert fams["jobs"].samples[0].value == 4.0 and fams["jobs"].samples[0].labels == {"kind": "a"}
    buckets = [s for s in fams["size_bytes"].samples if s.name == "size_bytes_bucket"]
    assert [(s.labels["le"], s.value) for s in buckets] == [("10.0", 0.0), ("100.0", 1.0), ("+Inf", 1.0)]


def test_prometheus_client_adapter():
    prom = pytest.importorskip("prometheus_client")
    from swfast.monitoring.prometheus import register_with_prometheus

    reg = Registry()
    reg.counter("swfast_demo_total", "Demo.", ("a",)).labels("1").inc(3)
    reg.histogram("swfast_demo_seconds", "Demo.", buckets=(1.0,)).observe(0.5)
    preg = prom.CollectorRegistry()
    register_with_prometheus(reg, preg)
    assert preg.get_sample_value("swfast_demo_total", {"a": "1"}) == 3.0
    assert preg.get_sample_value("swfast_demo_seconds_count") == 1.0
    assert b"swfast_demo_seconds_bucket" in prom.generate_latest(preg)


def test_registry_get_or_create_and_conflicts():
    reg = Registry()
    a = reg.counter("x_total", "X.", ("k",))
    assert reg.counter("x_total", "X.", ("k",)) is a
    with pytest.raises(ConfigurationError, match="exists"):
        reg.gauge("x_total")
    with pytest.raises(ConfigurationError, match="exists"):
        reg.counter("x_total", "X.", ("other",))
    with pytest.raises(ConfigurationError, match="already registered"):
        Counter("x_total", registry=reg)
    for bad in ("1abc", "a-b", ""):
        with pytest.raises(ConfigurationError, match="name"):
            Counter(bad)
    with pytest.raises(ConfigurationError, match="labelnames"):
        Counter("ok", labelnames=("__reserved",))
    with pytest.raises(ConfigurationError, match="labelnames"):
        Counter("ok", labelnames="abc")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="le"):
        Histogram("ok", labelnames=("le",))
    with pytest.raises(ConfigurationError, match="buckets"):
        Histogram("ok", buckets=(2, 1))
    reg.unregister(a)
    assert reg.get("x_total") is None


def test_failing_collector_does_not_break_scrape(caplog):
    reg = Registry()
    reg.counter("ok_total").inc()

    def broken():
        raise RuntimeError("boom")

    reg.register_collector(broken)
    text = reg.render_text().decode()
    assert "ok_total 1.0" in text
    assert "boom" in caplog.text or "failed" in caplog.text


def test_histogram_time_context_uses_injected_timer():
    reg = Registry()
    h = reg.histogram("op_seconds", buckets=(1.0, 10.0))
    ticks = iter([100.0, 102.5])
    with h.time(timer=lambda: next(ticks)):
        pass
    counts, total, count = h.get()
    assert counts == [0, 1, 0] and total == 2.5 and count == 1


def test_render_text_of_nothing_is_empty():
    assert render_text([]) == b""

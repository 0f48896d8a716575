"""Exporters: formats, /metrics endpoint, WSGI/ASGI, pushgateway, Kafka; a real Prometheus server."""
from __future__ import annotations

import asyncio
import json
import math
import os
import signal
import subprocess
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread
from typing import Any, Iterator

import pytest

from _monitoring_servers import promtool, query, start_prometheus
from _servers import ServerUnavailable
from swfast.errors import ConfigurationError
from swfast.monitoring.aggregator import _bucket_quantile
from swfast.monitoring.exporters import MetricsExporter, render_openmetrics
from swfast.monitoring.metrics import REGISTRY, MetricSnapshot, Registry
from swfast.monitoring.multiprocess import MultiProcessDir

REQUIRE_SERVICES = os.environ.get("SWFAST_REQUIRE_SERVICES", "") not in ("", "0")


@pytest.fixture
def reg() -> Registry:
    r = Registry()
    r.counter("swfast_test_requests_total", "Requests.", ("route",)).labels("/a").inc(3)
    r.gauge("swfast_test_inflight", "In flight.").set(2)
    h = r.histogram("swfast_test_latency_seconds", "Latency.", buckets=(0.1, 1.0))
    h.observe(0.05)
    h.observe(0.5)
    return r


def test_constructor_starts_nothing_and_accepts_a_collector(reg: Registry) -> None:
    import threading

    before = threading.active_count()
    ex = MetricsExporter()
    assert threading.active_count() == before and ex.registry is REGISTRY

    class C:
        registry = reg

    assert MetricsExporter(C()).registry is reg


def test_formats(reg: Registry) -> None:
    ex = MetricsExporter(registry=reg)
    text = ex.export_prometheus().decode()
    assert 'swfast_test_requests_total{route="/a"} 3.0' in text
    om = ex.export_openmetrics().decode()
    assert "# TYPE swfast_test_requests counter" in om and om.endswith("# EOF\n")
    assert 'swfast_test_requests_total{route="/a"} 3.0' in om
    js = ex.export_json()
    names = {m["name"] for m in js["metrics"]}
    assert {"swfast_test_requests_total", "swfast_test_inflight", "swfast_test_latency_seconds"} <= names
    r2 = Registry()
    r2.gauge("g", "g").set(math.nan)
    assert MetricsExporter(registry=r2).export_json()["metrics"][0]["samples"][0]["value"] is None
    json.dumps(js, allow_nan=False)


def test_openmetrics_parses_with_prometheus_client(reg: Registry) -> None:
    parser = pytest.importorskip("prometheus_client.openmetrics.parser")
    fams = {f.name: f for f in parser.text_string_to_metric_families(render_openmetrics(reg.collect()).decode())}
    assert fams["swfast_test_requests"].samples[0].value == 3.0
    assert fams["swfast_test_latency_seconds"].type == "histogram"


def test_http_endpoint_negotiates_and_stops(reg: Registry) -> None:
    ex = MetricsExporter(registry=reg)
    server = ex.serve(0)
    try:
        with urllib.request.urlopen(server.url + "/metrics", timeout=5) as resp:
            assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
            assert b"swfast_test_inflight 2.0" in resp.read()
        req = urllib.request.Request(server.url + "/metrics", headers={"Accept": "application/openmetrics-text"})
        with urllib.request.urlopen(req, timeout=5) as resp:
            assert resp.headers["Content-Type"].startswith("application/openmetrics-text")
            assert resp.read().endswith(b"# EOF\n")
        with urllib.request.urlopen(server.url + "/metrics.json", timeout=5) as resp:
            assert json.load(resp)["metrics"]
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(server.url + "/nope", timeout=5)
        assert err.value.code == 404
    finally:
        ex.close()
    with pytest.raises(OSError):
        urllib.request.urlopen(server.url + "/metrics", timeout=2)


def test_wsgi_and_asgi_apps(reg: Registry) -> None:
    ex = MetricsExporter(registry=reg)
    got: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        got["status"], got["headers"] = status, dict(headers)

    body = b"".join(ex.wsgi_app({"PATH_INFO": "/metrics", "QUERY_STRING": "format=openmetrics"}, start_response))
    assert got["status"].startswith("200") and body.endswith(b"# EOF\n")
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request"}

    async def send(msg: dict[str, Any]) -> None:
        sent.append(msg)

    asyncio.run(ex.asgi_app({"type": "http", "path": "/metrics", "headers": [], "query_string": b""}, receive, send))
    assert sent[0]["status"] == 200 and b"swfast_test_inflight" in sent[1]["body"]


class _Gateway(BaseHTTPRequestHandler):
    received: list[tuple[str, str, bytes]] = []
    status = 200

    def do_PUT(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Gateway.received.append(("PUT", self.path, body))
        self.send_response(_Gateway.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *a: Any) -> None:
        pass


@pytest.fixture
def gateway() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Gateway)
    t = Thread(target=server.serve_forever, daemon=True)
    t.start()
    _Gateway.received.clear()
    _Gateway.status = 200
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_push_to_gateway_off_thread_and_failures_are_counted(reg: Registry, gateway: str) -> None:
    with MetricsExporter(registry=reg, timeout=2) as ex:
        assert ex.push(gateway, job="batch", grouping={"instance": "w1"}).result(10) is True
        method, path, body = _Gateway.received[0]
        assert path == "/metrics/job/batch/instance/w1" and b"swfast_test_inflight 2.0" in body
        fails = REGISTRY.counter("swfast_monitoring_export_failures_total", "", ("exporter",)).labels("pushgateway")
        before = fails.get()
        _Gateway.status = 500
        assert ex.push(gateway).result(10) is False
        assert ex.push("http://user:secret@127.0.0.1:1").result(10) is False  # nothing listens
        assert fails.get() == before + 2
    with pytest.raises(ConfigurationError, match="url"):
        MetricsExporter().push()


def test_publish_to_kafka_topic_through_messaging(reg: Registry) -> None:
    sent: list[tuple[str, Any]] = []

    class FakeService:  # the KafkaService call shape
        is_connected = True

        async def send_message(self, topic: str, data: Any) -> bool:
            sent.append((topic, data))
            return True

    with MetricsExporter(registry=reg) as ex:
        assert ex.publish(FakeService()).result(10) is True
    from swfast.messaging.constants import BALANCE_METRICS_TOPIC

    assert sent[0][0] == BALANCE_METRICS_TOPIC and sent[0][1]["metrics"]


def test_publish_through_the_default_kafka_service_reaches_the_topic(reg: Registry,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """No service given: the export worker builds ``KafkaService()`` (here the embedded transport,
    no bootstrap servers set) and the JSON snapshot lands on ``BALANCE_METRICS_TOPIC``."""
    from swfast.messaging._embedded import default_broker
    from swfast.messaging.constants import BALANCE_METRICS_TOPIC

    monkeypatch.delenv("SWFAST_KAFKA_BOOTSTRAP_SERVERS", raising=False)
    monkeypatch.delenv("SWFAST_KAFKA_BOOTSTRAP", raising=False)
    broker = default_broker()
    before = sum(len(p) for p in broker._topics.get(BALANCE_METRICS_TOPIC, []))
    with MetricsExporter(registry=reg, timeout=5) as ex:
        assert ex.publish().result(20) is True
    records = [r for p in broker._topics[BALANCE_METRICS_TOPIC] for r in p]
    assert len(records) == before + 1
    body = json.loads(records[-1].value() or b"")
    names = {m["name"] for m in body["metrics"]}
    assert {"swfast_test_inflight", "swfast_test_requests_total"} <= names


def test_publish_reaches_a_real_kafka_broker_read_by_confluent_kafka(reg: Registry, kafka_bootstrap: str,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """With the documented variable set, the export worker's own ``KafkaService()`` sends the
    snapshot to the real broker (tansu), where a third-party consumer reads it; the service
    it built is disconnected afterwards (one producer per publish would leak sockets)."""
    import uuid

    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

    from swfast.messaging.kafka_service import KafkaService

    monkeypatch.setenv("SWFAST_KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap)
    topic = f"metrics-{uuid.uuid4().hex[:8]}"
    disconnected: list[bool] = []
    real_disconnect = KafkaService.disconnect

    async def counting_disconnect(self: KafkaService) -> bool:
        disconnected.append(self.is_embedded)
        return await real_disconnect(self)

    monkeypatch.setattr(KafkaService, "disconnect", counting_disconnect)
    with MetricsExporter(registry=reg, timeout=20) as ex:
        assert ex.publish(topic=topic).result(60) is True
    assert disconnected == [False]  # the real transport, closed once
    consumer = Consumer({"bootstrap.servers": kafka_bootstrap, "group.id": f"g-{uuid.uuid4().hex}",
                         "enable.auto.commit": False})
    got: list[bytes] = []
    try:
        parts = consumer.list_topics(topic, 10).topics[topic].partitions
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in parts])
        deadline = time.monotonic() + 60
        while not got and time.monotonic() < deadline:
            got += [m.value() for m in consumer.consume(10, 0.5) if m.error() is None]
    finally:
        consumer.close()
    assert len(got) == 1
    names = {m["name"] for m in json.loads(got[0])["metrics"]}
    assert {"swfast_test_inflight", "swfast_test_requests_total"} <= names


def test_opentelemetry_requires_the_api_or_registers_observables(reg: Registry) -> None:
    ex = MetricsExporter(registry=reg)
    try:
        import opentelemetry.metrics  # noqa: F401
    except ImportError:
        with pytest.raises(ConfigurationError, match="opentelemetry"):
            ex.register_opentelemetry()
        return
    assert len(ex.register_opentelemetry()) == 2  # the counter and the gauge


def test_opentelemetry_observables_report_the_registry_values(reg: Registry) -> None:
    """Through the real OpenTelemetry SDK: an in-memory reader collects what the registry holds."""
    from opentelemetry.sdk import metrics as sdk_metrics  # the test extra installs opentelemetry-sdk
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    reader = InMemoryMetricReader()
    provider = sdk_metrics.MeterProvider(metric_readers=[reader])
    try:
        instruments = MetricsExporter(registry=reg).register_opentelemetry(provider.get_meter("swfast-test"))
        assert len(instruments) == 2
        reg.gauge("swfast_test_inflight", "in flight").set(5)  # read at collection time, not registration
        data = reader.get_metrics_data()
        points: dict[str, list[tuple[dict[str, Any], float]]] = {}
        for rm in data.resource_metrics:
            for sm in rm.scope_metrics:
                for m in sm.metrics:
                    points[m.name] = [(dict(p.attributes), p.value) for p in m.data.data_points]
        assert points["swfast_test_inflight"] == [({}, 5.0)]
        counter = points["swfast_test_requests_total"]
        assert counter and all(v > 0 for _, v in counter)
    finally:
        provider.shutdown()


# -- real Prometheus ----------------------------------------------------------------------------
def _mp_worker(mp: MultiProcessDir, plan: list[tuple[int, list[float]]]) -> tuple[int, int, int]:
    """A forked worker; each byte written to it runs the next (increments, observations) step."""
    cmd_r, cmd_w = os.pipe()
    ack_r, ack_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            c = mp.counter("swfast_test_jobs_total", "Jobs done.", ("queue",))
            h = mp.histogram("swfast_test_job_seconds", "Job duration.", buckets=(0.1, 0.25, 0.5, 1.0, 2.5))
            for inc, obs in plan:
                if not os.read(cmd_r, 1):
                    break
                c.labels("q").inc(inc)
                for v in obs:
                    h.observe(v)
                os.write(ack_w, b"k")
            os.read(cmd_r, 1)
        finally:
            os._exit(0)
    return pid, cmd_w, ack_r


def _step(workers: list[tuple[int, int, int]]) -> None:
    for _, w, _ in workers:
        os.write(w, b"s")
    for _, _, r in workers:
        assert os.read(r, 1) == b"k"


def _wait_samples(prom: Any, expr: str, n: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        res = query(prom, f"count_over_time({expr}[5m])")
        if res and float(res[0]["value"][1]) >= n:
            return
        time.sleep(0.2)
    raise AssertionError(f"prometheus did not scrape {expr} {n} times in {timeout}s")


def _expected_rate(samples: list[tuple[float, float]], start: float, end: float) -> float:
    """Prometheus 2.x ``extrapolatedRate`` for a counter (no resets), per second."""
    (t0, v0), (t1, v1) = samples[0], samples[-1]
    result = v1 - v0
    sampled = t1 - t0
    avg = sampled / (len(samples) - 1)
    to_start, to_end = t0 - start, end - t1
    if result > 0 and v0 >= 0:
        to_zero = sampled * (v0 / result)
        to_start = min(to_start, to_zero)
    threshold = avg * 1.1
    interval = sampled + (to_start if to_start < threshold else avg / 2) + (to_end if to_end < threshold else avg / 2)
    return result * (interval / sampled) / (end - start)


def test_real_prometheus_scrapes_two_multiprocess_workers(tmp_path: Path) -> None:
    mp = MultiProcessDir(tmp_path / "mp")
    reg = Registry()
    mp.register(reg)
    plans = [
        [(5, [0.05, 0.2, 0.3]), (7, [0.7, 0.8]), (11, [1.5, 0.05, 0.05])],
        [(3, [0.2, 0.2]), (13, [2.0, 0.4]), (2, [0.9])],
    ]
    workers = [_mp_worker(mp, plan) for plan in plans]
    ex = MetricsExporter(registry=reg)
    server = ex.serve(0)
    try:
        try:
            prom = start_prometheus([f"127.0.0.1:{server.port}"])
        except ServerUnavailable as exc:
            if REQUIRE_SERVICES:
                pytest.fail(f"prometheus could not start and SWFAST_REQUIRE_SERVICES=1: {exc}")
            pytest.skip(f"prometheus unavailable: {exc}")
        try:
            scraped = 0
            for step in range(3):
                _step(workers)
                scraped += 2
                _wait_samples(prom, "swfast_test_jobs_total", scraped)
            total = sum(inc for plan in plans for inc, _ in plan)
            last = query(prom, "swfast_test_jobs_total")
            assert float(last[0]["value"][1]) == total
            assert last[0]["metric"]["queue"] == "q"
            at = float(last[0]["value"][0])
            raw = query(prom, "swfast_test_jobs_total[5m]", at)[0]["values"]
            samples = [(float(t), float(v)) for t, v in raw]
            assert samples[-1][1] == total and len(samples) >= 4
            rate = float(query(prom, "rate(swfast_test_jobs_total[5m])", at)[0]["value"][1])
            assert rate == pytest.approx(_expected_rate(samples, at - 300, at), rel=1e-6)
            assert rate > 0
            observations = sorted(v for plan in plans for _, obs in plan for v in obs)
            bounds = (0.1, 0.25, 0.5, 1.0, 2.5, math.inf)
            buckets = [(b, float(sum(1 for v in observations if v <= b))) for b in bounds]
            for q in (0.5, 0.9, 0.99):
                got = float(query(prom, f"histogram_quantile({q}, swfast_test_job_seconds_bucket)", at)[0]["value"][1])
                assert got == pytest.approx(_bucket_quantile(q, buckets), rel=1e-9)
            count = float(query(prom, "swfast_test_job_seconds_count", at)[0]["value"][1])
            assert count == len(observations)
            up = query(prom, 'up{job="swfast"}')
            assert float(up[0]["value"][1]) == 1.0
        finally:
            prom.stop()
        # promtool lints the exposition swfast serves
        with urllib.request.urlopen(server.url + "/metrics", timeout=5) as resp:
            exposition = resp.read()
        check = subprocess.run([promtool(), "check", "metrics"], input=exposition, capture_output=True, timeout=60)
        assert check.returncode == 0, check.stdout.decode() + check.stderr.decode()
    finally:
        ex.close()
        for pid, w, _ in workers:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


def test_exports_render_off_the_caller_thread_and_have_async_forms(reg: Registry, gateway: str) -> None:
    import threading

    rendered_on: list[str] = []

    def probe() -> list[MetricSnapshot]:
        rendered_on.append(threading.current_thread().name)
        return []

    reg.register_collector(probe)

    class FakeService:
        is_connected = True

        async def send_message(self, topic: str, data: Any) -> bool:
            return True

    async def main() -> tuple[bool, bool, bool]:
        with MetricsExporter(registry=reg, timeout=2) as ex:
            ok = await ex.apush(gateway)
            pub = await ex.apublish(FakeService())
            _Gateway.status = 500
            failed = await ex.apush(gateway)  # counted, never raised
            return ok, pub, failed

    assert asyncio.run(main()) == (True, True, False)
    assert len(rendered_on) == 3 and all(n.startswith("swfast-export") for n in rendered_on)

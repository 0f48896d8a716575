"""Kafka (real tansu broker) and Elasticsearch (local ``_bulk`` server) handlers: LG-4, LG-8, LG-9, LG-10.

No test asserts on wall-clock time; enqueue latency is measured in benchmarks/bench_logging.py.
"""
from __future__ import annotations

import http.server
import json
import logging
import os
import subprocess
import sys
import threading
import time
import uuid
from typing import Any, Iterator

import pytest

from _servers import free_port, start_kafka
from swfast.logging import ElasticLogHandler, KafkaLogHandler, LogProcessor, ProcessingHandler

SECRETS = ["4111111111111111", "john@example.com", "hunter2", "AKIAIOSFODNN7EXAMPLE", "09123456789"]


# ----------------------------------------------------------------------------- fake _bulk server
class BulkServer:
    """A stdlib HTTP server implementing ``_bulk`` semantics with scripted faults."""

    def __init__(self) -> None:
        self.indexed: list[dict[str, Any]] = []
        self.requests = 0
        self.whole_429 = 0          # answer the next N requests with HTTP 429
        self.item_429: dict[str, int] = {}  # message -> times to answer that item 429
        self.always_500: set[str] = set()   # requests containing this message get HTTP 500
        self.hang = threading.Event()        # while set, requests hang
        self.release = threading.Event()
        self.lock = threading.Lock()
        server = self

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if server.hang.is_set():
                    server.release.wait(30)
                status, answer = server.bulk(self.path, body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def bulk(self, path: str, body: bytes) -> tuple[int, dict[str, Any]]:
        with self.lock:
            self.requests += 1
            assert path.endswith("/_bulk")
            lines = body.decode().splitlines()
            docs = [json.loads(x) for x in lines[1::2]]
            actions = [json.loads(x) for x in lines[0::2]]
            assert all("index" in a for a in actions)
            if self.whole_429:
                self.whole_429 -= 1
                return 429, {"error": "too many requests"}
            if any(d.get("message") in self.always_500 for d in docs):
                return 500, {"error": "internal"}
            items: list[dict[str, Any]] = []
            errors = False
            for doc in docs:
                msg = doc.get("message")
                if self.item_429.get(msg, 0) > 0:
                    self.item_429[msg] -= 1
                    items.append({"index": {"status": 429, "error": {"type": "es_rejected_execution_exception"}}})
                    errors = True
                elif isinstance(doc.get("amount"), str):  # mapping conflict: amount is a long
                    items.append({"index": {"status": 400, "error": {"type": "mapper_parsing_exception"}}})
                    errors = True
                else:
                    self.indexed.append(doc)
                    items.append({"index": {"status": 201, "result": "created"}})
            return 200, {"took": 1, "errors": errors, "items": items}

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def bulk() -> Iterator[BulkServer]:
    server = BulkServer()
    yield server
    server.close()


def _log(handler: logging.Handler, name: str = "app") -> logging.Logger:
    log = logging.Logger(name, logging.INFO)
    log.addHandler(handler)
    return log


def _sleeps() -> tuple[list[float], Any]:
    slept: list[float] = []
    return slept, slept.append


def test_bulk_item_errors_are_handled_per_item(bulk: BulkServer) -> None:
    slept, sleep = _sleeps()
    dead: list[tuple[bytes, str]] = []
    h = ElasticLogHandler(bulk.url, "logs", sleep=sleep, dead_letter=lambda d, r: dead.append((d, r)))
    bulk.item_429["busy"] = 2
    log = _log(h)
    log.info("ok-1")
    log.info("busy")
    log.info("conflict", extra={"amount": "not-a-number"})
    log.info("ok-2", extra={"amount": 3})
    h.close()
    assert sorted(d["message"] for d in bulk.indexed) == ["busy", "ok-1", "ok-2"]
    assert h.counters.get("sent") == 3 and h.counters.get("rejected") == 1 and h.counters.get("retried") == 2
    assert len(dead) == 1 and b"conflict" in dead[0][0] and "mapper_parsing_exception" in dead[0][1]
    assert slept == [pytest.approx(0.1, rel=0.2), pytest.approx(0.2, rel=0.2)]  # resilience backoff


def test_whole_request_429_retried_with_backoff(bulk: BulkServer) -> None:
    slept, sleep = _sleeps()
    h = ElasticLogHandler(bulk.url, sleep=sleep)
    bulk.whole_429 = 3
    log = _log(h)
    for i in range(10):
        log.info(f"m{i}")
    h.close()
    assert len(bulk.indexed) == 10 and h.counters.get("sent") == 10
    assert len(slept) == 3 and slept[0] < slept[1] < slept[2]


def test_later_chunks_still_sent_after_a_failing_chunk(bulk: BulkServer) -> None:
    """elasticsearch-py #2673: helpers.bulk stops at the first failing chunk."""
    slept, sleep = _sleeps()
    h = ElasticLogHandler(bulk.url, sleep=sleep, max_retries=2, max_chunk_bytes=4_000, batch_size=1000)
    bulk.always_500.add("poison")
    log = _log(h)
    log.info("poison")
    for i in range(200):
        log.info(f"good-{i}")
    h.close()
    good = [d for d in bulk.indexed if d["message"].startswith("good-")]
    assert bulk.requests > 5  # several chunks
    failed = h.counters.get("failed")
    assert failed >= 1 and len(good) + failed == 201 and "poison" not in {d["message"] for d in bulk.indexed}
    assert len(good) >= 180  # every chunk after the failing one was indexed


def test_down_server_never_raises_and_drops_are_counted() -> None:
    port = free_port()
    slept, sleep = _sleeps()
    h = ElasticLogHandler(f"http://127.0.0.1:{port}", sleep=sleep, max_queue=100, batch_size=50, max_retries=1)
    log = _log(h)
    for i in range(1_000):
        log.info(f"r{i}")
    h.close(timeout=10)
    c = h.counters.snapshot()
    assert c.get("dropped", 0) + c.get("failed", 0) == 1_000, c
    assert c.get("sent", 0) == 0 and h.queued == 0


def test_hung_server_queue_stays_bounded(bulk: BulkServer) -> None:
    bulk.hang.set()
    h = ElasticLogHandler(bulk.url, max_queue=200, batch_size=10, timeout=30, flush_timeout=0.2)
    log = _log(h)
    for i in range(5_000):
        log.info(f"r{i}")
    assert h.queued <= 200
    assert h.counters.get("dropped") >= 5_000 - 200 - 10
    h.close(timeout=0.2)  # bounded close with the worker stuck in a request
    bulk.release.set()


def test_recursion_guard_refuses_client_and_worker_logs(bulk: BulkServer) -> None:
    h = ElasticLogHandler(bulk.url)
    client_log = _log(h, "urllib3.connectionpool")
    client_log.info("from the http client")
    inner = _log(h, "app.deadletter")
    h.dead_letter = lambda doc, reason: inner.warning("dead letter %s", reason)  # logs from the worker
    app = _log(h)
    app.info("conflict", extra={"amount": "x"})
    h.close()
    assert h.counters.get("recursion_refused") == 2
    assert [d["message"] for d in bulk.indexed] == []


def test_redaction_before_fan_out_reaches_every_handler(bulk: BulkServer, tmp_path: Any) -> None:
    """LG-4: file, ES and Kafka (embedded) handlers all receive the redacted record."""
    from swfast.logging import FileLogHandler

    class Capture(logging.Handler):
        def __init__(self) -> None:
            super().__init__()
            self.records: list[logging.LogRecord] = []

        def emit(self, record: logging.LogRecord) -> None:
            self.records.append(record)

    es = ElasticLogHandler(bulk.url)
    fh = FileLogHandler(tmp_path / "a.log")
    kafka = KafkaLogHandler("logs.test.lg4", bootstrap_servers="")
    cap = Capture()

    class Boom(logging.Handler):
        def handle(self, record: logging.LogRecord) -> bool:  # type: ignore[override]
            raise RuntimeError("sink exploded")

    fan = ProcessingHandler([Boom(), es, fh, kafka, cap], LogProcessor(service="svc"))
    log = _log(fan)
    log.info("card %s mail %s", SECRETS[0], SECRETS[1], extra={"password": SECRETS[2], "cfg": {"k": SECRETS[3]},
                                                              "note": f"call {SECRETS[4]}"})
    fan.close()
    from swfast.messaging import _embedded

    kafka_bytes = b"".join(r.value() for r in _embedded.default_broker()._topics["logs.test.lg4"][0])
    outputs = [json.dumps(bulk.indexed).encode(), (tmp_path / "a.log").read_bytes(), kafka_bytes,
               repr(cap.records[0].__dict__).encode()]
    for out in outputs:
        assert out
        for secret in SECRETS:
            assert secret.encode() not in out
    assert fan.counters.get("handler_error") == 1  # the exploding sink is isolated
    assert bulk.indexed[0]["service"] == "svc" and "host" in bulk.indexed[0]


_EXIT_SCRIPT = """
import logging, sys
from swfast.logging import ElasticLogHandler
h = ElasticLogHandler(sys.argv[1], flush_timeout=float(sys.argv[2]))
log = logging.getLogger("exit"); log.addHandler(h); log.setLevel(logging.INFO); log.propagate = False
for i in range(100):
    log.info("exit-%d", i)
print("done")
"""


def test_flush_at_exit_delivers(bulk: BulkServer) -> None:
    out = subprocess.run([sys.executable, "-c", _EXIT_SCRIPT, bulk.url, "5"], capture_output=True, text=True,
                         timeout=60, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert out.stdout.strip() == "done", out.stderr
    assert sorted(d["message"] for d in bulk.indexed) == sorted(f"exit-{i}" for i in range(100))


def test_exit_with_a_hung_server_is_bounded(bulk: BulkServer) -> None:
    bulk.hang.set()
    out = subprocess.run([sys.executable, "-c", _EXIT_SCRIPT, bulk.url, "0.5"], capture_output=True, text=True,
                         timeout=60, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert out.returncode == 0 and out.stdout.strip() == "done"
    assert "lost records" in out.stderr  # the drop is reported once on stderr


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork only")
def test_fork_recreates_queue_and_thread(bulk: BulkServer) -> None:
    h = ElasticLogHandler(bulk.url)
    log = _log(h)
    log.info("parent-before")
    assert h.flush(10)
    pid = os.fork()
    if pid == 0:
        try:
            log.info("child")
            ok = h.flush(10) and h.counters.get("sent") == 1
        finally:
            os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    log.info("parent-after")
    h.close()
    assert sorted(d["message"] for d in bulk.indexed) == ["child", "parent-after", "parent-before"]


def test_drop_report_once_per_interval() -> None:
    h = ElasticLogHandler("http://127.0.0.1:9", max_queue=1)
    h.counters.add("dropped", 5)
    line = h.counters.report()
    assert line is not None and "dropped=5" in line
    assert h.counters.report() is None
    h.close(timeout=0)


def test_bad_configuration() -> None:
    from swfast.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="url"):
        ElasticLogHandler("ftp://x")
    with pytest.raises(ConfigurationError, match="max_queue"):
        ElasticLogHandler(max_queue=0)
    with pytest.raises(ConfigurationError, match="flush_interval"):
        KafkaLogHandler(flush_interval="soon")
    h = ElasticLogHandler("http://elastic:changeme@localhost:9200")
    assert "changeme" not in repr(h)
    h.close(timeout=0)


def test_constructors_start_nothing() -> None:
    before = threading.active_count()
    h = ElasticLogHandler()
    k = KafkaLogHandler()
    assert threading.active_count() == before and k.topic.endswith(".logs")
    h.close(timeout=0)
    k.close(timeout=0)


# ----------------------------------------------------------------------------- Kafka (tansu)
def _consume(bootstrap: str, topic: str, n: int, timeout: float = 60) -> list[bytes]:
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"g-{uuid.uuid4().hex}",
                         "enable.auto.commit": False})
    got: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        md = consumer.list_topics(topic, 10)
        parts = md.topics[topic].partitions
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in parts])
        while len(got) < n and time.monotonic() < deadline:
            for m in consumer.consume(1000, 0.5):
                if m.error() is None:
                    got.append(m.value())
    finally:
        consumer.close()
    return got


def _create_topic(bootstrap: str, topic: str) -> None:
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap})
    for fut in admin.create_topics([NewTopic(topic, 1, 1)]).values():
        fut.result(30)


def test_kafka_handler_delivers_redacted_json(kafka_bootstrap: str) -> None:
    topic = f"logs-{uuid.uuid4().hex[:8]}"
    _create_topic(kafka_bootstrap, topic)
    kafka = KafkaLogHandler(topic, kafka_bootstrap)
    log = _log(ProcessingHandler([kafka]))
    for i in range(300):
        log.info("user %s paid with %s", SECRETS[1], SECRETS[0], extra={"seq": i})
    kafka.close(timeout=30)
    got = _consume(kafka_bootstrap, topic, 300)
    assert sorted(json.loads(v)["seq"] for v in got) == list(range(300))
    blob = b"".join(got)
    assert SECRETS[0].encode() not in blob and SECRETS[1].encode() not in blob
    assert kafka.counters.get("sent") == 300


def test_kafka_broker_down_then_recovery_delivers_buffered(tmp_path: Any) -> None:
    """LG-8: broker down -> no blocking, librdkafka logs routed (never re-entering the handler),
    buffered records delivered after the broker comes up."""
    port = free_port()
    bootstrap = f"127.0.0.1:{port}"
    topic = "logs-recovery"
    kafka = KafkaLogHandler(topic, bootstrap, producer_config={"reconnect.backoff.max.ms": 500})
    routed: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            routed.append(record)

    rd = logging.getLogger("swfast.messaging.librdkafka")
    keep = Keep()
    rd.addHandler(keep)
    rd.setLevel(logging.DEBUG)
    rd.addHandler(kafka)  # as if the Kafka handler sat on root: librdkafka's lines must not re-enter
    try:
        log = _log(kafka)
        for i in range(50):
            log.info("buffered", extra={"seq": i})
        deadline = time.monotonic() + 20
        while not routed and time.monotonic() < deadline:
            time.sleep(0.1)
        assert routed, "librdkafka's connection errors should reach Python logging"
        server = start_kafka(port)
        try:
            assert kafka.flush(60) or True
            kafka.close(timeout=60)
            got = _consume(bootstrap, topic, 50)
        finally:
            server.stop()
    finally:
        rd.removeHandler(keep)
        rd.removeHandler(kafka)
        rd.setLevel(logging.NOTSET)
    assert sorted(json.loads(v)["seq"] for v in got) == list(range(50))
    assert kafka.counters.get("recursion_refused") >= 1


def test_bulk_answer_shortcut_only_for_a_top_level_errors_false() -> None:
    from swfast.logging.elastic_handler import _all_ok

    assert _all_ok(b'{"took":3,"errors":false,"items":[{"index":{"status":201}}]}')
    assert _all_ok(b'{"took": 3, "errors" : false, "items": []}')
    assert not _all_ok(b'{"took":3,"errors":true,"items":[{"index":{"status":429}}]}')
    assert not _all_ok(b'{"items":[{"index":{"status":400,"error":{"reason":"\\"errors\\":false"}}}],"errors":true}')
    assert not _all_ok(b'{"errors":falsey}') and not _all_ok(b"not json")


def test_background_handler_is_abstract_until_a_subclass_delivers() -> None:
    # the base queues and batches; only a subclass that says how to send a batch can be built
    from swfast.logging._background import BackgroundHandler

    with pytest.raises(TypeError, match="send"):
        BackgroundHandler()  # type: ignore[abstract]

"""ThresholdManager state machine and AlertGenerator dedup, silences and sinks."""
from __future__ import annotations

import http.server
import json
import logging
import threading
from typing import Any

import numpy as np
import pytest

import swfast.monitoring
from swfast.errors import ConfigurationError
from swfast.messaging import BALANCE_EVENTS_TOPIC
from swfast.messaging._embedded import EmbeddedBroker
from swfast.messaging.kafka_service import KafkaService
from swfast.monitoring.metrics import Registry
from swfast.resilience.degradation import DegradationLevel
from swfast.resource_management import AlertGenerator, ThresholdManager
from swfast.resource_management.alerts import (AlertStoreSink, KafkaSink, LogSink, MetricsSink, WebhookSink,
                                               fingerprint)

EVENT_KEYS = {"fingerprint", "name", "severity", "state", "labels", "value", "peak", "count", "started_at",
              "updated_at", "summary"}


def _tm() -> ThresholdManager:
    tm = ThresholdManager()
    tm.set_thresholds("system", {"memory_fraction": {"warning": 0.8, "critical": 0.95, "for_s": 30,
                                                     "hysteresis": 0.05, "keep_firing_s": 60}})
    return tm


def test_pending_for_then_firing_then_hysteresis_and_keep_firing() -> None:
    tm = _tm()
    states = lambda bs: [(b.state, b.severity) for b in bs]  # noqa: E731
    assert states(tm.check("system", {"memory_fraction": 0.85}, now=0)) == [("pending", "warning")]
    assert tm.check("system", {"memory_fraction": 0.86}, now=10) == []
    assert states(tm.check("system", {"memory_fraction": 0.87}, now=31)) == [("firing", "warning")]
    for t in range(32, 3600, 5):  # an hour over the threshold: no new transitions
        assert tm.check("system", {"memory_fraction": 0.9}, now=t) == []
    assert states(tm.check("system", {"memory_fraction": 0.97}, now=3600)) == [("firing", "critical")]
    assert tm.check("system", {"memory_fraction": 0.93}, now=3601) == []  # within hysteresis of 0.95
    assert states(tm.check("system", {"memory_fraction": 0.85}, now=3602)) == [("firing", "warning")]
    assert tm.check("system", {"memory_fraction": 0.5}, now=3610) == []  # keep firing 60 s
    assert tm.check("system", {"memory_fraction": 0.9}, now=3620) == []  # back up: timer resets
    assert tm.check("system", {"memory_fraction": 0.5}, now=3630) == []
    [b] = tm.check("system", {"memory_fraction": 0.5}, now=3691)
    assert (b.state, b.peak, b.started_at) == ("resolved", 0.97, 0)
    assert tm.firing() == []


def test_pending_that_clears_never_fires_and_no_data_policies() -> None:
    tm = _tm()
    tm.check("system", {"memory_fraction": 0.85}, now=0)
    assert tm.check("system", {"memory_fraction": 0.1}, now=5) == []
    assert tm.check("system", {"memory_fraction": 0.85}, now=40)[0].state == "pending"  # starts over
    tm.set_thresholds("m", {"cpu": {"warning": 1, "no_data": "alert"}, "rss": {"warning": 1, "no_data": "resolve"},
                            "q": {"critical": 5}})
    out = tm.check("m", {"rss": 2.0, "q": 9.0}, now=0)
    assert sorted((b.metric, b.state) for b in out) == [("cpu", "firing"), ("q", "firing"), ("rss", "firing")]
    out = tm.check("m", {}, now=1)  # no data at all
    assert [(b.metric, b.state) for b in out] == [("rss", "resolved")]  # cpu keeps alerting, q keeps state
    assert ("m", "q", "critical") in tm.firing()


def test_below_direction_bad_specs_and_compat() -> None:
    tm = ThresholdManager()
    tm.set_thresholds("gpu0", {"free_fraction": {"warning": 0.2, "critical": 0.05, "direction": "below"}})
    assert tm.check("gpu0", {"free_fraction": 0.03}, now=0)[0].severity == "critical"
    assert tm.is_threshold_breached("free_fraction", 0.1, key="gpu0")
    tm.set_thresholds("system", {"cpu_fraction": 0.9})
    assert tm.check_thresholds({"cpu_fraction": 0.95})[0].state == "firing"
    with pytest.raises(ConfigurationError, match="no thresholds for 'nope'"):
        tm.get_thresholds("nope")
    for bad in ({"x": {"warn": 1}}, {"x": {}}, {"x": "high"}, {"x": {"warning": float("nan")}},
                {"x": {"warning": 1, "direction": "up"}}, {"x": {"warning": 1, "no_data": "x"}}, {}):
        with pytest.raises(ConfigurationError):
            tm.set_thresholds("bad", bad)
    assert "bad" not in tm.keys()


def test_adjust_dynamic_from_history() -> None:
    tm = ThresholdManager()
    tm.set_thresholds("system", {"cpu_fraction": {"warning": 0.5}})
    rng = np.random.default_rng(3)
    hist = rng.normal(0.3, 0.02, 500)
    rule = tm.adjust_dynamic("system", "cpu_fraction", hist)
    assert 0.35 < rule.warning < 0.45 and rule.critical >= rule.warning
    assert tm.get_thresholds("system")["cpu_fraction"] == rule
    with pytest.raises(ConfigurationError):
        tm.adjust_dynamic("system", "cpu_fraction", hist[:5])
    with pytest.raises(ConfigurationError):
        tm.adjust_dynamic("system", "other", hist)


def test_handle_breach_callbacks_and_degradation() -> None:
    tm = _tm()
    seen: list[str] = []
    tm.on_breach(lambda b: seen.append(b.state))
    tm.on_breach(lambda b: 1 / 0)  # logged, does not break the others
    mgr = tm.degradation_manager("res-test")
    tm.set_thresholds("system", {"memory_fraction": {"warning": 0.8, "critical": 0.95}})
    tm.check("system", {"memory_fraction": 0.85}, now=0)
    assert mgr.level is DegradationLevel.DEGRADED and seen == ["firing"]
    tm.check("system", {"memory_fraction": 0.99}, now=1)
    assert mgr.level is DegradationLevel.MINIMAL
    tm.check("system", {"memory_fraction": 0.1}, now=2)
    assert mgr.level is DegradationLevel.NORMAL and seen == ["firing", "firing", "resolved"]


# ----------------------------------------------------------------------------- alerts
def _run_hour(gen: AlertGenerator, clock: list[float]) -> list[dict[str, Any]]:
    tm = _tm()
    events: list[dict[str, Any]] = []
    for t in range(0, 3600, 10):
        clock[0] = float(t)
        events += gen.ingest(tm.check("system", {"memory_fraction": 0.9}, now=t))
    clock[0] = 3700.0
    events += gen.ingest(tm.check("system", {"memory_fraction": 0.1}, now=3700))
    events += gen.ingest(tm.check("system", {"memory_fraction": 0.1}, now=3800))
    return events


def test_an_hour_long_breach_is_one_alert() -> None:
    clock = [0.0]
    got: list[dict[str, Any]] = []
    gen = AlertGenerator(sinks=[got.append], clock=lambda: clock[0])
    events = _run_hour(gen, clock)
    assert [e["state"] for e in events] == ["pending", "firing", "resolved"]
    assert got == events and set(events[0]) == EVENT_KEYS
    fp = {e["fingerprint"] for e in events}
    assert fp == {fingerprint("resource_memory_fraction", {"key": "system", "metric": "memory_fraction"})}
    assert events[-1]["count"] == 3 and events[-1]["started_at"] == 0 and gen.active() == []


def test_repeat_interval_silences_and_groups() -> None:
    clock = [0.0]
    got: list[dict[str, Any]] = []
    gen = AlertGenerator(sinks=[got.append], repeat_interval_s=100, clock=lambda: clock[0])
    base = dict(key="m1", metric="cpu", state="firing", severity="warning", value=1.0, peak=1.0, threshold=0.9,
                started_at=0.0, updated_at=0.0, count=1, labels={"key": "m1", "metric": "cpu"})
    assert gen.process(base) is not None
    clock[0] = 50
    assert gen.process(base) is None and gen.suppressed == 1
    clock[0] = 150
    assert gen.process(base)["count"] == 3  # re-notified after the repeat interval
    sid = gen.add_silence({"key": "m2"}, until=1000)
    other = {**base, "key": "m2", "labels": {"key": "m2", "metric": "cpu"}}
    assert gen.process(other) is None and len(gen.active()) == 2
    assert set(gen.groups()) == {("m1",), ("m2",)}
    assert gen.remove_silence(sid) and not gen.remove_silence(sid)
    clock[0] = 2000
    assert gen.process({**other, "state": "resolved"})["state"] == "resolved"
    with pytest.raises(ConfigurationError):
        gen.add_silence({}, until=1)


def test_log_and_metrics_sinks(caplog: pytest.LogCaptureFixture) -> None:
    clock = [0.0]
    reg = Registry()
    gen = AlertGenerator(sinks=[LogSink(), MetricsSink(reg)], clock=lambda: clock[0])
    with caplog.at_level(logging.INFO, logger="swfast.resource_management.alerts"):
        _run_hour(gen, clock)
    levels = [r.levelname for r in caplog.records]
    assert levels == ["WARNING", "WARNING", "INFO"]
    text = reg.render_text().decode()
    assert 'swfast_resources_alerts_total{severity="warning",state="firing"} 1' in text
    assert "swfast_resources_alerts_firing 0" in text


async def test_kafka_sink_over_the_embedded_transport() -> None:
    broker = EmbeddedBroker()
    svc = KafkaService("", embedded=broker)
    clock = [0.0]
    gen = AlertGenerator(sinks=[KafkaSink(svc)], clock=lambda: clock[0])
    _run_hour(gen, clock)  # sync checks outside... a running loop: deliveries are tasks
    await gen.aflush()
    records = broker._topics[BALANCE_EVENTS_TOPIC][0]
    bodies = [json.loads(r.value()) for r in records]
    assert [b["state"] for b in bodies] == ["pending", "firing", "resolved"]
    assert records[0].key() == bodies[0]["fingerprint"].encode()
    await svc.disconnect()


def test_kafka_sink_without_loop_waits_for_aflush() -> None:
    import asyncio
    broker = EmbeddedBroker()
    svc = KafkaService("", embedded=broker)
    gen = AlertGenerator(sinks=[KafkaSink(svc, topic="alerts.test")])
    gen.process(dict(key="k", metric="m", state="firing", severity="critical", value=1.0, peak=1.0, threshold=0.5,
                     started_at=0.0, updated_at=0.0, count=1))
    assert "alerts.test" not in broker.topic_names()
    asyncio.run(gen.aflush())
    assert len(broker._topics["alerts.test"][0]) == 1


def test_webhook_sink_posts_to_a_real_http_server() -> None:
    bodies: list[dict[str, Any]] = []
    auth: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            auth.append(self.headers.get("Authorization", ""))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        sink = WebhookSink(f"http://user:secret@127.0.0.1:{server.server_port}/hook")
        clock = [0.0]
        _run_hour(AlertGenerator(sinks=[sink], clock=lambda: clock[0]), clock)
        sink.join()
        assert [b["state"] for b in bodies] == ["pending", "firing", "resolved"] and sink.sent == 3
        assert auth[0] == "Basic dXNlcjpzZWNyZXQ=" and "secret" not in sink.url
        bad = WebhookSink("http://127.0.0.1:1/none", timeout_s=0.5)
        bad({"x": 1})
        bad.join()
        assert bad.failed == 1
        sink.close(), bad.close()
    finally:
        server.shutdown()
    with pytest.raises(ConfigurationError):
        WebhookSink("ftp://x")


class _Store:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def publish(self, event: dict[str, Any]) -> None:
        self.events.append(event)


def test_alert_store_sink_publishes_through_monitoring(monkeypatch: pytest.MonkeyPatch) -> None:
    store = _Store()
    monkeypatch.setattr(swfast.monitoring, "alert_store", lambda: store, raising=False)
    clock = [0.0]
    _run_hour(AlertGenerator(sinks=[AlertStoreSink()], clock=lambda: clock[0]), clock)
    assert [e["state"] for e in store.events] == ["pending", "firing", "resolved"]
    assert all(set(e) == EVENT_KEYS for e in store.events)


def test_alert_store_sink_without_monitoring_store_drops_with_one_warning(monkeypatch: pytest.MonkeyPatch,
                                                                           caplog: pytest.LogCaptureFixture) -> None:
    # stand-in for a monitoring package without alert_store() (the lazy export cannot be deleted)
    monkeypatch.setattr(swfast.monitoring, "alert_store", None, raising=False)
    sink = AlertStoreSink()
    with caplog.at_level(logging.WARNING):
        sink({"x": 1})
        sink({"x": 2})
    assert sum("alert_store" in r.getMessage() for r in caplog.records) == 1


@pytest.mark.skipif(not hasattr(swfast.monitoring, "alert_store"), reason="monitoring's alert_store() not merged yet")
def test_alert_store_sink_with_the_real_monitoring_store() -> None:
    clock = [1_800_000_000.0]
    gen = AlertGenerator(sinks=[AlertStoreSink()], clock=lambda: clock[0])
    tm = ThresholdManager()
    tm.set_thresholds("real-store-test", {"cpu_fraction": {"critical": 0.9}})
    gen.ingest(tm.check("real-store-test", {"cpu_fraction": 0.99}, now=clock[0]))
    store = swfast.monitoring.alert_store()
    active = [e for e in store.active() if e["labels"].get("key") == "real-store-test"]
    assert len(active) == 1 and active[0]["severity"] == "critical" and active[0]["state"] == "firing"
    clock[0] += 5
    gen.ingest(tm.check("real-store-test", {"cpu_fraction": 0.1}, now=clock[0]))
    assert not [e for e in store.active() if e["labels"].get("key") == "real-store-test"]

"""Issue 11 messaging: one configuration, lossless-or-refused JSON, dead letters that keep data.

Embedded-transport tests run everywhere; the broker tests use the real tansu broker.
"""
from __future__ import annotations

import asyncio
import importlib
import json
import logging
import math
from typing import Any

import pytest

from swfast.errors import BrokerUnavailable, ConfigurationError, ValidationError
from swfast.messaging import (
    ConsumerConfig, KafkaService, OperationType, create_data_request, create_data_response, is_valid_data_request,
    is_valid_data_response, validate_data_request,
)
from swfast.messaging._embedded import EmbeddedBroker
from swfast.monitoring.metrics import REGISTRY

ks_module = importlib.import_module("swfast.messaging.kafka_service")
BIG = 2**70 + 1
NEG_BIG = -(2**63) - 1


async def _until(cond: Any, timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not cond():
        assert loop.time() < end, "condition not reached"
        await asyncio.sleep(0.005)


async def _no_sleep(_: float) -> None:
    await asyncio.sleep(0)


def _count(name: str, **labels: str) -> float:
    for snap in REGISTRY.collect():
        for s in snap.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return 0.0


# ---------------------------------------------------------------- 1. configuration


def test_env_variable_configures_the_service(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SWFAST_KAFKA_BOOTSTRAP", raising=False)
    monkeypatch.setenv("SWFAST_KAFKA_BOOTSTRAP_SERVERS", "broker-a:9092")
    svc = KafkaService()
    assert svc.bootstrap_servers == "broker-a:9092" and not svc.is_embedded
    monkeypatch.delenv("SWFAST_KAFKA_BOOTSTRAP_SERVERS")
    from swfast import config

    config._reset_warnings()
    monkeypatch.setenv("SWFAST_KAFKA_BOOTSTRAP", "broker-b:9092")  # the README's old name
    with pytest.warns(DeprecationWarning):
        assert KafkaService().bootstrap_servers == "broker-b:9092"
    config._reset_warnings()


async def test_configured_but_unreachable_broker_is_an_error_not_a_fallback(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("SWFAST_KAFKA_BOOTSTRAP_SERVERS", f"127.0.0.1:{port}")
    svc = KafkaService(kafka_timeout=1.0)
    assert not svc.is_embedded
    with pytest.raises(BrokerUnavailable, match=f"127.0.0.1:{port}"):
        await svc.connect()
    assert not svc.is_connected
    with pytest.raises(Exception, match="not connected"):
        await svc.send_message("t", {"x": 1})


async def test_implicit_embedded_is_announced_once(monkeypatch: pytest.MonkeyPatch,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.delenv("SWFAST_KAFKA_BOOTSTRAP_SERVERS", raising=False)
    monkeypatch.delenv("SWFAST_KAFKA_BOOTSTRAP", raising=False)
    ks_module._ANNOUNCED.clear()
    with caplog.at_level(logging.WARNING, logger="swfast.messaging"):
        for _ in range(2):
            async with KafkaService() as svc:
                assert svc.is_embedded
                assert await svc.send_message("t", {"x": 1})
    notes = [r for r in caplog.records if "SWFAST_KAFKA_BOOTSTRAP_SERVERS" in r.getMessage()]
    assert len(notes) == 1 and notes[0].levelno == logging.WARNING
    caplog.clear()
    ks_module._ANNOUNCED.clear()
    with caplog.at_level(logging.WARNING, logger="swfast.messaging"):
        async with KafkaService(""):  # explicit: no announcement
            pass
        async with KafkaService(embedded=EmbeddedBroker()):
            pass
    assert "SWFAST_KAFKA_BOOTSTRAP_SERVERS" not in caplog.text


def test_embedded_with_servers_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="embedded"):
        KafkaService("h:9092", embedded=EmbeddedBroker())


def test_repr_and_errors_redact_credentials() -> None:
    svc = KafkaService("sasl://user:s3cret@k1:9092")
    assert "s3cret" not in repr(svc)


@pytest.mark.parametrize("servers", [
    "SASL_SSL://bob:s3cret@{addr}",  # Kafka listener names hold "_": "ssl://" alone was redacted before
    "sasl_plaintext://bob:s3cret@{addr},k2:9092",
    "bob:s3cret@{addr}",  # no scheme at all
])
async def test_unreachable_broker_error_and_repr_never_hold_credentials(servers: str) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        addr = f"127.0.0.1:{s.getsockname()[1]}"
    svc = KafkaService(servers.format(addr=addr), kafka_timeout=0.5)
    assert "s3cret" not in repr(svc) and addr in repr(svc)
    with pytest.raises(BrokerUnavailable) as info:
        await svc.connect()
    assert "s3cret" not in str(info.value) and "s3cret" not in repr(info.value.args)
    assert addr in str(info.value)


def test_redact_helpers_on_server_lists_and_underscore_schemes() -> None:
    from swfast._redact import redact_known, redact_servers, redact_text

    assert redact_servers("SASL_SSL://u:pw@h1:9092,u:pw@h2:9092,h3:9092") == "SASL_SSL://***@h1:9092,***@h2:9092,h3:9092"
    assert "pw" not in redact_text("failed: sasl_ssl://u:pw@h1:9092/bootstrap: refused")
    assert redact_servers("SASL_SSL://h1:9092?sasl.password=pw&x=1") == "SASL_SSL://h1:9092?sasl.password=***&x=1"
    assert redact_known("u:pw@h1:9092/bootstrap: Connect failed", "u:pw@h1:9092") == "***@h1:9092/bootstrap: Connect failed"


# ---------------------------------------------------------------- 5, 6. seed API


async def test_kafka_service_export_is_the_singleton() -> None:
    from swfast.messaging import kafka_service

    assert isinstance(kafka_service, KafkaService)
    assert kafka_service is ks_module.get_kafka_service()
    import swfast.messaging as m

    assert m.kafka_service is kafka_service  # still the singleton after the submodule loaded
    assert hasattr(kafka_service, "connect")


def test_helpers_take_documented_keywords_and_default_operation() -> None:
    req = create_data_request(model_id="m1", data_type="text", parameters={"q": 1}, priority=2, ttl=5.0)
    assert req.payload.operation is OperationType.FETCH_DATA
    resp = create_data_response(request_id=req.metadata.request_id, model_id="m1", status="success", data=[1],
                                error_message=None, metrics={"n": 1})
    assert resp.payload.operation is OperationType.FETCH_DATA and resp.payload.metrics == {"n": 1}
    assert create_data_response(req.metadata.request_id, "m1", "process_data").payload.operation.value == "process_data"


# ---------------------------------------------------------------- 7. lossless or refused


@pytest.mark.parametrize("bad, path, keyword", [
    ({"v": float("nan")}, "message_data.v", "finite"),
    ({"v": [1, float("inf")]}, "message_data.v[1]", "finite"),
    ({"v": {1: "a"}}, "message_data.v", "key"),
    ({2: "a"}, "message_data", "key"),
])
async def test_unencodable_values_are_refused_before_sending(bad: Any, path: str, keyword: str) -> None:
    broker = EmbeddedBroker()
    async with KafkaService("", embedded=broker) as svc:
        with pytest.raises(ValidationError) as info:
            await svc.send_message("t", bad)
        assert (info.value.path, info.value.keyword) == (path, keyword)
        assert broker.partition_count("t") is None  # nothing was produced


async def test_big_integers_reach_handlers_exact_and_batch_reports_per_item() -> None:
    broker = EmbeddedBroker()
    async with KafkaService("", embedded=broker, consumer_config=ConsumerConfig(sleep=_no_sleep)) as svc:
        got: list[Any] = []
        await svc.subscribe("big", "g", got.append)
        assert await svc.send_message("big", {"v": BIG, "w": NEG_BIG, "u": 2**64 - 1, "f": 1e300})
        errors = await svc.send_batch_results("big", [{"i": 0}, {"i": 1, "x": float("nan")}, {"i": 2, "v": BIG}])
        assert errors[0] is None and errors[2] is None
        assert isinstance(errors[1], ValidationError) and errors[1].path == "messages[1].x"
        assert errors[1].keyword == "finite"
        await _until(lambda: len(got) == 3)
    assert got[0] == {"v": BIG, "w": NEG_BIG, "u": 2**64 - 1, "f": 1e300}
    assert type(got[0]["v"]) is int and type(got[0]["w"]) is int
    assert [m["i"] for m in got[1:]] == [0, 2] and got[2]["v"] == BIG


def test_valid_means_sendable() -> None:
    req = create_data_request("m1", parameters={"n": BIG})
    assert is_valid_data_request(req) and json.loads(req.to_json())["payload"]["parameters"]["n"] == BIG
    d = req.to_dict()
    for bad in ({"x": float("nan")}, {"x": {1: 2}}, {"x": [float("-inf")]}):
        d["payload"]["parameters"] = bad
        assert not is_valid_data_request(d)
        with pytest.raises(ValidationError):
            validate_data_request(d)
    with pytest.raises(ValidationError, match="NaN|nan"):
        create_data_request("m1", parameters={"x": math.nan})
    with pytest.raises(ValidationError):
        create_data_response("5b7a3c2e-2f4d-4d55-9a59-7a3f1f4f0b1e", "m1", data={"x": float("inf")})
    ok = create_data_response("5b7a3c2e-2f4d-4d55-9a59-7a3f1f4f0b1e", "m1", data={"n": BIG})
    assert is_valid_data_response(ok.to_dict())


# ---------------------------------------------------------------- 8. dead letters


async def test_dead_letters_keep_headers_and_tombstones() -> None:
    broker = EmbeddedBroker()
    cfg = ConsumerConfig(max_retries=0, sleep=_no_sleep)
    async with KafkaService("", embedded=broker, consumer_config=cfg) as svc:
        def fail(_: Any) -> None:
            raise RuntimeError("boom")

        await svc.subscribe("x", "g", fail)
        broker.append("x", b'{"a":1}', b"k1", [("trace", b"abc"), ("tenant", b"t1")])
        broker.append("x", None, b"k2")  # a tombstone
        await _until(lambda: broker.partition_count("x.dlq") == 1 and len(broker._topics["x.dlq"][0]) == 2)
    first, tomb = broker._topics["x.dlq"][0]
    assert first.value() == b'{"a":1}' and first.key() == b"k1"
    headers = first.headers()
    assert headers[:2] == [("trace", b"abc"), ("tenant", b"t1")]
    assert dict(headers)["swfast-error-type"] == b"RuntimeError" and dict(headers)["swfast-offset"] == b"0"
    assert tomb.value() is None and tomb.key() == b"k2"


async def test_too_large_for_the_dlq_sends_a_reference() -> None:
    broker = EmbeddedBroker()
    cfg = ConsumerConfig(max_retries=0, sleep=_no_sleep)
    before = _count("swfast_messaging_dlq_references_total", topic="big")
    async with KafkaService("", embedded=broker, consumer_config=cfg, max_message_bytes=1000) as svc:
        def fail(_: Any) -> None:
            raise ValueError("no")

        await svc.subscribe("big", "g", fail)
        value = b'"' + b"x" * 960 + b'"'  # fits, but not with the dead-letter headers added
        assert await svc.send_message("big", value, key="k")
        await _until(lambda: broker.partition_count("big.dlq") == 1 and broker._topics["big.dlq"][0])
    rec = broker._topics["big.dlq"][0][0]
    assert json.loads(rec.value()) == {"swfast_dlq_reference": {"topic": "big", "partition": 0, "offset": 0,
                                                                "size": len(value)}}
    assert dict(rec.headers())["swfast-dlq-reference"] == b"1" and rec.key() == b"k"
    assert _count("swfast_messaging_dlq_references_total", topic="big") == before + 1


# ---------------------------------------------------------------- 9. naive timestamps


async def test_naive_expires_at_is_utc_only_when_opted_in() -> None:
    now = 2_000_000_000_000_000  # 2033
    old = {"metadata": {"expires_at": "2000-01-01T00:00:00"}, "payload": {}, "k": "naive-old"}
    for opt_in, expect in ((False, ["naive-old"]), (True, [])):
        broker = EmbeddedBroker()
        cfg = ConsumerConfig(now_us=lambda: now, naive_timestamps_utc=opt_in)
        async with KafkaService("", embedded=broker, consumer_config=cfg) as svc:
            got: list[Any] = []
            await svc.subscribe("n", "g", got.append)
            await svc.send_message("n", old)
            await svc.send_message("n", {"k": "end"})
            await _until(lambda: got and got[-1].get("k") == "end")
        assert [m["k"] for m in got[:-1]] == expect


def test_retry_delays_come_from_resilience_backoff() -> None:
    from swfast.messaging import exponential_delays
    from swfast.resilience import ExponentialBackoff

    d = exponential_delays(base=0.1, factor=2, cap=1.0, jitter=0.0)
    assert [d(i) for i in (1, 2, 3, 4, 5)] == [0.1, 0.2, 0.4, 0.8, 1.0]
    assert getattr(d, "__self__", None).__class__ is ExponentialBackoff
    cfg = ConsumerConfig(retry_delays=ExponentialBackoff(initial=0.5, factor=3, max_delay=10))
    assert cfg.delay(2) == 1.5
    assert ConsumerConfig().delay(1) == pytest.approx(0.1, rel=0.11)


# ---------------------------------------------------------------- the real broker (tansu)


async def test_big_ints_tombstones_and_dlq_headers_on_the_broker(kafka_bootstrap: str,
                                                                 kafka_fast_group: dict[str, int]) -> None:
    import uuid

    from confluent_kafka import Producer

    topic = f"trust-{uuid.uuid4().hex[:8]}"
    cfg = ConsumerConfig(max_retries=0, sleep=_no_sleep)
    async with KafkaService(kafka_bootstrap, consumer_overrides=dict(kafka_fast_group), consumer_config=cfg) as svc:
        await svc.create_topic(topic, 1, 1)
        await svc.create_topic(topic + ".dlq", 1, 1)
        got: list[Any] = []

        def handle(m: Any) -> None:
            got.append(m)
            if m is None or m.get("fail"):
                raise RuntimeError("dead")

        await svc.subscribe(topic, "g", handle)
        assert await svc.send_message(topic, {"v": BIG})
        with pytest.raises(ValidationError):
            await svc.send_message(topic, {"v": float("nan")})
        p = Producer({"bootstrap.servers": kafka_bootstrap})
        p.produce(topic, value=b'{"fail":true}', key=b"k", headers=[("trace", b"t-1")])
        p.produce(topic, value=None, key=b"gone")
        assert p.flush(30) == 0
        await _until(lambda: len(got) == 3, 60)
        await asyncio.sleep(0.5)  # the dead-letter produces are acknowledged before offsets are stored
    assert got[0] == {"v": BIG} and type(got[0]["v"]) is int
    raw = await asyncio.to_thread(_read_raw, kafka_bootstrap, topic + ".dlq", 2)
    (v1, k1, h1), (v2, k2, _) = raw
    assert v1 == b'{"fail":true}' and k1 == b"k" and h1[0] == ("trace", b"t-1")
    assert dict(h1)["swfast-error-type"] == b"RuntimeError"
    assert v2 is None and k2 == b"gone"  # the tombstone stayed a tombstone


def _read_raw(bootstrap: str, topic: str, n: int) -> list[tuple[Any, Any, Any]]:
    import time

    from confluent_kafka import Consumer, TopicPartition

    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "raw-" + topic, "enable.auto.commit": False})
    c.assign([TopicPartition(topic, 0, 0)])
    out: list[tuple[Any, Any, Any]] = []
    end = time.monotonic() + 60
    while len(out) < n and time.monotonic() < end:
        for m in c.consume(10, 1.0):
            if m.error() is None:
                out.append((m.value(), m.key(), m.headers()))
    c.close()
    return out


# ---------------------------------------------------------------- 10. many single sends


async def test_submit_and_send_message_gathered_on_the_broker(kafka_bootstrap: str) -> None:
    import uuid

    topic = f"many-{uuid.uuid4().hex[:8]}"
    async with KafkaService(kafka_bootstrap, max_message_bytes=10_000) as svc:
        await svc.create_topic(topic, 1, 1)
        before = _count("swfast_messaging_delivered_total", topic=topic)
        futs = [svc.submit(topic, {"i": i}) for i in range(2000)]
        assert all(isinstance(f, asyncio.Future) for f in futs)
        assert all(await asyncio.gather(*futs))
        assert all(await asyncio.gather(*(svc.send_message(topic, {"i": i}) for i in range(2000, 3000))))
        assert _count("swfast_messaging_delivered_total", topic=topic) == before + 3000
        failed = _count("swfast_messaging_delivery_failures_total", topic=topic)
        assert await svc.submit(topic, b"x" * 20_000) is False  # refused by the client: False, counted
        assert _count("swfast_messaging_delivery_failures_total", topic=topic) == failed + 1
        with pytest.raises(ValidationError):
            svc.submit(topic, {"x": float("nan")})  # encoding errors raise before anything is produced
        info = await svc.get_topic_info(topic)
        assert info is not None
    got = await asyncio.to_thread(_read_raw, kafka_bootstrap, topic, 3000)
    assert sorted(json.loads(v)["i"] for v, _, _ in got) == list(range(3000))


async def test_submit_on_embedded_resolves_at_once() -> None:
    broker = EmbeddedBroker()
    async with KafkaService("", embedded=broker, max_message_bytes=100) as svc:
        ok = svc.submit("e", {"a": 1})
        assert ok.done() and ok.result() is True
        too_big = svc.submit("e", b"x" * 200)
        assert too_big.done() and too_big.result() is False
        assert await svc.send_message("e", b"x" * 200) is False


def test_naive_timestamps_validate_only_when_opted_in() -> None:
    from swfast.messaging import DataRequest

    d = create_data_request("m1").to_dict()
    d["metadata"]["timestamp"] = "2026-01-02T03:04:05.123456"  # as other platform modules write it
    raw = json.dumps(d).encode()
    for value in (d, raw):
        assert not is_valid_data_request(value)
        assert is_valid_data_request(value, naive_utc=True)
    with pytest.raises(ValidationError) as info:
        DataRequest.from_json(raw)
    assert info.value.path == "metadata.timestamp"
    for req in (DataRequest.from_json(raw, naive_utc=True), DataRequest.from_dict(d, naive_utc=True)):
        assert req.metadata.timestamp == "2026-01-02T03:04:05.123456+00:00"
    assert d["metadata"]["timestamp"] == "2026-01-02T03:04:05.123456"  # the caller's dict is untouched
    validate_data_request(d, naive_utc=True)


# ---------------------------------------------------------------- 4. durations


def test_messaging_durations_take_every_form() -> None:
    from datetime import timedelta

    for value, want in ((5, 5.0), (2.5, 2.5), (timedelta(seconds=90), 90.0), ("10s", 10.0), ("2m", 120.0)):
        svc = KafkaService("", kafka_timeout=value, operation_timeout=value)
        assert (svc.kafka_timeout, svc.operation_timeout) == (want, want)
        req = create_data_request("m1", ttl=value, timeout=value)
        assert (req.metadata.ttl, req.payload.timeout) == (want, want)
    for bad in ("soon", -1, 0, timedelta(seconds=-1), float("nan"), [1]):
        with pytest.raises(ConfigurationError, match="kafka_timeout"):
            KafkaService("", kafka_timeout=bad)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="ttl"):
        create_data_request("m1", ttl="later")


async def test_request_timeout_accepts_a_duration_string() -> None:
    async with KafkaService("", embedded=EmbeddedBroker()) as svc:
        req = create_data_request("m-none")
        with pytest.raises(TimeoutError, match="within 0.05s"):
            await svc.request(req, timeout="50ms")
        with pytest.raises(ConfigurationError, match="timeout"):
            await svc.request(req, timeout="whenever")

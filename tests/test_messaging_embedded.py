"""KafkaService on the embedded transport (no broker): the whole API, retries, DLQ, priorities."""
from __future__ import annotations

import asyncio
import importlib
import sys
from typing import Any

import pytest

from swfast.errors import ConfigurationError, NotConnected, ValidationError
from swfast.messaging import ConsumerConfig, KafkaService, Priority, create_data_request, create_data_response
from swfast.messaging._embedded import EmbeddedBroker
from swfast.monitoring.metrics import REGISTRY

ks_module = importlib.import_module("swfast.messaging.kafka_service")


async def _no_sleep(_: float) -> None:
    await asyncio.sleep(0)


def _svc(**kw: Any) -> KafkaService:
    return KafkaService("", embedded=EmbeddedBroker(), **kw)


async def _until(cond: Any, timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not cond():
        assert loop.time() < end, "condition not reached"
        await asyncio.sleep(0.005)


def _count(name: str, **labels: str) -> float:
    for snap in REGISTRY.collect():
        for s in snap.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return 0.0


def test_no_confluent_import_and_lazy_singleton() -> None:
    import subprocess
    code = ("import swfast.messaging as m, sys; from swfast.messaging.kafka_service import kafka_service;"
            "assert not kafka_service.is_connected; assert 'confluent_kafka' not in sys.modules; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=".")
    assert out.stdout.strip() == "ok", out.stderr


async def test_send_and_subscribe_round_trip() -> None:
    async with _svc() as svc:
        got: list[Any] = []
        assert await svc.send_message("t", {"n": 1}) is True
        assert await svc.send_message("t", "text") is True
        assert await svc.send_message("t", b"\xff\x00") is True
        assert await svc.subscribe("t", "g", got.append) is True
        assert await svc.subscribe("t", "g", got.append) is False
        await _until(lambda: len(got) == 3)
        assert got == [{"n": 1}, "text", b"\xff\x00"]
        assert await svc.unsubscribe("t", "g") is True
        assert await svc.unsubscribe("t", "g") is False
        # a restarted group member resumes after the committed offsets
        assert await svc.send_batch("t", [{"n": 2}, {"n": 3}])
        got2: list[Any] = []
        await svc.subscribe("t", "g", got2.append)
        await _until(lambda: len(got2) == 2)
        assert got2 == [{"n": 2}, {"n": 3}]


async def test_async_handler_retries_then_dlq_and_flow_continues() -> None:
    calls: dict[int, int] = {}
    delays: list[float] = []

    async def sleep(d: float) -> None:
        delays.append(d)

    async def handler(msg: dict[str, Any]) -> None:
        calls[msg["n"]] = calls.get(msg["n"], 0) + 1
        if msg["n"] == 2:
            raise RuntimeError("poison")

    cfg = ConsumerConfig(max_retries=2, retry_delays=[0.5, 1.5], sleep=sleep)
    async with _svc(consumer_config=cfg) as svc:
        dead: list[Any] = []
        await svc.subscribe("orders.dlq", "dlq-reader", dead.append)
        for n in range(1, 5):
            await svc.send_message("orders", {"n": n})
        await svc.subscribe("orders", "g", handler)
        await _until(lambda: calls.get(4) == 1 and len(dead) == 1)
        assert calls == {1: 1, 2: 3, 3: 1, 4: 1}
        assert delays == [0.5, 1.5]
        assert dead == [{"n": 2}]
        assert _count("swfast_messaging_dlq_total", topic="orders") >= 1
        assert _count("swfast_messaging_handler_retries_total", topic="orders") >= 2
        # offsets of every message (the dead-lettered one included) were stored
        await svc.unsubscribe("orders", "g")
        assert svc._embedded_broker.committed("g", "orders") == {0: 4}  # type: ignore[union-attr]


async def test_dlq_headers_carry_error() -> None:
    broker = EmbeddedBroker()
    cfg = ConsumerConfig(max_retries=0, sleep=_no_sleep)
    async with KafkaService("", embedded=broker, consumer_config=cfg) as svc:
        await svc.send_message("x", {"a": 1})
        await svc.subscribe("x", "g", lambda m: 1 / 0)
        await _until(lambda: broker.partition_count("x.dlq") == 1 and broker._topics["x.dlq"][0])
    rec = broker._topics["x.dlq"][0][0]
    headers = dict(rec.headers())
    assert b"ZeroDivisionError" in headers["swfast-error"] and headers["swfast-topic"] == b"x"
    assert rec.value() == b'{"a":1}'


async def test_priority_order_within_batch_and_batch_mode() -> None:
    async with _svc() as svc:
        prios = [5, 3, 1, 4, 2, 1]
        for i, p in enumerate(prios):
            await svc.send_message("p", {"metadata": {"priority": p}, "i": i})
        seen: list[int] = []
        await svc.subscribe("p", "g", lambda m: seen.append(m["metadata"]["priority"]))
        await _until(lambda: len(seen) == 6)
        assert seen == [1, 1, 2, 3, 4, 5]
        batches: list[list[Any]] = []
        await svc.subscribe("p", "g2", batches.append, batch=True)
        await _until(lambda: sum(map(len, batches)) == 6)
        assert [m["i"] for m in batches[0]] == [2, 5, 4, 1, 3, 0]


async def test_expired_messages_are_counted_not_handled() -> None:
    now = 2_000_000_000_000_000
    cfg = ConsumerConfig(now_us=lambda: now)
    async with _svc(consumer_config=cfg) as svc:
        await svc.send_message("e", {"metadata": {"expires_at": "2000-01-01T00:00:00Z"}, "payload": {}, "k": "old"})
        await svc.send_message("e", {"metadata": {"expires_at": "2100-01-01T00:00:00Z"}, "payload": {}, "k": "new"})
        # not a swfast envelope (no payload object): its "metadata" is the producer's, never expired
        await svc.send_message("e", {"metadata": {"expires_at": "2000-01-01T00:00:00Z"}, "k": "foreign"})
        before = _count("swfast_messaging_expired_total", topic="e")
        got: list[Any] = []
        await svc.subscribe("e", "g", got.append)
        await _until(lambda: len(got) == 2)
        await asyncio.sleep(0.05)
        assert [m["k"] for m in got] == ["new", "foreign"]
        assert _count("swfast_messaging_expired_total", topic="e") == before + 1


async def test_two_members_share_partitions_without_loss() -> None:
    broker = EmbeddedBroker()
    async with KafkaService("", embedded=broker) as svc:
        await svc.create_topic("s", 4, 3)
        assert await svc.get_topic_info("s") == {"name": "s", "partitions": 4, "replication_factor": 1}
        seen: list[int] = []
        await svc.subscribe("s", "g", lambda m: seen.append(m["i"]))
        await svc.send_batch_results("s", [{"i": i} for i in range(200)], keys=[str(i) for i in range(200)])
        svc2 = KafkaService("", embedded=broker)
        await svc2.connect()
        await svc2.subscribe("s", "g", lambda m: seen.append(m["i"]))
        await svc.send_batch("s", [{"i": i} for i in range(200, 400)])
        await _until(lambda: set(seen) >= set(range(400)))
        await svc2.disconnect()


async def test_send_batch_reports_failed_items_and_validation() -> None:
    async with _svc(max_message_bytes=1000) as svc:
        errors = await svc.send_batch_results("b", [{"ok": 1}, b"x" * 5000, object(), "fine"])
        assert errors[0] is None and errors[3] is None
        assert getattr(errors[1], "code", "") == "MSG_SIZE_TOO_LARGE"
        assert isinstance(errors[2], ValidationError) and errors[2].path == "messages[2]"
        assert await svc.send_batch("b", ["a", b"y" * 2000]) is False
        assert await svc.send_message("b", b"z" * 2000) is False
        with pytest.raises(ValidationError):
            await svc.send_message("b", 3.5)
        assert svc._embedded_broker.partition_count("b") == 1  # type: ignore[union-attr]
        assert len(svc._embedded_broker._topics["b"][0]) == 3  # type: ignore[union-attr]


async def test_invalid_structured_messages_never_produced() -> None:
    broker = EmbeddedBroker()
    async with KafkaService("", embedded=broker) as svc:
        req = create_data_request("m1", "fetch_data")
        req.metadata.priority = 9  # type: ignore[assignment]
        assert await svc.send_data_request(req) is False
        resp = create_data_response(req.metadata.request_id, "m1", "fetch_data")
        resp.payload.status = "nope"
        assert await svc.send_data_response(resp) is False
        assert broker.topic_names() == []


async def test_request_response_with_duplicates_dropped() -> None:
    async with _svc() as svc:
        answered: list[str] = []

        async def serve(msg: dict[str, Any]) -> None:
            resp = create_data_response(msg["metadata"]["request_id"], msg["payload"]["model_id"],
                                        msg["payload"]["operation"], data={"echo": msg["payload"]["parameters"]})
            answered.append(resp.metadata.request_id)
            for _ in range(3):  # duplicates must be dropped by request id
                assert await svc.send_data_response(resp)

        await svc.subscribe("smartwhale.data.requests", "data-service", serve)
        before = _count("swfast_messaging_duplicates_dropped_total")
        for i in range(3):
            req = create_data_request("model-a", "fetch_data", parameters={"i": i}, priority=Priority.HIGH)
            resp = await svc.request(req, timeout=5)
            assert resp.metadata.request_id == req.metadata.request_id
            assert resp.payload.data == {"echo": {"i": i}}
        await _until(lambda: _count("swfast_messaging_duplicates_dropped_total") >= before + 6)
        await svc.unsubscribe("smartwhale.data.requests", "data-service")
        with pytest.raises(TimeoutError):
            await svc.request(create_data_request("model-b", "fetch_data"), timeout=0.05)


async def test_send_after_disconnect_and_disconnect_twice() -> None:
    svc = _svc()
    with pytest.raises(NotConnected, match="connect"):
        await svc.send_message("t", {})
    await svc.connect()
    assert await svc.disconnect() and await svc.disconnect()
    with pytest.raises(NotConnected, match="disconnected"):
        await svc.send_message("t", {})
    with pytest.raises(NotConnected):
        await svc.list_topics()


async def test_topic_admin_embedded() -> None:
    async with _svc() as svc:
        assert await svc.create_topic("a", 2, 1) and await svc.create_topic("a", 2, 1)
        assert await svc.topic_exists("a") and not await svc.topic_exists("zz")
        assert await svc.list_topics() == ["a"]
        assert await svc.get_topic_info("zz") is None
        assert await svc.delete_topic("a") is True and await svc.delete_topic("a") is False
        with pytest.raises(ConfigurationError):
            await svc.create_topic("b", 0)


def test_unsafe_producer_config_rejected() -> None:
    svc = KafkaService("127.0.0.1:1", producer_config={"acks": 1})
    with pytest.raises(ConfigurationError, match="acks"):
        asyncio.run(svc.connect())


def test_singleton_across_successive_loops() -> None:
    ks_module._SINGLETON.clear()
    svc = ks_module.get_kafka_service()
    assert svc is ks_module.kafka_service and not svc.is_connected and svc.is_embedded

    async def once(n: int) -> list[Any]:
        got: list[Any] = []
        await svc.connect()
        await svc.subscribe("loop", f"g{n}", got.append)
        await svc.send_message("loop", {"n": n})
        await _until(lambda: len(got) >= 1)
        await svc.unsubscribe("loop", f"g{n}")
        return got

    assert asyncio.run(once(1)) == [{"n": 1}]
    assert asyncio.run(once(2)) == [{"n": 1}, {"n": 2}]
    asyncio.run(svc.disconnect())


async def test_idempotent_handler_one_side_effect_per_request_id() -> None:
    """KF-17: the same DataResponse delivered 3 times gives exactly one side effect."""
    from swfast.messaging import idempotent

    effects: list[str] = []
    failures = [1]

    async def handler(msg: dict[str, Any]) -> None:
        if failures[0]:
            failures[0] -= 1
            raise RuntimeError("transient")
        effects.append(msg.get("metadata", {}).get("request_id", "keyless"))

    cfg = ConsumerConfig(max_retries=2, sleep=_no_sleep)
    async with _svc(consumer_config=cfg) as svc:
        req = create_data_request("m1", "fetch_data")
        resp = create_data_response(req.metadata.request_id, "m1", "fetch_data")
        for _ in range(3):
            assert await svc.send_data_response(resp, "responses")
        await svc.send_message("responses", {"no": "key"})
        seen: list[Any] = []
        wrapped = idempotent(handler)
        await svc.subscribe("responses", "g", lambda m: seen.append(m) or wrapped(m))
        await _until(lambda: len(seen) >= 4)
        await asyncio.sleep(0.05)
    assert effects == [req.metadata.request_id, "keyless"]


async def test_lag_and_flow_metrics_reported() -> None:
    async with _svc() as svc:
        await svc.send_batch("lagged", [{"i": i} for i in range(300)])
        got: list[Any] = []
        await svc.subscribe("lagged", "lag-g", got.append, config=ConsumerConfig(batch_size=100))
        await _until(lambda: len(got) == 300)
    assert _count("swfast_messaging_consumer_lag", topic="lagged", group="lag-g") == 200  # after the first batch
    assert _count("swfast_messaging_consumed_total", topic="lagged") >= 300
    assert _count("swfast_messaging_handled_total", topic="lagged") >= 300
    assert _count("swfast_messaging_delivered_total", topic="lagged") >= 300
    assert _count("swfast_messaging_sent_total", topic="lagged") >= 300


def test_subscription_survives_into_a_new_event_loop() -> None:
    svc = _svc()
    got: list[Any] = []

    async def first() -> None:
        await svc.connect()
        await svc.subscribe("relive", "g", got.append)
        await svc.send_message("relive", {"n": 1})
        await _until(lambda: len(got) == 1)

    async def second() -> None:  # the first loop is gone with its task: subscribing again works
        assert await svc.subscribe("relive", "g", got.append) is True
        await svc.send_message("relive", {"n": 2})
        await _until(lambda: len(got) == 2)
        await svc.disconnect()

    asyncio.run(first())
    asyncio.run(second())
    assert got == [{"n": 1}, {"n": 2}]


async def test_batch_failure_inside_runner_rewinds_and_redelivers() -> None:
    """A failure outside the handler (here: storing offsets) re-delivers the batch, never skips it."""
    async with _svc(consumer_config=ConsumerConfig(sleep=_no_sleep)) as svc:
        await svc.send_batch("rw", [{"i": i} for i in range(5)])
        got: list[int] = []
        await svc.subscribe("rw", "g", lambda m: got.append(m["i"]))
        sub = svc._subs[("rw", "g")]
        real_store = sub.consumer.store
        calls = [0]

        def flaky_store(offsets: dict[int, int]) -> None:
            calls[0] += 1
            if calls[0] == 1:
                raise RuntimeError("store failed")
            real_store(offsets)

        sub.consumer.store = flaky_store
        await _until(lambda: len(got) >= 10)
        assert got[:5] == got[5:10] == [0, 1, 2, 3, 4]

"""KafkaService against a real Kafka-protocol broker (tansu) and librdkafka's mock cluster."""
from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import Any

import pytest

from swfast.errors import BrokerUnavailable, NotConnected
from swfast.messaging.kafka_service import REPLY_CONSUMER_LATENCY
from swfast.messaging import DEFAULT_KAFKA_TIMEOUT, ConsumerConfig, KafkaService, TopicManager, create_data_request, create_data_response

pytest.importorskip("confluent_kafka")


def _topic(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def _until(cond: Any, timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not cond():
        assert loop.time() < end, "condition not reached"
        await asyncio.sleep(0.01)


async def _no_sleep(_: float) -> None:
    await asyncio.sleep(0)


@pytest.fixture
def svc_factory(kafka_bootstrap: str, kafka_fast_group: dict[str, int]) -> Any:
    def make(**kw: Any) -> KafkaService:
        kw.setdefault("consumer_overrides", dict(kafka_fast_group))
        return KafkaService(kafka_bootstrap, **kw)
    return make


async def test_topic_admin_real_broker(svc_factory: Any, caplog: pytest.LogCaptureFixture) -> None:
    name = _topic("admin")
    async with svc_factory() as svc:
        with caplog.at_level(logging.WARNING, logger="swfast.messaging"):
            assert await svc.create_topic(name, 5, 3) is True
        assert "exceeds" in caplog.text  # clamped to the single broker, with a warning
        assert await svc.get_topic_info(name) == {"name": name, "partitions": 5, "replication_factor": 1}
        assert await svc.create_topic(name, 5, 1) is True  # existing: success
        assert await svc.topic_exists(name) and name in await svc.list_topics()
        assert await svc.get_topic_info(_topic("absent")) is None
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="swfast.messaging"):
            assert await svc.delete_topic(_topic("absent")) is False
        assert "does not exist" in caplog.text
        assert await svc.delete_topic(name) is True
        assert not await svc.topic_exists(name)
        tm = TopicManager(svc)
        model = uuid.uuid4().hex[:6]
        topic = await tm.ensure_model_topic(model)
        assert (await svc.get_topic_info(topic) or {})["partitions"] == 3
        assert await tm.initialize_all_topics()
        assert set(tm.created_topics) >= {"smartwhale.data.requests", "smartwhale.core.logs"}
        assert await tm.delete_model_topic(model)


async def test_round_trip_10k_every_send_resolves(svc_factory: Any) -> None:
    topic = _topic("rt")
    async with svc_factory() as svc:
        await svc.create_topic(topic, 3, 1)
        errors = await svc.send_batch_results(topic, [{"i": i} for i in range(10_000)],
                                              keys=[str(i) for i in range(10_000)])
        assert errors.count(None) == 10_000
        singles = await asyncio.gather(*(svc.send_message(topic, {"i": i}) for i in range(10_000, 12_000)))
        assert all(singles)
        assert svc._producer.outstanding == 0
        seen: list[int] = []
        await svc.subscribe(topic, _topic("g"), lambda m: seen.append(m["i"]))
        await _until(lambda: len(set(seen)) == 12_000)
        assert sorted(set(seen)) == list(range(12_000))
        assert len(seen) - 12_000 == 0  # no duplicates without faults
    assert svc._producer is None
    with pytest.raises(NotConnected):
        await svc.send_message(topic, {})


async def test_dlq_and_flow_on_real_broker(svc_factory: Any) -> None:
    topic = _topic("dlq")
    cfg = ConsumerConfig(max_retries=2, retry_delays=[0.0], sleep=_no_sleep)
    async with svc_factory(consumer_config=cfg) as svc:
        await svc.create_topic(topic, 1, 1)
        await svc.create_topic(topic + ".dlq", 1, 1)
        await svc.send_batch(topic, [{"i": i} for i in range(20)])
        ok: list[int] = []

        def handler(m: dict[str, Any]) -> None:
            if m["i"] == 7:
                raise ValueError("bad record 7")
            ok.append(m["i"])

        await svc.subscribe(topic, _topic("g"), handler)
        dead: list[Any] = []
        await svc.subscribe(topic + ".dlq", _topic("gd"), dead.append)
        await _until(lambda: len(ok) == 19 and dead == [{"i": 7}])


async def test_request_response_real_broker(svc_factory: Any) -> None:
    model = "m-" + uuid.uuid4().hex[:6]
    req_topic = _topic("requests")
    async with svc_factory(producer_config={"linger.ms": 0}) as svc:
        await svc.create_topic(req_topic, 1, 1)

        async def serve(msg: dict[str, Any]) -> None:
            resp = create_data_response(msg["metadata"]["request_id"], msg["payload"]["model_id"],
                                        "fetch_data", data=msg["payload"]["parameters"])
            await svc.send_data_response(resp)
            await svc.send_data_response(resp)  # a duplicate, dropped by request id

        await svc.subscribe(req_topic, _topic("server"), serve,
                            config=ConsumerConfig(poll_timeout=0.05, overrides=REPLY_CONSUMER_LATENCY))
        first = create_data_request(model, "fetch_data", parameters={"i": -1})
        assert (await svc.request(first, timeout=20, topic=req_topic)).payload.data == {"i": -1}
        rtts = []
        for i in range(20):
            req = create_data_request(model, "fetch_data", parameters={"i": i})
            t0 = time.perf_counter()
            resp = await svc.request(req, timeout=10, topic=req_topic)
            rtts.append(time.perf_counter() - t0)
            assert resp.metadata.request_id == req.metadata.request_id and resp.payload.data == {"i": i}
        rtts.sort()
        print(f"request/response p50 {rtts[len(rtts) // 2] * 1e3:.2f} ms")


async def test_consumer_restart_same_group_loses_nothing(svc_factory: Any) -> None:
    topic, group = _topic("restart"), _topic("g")
    async with svc_factory() as svc:
        await svc.create_topic(topic, 2, 1)
        await svc.send_batch(topic, [{"i": i} for i in range(2000)])
        seen: list[int] = []
        await svc.subscribe(topic, group, lambda m: seen.append(m["i"]),
                            config=ConsumerConfig(batch_size=50, overrides={"auto.commit.interval.ms": 100}))
        await _until(lambda: len(seen) >= 500)
        await svc.unsubscribe(topic, group)  # commits what was handled and leaves
        first = len(seen)
        await svc.send_batch(topic, [{"i": i} for i in range(2000, 3000)])
        await svc.subscribe(topic, group, lambda m: seen.append(m["i"]))
        await _until(lambda: set(seen) >= set(range(3000)))
        assert len(seen) - 3000 <= 50 * 2, f"{len(seen) - 3000} duplicates (first run handled {first})"


async def test_successive_event_loops_with_one_service(kafka_bootstrap: str) -> None:
    svc = KafkaService(kafka_bootstrap)
    topic = _topic("loops")

    async def send() -> bool:
        await svc.connect()
        return await svc.send_message(topic, {"x": 1})

    results = []
    for _ in range(2):  # each in its own fresh loop, run in a worker thread
        results.append(await asyncio.to_thread(asyncio.run, send()))
    assert results == [True, True]
    await asyncio.to_thread(asyncio.run, svc.disconnect())


def test_connect_broker_down_fails_fast_naming_servers() -> None:
    from _servers import free_port
    addr = f"127.0.0.1:{free_port()}"
    svc = KafkaService(addr, kafka_timeout=1.5)
    t0 = time.monotonic()
    with pytest.raises(BrokerUnavailable) as ei:
        asyncio.run(svc.connect())
    # a functional bound (the configured timeout is honoured), generous for a loaded CI machine
    assert time.monotonic() - t0 < DEFAULT_KAFKA_TIMEOUT
    assert addr in str(ei.value) and ei.value.bootstrap_servers == addr
    assert not svc.is_connected


MOCK = {"test.mock.num.brokers": 1}


def test_mock_delivery_timeout_reported_false() -> None:
    async def run() -> tuple[bool, float, list[Any]]:
        svc = KafkaService("mock:9092", producer_config={**MOCK, "test.mock.broker.rtt": 3000,
                                                         "message.timeout.ms": 1500})
        async with svc:
            t0 = time.monotonic()
            ok = await svc.send_message("slow", {"x": 1})
            took = time.monotonic() - t0
            errors = await svc.send_batch_results("slow", [{"i": 1}, {"i": 2}])
        return ok, took, errors

    ok, took, errors = asyncio.run(run())
    assert ok is False and took < 1.5 + 3  # reported at message.timeout.ms, not hanging (generous bound)
    assert [getattr(e, "code", None) for e in errors] == ["_MSG_TIMED_OUT", "_MSG_TIMED_OUT"]


def test_mock_queue_full_backpressure_then_clear_failure() -> None:
    async def run() -> list[Any]:
        svc = KafkaService("mock:9092", kafka_timeout=0.3,
                           producer_config={**MOCK, "test.mock.broker.rtt": 3000, "message.timeout.ms": 2000,
                                            "queue.buffering.max.messages": 10})
        async with svc:
            return await svc.send_batch_results("q", [{"i": i} for i in range(11)])

    errors = asyncio.run(run())
    codes = [getattr(e, "code", None) for e in errors]
    assert codes[10] == "_QUEUE_FULL" and "stayed full" in str(errors[10])
    assert codes[:10] == ["_MSG_TIMED_OUT"] * 10  # reported, never silently dropped


def test_mock_oversized_fails_before_produce_and_100k_outcomes() -> None:
    async def run() -> tuple[bool, list[Any], int, int]:
        svc = KafkaService("mock:9092", producer_config=MOCK)
        async with svc:
            big = await svc.send_message("big", b"x" * 2_000_000)
            errors = await svc.send_batch_results("big", [b"a", b"y" * 2_000_000, b"b"])
            many = await svc.send_batch_results("many", [b"m" * 100] * 100_000)
            producer = svc._producer
        return big, errors, many.count(None), producer.outstanding

    big, errors, delivered, outstanding = asyncio.run(run())
    assert big is False
    assert errors[0] is None and errors[2] is None and errors[1].code == "MSG_SIZE_TOO_LARGE"
    assert delivered == 100_000 and outstanding == 0


async def test_consumer_sigkill_mid_stream_loses_nothing(svc_factory: Any, kafka_bootstrap: str, tmp_path: Any) -> None:
    """KF-7: a consumer process SIGKILLed mid-stream and replaced loses nothing."""
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    topic, group, total = _topic("crash"), _topic("g"), 20_000
    async with svc_factory() as svc:
        await svc.create_topic(topic, 3, 1)
        assert await svc.send_batch(topic, [{"i": i} for i in range(total)])
    out = tmp_path / "handled.txt"
    child = Path(__file__).parent / "_messaging_crash_child.py"
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).parents[1]))

    def spawn() -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, str(child), kafka_bootstrap, topic, group, str(out)], env=env)

    def handled() -> list[int]:
        text = out.read_text() if out.exists() else ""
        return [int(x) for x in text.split()]

    first = spawn()
    try:
        await _until(lambda: len(handled()) >= 7_000, timeout=60)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
        at_kill = len(handled())
        second = spawn()
        try:
            await _until(lambda: len(set(handled())) == total, timeout=90)
        finally:
            os.kill(second.pid, signal.SIGKILL)
            second.wait(10)
    finally:
        if first.poll() is None:
            os.kill(first.pid, signal.SIGKILL)
            first.wait(10)
    ids = handled()
    duplicates = len(ids) - total
    print(f"SIGKILL after {at_kill} handled: 0 missing, {duplicates} duplicates")
    assert set(ids) == set(range(total))
    # bound: throughput x commit interval plus one in-flight batch per partition
    assert duplicates <= 5_000


async def test_broker_restart_mid_stream_every_message_accounted(kafka_server: Any) -> None:
    """Broker killed and restarted mid-stream: each message is delivered or reported failed."""
    from _servers import start_kafka

    srv = start_kafka()
    port = srv.port
    restarted = None
    try:
        svc = KafkaService(srv.address, kafka_timeout=3, operation_timeout=8,
                           producer_config={"message.timeout.ms": 2000})
        await svc.connect()
        outcomes: list[Any] = []
        for batch in range(6):
            if batch == 4:
                srv.kill()
                pending = asyncio.ensure_future(svc.send_batch_results("restart", [{"b": batch, "i": i} for i in range(1000)]))
                await asyncio.sleep(0.5)
                restarted = start_kafka(port)
                outcomes.extend(await pending)
                continue
            outcomes.extend(await svc.send_batch_results("restart", [{"b": batch, "i": i} for i in range(1000)]))
        producer = svc._producer
        await svc.disconnect()
        assert len(outcomes) == 6_000
        assert producer.outstanding == 0
        delivered = outcomes.count(None)
        failed = [e for e in outcomes if e is not None]
        assert all(getattr(e, "code", "") for e in failed)
        print(f"broker restart: {delivered} delivered, {len(failed)} reported failed, 0 unaccounted")
        assert delivered >= 4_000
    finally:
        srv.stop()
        if restarted is not None:
            restarted.stop()


def test_mock_latency_keeps_partition_order_without_duplicates() -> None:
    """KF-6: idempotent produce under injected broker latency, read back in per-key order."""
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

    n, keys = 20_000, 50

    async def produce() -> tuple[list[Any], str]:
        svc = KafkaService("mock:9092", producer_config={**MOCK, "test.mock.num.brokers": 3,
                                                         "test.mock.broker.rtt": 50})
        async with svc:
            md = await asyncio.to_thread(svc._producer._p.list_topics, None, 10)
            bootstrap = ",".join(f"{b.host}:{b.port}" for b in md.brokers.values())
            errors = await svc.send_batch_results("ordered", [{"k": i % keys, "seq": i // keys} for i in range(n)],
                                                  keys=[str(i % keys) for i in range(n)])
            consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "kf6", "enable.auto.commit": False})
            parts = (await asyncio.to_thread(consumer.list_topics, "ordered", 10)).topics["ordered"].partitions
            consumer.assign([TopicPartition("ordered", p, OFFSET_BEGINNING) for p in parts])
            got: list[Any] = []
            deadline = time.monotonic() + 60
            while len(got) < n and time.monotonic() < deadline:
                for m in await asyncio.to_thread(consumer.consume, 1000, 0.5):
                    if m.error() is None:
                        got.append(m.value())
            consumer.close()
        return errors, got  # type: ignore[return-value]

    errors, got = asyncio.run(produce())
    assert errors.count(None) == n
    import json
    seqs: dict[int, list[int]] = {}
    for raw in got:
        msg = json.loads(raw)
        seqs.setdefault(msg["k"], []).append(msg["seq"])
    assert len(got) == n  # 0 lost, 0 duplicates
    assert all(s == list(range(n // keys)) for s in seqs.values())  # per-key (per-partition) order


async def test_rebalance_join_and_leave_mid_stream_loses_nothing(svc_factory: Any) -> None:
    """KF-9: a member joins, then another leaves, while messages flow: 0 lost."""
    topic, group = _topic("rebal"), _topic("g")
    seen: list[int] = []
    by_b: list[int] = []

    def slow(m: dict[str, Any]) -> None:
        time.sleep(0.0008)  # slow enough that both rebalances happen mid-stream
        seen.append(m["i"])

    def slow_b(m: dict[str, Any]) -> None:
        slow(m)
        by_b.append(m["i"])

    cfg = ConsumerConfig(batch_size=100)
    async with svc_factory() as a, svc_factory() as b:
        await a.create_topic(topic, 4, 1)
        await a.send_batch(topic, [{"i": i} for i in range(6000)])
        await a.subscribe(topic, group, slow, config=cfg)
        await _until(lambda: len(seen) >= 1000)
        await b.subscribe(topic, group, slow_b, config=cfg)
        await a.send_batch(topic, [{"i": i} for i in range(6000, 10_000)])
        await asyncio.sleep(4)  # let the join rebalance happen mid-stream
        assert len(set(seen)) < 9000, "stream finished before the second rebalance"
        await a.unsubscribe(topic, group)  # a leaves: b takes over every partition
        await _until(lambda: set(seen) >= set(range(10_000)), timeout=60)
    duplicates = len(seen) - 10_000
    print(f"rebalance: 0 lost, {duplicates} duplicates, {len(by_b)} handled by the member that joined")
    assert set(seen) == set(range(10_000))
    assert 0 < len(by_b) < len(seen)


def test_produce_failing_mid_batch_reports_every_item() -> None:
    """KF-15: the client's produce raising mid-batch: each item delivered or reported, none lost."""

    class Flaky:
        def __init__(self, inner: Any) -> None:
            self.inner = inner
            self.calls = 0

        def produce(self, *args: Any, **kwargs: Any) -> None:
            self.calls += 1
            if self.calls % 4 == 0:
                raise RuntimeError("executor died")
            self.inner.produce(*args, **kwargs)

        def __getattr__(self, name: str) -> Any:
            return getattr(self.inner, name)

        def __len__(self) -> int:
            return len(self.inner)

    async def run() -> tuple[list[Any], bool, int]:
        svc = KafkaService("mock:9092", producer_config=MOCK)
        async with svc:
            svc._producer._p = Flaky(svc._producer._p)
            errors = await svc.send_batch_results("flaky", [{"i": i} for i in range(40)])
            single = await svc.send_message("flaky", {"x": 1})
            producer = svc._producer
        return errors, single, producer.outstanding

    errors, single, outstanding = asyncio.run(run())
    failed = [i for i, e in enumerate(errors) if e is not None]
    assert failed == list(range(3, 40, 4)) and all(errors[i].code == "_PRODUCE_FAILED" for i in failed)
    assert single is True  # call 41: fine
    assert outstanding == 0


async def test_handler_slower_than_max_poll_interval_loses_nothing(svc_factory: Any) -> None:
    """KF-10: a handler outliving max.poll.interval.ms: the member rejoins, 0 lost."""
    topic = _topic("slowh")
    seen: list[int] = []
    slow_once = [True]

    async def handler(m: dict[str, Any]) -> None:
        if m["i"] == 0 and slow_once[0]:
            slow_once[0] = False
            await asyncio.sleep(7.5)  # > max.poll.interval.ms: librdkafka leaves the group
        seen.append(m["i"])

    cfg = ConsumerConfig(batch_size=10, overrides={"max.poll.interval.ms": 6000})
    async with svc_factory(consumer_config=cfg) as svc:
        await svc.create_topic(topic, 1, 1)
        await svc.send_batch(topic, [{"i": i} for i in range(5)])
        await svc.subscribe(topic, _topic("g"), handler)
        await _until(lambda: not slow_once[0] and set(seen) >= set(range(5)), timeout=60)
        await svc.send_batch(topic, [{"i": i} for i in range(5, 10)])
        await _until(lambda: set(seen) >= set(range(10)), timeout=60)
    assert set(seen) == set(range(10))


async def test_busy_subscription_does_not_starve_other_tasks(svc_factory: Any) -> None:
    """Buffered batches are taken without an executor hop, yet other tasks still get turns."""
    topic, group = _topic("fair"), _topic("g")
    ticks = [0]
    marks: dict[int, int] = {}
    handled = [0]

    def handle(_m: Any) -> None:
        handled[0] += 1
        if handled[0] in (1, 30_000):
            marks[handled[0]] = ticks[0]

    async def ticker() -> None:
        while True:
            ticks[0] += 1
            await asyncio.sleep(0)

    async with svc_factory() as svc:
        await svc.create_topic(topic, 1, 1)
        assert await svc.send_batch(topic, [b"{}"] * 30_000)
        task = asyncio.get_running_loop().create_task(ticker())
        await svc.subscribe(topic, group, handle, config=ConsumerConfig(batch_size=1000))
        await _until(lambda: handled[0] >= 30_000, timeout=60)
        task.cancel()
    assert marks[30_000] > marks[1]  # the ticker ran while the backlog drained

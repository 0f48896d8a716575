"""Quick benchmarks for swfast.messaging: validation, JSON, and Kafka produce/consume/request.

Peers (same run): fastjsonschema, jsonschema and msgspec for validation; orjson, json and
msgspec for encoding/decoding; raw confluent-kafka ``produce()``/``consume()`` loops on the same
tansu broker and settings for throughput. Goals are in issue 6; nothing here asserts on time.
"""
from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from typing import Any, Iterator

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import _messaging_peers as peers  # noqa: E402

from swfast._native import _msgvalid_py, msgvalid  # noqa: E402
from swfast.messaging import message_schemas as S  # noqa: E402

D, J = peers.SAMPLE_DICT, peers.SAMPLE_JSON
IMPL = "swfast-py" if msgvalid._kernel.__name__.endswith("_py") else "swfast"


def _mark(benchmark: Any, group: str, impl: str) -> None:
    benchmark.group = group
    benchmark.extra_info["impl"] = impl


# ---------------------------------------------------------------- validation and JSON

def test_validate_swfast(benchmark: Any) -> None:
    _mark(benchmark, "messaging.validate", IMPL)
    assert benchmark(S.is_valid_data_request, D) is True


def test_validate_twin(benchmark: Any) -> None:
    _mark(benchmark, "messaging.validate", "swfast-py")
    checker = _msgvalid_py.Checker(S.META_FIELDS, S.REQUEST_FIELDS, S._ENUMS, S._ENUM_NAMES)
    assert benchmark(checker.check, D) is None


def test_validate_fastjsonschema(benchmark: Any) -> None:
    _mark(benchmark, "messaging.validate", "fastjsonschema")
    benchmark(peers.fastjsonschema_validator(), D)


def test_validate_jsonschema(benchmark: Any) -> None:
    _mark(benchmark, "messaging.validate", "jsonschema")
    assert benchmark(peers.jsonschema_validator().is_valid, D)


def test_validate_msgspec(benchmark: Any) -> None:
    import msgspec
    _mark(benchmark, "messaging.validate", "msgspec.convert")
    typ = peers.msgspec_types()
    benchmark(msgspec.convert, D, typ)


def test_to_json_swfast(benchmark: Any) -> None:
    _mark(benchmark, "messaging.to_json", IMPL)
    assert benchmark(peers.SAMPLE.to_json) == J


def test_to_json_orjson(benchmark: Any) -> None:
    import orjson
    _mark(benchmark, "messaging.to_json", "orjson.dumps(dict)")
    benchmark(orjson.dumps, D)


def test_to_json_json(benchmark: Any) -> None:
    _mark(benchmark, "messaging.to_json", "json.dumps(dict)")
    benchmark(peers.json_dumps, D)


def test_to_json_msgspec(benchmark: Any) -> None:
    import msgspec
    _mark(benchmark, "messaging.to_json", "msgspec.encode(struct)")
    obj = msgspec.json.decode(J, type=peers.msgspec_types())
    benchmark(msgspec.json.encode, obj)


def test_from_json_swfast(benchmark: Any) -> None:
    _mark(benchmark, "messaging.from_json", IMPL)
    assert benchmark(S.DataRequest.from_json, J) == peers.SAMPLE


def test_from_json_msgspec(benchmark: Any) -> None:
    import msgspec
    _mark(benchmark, "messaging.from_json", "msgspec typed decode")
    benchmark(msgspec.json.Decoder(peers.msgspec_types()).decode, J)


def test_from_json_orjson_untyped(benchmark: Any) -> None:
    import orjson
    _mark(benchmark, "messaging.from_json", "orjson.loads (no validation)")
    benchmark(orjson.loads, J)


def test_from_json_json_fastjsonschema(benchmark: Any) -> None:
    validate = peers.fastjsonschema_validator()
    _mark(benchmark, "messaging.from_json", "json.loads+fastjsonschema")
    benchmark(lambda: validate(json.loads(J)))


# ---------------------------------------------------------------- Kafka (tansu broker)

N_PRODUCE = 20_000
N_CONSUME = 50_000
VALUE = b'{"k":"' + b"x" * 190 + b'"}'  # 200 bytes


@pytest.fixture(scope="module")
def broker() -> Iterator[Any]:
    from _servers import ServerUnavailable, start_kafka
    try:
        srv = start_kafka()
    except ServerUnavailable as exc:  # pragma: no cover - CI has the broker
        pytest.skip(str(exc))
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    lp = asyncio.new_event_loop()
    yield lp
    lp.close()


@pytest.fixture(scope="module")
def service(broker: Any, loop: asyncio.AbstractEventLoop) -> Iterator[Any]:
    from swfast.messaging import KafkaService
    svc = KafkaService(broker.address)
    loop.run_until_complete(svc.connect())
    yield svc
    loop.run_until_complete(svc.disconnect())


def _producer_conf(broker: Any) -> dict[str, Any]:
    return {"bootstrap.servers": broker.address, "enable.idempotence": True, "acks": "all",
            "compression.type": "lz4", "linger.ms": 5, "batch.num.messages": 10_000}


def _same_producer(service: Any) -> Any:
    """A raw producer with exactly the settings the service's producer uses (apples to apples)."""
    from confluent_kafka import Producer
    return Producer(service._producer_settings())


def test_produce_raw_confluent(benchmark: Any, service: Any) -> None:
    _mark(benchmark, "messaging.produce_20k", "confluent produce()+flush (no reports)")
    producer = _same_producer(service)
    values = [VALUE] * N_PRODUCE
    benchmark.pedantic(peers.raw_produce, args=(producer, "bench-raw", values), rounds=9, iterations=1,
                       warmup_rounds=1)


def test_produce_raw_confluent_with_reports(benchmark: Any, service: Any) -> None:
    """The raw loop with a per-message delivery callback, as swfast needs to resolve each send.

    Same producer settings as the service; the callback records each outcome by index, like
    swfast's batch does, so both sides do the same work per message.
    """
    _mark(benchmark, "messaging.produce_20k", "confluent produce(on_delivery)+flush")
    producer = _same_producer(service)
    values = [VALUE] * N_PRODUCE

    def run() -> list[Any]:
        outcomes: list[Any] = [None] * N_PRODUCE
        peers.raw_produce_reports(producer, "bench-raw-dr", values, outcomes)
        return outcomes

    benchmark.pedantic(run, rounds=9, iterations=1, warmup_rounds=1)


def test_produce_send_batch(benchmark: Any, service: Any, loop: asyncio.AbstractEventLoop) -> None:
    _mark(benchmark, "messaging.produce_20k", "swfast")
    values = [VALUE] * N_PRODUCE
    ok = benchmark.pedantic(lambda: loop.run_until_complete(service.send_batch("bench-swfast", values)),
                            rounds=9, iterations=1, warmup_rounds=1)
    assert ok


def test_produce_send_message_gather(benchmark: Any, service: Any, loop: asyncio.AbstractEventLoop) -> None:
    _mark(benchmark, "messaging.produce_20k", "swfast send_message x20k (gather)")

    async def run() -> bool:
        return all(await asyncio.gather(*(service.send_message("bench-single", VALUE) for _ in range(N_PRODUCE))))

    assert benchmark.pedantic(lambda: loop.run_until_complete(run()), rounds=3, iterations=1)


def test_produce_submit_gather(benchmark: Any, service: Any, loop: asyncio.AbstractEventLoop) -> None:
    """``submit``: the same send as ``send_message`` without a coroutine, so ``gather`` makes no tasks."""
    _mark(benchmark, "messaging.produce_20k", "swfast submit x20k (gather)")

    async def run() -> bool:
        return all(await asyncio.gather(*[service.submit("bench-submit", VALUE) for _ in range(N_PRODUCE)]))

    assert benchmark.pedantic(lambda: loop.run_until_complete(run()), rounds=5, iterations=1)


def test_produce_gather_floor(benchmark: Any, loop: asyncio.AbstractEventLoop) -> None:
    """What ``gather`` of 20k coroutines that each await one future costs with no Kafka at all.

    The floor under ``send_message x20k (gather)``: task creation, one suspension and one resume
    per send; the futures are resolved in one batch, as the producer's poll thread does.
    """
    _mark(benchmark, "messaging.produce_20k", "asyncio gather floor (no Kafka)")

    async def run() -> bool:
        lp = asyncio.get_running_loop()
        futs: list[asyncio.Future[None]] = []

        async def one() -> bool:
            fut = lp.create_future()
            futs.append(fut)
            await fut
            return True

        def resolve() -> None:
            if len(futs) < N_PRODUCE:
                lp.call_soon(resolve)
                return
            for f in futs:
                f.set_result(None)

        lp.call_soon(resolve)
        return all(await asyncio.gather(*(one() for _ in range(N_PRODUCE))))

    assert benchmark.pedantic(lambda: loop.run_until_complete(run()), rounds=3, iterations=1)


@pytest.fixture(scope="module")
def filled_topic(broker: Any) -> str:
    from confluent_kafka import Producer
    from confluent_kafka.admin import AdminClient, NewTopic
    topic = "bench-consume-" + uuid.uuid4().hex[:6]
    admin = AdminClient({"bootstrap.servers": broker.address})
    admin.create_topics([NewTopic(topic, 1, 1)])[topic].result(10)
    peers.raw_produce(Producer(_producer_conf(broker)), topic, [VALUE] * N_CONSUME)
    return topic


def _consumer_conf(broker: Any) -> dict[str, Any]:
    return {"bootstrap.servers": broker.address, "group.id": "bench-" + uuid.uuid4().hex[:6],
            "enable.auto.offset.store": False, "auto.offset.reset": "earliest"}


def test_consume_raw_confluent(benchmark: Any, broker: Any, filled_topic: str) -> None:
    """Steady state: the consumer is assigned and has its first message before timing starts."""
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
    _mark(benchmark, "messaging.consume_50k", "confluent consume()+orjson.loads")

    def setup() -> tuple[tuple[Any], dict[str, Any]]:
        c = Consumer(_consumer_conf(broker))
        c.assign([TopicPartition(filled_topic, 0, OFFSET_BEGINNING)])
        while c.poll(1.0) is None:
            pass
        return (c,), {}

    def run(c: Any) -> int:
        count = [0]
        done = asyncio.Event()

        def handle(m: Any) -> None:  # the same handler body as the swfast side below
            count[0] += 1
            if count[0] == N_CONSUME - 1:
                done.set()

        n = peers.raw_consume(c, N_CONSUME - 1, handle)
        c.close()
        return n

    assert benchmark.pedantic(run, setup=setup, rounds=5, iterations=1) == N_CONSUME - 1


def test_consume_swfast_runner(benchmark: Any, broker: Any, service: Any, filled_topic: str,
                               loop: asyncio.AbstractEventLoop) -> None:
    """The subscription runner (decode, priority order, handler, offset store) over the bridge."""
    from swfast.messaging import ConsumerConfig
    from swfast.messaging._bridge import ConsumerBridge
    from swfast.messaging._runner import Subscription
    _mark(benchmark, "messaging.consume_50k", "swfast")

    running: list[Any] = []

    def setup() -> tuple[tuple[Any], dict[str, Any]]:
        while running:  # stop the previous round's subscription outside the timed region
            loop.run_until_complete(running.pop().stop(10))
        consumer = ConsumerBridge(service.consumer_settings(_consumer_conf(broker)["group.id"]), filled_topic,
                                  group=False)
        consumer.assign_beginning(10)
        while not loop.run_until_complete(consumer.fetch(1, 1.0)):
            pass
        return (consumer,), {}

    async def run(consumer: Any) -> int:
        count = [0]
        done = asyncio.Event()

        def handle(m: Any) -> None:
            count[0] += 1
            if count[0] == N_CONSUME - 1:
                done.set()

        sub = Subscription(filled_topic, "bench", handle, ConsumerConfig(batch_size=1000), consumer,
                           service._producer.send)
        sub.start()
        running.append(sub)
        await asyncio.wait_for(done.wait(), 60)
        return count[0]

    got = benchmark.pedantic(lambda c: loop.run_until_complete(run(c)), setup=setup, rounds=5, iterations=1)
    while running:
        loop.run_until_complete(running.pop().stop(10))
    assert got == N_CONSUME - 1


def test_request_roundtrip(benchmark: Any, broker: Any, loop: asyncio.AbstractEventLoop) -> None:
    """Round trip with ``linger.ms=0`` (the latency setting; the default 5 ms is for throughput)."""
    from swfast.messaging import ConsumerConfig, KafkaService, create_data_request, create_data_response
    from swfast.messaging.kafka_service import REPLY_CONSUMER_LATENCY
    _mark(benchmark, "messaging.request_roundtrip", "swfast (linger.ms=0)")
    topic = "bench-requests-" + uuid.uuid4().hex[:6]
    service = KafkaService(broker.address, producer_config={"linger.ms": 0})
    loop.run_until_complete(service.connect())

    async def serve(msg: dict[str, Any]) -> None:
        await service.send_data_response(create_data_response(
            msg["metadata"]["request_id"], msg["payload"]["model_id"], "fetch_data", data=1))

    async def setup() -> None:
        await service.create_topic(topic, 1, 1)
        await service.subscribe(topic, "bench-server", serve, config=ConsumerConfig(
            poll_timeout=0.05, overrides={**REPLY_CONSUMER_LATENCY, "session.timeout.ms": 6000,
                                          "heartbeat.interval.ms": 500}))
        await service.request(create_data_request("bench-model", "fetch_data"), timeout=30, topic=topic)

    loop.run_until_complete(setup())
    benchmark.pedantic(lambda: loop.run_until_complete(
        service.request(create_data_request("bench-model", "fetch_data"), timeout=10, topic=topic)),
        rounds=50, iterations=1)
    loop.run_until_complete(service.disconnect())

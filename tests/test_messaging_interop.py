"""Outside clients on the real broker (tansu): aiokafka reads what swfast produced, and the reverse.

swfast's producer compresses with lz4 by default; stock aiokafka decodes lz4 through ``cramjam``
(in the test extra; README "Messaging" documents it for users).
"""
from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pytest

from swfast.messaging import ConsumerConfig, DataRequest, KafkaService, create_data_request

aiokafka = pytest.importorskip("aiokafka")
pytest.importorskip("cramjam")

BIG = 2**80 + 7


def _topic(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def _no_sleep(_: float) -> None:
    await asyncio.sleep(0)


async def _read_with_aiokafka(bootstrap: str, topic: str, n: int, timeout: float = 60.0) -> list[Any]:
    consumer = aiokafka.AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                         enable_auto_commit=False, group_id=None)
    await consumer.start()
    out: list[Any] = []
    try:
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while len(out) < n:
            assert loop.time() < end, f"aiokafka read {len(out)} of {n}"
            batches = await consumer.getmany(timeout_ms=500, max_records=1000)
            for records in batches.values():
                out.extend(records)
    finally:
        await consumer.stop()
    return out


@pytest.mark.parametrize("compression", ["lz4", "gzip", "none"])
async def test_aiokafka_consumes_what_swfast_produced(kafka_bootstrap: str, compression: str) -> None:
    topic = _topic("interop-out")
    messages = [{"i": i, "text": f"پیام {i}", "big": BIG + i} for i in range(200)]
    async with KafkaService(kafka_bootstrap, producer_config={"compression.type": compression}) as svc:
        await svc.create_topic(topic, 1, 1)
        assert await svc.send_batch(topic, messages)
        assert await svc.send_message(topic, {"last": True}, key="k-last", headers=[("trace", b"t-9")])
        req = create_data_request("m-interop", parameters={"n": BIG})
        assert await svc.send_data_request(req, topic)
    records = await _read_with_aiokafka(kafka_bootstrap, topic, 202)
    assert [json.loads(r.value) for r in records[:200]] == messages  # exact, big ints included
    last = records[200]
    assert json.loads(last.value) == {"last": True} and last.key == b"k-last"
    assert list(last.headers) == [("trace", b"t-9")]
    assert records[201].key == req.metadata.request_id.encode()
    assert DataRequest.from_json(records[201].value) == req


async def test_swfast_consumes_what_aiokafka_produced(kafka_bootstrap: str, kafka_fast_group: dict[str, int]) -> None:
    topic = _topic("interop-in")
    producer = aiokafka.AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, compression_type="gzip")
    await producer.start()
    try:
        sent = [{"i": i, "big": -BIG - i, "nested": {"k": [1.5, None, True]}} for i in range(100)]
        async with KafkaService(kafka_bootstrap, consumer_overrides=dict(kafka_fast_group),
                                consumer_config=ConsumerConfig(sleep=_no_sleep)) as svc:
            await svc.create_topic(topic, 1, 1)
            got: list[Any] = []
            await svc.subscribe(topic, "g-in", got.append)
            for m in sent:
                await producer.send(topic, json.dumps(m).encode(), key=str(m["i"]).encode())
            await producer.send(topic, b"plain text, not JSON")
            await producer.send(topic, None, key=b"tombstone")
            await producer.flush()
            loop = asyncio.get_running_loop()
            end = loop.time() + 60
            while len(got) < 102:
                assert loop.time() < end, f"swfast handled {len(got)} of 102"
                await asyncio.sleep(0.02)
    finally:
        await producer.stop()
    assert got[:100] == sent and all(type(m["big"]) is int for m in got[:100])
    assert got[100] == "plain text, not JSON" and got[101] is None

"""The real-service harness works: redis-py against redis-server, confluent-kafka against tansu."""
from __future__ import annotations

import time
import uuid

import pytest


def test_redis_round_trip(redis_client):
    r = redis_client
    assert r.ping() is True
    r.set("swfast:greeting", "سلام")
    assert r.get("swfast:greeting").decode() == "سلام"
    pipe = r.pipeline()
    for i in range(100):
        pipe.set(f"swfast:n:{i}", i)
    pipe.execute()
    assert [int(v) for v in r.mget([f"swfast:n:{i}" for i in range(100)])] == list(range(100))
    assert r.delete(*[f"swfast:n:{i}" for i in range(100)]) == 100


def test_redis_server_is_stoppable_by_pid():
    from _servers import start_redis

    server = start_redis()
    assert server.alive()
    server.stop()
    assert not server.alive()


def test_kafka_produce_consume_1000_with_admin(kafka_bootstrap, kafka_fast_group):
    from confluent_kafka import Consumer, Producer, TopicPartition
    from confluent_kafka.admin import AdminClient, NewTopic

    topic = f"swfast-harness-{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    futures = admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
    futures[topic].result(timeout=30)
    deadline = time.monotonic() + 30
    while topic not in admin.list_topics(timeout=5).topics:  # futures resolve before visibility
        assert time.monotonic() < deadline, "topic never became visible"
        time.sleep(0.05)

    delivered: list[object] = []
    producer = Producer({"bootstrap.servers": kafka_bootstrap, "acks": "all", "linger.ms": 5})
    for i in range(1000):
        producer.produce(topic, key=str(i).encode(), value=f"msg-{i}".encode(),
                         on_delivery=lambda err, msg: delivered.append(err))
    assert producer.flush(30) == 0
    assert len(delivered) == 1000 and all(err is None for err in delivered)

    consumer = Consumer({
        "bootstrap.servers": kafka_bootstrap, "group.id": f"g-{topic}",
        "auto.offset.reset": "earliest", "enable.auto.commit": False, **kafka_fast_group,
    })
    consumer.assign([TopicPartition(topic, 0, 0)])
    got: list[str] = []
    deadline = time.monotonic() + 60
    while len(got) < 1000 and time.monotonic() < deadline:
        for msg in consumer.consume(500, timeout=1.0):
            assert msg.error() is None, msg.error()
            got.append(msg.value().decode())
    consumer.close()
    assert got == [f"msg-{i}" for i in range(1000)]

    admin.delete_topics([topic])[topic].result(timeout=30)
    deadline = time.monotonic() + 30
    while topic in admin.list_topics(timeout=5).topics:
        assert time.monotonic() < deadline, "topic was never deleted"
        time.sleep(0.05)

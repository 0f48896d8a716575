"""The embedded (in-process) transport: topics, key-hashed partitions, groups with offsets.

Used by :class:`~swfast.messaging.kafka_service.KafkaService` when no bootstrap servers are
configured, so the main job and single-process users need no broker. It mirrors the parts of
Kafka the service relies on: a topic has partitions; a keyed record goes to
``crc32(key) % partitions`` (keyless records rotate); a consumer group spreads a topic's
partitions over its members (round robin, recomputed whenever a member joins or leaves) and
remembers committed offsets; a new group starts at the earliest offset. A produce is acknowledged
as soon as it is appended. Thread-safe: one lock guards the broker state, and waiting consumers
are woken on their own event loops.
"""
from __future__ import annotations

import asyncio
import itertools
import threading
import time
import zlib
from dataclasses import dataclass, field
from typing import Any


from .._resets import register_reset
from ..errors import KafkaDeliveryError


class Record:
    """One stored message, read through the same methods as ``confluent_kafka.Message``."""

    __slots__ = ("_topic", "_partition", "_offset", "_key", "_value", "_headers", "_ts")

    def __init__(self, topic: str, partition: int, offset: int, key: bytes | None, value: bytes | None,
                 headers: list[tuple[str, bytes]] | None = None, timestamp_ms: int = 0) -> None:
        self._topic = topic
        self._partition = partition
        self._offset = offset
        self._key = key
        self._value = value
        self._headers = headers
        self._ts = timestamp_ms

    def topic(self) -> str:
        return self._topic

    def partition(self) -> int:
        return self._partition

    def offset(self) -> int:
        return self._offset

    def key(self) -> bytes | None:
        return self._key

    def value(self) -> bytes | None:
        return self._value

    def headers(self) -> list[tuple[str, bytes]] | None:
        return self._headers

    def error(self) -> None:
        return None


@dataclass
class _Group:
    committed: dict[tuple[str, int], int] = field(default_factory=dict)
    members: list["EmbeddedConsumer"] = field(default_factory=list)


class EmbeddedBroker:
    """An in-process stand-in for a Kafka cluster (one broker, no replication)."""

    broker_count = 1

    def __init__(self, default_partitions: int = 1) -> None:
        self._lock = threading.Lock()
        self._topics: dict[str, list[list[Record]]] = {}
        self._groups: dict[tuple[str, str], _Group] = {}
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self._rr = itertools.count()
        self.default_partitions = default_partitions

    # ---------------------------------------------------------------- topics
    def create_topic(self, name: str, partitions: int) -> bool:
        """Create ``name``; an existing topic is success (its partitions are kept)."""
        with self._lock:
            self._topics.setdefault(name, [[] for _ in range(partitions)])
        return True

    def delete_topic(self, name: str) -> bool:
        """Delete ``name``; False when it does not exist."""
        with self._lock:
            return self._topics.pop(name, None) is not None

    def topic_names(self) -> list[str]:
        with self._lock:
            return sorted(self._topics)

    def partition_count(self, name: str) -> int | None:
        with self._lock:
            parts = self._topics.get(name)
            return None if parts is None else len(parts)

    # ---------------------------------------------------------------- produce
    def append(self, topic: str, value: bytes | None, key: bytes | None = None,
               headers: list[tuple[str, bytes]] | None = None) -> Record:
        """Append a record (auto-creating the topic) and wake waiting consumers."""
        with self._lock:
            parts = self._topics.get(topic)
            if parts is None:
                parts = self._topics[topic] = [[] for _ in range(self.default_partitions)]
            n = len(parts)
            p = (zlib.crc32(key) % n) if key is not None else (next(self._rr) % n)
            log = parts[p]
            rec = Record(topic, p, len(log), key, value, headers, int(time.time() * 1000))
            log.append(rec)
            waiters, self._waiters = self._waiters, []
        for loop, fut in waiters:
            try:
                loop.call_soon_threadsafe(_wake, fut)
            except RuntimeError:  # that loop is closed; its consumer is gone
                pass
        return rec

    # ---------------------------------------------------------------- groups
    def _rebalance(self, group: _Group, topic: str) -> None:
        parts = len(self._topics.get(topic, ()))
        members = group.members
        for i, member in enumerate(members):
            mine = [p for p in range(parts) if p % len(members) == i]
            member._assign(mine, {p: group.committed.get((topic, p), 0) for p in mine})

    def join(self, consumer: "EmbeddedConsumer") -> None:
        with self._lock:
            self._topics.setdefault(consumer.topic, [[] for _ in range(self.default_partitions)])
            group = self._groups.setdefault((consumer.group_id, consumer.topic), _Group())
            group.members.append(consumer)
            self._rebalance(group, consumer.topic)

    def leave(self, consumer: "EmbeddedConsumer") -> None:
        with self._lock:
            group = self._groups.get((consumer.group_id, consumer.topic))
            if group is not None and consumer in group.members:
                group.members.remove(consumer)
                self._rebalance(group, consumer.topic)

    def commit(self, group_id: str, topic: str, offsets: dict[int, int]) -> None:
        with self._lock:
            group = self._groups.setdefault((group_id, topic), _Group())
            for p, off in offsets.items():
                if off > group.committed.get((topic, p), 0):
                    group.committed[(topic, p)] = off

    def committed(self, group_id: str, topic: str) -> dict[int, int]:
        """Committed next-offsets per partition of a group (for tests and lag)."""
        with self._lock:
            group = self._groups.get((group_id, topic))
            return {} if group is None else {p: o for (t, p), o in group.committed.items() if t == topic}

    def fetch(self, consumer: "EmbeddedConsumer", max_records: int) -> list[Record]:
        with self._lock:
            parts = self._topics.get(consumer.topic)
            if parts is None:
                return []
            out: list[Record] = []
            for p, pos in consumer._positions.items():
                if p >= len(parts):
                    continue
                log = parts[p]
                take = log[pos:pos + max_records - len(out)]
                if take:
                    out.extend(take)
                    consumer._positions[p] = pos + len(take)
                if len(out) >= max_records:
                    break
            return out

    def wait(self, loop: asyncio.AbstractEventLoop) -> asyncio.Future[None]:
        fut: asyncio.Future[None] = loop.create_future()
        with self._lock:
            self._waiters.append((loop, fut))
        return fut


def _wake(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


class EmbeddedConsumer:
    """A group member on one topic; same async surface as the Kafka consumer bridge."""

    def __init__(self, broker: EmbeddedBroker, topic: str, group_id: str) -> None:
        self.broker = broker
        self.topic = topic
        self.group_id = group_id
        self._positions: dict[int, int] = {}
        self._stored: dict[int, int] = {}
        broker.join(self)

    def _assign(self, partitions: list[int], committed: dict[int, int]) -> None:
        self._positions = {p: committed[p] for p in partitions}
        self._stored = {p: o for p, o in self._stored.items() if p in self._positions}

    async def fetch(self, max_records: int, timeout: float) -> list[Record]:
        """Up to ``max_records`` records, waiting at most ``timeout`` seconds for the first."""
        records = self.broker.fetch(self, max_records)
        if records or timeout <= 0:
            return records
        fut = self.broker.wait(asyncio.get_running_loop())
        try:
            await asyncio.wait_for(fut, timeout)
        except asyncio.TimeoutError:
            return []
        return self.broker.fetch(self, max_records)

    def rewind(self, offsets: dict[int, int]) -> None:
        """Fetch from these offsets again (partitions this member still owns)."""
        with self.broker._lock:
            for p, off in offsets.items():
                if p in self._positions:
                    self._positions[p] = min(self._positions[p], off)

    def store(self, offsets: dict[int, int]) -> None:
        """Mark ``partition -> next offset`` as processed; committed immediately."""
        self.broker.commit(self.group_id, self.topic, offsets)

    async def close(self) -> None:
        """Leave the group (offsets are already committed)."""
        self.broker.leave(self)

    def lag(self) -> int:
        """Records not yet fetched on this member's partitions."""
        with self.broker._lock:
            parts = self.broker._topics.get(self.topic, [])
            return sum(len(parts[p]) - pos for p, pos in self._positions.items() if p < len(parts))


class TailConsumer(EmbeddedConsumer):
    """A group-less reader that starts at the current end of every partition (for replies)."""

    def __init__(self, broker: EmbeddedBroker, topic: str) -> None:
        self.broker = broker
        self.topic = topic
        self.group_id = ""
        self._stored = {}
        with broker._lock:
            parts = broker._topics.setdefault(topic, [[] for _ in range(broker.default_partitions)])
            self._positions = {p: len(log) for p, log in enumerate(parts)}

    def store(self, offsets: dict[int, int]) -> None:
        """Nothing to commit without a group."""

    async def close(self) -> None:
        """Nothing to leave without a group."""


class EmbeddedProducer:
    """Producer adapter: an append is the acknowledgement."""

    def __init__(self, broker: EmbeddedBroker, max_message_bytes: int) -> None:
        self.broker = broker
        self.max_message_bytes = max_message_bytes
        self.outstanding = 0
        self.on_failed: Any = None  # called with the error of each failed ``submit``

    def _one(self, topic: str, value: bytes | None, key: bytes | None,
             headers: list[tuple[str, bytes]] | None) -> KafkaDeliveryError | None:
        """Append one record; a value of None is a tombstone. The size checked is the whole
        record (value, key and headers), as a broker's ``message.max.bytes`` is."""
        size = 0 if value is None else len(value)
        if key is not None:
            size += len(key)
        if headers:
            size += sum(len(k) + len(v or b"") for k, v in headers)
        if size > self.max_message_bytes:
            return KafkaDeliveryError(
                f"message of {size} bytes exceeds message.max.bytes={self.max_message_bytes}; "
                "nothing was produced", code="MSG_SIZE_TOO_LARGE", topic=topic)
        self.broker.append(topic, value, key, headers)
        return None

    def submit(self, topic: str, value: bytes | None, key: bytes | None, headers: Any,
               acked: Any) -> "asyncio.Future[bool]":
        """Append now; an already-resolved future (True: ``acked.inc()``; False: ``on_failed``)."""
        fut: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        err = self._one(topic, value, key, headers)
        if err is None:
            acked.inc()
            fut.set_result(True)
        else:
            if self.on_failed is not None:
                self.on_failed(err)
            fut.set_result(False)
        return fut

    async def send(self, topic: str, value: bytes | None, key: bytes | None = None,
                   headers: list[tuple[str, bytes]] | None = None) -> KafkaDeliveryError | None:
        return self._one(topic, value, key, headers)

    async def send_many(self, topic: str, values: list[bytes],
                        keys: list[bytes | None] | None = None) -> list[KafkaDeliveryError | None]:
        one = self._one
        if keys is None:
            return [one(topic, v, None, None) for v in values]
        return [one(topic, v, k, None) for v, k in zip(values, keys)]

    async def close(self, timeout: float) -> int:
        return 0


class EmbeddedAdmin:
    """Topic administration on the embedded broker."""

    def __init__(self, broker: EmbeddedBroker) -> None:
        self.broker = broker

    async def broker_count(self) -> int:
        return self.broker.broker_count

    async def create_topic(self, name: str, partitions: int, replication: int) -> bool:
        return self.broker.create_topic(name, partitions)

    async def delete_topic(self, name: str) -> bool:
        return self.broker.delete_topic(name)

    async def list_topics(self) -> list[str]:
        return self.broker.topic_names()

    async def topic_info(self, name: str) -> dict[str, Any] | None:
        n = self.broker.partition_count(name)
        return None if n is None else {"name": name, "partitions": n, "replication_factor": 1}


_DEFAULT: list[EmbeddedBroker] = []


def default_broker() -> EmbeddedBroker:
    """The process-wide embedded broker shared by every service without bootstrap servers."""
    if not _DEFAULT:
        _DEFAULT.append(EmbeddedBroker())
    return _DEFAULT[0]


@register_reset
def _reset() -> None:
    _DEFAULT.clear()




__all__ = [
    "EmbeddedAdmin", "EmbeddedBroker", "EmbeddedConsumer", "EmbeddedProducer", "Record",
    "TailConsumer", "default_broker",
]

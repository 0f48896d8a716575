"""``KafkaLogHandler``: records to a Kafka topic through swfast.messaging's producer settings.

The producer (confluent-kafka, imported in the worker thread on first use) gets
:class:`swfast.messaging.KafkaService`'s safe defaults (idempotence, ``acks=all``, lz4) and its
``logger`` routing: librdkafka's own log lines go to ``swfast.messaging.librdkafka``, which this
handler refuses, as it refuses ``confluent_kafka`` and its own worker thread (recursion guard).
With the broker down, records wait in librdkafka's queue up to ``message.timeout.ms`` (default
here 120 s) and are delivered after recovery; delivery failures are counted (``failed``), never
raised. Without bootstrap servers the handler writes to swfast's embedded in-process broker.
"""
from __future__ import annotations

import logging
import time
from typing import Any, Mapping

from swfast.logging._background import BackgroundHandler


class KafkaLogHandler(BackgroundHandler):
    """Send each record (JSON by default) to ``topic``.

    Args:
        topic: default ``swfast.messaging.constants.SYSTEM_LOGS_TOPIC``.
        bootstrap_servers: ``host:port,…``; None reads ``SWFAST_KAFKA_BOOTSTRAP_SERVERS``; empty
            means the embedded broker.
        producer_config: librdkafka properties over the defaults.
        key: optional message key (bytes or str) for every record.
        max_queue, batch_size, flush_interval, flush_timeout, report_interval: see
            :class:`~swfast.logging._background.BackgroundHandler`.
    """

    guarded_loggers = ("swfast.logging", "swfast.messaging.librdkafka", "confluent_kafka", "kafka")

    def __init__(self, topic: str | None = None, bootstrap_servers: str | None = None, *,
                 producer_config: Mapping[str, Any] | None = None, key: bytes | str | None = None,
                 max_queue: int = 10_000, batch_size: int = 500, flush_interval: float | str = 0.2,
                 flush_timeout: float | str = 5.0, report_interval: float | str = 60.0,
                 level: int = logging.NOTSET) -> None:
        super().__init__(max_queue=max_queue, batch_size=batch_size, flush_interval=flush_interval,
                         flush_timeout=flush_timeout, report_interval=report_interval, level=level, name="kafka")
        if topic is None:
            from swfast.messaging.constants import SYSTEM_LOGS_TOPIC

            topic = SYSTEM_LOGS_TOPIC
        self.topic = topic
        self.bootstrap_servers = bootstrap_servers
        self.producer_config = {"message.timeout.ms": 120_000, "linger.ms": 20, **dict(producer_config or {})}
        self.key = key.encode() if isinstance(key, str) else key
        self._producer: Any = None
        self._embedded: Any = None

    def _connect(self) -> None:
        from swfast.messaging.kafka_service import KafkaService

        service = KafkaService(self.bootstrap_servers, producer_config=dict(self.producer_config),
                               client_id="swfast-logs")
        if service.is_embedded:
            from swfast.messaging import _embedded

            self._embedded = _embedded.default_broker()
            return
        from confluent_kafka import Producer

        self._producer = Producer(service._producer_settings())

    def _delivered(self, err: Any, msg: Any) -> None:
        self.counters.add("failed" if err is not None else "sent")

    def send(self, batch: list[bytes]) -> None:
        if self._producer is None and self._embedded is None:
            self._connect()
        if self._embedded is not None:
            for value in batch:
                self._embedded.append(self.topic, value, self.key)
            self.counters.add("sent", len(batch))
            return
        producer = self._producer
        for value in batch:
            for _ in range(50):  # librdkafka's local queue full: serve callbacks, then retry
                try:
                    producer.produce(self.topic, value, self.key, on_delivery=self._delivered)
                    break
                except BufferError:
                    producer.poll(0.1)
                    if self._stop:
                        break
            else:
                self.counters.add("dropped")
        producer.poll(0)

    def idle(self) -> None:
        if self._producer is not None:
            self._producer.poll(0)

    def finish(self) -> None:
        if self._producer is not None:
            deadline = time.monotonic() + self.flush_timeout
            left = self._producer.flush(max(0.0, deadline - time.monotonic()))
            if left:
                self.counters.add("dropped", int(left))

    def after_fork(self) -> None:
        self._producer = None  # librdkafka handles do not survive fork: a fresh one in the child
        self._embedded = None

    def __repr__(self) -> str:
        return f"<KafkaLogHandler topic={self.topic} ({logging.getLevelName(self.level)})>"


__all__ = ["KafkaLogHandler"]

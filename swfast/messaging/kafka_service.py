"""KafkaService: async messaging over confluent-kafka, or over the embedded transport.

With ``bootstrap_servers`` (or ``SWFAST_KAFKA_BOOTSTRAP_SERVERS``) set, the service uses
confluent-kafka through its own asyncio bridge (:mod:`._bridge`, imported on ``connect``); a
configured cluster that does not answer makes ``connect`` raise ``BrokerUnavailable`` (never a
silent switch to the embedded transport). The in-process transport (:mod:`._embedded`) runs the
same API when chosen explicitly (``bootstrap_servers=""`` or ``embedded=``), or when nothing is
configured at all, which is announced once per process at WARNING naming the variable to set. The producer is
idempotent with ``acks=all``, lz4 and batching; ``send_message`` returns True only after the
broker acknowledged. Subscriptions are at-least-once with retries and a dead-letter topic
(:mod:`._runner`). ``request`` sends a :class:`DataRequest` and awaits its response.

Example:
    >>> async def main() -> None:
    ...     async with KafkaService("") as svc:        # embedded: no broker needed
    ...         await svc.send_message("events", {"x": 1})

The module-level ``kafka_service`` is created on first access and connects only when asked.
Thread safety: use one service from event loops (one at a time, successive loops are fine).
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import time
from typing import Any, Sequence

from .. import config as _config
from .._durations import Duration, seconds
from .._redact import redact_servers
from .._resets import register_reset
from ..errors import ConfigurationError, KafkaDeliveryError, NotConnected, ValidationError, describe_type
from . import _codec, _embedded
from ._runner import (  # noqa: F401 - exponential_delays/idempotent re-exported
    DELIVERED, FAILED, INVALID, SENT, ConsumerConfig, Handler, Subscription, exponential_delays, idempotent,
)
from .constants import (
    DATA_REQUESTS_TOPIC, DEFAULT_KAFKA_TIMEOUT, DEFAULT_OPERATION_TIMEOUT, DEFAULT_PARTITIONS,
    DEFAULT_REPLICATION, MODEL_TOPIC_PARTITIONS,
)
from ._replies import Replies
from .message_schemas import (
    DataRequest, DataResponse, is_valid_data_request, is_valid_data_response, response_topic_for,
    validate_data_request,
)

log = logging.getLogger("swfast.messaging")
ENV_BOOTSTRAP = _config.KAFKA_BOOTSTRAP_SERVERS
_ANNOUNCED: list[bool] = []  # the implicit embedded transport is announced once per process
#: librdkafka's own log lines go to this Python logger (not stderr); swfast.logging's Kafka
#: handler refuses records from it, so they never feed back into Kafka.
RDKAFKA_LOG = logging.getLogger("swfast.messaging.librdkafka")
#: Fetch settings of reply listeners: answer within about a millisecond of a response landing
#: (librdkafka's defaults wait up to 500 ms). Also useful as ``ConsumerConfig.overrides`` for
#: latency-sensitive request handlers.
REPLY_CONSUMER_LATENCY = {"fetch.wait.max.ms": 1, "fetch.queue.backoff.ms": 0}


def _encode(message_data: Any, path: str = "message_data") -> bytes:
    """Message bytes: dict/list → lossless JSON (or ValidationError at ``path``), str, bytes, envelopes."""
    t = type(message_data)
    if t is dict or t is list:
        try:
            return _codec.dumps(message_data)
        except ValidationError as exc:
            raise _at(exc, path) from None
    if t is bytes:
        return message_data  # type: ignore[no-any-return]
    if t is str:
        return message_data.encode()  # type: ignore[no-any-return]
    if isinstance(message_data, (DataRequest, DataResponse)):
        try:
            return message_data.to_json()
        except ValidationError as exc:
            raise _at(exc, path) from None
    if isinstance(message_data, (bytearray, memoryview)):
        return bytes(message_data)
    if isinstance(message_data, (dict, list, tuple)):  # subclasses and tuples: JSON too
        try:
            return _codec.dumps(message_data)
        except ValidationError as exc:
            raise _at(exc, path) from None
    raise ValidationError(f"must be a dict, list, str or bytes, got {describe_type(message_data)}",
                          path=path, keyword="type")


def _at(exc: ValidationError, path: str) -> ValidationError:
    """``exc`` re-rooted under ``path`` (``message_data.payload.x``), keyword kept."""
    inner = exc.path
    full = path if not inner else (f"{path}{inner}" if inner.startswith("[") else f"{path}.{inner}")
    message = str(exc)
    if inner and message.startswith(inner + ": "):
        message = message[len(inner) + 2:]
    return ValidationError(message, path=full, keyword=exc.keyword)


def _key(key: Any) -> bytes | None:
    return key.encode() if isinstance(key, str) else key



def _secs(value: Duration, param: str) -> float:
    """A positive duration argument as float seconds (``ConfigurationError`` naming ``param``)."""
    out = seconds(value, param=param, allow_zero=False)
    return DEFAULT_OPERATION_TIMEOUT if out is None else out  # None is refused above (allow_none=False)

class KafkaService:
    """Async producer, consumers and topic admin over Kafka (or the embedded transport).

    Args:
        bootstrap_servers: ``host:port[,host:port]``; None reads ``SWFAST_KAFKA_BOOTSTRAP_SERVERS``
            (:mod:`swfast.config`), and with that unset too the embedded transport is used and
            announced at WARNING; ``""`` chooses the embedded in-process transport explicitly.
        producer_config: librdkafka producer properties merged over the safe defaults
            (``enable.idempotence=true``, ``acks=all``, ``compression.type=lz4``, ``linger.ms=5``).
        consumer_overrides: librdkafka consumer properties for every subscription.
        consumer_config: default :class:`ConsumerConfig` (retries, DLQ, batch size).
        kafka_timeout: seconds for broker round trips (connect, admin, a full local queue): a float,
            a ``timedelta`` or a string such as ``"10s"`` (``swfast._durations.seconds``).
        operation_timeout: seconds ``disconnect`` and ``request`` may take (same forms).
        embedded: the embedded broker to use (default: the process-wide one); giving one chooses
            the embedded transport explicitly (with ``bootstrap_servers`` set too: ConfigurationError).
        max_message_bytes: largest message value, checked before producing.
    """

    def __init__(
        self,
        bootstrap_servers: str | None = None,
        *,
        producer_config: dict[str, Any] | None = None,
        consumer_overrides: dict[str, Any] | None = None,
        consumer_config: ConsumerConfig | None = None,
        client_id: str = "swfast",
        kafka_timeout: Duration = DEFAULT_KAFKA_TIMEOUT,
        operation_timeout: Duration = DEFAULT_OPERATION_TIMEOUT,
        embedded: _embedded.EmbeddedBroker | None = None,
        max_message_bytes: int = 1_000_000,
    ) -> None:
        self._implicit = False  # embedded only because nothing was configured
        if bootstrap_servers is None:
            configured = None if embedded is not None else _config.kafka_bootstrap()
            self._implicit = configured is None and embedded is None
            bootstrap_servers = configured or ""
        elif not isinstance(bootstrap_servers, str):
            raise ConfigurationError("bootstrap_servers", f"must be a str 'host:port[,host:port]' or '' "
                                     f"(embedded), got {describe_type(bootstrap_servers)}")
        self.bootstrap_servers = bootstrap_servers.strip()
        if embedded is not None and self.bootstrap_servers:
            raise ConfigurationError("embedded", "an embedded broker was given together with bootstrap_servers "
                                     f"{redact_servers(self.bootstrap_servers)!r}; choose one")
        self.producer_config = dict(producer_config or {})
        self.consumer_overrides = dict(consumer_overrides or {})
        self.consumer_config = consumer_config or ConsumerConfig()
        self.client_id = client_id
        self.kafka_timeout = _secs(kafka_timeout, "kafka_timeout")
        self.operation_timeout = _secs(operation_timeout, "operation_timeout")
        self.max_message_bytes = int(max_message_bytes)
        self._embedded_broker = embedded
        self._producer: Any = None
        self._admin: Any = None
        self._subs: dict[tuple[str, str], Subscription] = {}
        self._replies: dict[str, Replies] = {}
        self._counters: dict[str, tuple[Any, Any]] = {}  # topic -> (SENT, DELIVERED) children
        self._state = "new"

    def __repr__(self) -> str:
        where = "embedded" if self.is_embedded else redact_servers(self.bootstrap_servers)
        return f"<KafkaService {where} {self._state}>"

    def _topic_counters(self, topic: str) -> tuple[Any, Any]:
        pair = self._counters.get(topic)
        if pair is None:
            if len(self._counters) > 4096:  # many distinct topics: do not keep them all
                self._counters.clear()
            pair = self._counters[topic] = (SENT.labels(topic), DELIVERED.labels(topic))
        return pair

    # ---------------------------------------------------------------- lifecycle
    @property
    def is_embedded(self) -> bool:
        """True when the in-process transport is used (no bootstrap servers)."""
        return not self.bootstrap_servers

    @property
    def is_connected(self) -> bool:
        return self._state == "connected"

    def _producer_settings(self) -> dict[str, Any]:
        conf: dict[str, Any] = {
            "bootstrap.servers": self.bootstrap_servers, "client.id": self.client_id,
            "enable.idempotence": True, "acks": "all", "compression.type": "lz4", "linger.ms": 5,
            "batch.num.messages": 10_000, "message.max.bytes": max(self.max_message_bytes, 1000) + 512,
            "message.timeout.ms": int(self.operation_timeout * 1000), "logger": RDKAFKA_LOG,
        }
        conf.update(self.producer_config)
        idem = str(conf.get("enable.idempotence", "")).lower() in ("true", "1")
        if idem and str(conf.get("acks")).lower() not in ("all", "-1"):
            raise ConfigurationError(
                "producer_config", f"acks={conf.get('acks')!r} is incompatible with enable.idempotence=true; "
                "use acks='all' (the default) or disable idempotence explicitly")
        return conf

    def consumer_settings(self, group_id: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """The librdkafka consumer properties a subscription of ``group_id`` uses."""
        conf: dict[str, Any] = {
            "bootstrap.servers": self.bootstrap_servers, "client.id": self.client_id, "group.id": group_id,
            "enable.auto.offset.store": False, "enable.auto.commit": True, "auto.commit.interval.ms": 500,
            "auto.offset.reset": "earliest", "topic.metadata.refresh.interval.ms": 5000, "logger": RDKAFKA_LOG,
        }
        conf.update(self.consumer_overrides)
        conf.update(extra or {})
        return conf

    async def connect(self) -> bool:
        """Connect the producer and admin client; True on success.

        Raises:
            BrokerUnavailable: the cluster did not answer within ``kafka_timeout`` (names the servers).
            ConfigurationError: the producer configuration is unsafe (for example ``acks=1``).
        """
        if self._state == "connected":
            return True
        if self.is_embedded:
            if self._implicit and not _ANNOUNCED:
                _ANNOUNCED.append(True)
                log.warning("no Kafka configured: set %s=host:port to use a broker; using the in-process "
                            "embedded transport (messages do not leave this process)", ENV_BOOTSTRAP)
            broker = self._embedded_broker or _embedded.default_broker()
            self._embedded_broker = broker
            self._producer = _embedded.EmbeddedProducer(broker, self.max_message_bytes)
            self._admin = _embedded.EmbeddedAdmin(broker)
        else:
            conf = self._producer_settings()
            from .._optional import require

            require("confluent_kafka", "kafka", feature="KafkaService with bootstrap_servers")
            from . import _bridge  # confluent_kafka is imported here, never at import time

            admin_conf = {"bootstrap.servers": self.bootstrap_servers, "client.id": self.client_id,
                          "logger": RDKAFKA_LOG}
            if "test.mock.num.brokers" in conf:  # librdkafka's mock cluster (fault-injection tests)
                admin_conf["test.mock.num.brokers"] = conf["test.mock.num.brokers"]
            admin = _bridge.AdminBridge(admin_conf, timeout=self.kafka_timeout)
            await admin.broker_count()  # raises BrokerUnavailable naming the servers
            self._admin = admin
            self._producer = _bridge.ProducerBridge(conf, queue_full_timeout=self.kafka_timeout)
        self._producer.on_failed = self._failed
        self._state = "connected"
        log.info("messaging connected (%s)", "embedded" if self.is_embedded else redact_servers(self.bootstrap_servers))
        return True

    async def disconnect(self) -> bool:
        """Stop subscriptions (commit, leave group), flush the producer; safe to call twice.

        Bounded by ``operation_timeout``: messages still undelivered then are purged and
        reported failed to their senders.
        """
        if self._state != "connected":
            return True
        self._state = "closing"
        deadline = time.monotonic() + self.operation_timeout
        for sub in list(self._subs.values()):
            await sub.stop(max(deadline - time.monotonic(), 0.1))
        self._subs.clear()
        for replies in list(self._replies.values()):
            await replies.close()
        self._replies.clear()
        left = await self._producer.close(max(deadline - time.monotonic(), 0.1))
        if left:
            log.error("%d messages have no delivery report after disconnect", left)
        self._producer = None
        self._admin = None
        self._state = "closed"
        return True

    async def __aenter__(self) -> "KafkaService":
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.disconnect()

    def _require(self) -> None:
        if self._state != "connected":
            hint = "it was disconnected; create or reconnect" if self._state == "closed" else "call await connect() first"
            raise NotConnected(f"KafkaService is not connected: {hint}")

    # ---------------------------------------------------------------- produce
    async def send_message(self, topic: str, message_data: Any, key: str | bytes | None = None,
                           headers: list[tuple[str, bytes]] | None = None) -> bool:
        """Send one message (dict → JSON, str, bytes); True only once the broker acknowledged it.

        JSON is lossless or refused: integers of any size are sent exactly; NaN/±Infinity and
        dict keys that are not str raise ValidationError and nothing is sent. Many concurrent
        sends share one delivery-report dispatch per producer poll; :meth:`submit` is the same
        send without the coroutine (cheapest when thousands are gathered).

        Raises:
            NotConnected: before ``connect`` or after ``disconnect``.
            ValidationError: ``message_data`` has an unsupported type or a value JSON cannot
                carry (``path`` names it, e.g. ``message_data.values[3]``).
        """
        return await self.submit(topic, message_data, key, headers)

    def submit(self, topic: str, message_data: Any, key: str | bytes | None = None,
               headers: list[tuple[str, bytes]] | None = None) -> "asyncio.Future[bool]":
        """Produce one message now and return a future of :meth:`send_message`'s result.

        Call it from a running event loop. Unlike the coroutine, it creates no task when many
        are gathered (``await asyncio.gather(*(svc.submit(t, m) for m in msgs))``); encoding
        errors raise here, before anything is produced.

        Raises:
            NotConnected, ValidationError: as :meth:`send_message`.
        """
        if self._state != "connected":
            self._require()
        value = _encode(message_data)
        sent, delivered = self._topic_counters(topic)
        sent.inc()
        k = key.encode() if isinstance(key, str) else key
        producer = self._producer
        try:
            fut: asyncio.Future[bool] | None = producer.submit(topic, value, k, headers, delivered)
        except KafkaDeliveryError as err:  # rejected by the client: nothing was produced
            self._failed(err)
            fut = asyncio.get_running_loop().create_future()
            fut.set_result(False)
            return fut
        if fut is None:  # the local queue is full: wait for room (backpressure) in a task
            return asyncio.ensure_future(self._send_waiting(topic, value, k, headers, delivered))
        return fut

    async def _send_waiting(self, topic: str, value: bytes, key: bytes | None,
                            headers: list[tuple[str, bytes]] | None, delivered: Any) -> bool:
        err = await self._producer.send(topic, value, key, headers)
        if err is None:
            delivered.inc()
            return True
        self._failed(err)
        return False

    def _failed(self, err: Exception) -> None:
        topic = getattr(err, "topic", "") or "?"
        FAILED.labels(topic, getattr(err, "code", "") or "error").inc()
        log.warning("send to %s failed: %s", topic, err)

    async def send_batch_results(self, topic: str, messages: Sequence[Any],
                                 keys: Sequence[str | bytes | None] | None = None) -> list[Exception | None]:
        """Send many messages; per item, None when acknowledged or the error that stopped it.

        An item that cannot be encoded losslessly gets its ValidationError (``path``
        ``messages[i]...``) and is not sent; every other item is.
        """
        self._require()
        n = len(messages)
        index: list[int] | None = None  # positions of the produced items, when some were refused
        refused: dict[int, Exception] = {}
        try:  # the common case: every message encodes
            values = [_encode(m) for m in messages]
        except ValidationError:  # one bad item is reported for that item; the others are sent
            values, index = [], []
            for i, m in enumerate(messages):
                try:
                    values.append(_encode(m, f"messages[{i}]"))
                    index.append(i)
                except ValidationError as exc:
                    refused[i] = exc
        key_list = None if keys is None else [_key(keys[i]) for i in (range(n) if index is None else index)]
        SENT.labels(topic).inc(len(values))
        results: list[Exception | None] = list(await self._producer.send_many(topic, values, key_list))
        failed = len(results) - results.count(None)
        if failed:
            for err in results:
                if err is not None:
                    FAILED.labels(topic, getattr(err, "code", "") or "error").inc()
        DELIVERED.labels(topic).inc(len(values) - failed)
        if index is None:
            return results
        errors: list[Exception | None] = [None] * n
        for i, err in zip(index, results):
            errors[i] = err
        for i, refusal in refused.items():
            errors[i] = refusal
        return errors

    async def send_batch(self, topic: str, messages: Sequence[Any]) -> bool:
        """Send many messages; True when every one was acknowledged (failures are logged by index)."""
        errors = await self.send_batch_results(topic, messages)
        bad = [i for i, e in enumerate(errors) if e is not None]
        if bad:
            log.warning("send_batch to %s: %d of %d failed, indices %s (first: %s)", topic, len(bad),
                        len(errors), bad[:20], errors[bad[0]])
        return not bad

    async def send_data_request(self, request: DataRequest, topic: str = DATA_REQUESTS_TOPIC) -> bool:
        """Validate then send a :class:`DataRequest`; an invalid one is never produced (False)."""
        self._require()
        data = request.to_dict() if isinstance(request, DataRequest) else request
        if not is_valid_data_request(data):
            INVALID.labels("request").inc()
            log.error("refusing to send an invalid DataRequest to %s", topic)
            return False
        return await self.send_message(topic, _codec.dumps(data), data["metadata"]["request_id"])

    async def send_data_response(self, response: DataResponse, topic: str | None = None) -> bool:
        """Validate then send a :class:`DataResponse` (default topic: the destination model's)."""
        self._require()
        data = response.to_dict() if isinstance(response, DataResponse) else response
        if not is_valid_data_response(data):
            INVALID.labels("response").inc()
            log.error("refusing to send an invalid DataResponse to %s", topic)
            return False
        topic = topic or response_topic_for(data["metadata"]["destination"])
        return await self.send_message(topic, _codec.dumps(data), data["metadata"]["request_id"])

    # ---------------------------------------------------------------- consume
    def _consumer(self, topic: str, group_id: str, extra: dict[str, Any]) -> Any:
        if self.is_embedded:
            return _embedded.EmbeddedConsumer(self._embedded_broker, topic, group_id)  # type: ignore[arg-type]
        from . import _bridge

        return _bridge.ConsumerBridge(self.consumer_settings(group_id, extra), topic)

    async def subscribe(self, topic: str, group_id: str, handler: Handler, *,
                        config: ConsumerConfig | None = None, batch: bool | None = None) -> bool:
        """Consume ``topic`` in ``group_id``: ``handler`` (sync or async) gets decoded dicts.

        Offsets are stored only after the handler succeeded; failures are retried, then sent to
        ``<topic>.dlq``. ``batch=True`` hands the handler each fetched batch as a list. False
        when this topic/group is already subscribed by this service.
        """
        self._require()
        old = self._subs.get((topic, group_id))
        if old is not None:
            if old.task is not None and not old.task.done():
                log.warning("already subscribed to %s in group %s", topic, group_id)
                return False
            del self._subs[(topic, group_id)]  # its event loop ended: replace it
            await old.stop(self.kafka_timeout)
        if not self.is_embedded and not await self.topic_exists(topic):
            log.warning("subscribe: topic %s does not exist yet; it is picked up when it appears "
                        "(topic.metadata.refresh.interval.ms)", topic)
        cfg = config or self.consumer_config
        if batch is not None and batch != cfg.batch:
            cfg = dataclasses.replace(cfg, batch=batch)  # init fields only (not the cached backoff)
        sub = Subscription(topic, group_id, handler, cfg, self._consumer(topic, group_id, cfg.overrides),
                           self._producer.send)
        self._subs[(topic, group_id)] = sub
        sub.start()
        return True

    async def unsubscribe(self, topic: str, group_id: str) -> bool:
        """Stop a subscription (finishing its batch, committing, leaving); False when unknown."""
        sub = self._subs.pop((topic, group_id), None)
        if sub is None:
            return False
        await sub.stop(self.operation_timeout)
        return True

    # ---------------------------------------------------------------- request / response
    async def _reply_listener(self, topic: str) -> Replies:
        replies = self._replies.get(topic)
        loop = asyncio.get_running_loop()
        if replies is not None and replies.loop is loop and not replies.task.done():
            return replies
        if self.is_embedded:
            consumer: Any = _embedded.TailConsumer(self._embedded_broker, topic)  # type: ignore[arg-type]
        else:
            from . import _bridge

            await self.create_topic(topic, MODEL_TOPIC_PARTITIONS, 1)
            consumer = _bridge.ConsumerBridge(
                self.consumer_settings(f"swfast-replies-{os.getpid()}-{id(self)}",
                                       {"enable.auto.commit": False, **REPLY_CONSUMER_LATENCY}),
                topic, group=False)
            await asyncio.to_thread(consumer.assign_tail, self.kafka_timeout)
        replies = self._replies[topic] = Replies(topic, consumer, 0.05 if not self.is_embedded else 1.0)
        return replies

    async def request(self, data_request: DataRequest, timeout: Duration = DEFAULT_OPERATION_TIMEOUT,
                      topic: str = DATA_REQUESTS_TOPIC) -> DataResponse:
        """Send ``data_request`` and await the response with its request id.

        The response is read from ``payload.response_topic`` (the model's response topic);
        duplicate responses are dropped by request id.

        Raises:
            ValidationError: the request is invalid (nothing sent).
            KafkaDeliveryError: the request was not delivered.
            TimeoutError: no response within ``timeout`` seconds (float, ``timedelta`` or ``"30s"``).
        """
        wait = _secs(timeout, "timeout")
        self._require()
        validate_data_request(data_request)
        reply_topic = data_request.payload.response_topic or response_topic_for(data_request.payload.model_id)
        replies = await self._reply_listener(reply_topic)
        rid = data_request.metadata.request_id
        fut: asyncio.Future[DataResponse] = asyncio.get_running_loop().create_future()
        replies.pending[rid] = fut
        try:
            if not await self.send_data_request(data_request, topic):
                raise KafkaDeliveryError(f"request {rid} was not delivered to {topic!r}", topic=topic)
            return await asyncio.wait_for(fut, wait)
        except asyncio.TimeoutError:
            raise TimeoutError(f"no response to request {rid} on {reply_topic!r} within {wait}s") from None
        finally:
            replies.pending.pop(rid, None)

    # ---------------------------------------------------------------- topics
    async def topic_exists(self, topic_name: str) -> bool:
        """True when the cluster has ``topic_name``."""
        self._require()
        return await self._admin.topic_info(topic_name) is not None

    async def create_topic(self, topic_name: str, num_partitions: int = DEFAULT_PARTITIONS,
                           replication_factor: int = DEFAULT_REPLICATION) -> bool:
        """Create a topic and wait until metadata shows it; an existing topic is success.

        A replication factor above the cluster's broker count is clamped, with a warning.
        """
        self._require()
        if not isinstance(num_partitions, int) or num_partitions < 1:
            raise ConfigurationError("num_partitions", f"must be an int >= 1, got {num_partitions!r}")
        if not isinstance(replication_factor, int) or replication_factor < 1:
            raise ConfigurationError("replication_factor", f"must be an int >= 1, got {replication_factor!r}")
        brokers = await self._admin.broker_count()
        if replication_factor > brokers:
            log.warning("replication_factor %d for %s exceeds the %d broker(s); using %d",
                        replication_factor, topic_name, brokers, brokers)
            replication_factor = brokers
        return bool(await self._admin.create_topic(topic_name, num_partitions, replication_factor))

    async def delete_topic(self, topic_name: str) -> bool:
        """Delete a topic; False with a warning when it does not exist."""
        self._require()
        ok = bool(await self._admin.delete_topic(topic_name))
        if not ok:
            log.warning("delete_topic: topic %s does not exist (or could not be deleted)", topic_name)
        return ok

    async def list_topics(self) -> list[str]:
        """Topic names from the cluster (internal ``__`` topics excluded), sorted."""
        self._require()
        return list(await self._admin.list_topics())

    async def get_topic_info(self, topic_name: str) -> dict[str, Any] | None:
        """``{"name", "partitions", "replication_factor"}``, or None when the topic is absent."""
        self._require()
        info: dict[str, Any] | None = await self._admin.topic_info(topic_name)
        return info


_SINGLETON: list[KafkaService] = []


def get_kafka_service() -> KafkaService:
    """The process-wide service, created on first use (it connects only when asked)."""
    if not _SINGLETON:
        _SINGLETON.append(KafkaService())
    return _SINGLETON[0]


@register_reset
def _reset() -> None:
    _SINGLETON.clear()
    _ANNOUNCED.clear()


def __getattr__(name: str) -> Any:
    if name == "kafka_service":
        return get_kafka_service()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ConsumerConfig", "KafkaService", "exponential_delays", "get_kafka_service", "idempotent", "kafka_service",
]

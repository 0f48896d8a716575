"""The asyncio bridge over confluent-kafka (imported only when a real broker is used).

* :class:`ProducerBridge` owns a ``Producer`` and one poll thread. Delivery reports land on that
  thread; each resolves its future on the event loop that created it, batched into one
  ``call_soon_threadsafe`` per loop per poll, so the service works across successive loops
  (no ``get_event_loop()``, the cause of confluent-kafka-python #2211). A full local queue is
  retried (backpressure) until ``queue_full_timeout`` and then fails clearly. ``close`` flushes,
  purges what is left and reports every purged message as failed: none stays unresolved.
* :class:`ConsumerBridge` owns a ``Consumer`` used from one dedicated thread at a time
  (``consume`` runs in a single-thread executor; offsets are stored between two consumes).
  Because the consumer runner handles a whole batch before the next ``consume``, no handler is
  in flight when a rebalance callback runs; the revoke callback then commits the stored offsets.
* :class:`AdminBridge` wraps ``AdminClient``; ``create_topic`` waits until the topic is
  visible in metadata (admin futures resolve earlier, confluent-kafka-python #937).
"""
from __future__ import annotations

import asyncio
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

from confluent_kafka import OFFSET_BEGINNING, OFFSET_END, Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from .._native import msgbatch as _batch
from .._redact import redact_known, redact_servers
from ..errors import BrokerUnavailable, KafkaDeliveryError

log = logging.getLogger("swfast.messaging")

_Item = tuple[asyncio.Future[Any], Any]

YIELD_EVERY = 0.002  # seconds a subscription may run batches back to back before other tasks run


def _err(exc: BaseException) -> KafkaError | None:
    arg = exc.args[0] if exc.args else None
    return arg if isinstance(arg, KafkaError) else None


def _resolve_all(items: list[_Item]) -> None:
    for fut, result in items:
        if not fut.done():
            fut.set_result(result)


def _delivery_error(err: KafkaError, topic: str) -> KafkaDeliveryError:
    return KafkaDeliveryError(f"delivery to {topic!r} failed: {err.str()}", code=err.name(), topic=topic)


class ProducerBridge:
    """An idempotent confluent-kafka producer with futures resolved on the caller's loop."""

    def __init__(self, config: dict[str, Any], *, queue_full_timeout: float) -> None:
        self._p = Producer(config)
        self._queue_full_timeout = queue_full_timeout
        self._ready: list[_Item] = []
        # one sink per event loop: single-send delivery callbacks append there (on the poll
        # thread), and each poll hands every non-empty sink to its loop in one call
        self._sinks: dict[asyncio.AbstractEventLoop, list[Any]] = {}
        #: called on the loop with the error of each failed ``submit`` (metrics, log)
        self.on_failed: Callable[[KafkaDeliveryError], Any] | None = None
        self.produced = 0
        self._running = True
        self._thread = threading.Thread(target=self._run, name="swfast-kafka-poll", daemon=True)
        self._thread.start()

    @property
    def outstanding(self) -> int:
        """Messages (and requests) librdkafka still holds: queued, in flight, or report unserved."""
        return len(self._p)

    def _run(self) -> None:
        while self._running:
            try:
                self._p.poll(0.05)
            except Exception:  # a callback raised: keep serving, or futures would hang forever
                log.exception("delivery report handling failed")
            if self._ready:
                self._dispatch()
            if self._sinks:
                self._dispatch_sinks()

    def _dispatch_sinks(self) -> None:
        for loop, sink in list(self._sinks.items()):
            if not sink:
                continue
            items = sink.copy()
            sink.clear()
            try:
                loop.call_soon_threadsafe(_batch.resolve, items, _delivery_error, self.on_failed)
            except RuntimeError:  # the loop was closed: nobody awaits these futures any more
                log.warning("dropped %d delivery reports for a closed event loop", len(items))
                self._sinks.pop(loop, None)

    def _dispatch(self) -> None:
        ready, self._ready = self._ready, []
        by_loop: dict[asyncio.AbstractEventLoop, list[_Item]] = {}
        for item in ready:
            by_loop.setdefault(item[0].get_loop(), []).append(item)
        for loop, items in by_loop.items():
            try:
                loop.call_soon_threadsafe(_resolve_all, items)
            except RuntimeError:  # the loop was closed: nobody awaits these futures any more
                log.warning("dropped %d delivery reports for a closed event loop", len(items))

    def _produce(self, topic: str, value: bytes | None, key: bytes | None, headers: Any,
                 cb: Callable[..., None]) -> bool:
        """Try once; False when the local queue is full. Raises KafkaDeliveryError on rejection."""
        try:
            if headers is None:  # positional: no keyword parsing on the hot path
                self._p.produce(topic, value, key, -1, cb)
            else:
                self._p.produce(topic, value, key, headers=headers, on_delivery=cb)
        except BufferError:
            return False
        except KafkaException as exc:
            err = _err(exc)
            raise KafkaDeliveryError(
                f"produce to {topic!r} rejected: {err.str() if err else exc}; nothing was produced",
                code=err.name() if err else "", topic=topic) from None
        except Exception as exc:  # the client itself failed: nothing was produced
            raise KafkaDeliveryError(f"produce to {topic!r} failed: {exc!r}", code="_PRODUCE_FAILED",
                                     topic=topic) from exc
        self.produced += 1
        return True

    async def _backpressure(self, topic: str, deadline: float) -> None:
        if time.monotonic() >= deadline:
            raise KafkaDeliveryError(
                f"local producer queue stayed full for {self._queue_full_timeout}s while sending to {topic!r}; "
                "raise queue.buffering.max.messages or slow down", code="_QUEUE_FULL", topic=topic)
        await asyncio.sleep(0.005)

    def _sink(self, loop: asyncio.AbstractEventLoop) -> list[Any]:
        sink = self._sinks.get(loop)
        if sink is None:
            sink = self._sinks[loop] = []
        return sink

    def submit(self, topic: str, value: bytes | None, key: bytes | None, headers: Any,
               acked: Any) -> asyncio.Future[bool] | None:
        """Produce one message now: a future that becomes True once acknowledged (``acked.inc()``)
        or False (``on_failed(error)``), or None when the local queue is full (nothing produced).

        No coroutine and no task per message: the delivery callback is a compiled object that
        appends to its loop's sink, and each poll resolves a whole sink in one loop call.

        Raises:
            KafkaDeliveryError: the client rejected the message (nothing produced).
        """
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[bool] = loop.create_future()
        if not self._produce(topic, value, key, headers, _batch.delivery(self._sink(loop), fut, acked)):
            return None
        return fut

    async def send(self, topic: str, value: bytes | None, key: bytes | None = None,
                   headers: Any = None) -> KafkaDeliveryError | None:
        """Produce one message; None once acknowledged, else the error (a None value: tombstone).

        Many concurrent sends share the work: each delivery callback is a compiled object that
        only appends to its loop's sink, and every poll resolves a whole sink in one loop call.
        """
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        cb = _batch.delivery(self._sink(loop), fut)
        deadline = 0.0
        try:
            while not self._produce(topic, value, key, headers, cb):
                deadline = deadline or time.monotonic() + self._queue_full_timeout
                await self._backpressure(topic, deadline)
        except KafkaDeliveryError as exc:
            return exc
        result: KafkaDeliveryError | None = await fut
        return result

    async def send_many(self, topic: str, values: list[bytes],
                        keys: list[bytes | None] | None = None) -> list[KafkaDeliveryError | None]:
        """Produce every value (``keys[i]`` its key); per item None once acknowledged, else the error.

        The produce loop and the per-message delivery callbacks are the compiled batch kernel;
        control comes back here only when a produce raises (full queue: backpressure, then
        the same item again; rejection: that item fails, the rest go on).
        """
        n = len(values)
        if not n:
            return []
        fut = asyncio.get_running_loop().create_future()
        ready = self._ready
        reports = _batch.Reports(n, lambda err: _delivery_error(err, topic),
                                 lambda r: ready.append((fut, r.errors)))
        errors = reports.errors
        produce = self._p.produce
        deadline = 0.0
        produced = i = 0
        while i < n:
            j, exc = _batch.produce_all(produce, topic, values, keys, reports, i)
            produced += j - i
            if exc is None:
                break
            i = j + 1
            if isinstance(exc, BufferError):
                deadline = deadline or time.monotonic() + self._queue_full_timeout
                try:
                    await self._backpressure(topic, deadline)
                    i = j  # the same item again
                except KafkaDeliveryError as full:
                    errors[j] = full
            elif isinstance(exc, KafkaException):
                err = _err(exc)
                errors[j] = KafkaDeliveryError(
                    f"produce to {topic!r} rejected: {err.str() if err else exc}; item {j} not produced",
                    code=err.name() if err else "", topic=topic)
            else:  # the client itself failed: report the item, keep the rest
                errors[j] = KafkaDeliveryError(f"produce of item {j} to {topic!r} failed: {exc!r}",
                                               code="_PRODUCE_FAILED", topic=topic)
        self.produced += produced
        if reports.finish(produced):
            return errors
        result: list[KafkaDeliveryError | None] = await fut
        return result

    async def close(self, timeout: float) -> int:
        """Flush within ``timeout``; purge and report the rest. Returns unreported messages (0)."""
        self._running = False
        await asyncio.to_thread(self._thread.join, 1.0)

        def finish() -> int:
            left = self._p.flush(max(timeout, 0.0))
            if left:
                log.warning("%d messages not delivered within %.1fs; reporting them as failed", left, timeout)
                self._p.purge(in_queue=True, in_flight=True, blocking=False)
                self._p.poll(0)
                self._p.flush(1.0)
            self._dispatch()
            self._dispatch_sinks()
            return self.outstanding

        return await asyncio.to_thread(finish)


class ConsumerBridge:
    """A confluent-kafka consumer driven from one executor thread."""

    def __init__(self, config: dict[str, Any], topic: str, *, group: bool = True) -> None:
        self._c = Consumer(config)
        self.topic = topic
        self.bootstrap = str(config.get("bootstrap.servers", ""))  # to mask its user-info in log lines
        self._exec = ThreadPoolExecutor(1, thread_name_prefix="swfast-kafka-consumer")
        self._yielded = 0.0
        self._stored = False
        if group:  # else the caller assigns partitions (assign_tail / assign_beginning)
            self._c.subscribe([topic], on_revoke=self._on_revoke)

    def _partitions(self, timeout: float) -> list[int]:
        md = self._c.list_topics(self.topic, timeout=timeout)
        return sorted(md.topics[self.topic].partitions) if self.topic in md.topics else []

    def assign_tail(self, timeout: float) -> None:
        """Assign every partition at its current end (no group: for reply listeners)."""
        tps = []
        for p in self._partitions(timeout):
            _, high = self._c.get_watermark_offsets(TopicPartition(self.topic, p), timeout=timeout)
            tps.append(TopicPartition(self.topic, p, high if high >= 0 else OFFSET_END))
        self._c.assign(tps)

    def assign_beginning(self, timeout: float) -> None:
        """Assign every partition from its first offset (no group join: replays, benchmarks)."""
        self._c.assign([TopicPartition(self.topic, p, OFFSET_BEGINNING) for p in self._partitions(timeout)])

    def _on_revoke(self, consumer: Any, partitions: Any) -> None:
        if self._stored:
            try:
                consumer.commit(asynchronous=False)
            except KafkaException as exc:
                err = _err(exc)
                if err is None or err.code() != KafkaError._NO_OFFSET:
                    log.warning("commit on revoke of %s failed: %s", self.topic, exc)
            self._stored = False

    def _fetch(self, max_records: int, timeout: float) -> list[Any]:
        # consume(n, t) waits for n messages or t; poll returns on the first message, then
        # consume(.., 0) takes what is already buffered: low latency and full batches.
        first = self._c.poll(timeout)
        if first is None:
            return []
        if max_records <= 1:
            return [first]
        rest: list[Any] = self._c.consume(max_records - 1, 0)
        rest.insert(0, first)
        return rest

    async def fetch_records(self, max_records: int, timeout: float) -> list[Any]:
        """Up to ``max_records`` messages, error events included (``error()`` is set on those).

        What librdkafka already buffered is taken without blocking on the loop thread (no
        executor round trip per batch under load, but still a yield to the loop at least every
        ``YIELD_EVERY`` seconds); only an empty queue waits in the executor.
        """
        msgs: list[Any] = self._c.consume(max_records, 0)
        if msgs:
            now = time.monotonic()
            if now - self._yielded >= YIELD_EVERY:  # a busy topic never starves the loop's other tasks
                self._yielded = now
                await asyncio.sleep(0)
            return msgs
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._exec, self._fetch, max_records, timeout)

    async def fetch(self, max_records: int, timeout: float) -> list[Any]:
        """Up to ``max_records`` messages; error events are logged and left out."""
        msgs = await self.fetch_records(max_records, timeout)
        out = []
        for m in msgs:
            err = m.error()
            if err is None:
                out.append(m)
            elif err.code() != KafkaError._PARTITION_EOF:
                log.warning("consumer error on %s: %s", self.topic, redact_known(err.str(), self.bootstrap))
        return out

    def store(self, offsets: dict[int, int]) -> None:
        """Store ``partition -> next offset``; committed by auto-commit, on revoke and close."""
        try:
            self._c.store_offsets(offsets=[TopicPartition(self.topic, p, o) for p, o in offsets.items()])
        except KafkaException as exc:  # partitions revoked meanwhile (e.g. max.poll.interval.ms passed)
            log.warning("could not store offsets %s of %s (%s); those messages will be re-delivered",
                        offsets, self.topic, exc)
            return
        self._stored = True

    def rewind(self, offsets: dict[int, int]) -> None:
        """Seek partitions back so the records from ``offsets`` are fetched again."""
        for p, off in offsets.items():
            try:
                self._c.seek(TopicPartition(self.topic, p, off))
            except KafkaException as exc:  # not assigned any more: the new owner re-reads it
                log.warning("could not rewind %s[%d] to %d: %s", self.topic, p, off, exc)

    def lag(self) -> int:
        total = 0
        for tp in self._c.assignment():
            try:
                _, high = self._c.get_watermark_offsets(tp, cached=True)
                pos = self._c.position([tp])[0].offset
            except KafkaException:
                continue
            if high >= 0 and pos >= 0:
                total += max(high - pos, 0)
        return total

    async def close(self) -> None:
        """Commit stored offsets and leave the group."""
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(self._exec, self._c.close)
        finally:
            self._exec.shutdown(wait=False)


class AdminBridge:
    """Topic administration through ``AdminClient``, with metadata polling after changes."""

    def __init__(self, config: dict[str, Any], *, timeout: float) -> None:
        self._a = AdminClient(config)
        self._timeout = timeout
        self.bootstrap = str(config.get("bootstrap.servers", ""))

    def metadata(self, topic: str | None = None) -> Any:
        try:
            return self._a.list_topics(topic, timeout=self._timeout)
        except KafkaException as exc:
            servers = redact_servers(self.bootstrap)
            raise BrokerUnavailable(
                f"Kafka at {servers!r} did not answer within {self._timeout}s ({redact_known(str(exc), self.bootstrap)}); "
                "check bootstrap_servers (or SWFAST_KAFKA_BOOTSTRAP_SERVERS) and that the broker is running",
                bootstrap_servers=servers,
            ) from None

    async def broker_count(self) -> int:
        md = await asyncio.to_thread(self.metadata)
        return len(md.brokers)

    async def _wait_visible(self, name: str, present: bool) -> bool:
        deadline = time.monotonic() + self._timeout
        while time.monotonic() < deadline:
            md = await asyncio.to_thread(self.metadata)
            t = md.topics.get(name)
            if (t is not None and t.error is None and len(t.partitions) > 0) == present:
                return True
            await asyncio.sleep(0.05)
        return False

    async def create_topic(self, name: str, partitions: int, replication: int) -> bool:
        futures = self._a.create_topics([NewTopic(name, partitions, replication)], operation_timeout=self._timeout)
        try:
            await asyncio.to_thread(futures[name].result, self._timeout)
        except KafkaException as exc:
            err = _err(exc)
            if err is None or err.code() != KafkaError.TOPIC_ALREADY_EXISTS:
                log.error("create_topic %s failed: %s", name, exc)
                return False
        return await self._wait_visible(name, True)

    async def delete_topic(self, name: str) -> bool:
        if name not in (await asyncio.to_thread(self.metadata)).topics:
            return False
        futures = self._a.delete_topics([name], operation_timeout=self._timeout)
        try:
            await asyncio.to_thread(futures[name].result, self._timeout)
        except KafkaException as exc:
            err = _err(exc)
            if err is not None and err.code() == KafkaError.UNKNOWN_TOPIC_OR_PART:
                return False
            log.error("delete_topic %s failed: %s", name, exc)
            return False
        return await self._wait_visible(name, False)

    async def list_topics(self) -> list[str]:
        md = await asyncio.to_thread(self.metadata)
        return sorted(t for t in md.topics if not t.startswith("__"))

    async def topic_info(self, name: str) -> dict[str, Any] | None:
        md = await asyncio.to_thread(self.metadata)
        t = md.topics.get(name)
        if t is None or t.error is not None or not t.partitions:
            return None
        first = t.partitions[min(t.partitions)]
        return {"name": name, "partitions": len(t.partitions), "replication_factor": len(first.replicas)}


__all__ = ["AdminBridge", "ConsumerBridge", "ProducerBridge"]

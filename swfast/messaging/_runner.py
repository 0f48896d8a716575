"""Consumer runner: at-least-once handling with retries, a dead-letter topic and priorities.

One :class:`Subscription` drives one consumer (embedded or Kafka) on the event loop that
subscribed. Each cycle fetches a batch, orders it by message priority (CRITICAL first, stable,
so equal priorities keep partition order), runs the handler on every message (retrying with
``ConsumerConfig.retry_delays``; a message that still fails goes to ``<topic><dlq_suffix>``
with the error in its headers), and only then stores the next offset of each partition. A crash
mid-batch therefore re-delivers the batch (duplicates at most one batch) and loses nothing; and
no handler is ever in flight while the consumer rebalances, because fetching is sequential.
"""
from __future__ import annotations

import asyncio
import inspect
import logging
import random
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Sequence, Union

from ..monitoring.metrics import REGISTRY
from . import _codec
from .constants import DEFAULT_BATCH_SIZE, DEFAULT_PRIORITY
from .._native import msgbatch as _batch
from .._native import msgvalid as _kernel

log = logging.getLogger("swfast.messaging")

Handler = Callable[[Any], Any]
RetryDelays = Union[Callable[[int], float], Sequence[float]]

SENT = REGISTRY.counter("swfast_messaging_sent_total", "Messages handed to the producer.", ("topic",))
DELIVERED = REGISTRY.counter("swfast_messaging_delivered_total", "Messages acknowledged by the broker.", ("topic",))
FAILED = REGISTRY.counter("swfast_messaging_delivery_failures_total", "Messages not delivered.", ("topic", "code"))
CONSUMED = REGISTRY.counter("swfast_messaging_consumed_total", "Messages fetched by subscriptions.", ("topic",))
HANDLED = REGISTRY.counter("swfast_messaging_handled_total", "Messages handled successfully.", ("topic",))
RETRIES = REGISTRY.counter("swfast_messaging_handler_retries_total", "Handler retries.", ("topic",))
DLQ = REGISTRY.counter("swfast_messaging_dlq_total", "Messages sent to a dead-letter topic.", ("topic",))
DLQ_FAILED = REGISTRY.counter("swfast_messaging_dlq_failures_total",
                              "Messages whose dead-letter produce failed (logged, then skipped).", ("topic",))
EXPIRED = REGISTRY.counter("swfast_messaging_expired_total", "Expired messages skipped unhandled.", ("topic",))
INVALID = REGISTRY.counter("swfast_messaging_invalid_total", "Structured messages refused by validation.", ("kind",))
DUPLICATES = REGISTRY.counter("swfast_messaging_duplicates_dropped_total",
                              "Repeated responses/messages dropped by request id.", ())
LAG = REGISTRY.gauge("swfast_messaging_consumer_lag", "Messages behind the partition end.", ("topic", "group"))


def exponential_delays(base: float = 0.1, factor: float = 2.0, cap: float = 5.0,
                       jitter: float = 0.1) -> Callable[[int], float]:
    """Delay before retry ``attempt`` (1-based): ``min(cap, base * factor**(attempt-1))`` ± jitter.

    Any callable with this signature (for example a ``swfast.resilience`` backoff) can replace it.
    """
    def delay(attempt: int) -> float:
        d = min(cap, base * factor ** max(attempt - 1, 0))
        return max(0.0, d * (1 + random.uniform(-jitter, jitter)))
    return delay


@dataclass
class ConsumerConfig:
    """How a subscription consumes.

    Attributes:
        max_retries: handler retries after the first failure before dead-lettering.
        retry_delays: ``attempt -> seconds`` callable or a sequence (last value repeats);
            defaults to :func:`exponential_delays` (0.1 s doubling, capped at 5 s).
        dlq_suffix: the dead-letter topic is ``topic + dlq_suffix``.
        batch_size: most messages fetched (and ordered by priority) per cycle.
        batch: when true, the handler receives the whole fetched batch as a list.
        poll_timeout: seconds one fetch waits for data (bounds unsubscribe latency).
        priority_order: order each fetched batch by ``metadata.priority``.
        overrides: extra librdkafka consumer properties (``session.timeout.ms``...).
        sleep: the coroutine used to wait between retries (inject a fake in tests).
        now_us: clock for expiry checks, epoch microseconds (inject in tests).
    """

    max_retries: int = 3
    retry_delays: RetryDelays | None = None
    dlq_suffix: str = ".dlq"
    batch_size: int = DEFAULT_BATCH_SIZE
    batch: bool = False
    poll_timeout: float = 0.2
    priority_order: bool = True
    overrides: dict[str, Any] = field(default_factory=dict)
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep
    now_us: Callable[[], int] = field(default=lambda: time.time_ns() // 1000)

    def delay(self, attempt: int) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based)."""
        d = self.retry_delays
        if d is None:
            self.retry_delays = d = exponential_delays()
        if callable(d):
            return float(d(attempt))
        seq = list(d)
        return float(seq[min(attempt, len(seq)) - 1]) if seq else 0.0


def decode(value: bytes | None) -> Any:
    """A message value as the handler sees it: decoded JSON, else text, else the bytes."""
    if value is None:
        return None
    try:
        return _codec.loads(value)
    except _codec.JSONDecodeError:
        try:
            return value.decode()
        except UnicodeDecodeError:
            return value


def _log_errors(topic: str, records: list[Any]) -> None:
    """Log consumer error events (a partition end is not an error)."""
    for rec in records:
        err = rec.error()
        if err.name() != "_PARTITION_EOF":
            log.warning("consumer error on %s: %s", topic, err.str())


def request_id_of(message: Any) -> Any:
    """``message["metadata"]["request_id"]`` or None (the default idempotency key)."""
    if type(message) is dict:
        meta = message.get("metadata")
        if type(meta) is dict:
            return meta.get("request_id")
    return None


def idempotent(handler: Handler, *, key: Callable[[Any], Any] = request_id_of,
               capacity: int = 100_000) -> Callable[[Any], Awaitable[None]]:
    """Wrap ``handler`` so a message whose key was already handled successfully is skipped.

    At-least-once delivery (and producer timeouts that still wrote the message) can repeat a
    message; this gives one side effect per key among the last ``capacity`` keys. Messages
    without a key (``key`` returns None) always run. A handler that raises records nothing,
    so its retry runs again.
    """
    from collections import OrderedDict

    done: OrderedDict[Any, None] = OrderedDict()

    async def wrapper(message: Any) -> None:
        k = key(message)
        if k is not None and k in done:
            DUPLICATES.inc()
            return
        result = handler(message)
        if inspect.isawaitable(result):
            await result
        if k is not None:
            done[k] = None
            if len(done) > capacity:
                done.popitem(last=False)

    return wrapper


class Subscription:
    """One running consumer task: fetch, order, handle with retries, dead-letter, store."""

    def __init__(self, topic: str, group_id: str, handler: Handler, config: ConsumerConfig,
                 consumer: Any, send: Callable[..., Awaitable[Any]]) -> None:
        self.topic = topic
        self.group_id = group_id
        self.handler = handler
        self.config = config
        self.consumer = consumer
        # every record, error events included (the batch kernel skips those): one pass less
        self._fetch = getattr(consumer, "fetch_records", consumer.fetch)
        self._send = send
        self._stopping = False
        self.task: asyncio.Task[None] | None = None
        self._consumed = CONSUMED.labels(topic)
        self._handled = HANDLED.labels(topic)
        self._lag = LAG.labels(topic, group_id)

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self._run(), name=f"swfast-sub-{self.topic}")

    async def stop(self, timeout: float) -> None:
        """Finish the batch in hand, store its offsets, close the consumer (commit, leave)."""
        self._stopping = True
        task = self.task
        if task is not None and not task.done():
            try:
                await asyncio.wait_for(asyncio.shield(task), timeout)
            except asyncio.TimeoutError:
                task.cancel()
                log.warning("subscription %s/%s did not stop within %.1fs; cancelled", self.topic, self.group_id, timeout)
            except Exception:  # the task's own failure was already logged
                pass
        await self.consumer.close()

    async def _run(self) -> None:
        cfg = self.config
        cycles = 0
        while not self._stopping:
            try:
                records = await self._fetch(cfg.batch_size, cfg.poll_timeout)
            except Exception as exc:
                log.error("fetch from %s failed: %s", self.topic, exc)
                await cfg.sleep(0.5)
                continue
            if not records:
                continue
            try:
                await self._handle_batch(records)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # never let the subscription die silently; offsets not stored
                log.exception("subscription %s/%s failed on a batch (%s); rewinding to re-deliver it",
                              self.topic, self.group_id, exc)
                firsts: dict[int, int] = {}
                for rec in records:
                    if rec.error() is not None:
                        continue
                    p, off = rec.partition(), rec.offset()
                    if off < firsts.get(p, off + 1):
                        firsts[p] = off
                self.consumer.rewind(firsts)
                await cfg.sleep(0.5)
                continue
            records = []  # release this batch's messages before the next fetch allocates more
            cycles += 1
            if cycles % 16 == 1:
                self._lag.set(self.consumer.lag())

    async def _handle_batch(self, records: list[Any]) -> None:
        cfg = self.config
        values, recs, offsets, errors, expired = _batch.prepare(
            records, _codec.loads, decode, _kernel.parse_timestamp, cfg.now_us(), DEFAULT_PRIORITY,
            cfg.priority_order)
        if errors:
            _log_errors(self.topic, errors)
        self._consumed.inc(len(records) - len(errors))
        if expired:
            EXPIRED.labels(self.topic).inc(expired)
        if cfg.batch:
            if values:
                err = await self._call(values)
                if err is None:
                    self._handled.inc(len(values))
                else:
                    for rec in recs:
                        await self._dead_letter(rec, err)
        else:
            ok = await self._handle_each(values, recs)
            if ok:
                self._handled.inc(ok)
        if offsets:
            self.consumer.store(offsets)

    async def _handle_each(self, values: list[Any], recs: list[Any]) -> int:
        """Run the handler on every value in order (the kernel loops while it returns None)."""
        handler = self.handler
        n = len(values)
        ok = i = 0
        while i < n:
            j, outcome, raised = _batch.run_sync(handler, values, i)
            ok += j - i
            if j == n:
                break
            i = j + 1
            if not raised:
                if not inspect.isawaitable(outcome):
                    ok += 1
                    continue
                try:
                    await outcome
                    ok += 1
                    continue
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    outcome = exc
            err = await self._retry(values[j], outcome)
            if err is None:
                ok += 1
            else:
                await self._dead_letter(recs[j], err)
        return ok

    async def _retry(self, arg: Any, first: BaseException) -> BaseException | None:
        """Retries after a first failure: None once one succeeds, else the last error."""
        cfg = self.config
        if cfg.max_retries < 1:
            return first
        RETRIES.labels(self.topic).inc()
        log.warning("handler for %s failed (attempt 1): %r; retrying", self.topic, first)
        await cfg.sleep(cfg.delay(1))
        return await self._call(arg, attempt=1)

    async def _call(self, arg: Any, attempt: int = 0) -> BaseException | None:
        cfg = self.config
        while True:
            try:
                result = self.handler(arg)
                if inspect.isawaitable(result):
                    await result
                return None
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                attempt += 1
                if attempt > cfg.max_retries:
                    return exc
                RETRIES.labels(self.topic).inc()
                log.warning("handler for %s failed (attempt %d): %r; retrying", self.topic, attempt, exc)
                await cfg.sleep(cfg.delay(attempt))

    async def _dead_letter(self, rec: Any, error: BaseException) -> None:
        dlq = self.topic + self.config.dlq_suffix
        headers = [
            ("swfast-error", repr(error)[:1000].encode()),
            ("swfast-error-type", type(error).__qualname__.encode()),
            ("swfast-topic", self.topic.encode()),
            ("swfast-partition", str(rec.partition()).encode()),
            ("swfast-offset", str(rec.offset()).encode()),
            ("swfast-attempts", str(self.config.max_retries + 1).encode()),
        ]
        for attempt in range(3):
            err = await self._send(dlq, rec.value() or b"", rec.key(), headers)
            if err is None:
                DLQ.labels(self.topic).inc()
                log.error("message %s[%d]@%d sent to %s after %d attempts: %r", self.topic, rec.partition(),
                          rec.offset(), dlq, self.config.max_retries + 1, error)
                return
            await self.config.sleep(0.1 * (attempt + 1))
        DLQ_FAILED.labels(self.topic).inc()
        log.error("could not dead-letter %s[%d]@%d to %s (%s); skipping it", self.topic, rec.partition(),
                  rec.offset(), dlq, err)


__all__ = ["ConsumerConfig", "Subscription", "decode", "exponential_delays", "idempotent", "request_id_of"]

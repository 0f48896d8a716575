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
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, MutableSequence, Sequence, Union

from .._durations import Duration, seconds as _seconds
from ..errors import ConfigurationError
from ..monitoring.metrics import REGISTRY
from . import _codec
from .constants import DEFAULT_BATCH_SIZE, DEFAULT_PRIORITY
from .._native import msgbatch as _batch
from .._native import msgvalid as _kernel

log = logging.getLogger("swfast.messaging")

Handler = Callable[[Any], Any]
RetryDelays = Union[Callable[[int], float], Sequence[float], Any]  # Any: a resilience BackoffStrategy

SENT = REGISTRY.counter("swfast_messaging_sent_total", "Messages handed to the producer.", ("topic",))
DELIVERED = REGISTRY.counter("swfast_messaging_delivered_total", "Messages acknowledged by the broker.", ("topic",))
FAILED = REGISTRY.counter("swfast_messaging_delivery_failures_total", "Messages not delivered.", ("topic", "code"))
CONSUMED = REGISTRY.counter("swfast_messaging_consumed_total", "Messages fetched by subscriptions.", ("topic",))
HANDLED = REGISTRY.counter("swfast_messaging_handled_total", "Messages handled successfully.", ("topic",))
RETRIES = REGISTRY.counter("swfast_messaging_handler_retries_total", "Handler retries.", ("topic",))
DLQ = REGISTRY.counter("swfast_messaging_dlq_total", "Messages sent to a dead-letter topic.", ("topic",))
DLQ_FAILED = REGISTRY.counter("swfast_messaging_dlq_failures_total",
                              "Messages whose dead-letter produce failed (logged, then skipped).", ("topic",))
DLQ_REFERENCES = REGISTRY.counter(
    "swfast_messaging_dlq_references_total",
    "Dead letters too large for the DLQ, sent as a reference to the original offset.", ("topic",))
EXPIRED = REGISTRY.counter("swfast_messaging_expired_total", "Expired messages skipped unhandled.", ("topic",))
INVALID = REGISTRY.counter("swfast_messaging_invalid_total", "Structured messages refused by validation.", ("kind",))
DUPLICATES = REGISTRY.counter("swfast_messaging_duplicates_dropped_total",
                              "Repeated responses/messages dropped by request id.", ())
LAG = REGISTRY.gauge("swfast_messaging_consumer_lag", "Messages behind the partition end.", ("topic", "group"))


LAG_EVERY = 0.5  # seconds between two samples of the consumer-lag gauge of one subscription


def exponential_delays(base: Duration = 0.1, factor: float = 2.0, cap: Duration = 5.0,
                       jitter: float = 0.1, seed: int | None = None) -> Callable[[int], float]:
    """Delay before retry ``attempt`` (1-based): ``min(cap, base * factor**(attempt-1))`` ± jitter.

    ``base`` and ``cap`` are seconds: floats, ``timedelta`` s or strings such as ``"100ms"``
    (``swfast._durations``); a bad one raises ``ConfigurationError`` naming it.

    This is :class:`swfast.resilience.ExponentialBackoff` (``calculate_delay``): messaging has no
    backoff arithmetic of its own. Any ``attempt -> seconds`` callable, or any
    ``swfast.resilience`` backoff strategy object, can replace it in ``ConsumerConfig.retry_delays``.
    """
    from ..resilience.backoff import ExponentialBackoff  # loaded on first retry configuration

    try:
        strategy = ExponentialBackoff(initial=base, factor=factor, max_delay=cap, jitter=jitter, seed=seed)
    except ConfigurationError as exc:  # name the argument as this function spells it
        name = {"initial": "base", "max_delay": "cap"}.get(exc.param, exc.param)
        raise ConfigurationError(name, str(exc).split(": ", 1)[-1]) from None
    delay: Callable[[int], float] = strategy.calculate_delay
    return delay


@dataclass
class ConsumerConfig:
    """How a subscription consumes.

    Attributes:
        max_retries: handler retries after the first failure before dead-lettering.
        retry_delays: a ``swfast.resilience`` backoff strategy, an ``attempt -> seconds``
            callable or a sequence of delays (last value repeats; each float seconds, a
            ``timedelta`` or a string like ``"250ms"``), turned into a strategy by
            :func:`swfast.resilience.backoff.as_backoff` (a bad one raises
            ``ConfigurationError`` at construction or assignment; a list is kept as a tuple, so
            the schedule in use is the one checked); defaults to :func:`exponential_delays`
            (``ExponentialBackoff``: 0.1 s doubling, capped at 5 s, ±10 %). Each message's
            retries ask the strategy's ``next_delay`` with that message's previous wait.
        dlq_suffix: the dead-letter topic is ``topic + dlq_suffix``.
        batch_size: most messages fetched (and ordered by priority) per cycle.
        batch: when true, the handler receives the whole fetched batch as a list.
        poll_timeout: how long one fetch waits for data (bounds unsubscribe latency), in seconds:
            a float, a ``datetime.timedelta`` or a string such as ``"250ms"`` / ``"1s"``
            (``swfast._durations.seconds``); stored as float seconds. Must be > 0 and finite,
            else ``ConfigurationError`` naming ``poll_timeout``.
        priority_order: order each fetched batch by ``metadata.priority``.
        overrides: extra librdkafka consumer properties (``session.timeout.ms``...).
        sleep: the coroutine used to wait between retries (inject a fake in tests).
        now_us: clock for expiry checks, epoch microseconds (inject in tests).
        naive_timestamps_utc: read an ``expires_at`` without a UTC offset (as the platform's
            other modules write them: ``2026-01-02T03:04:05``) as UTC. Off by default: such a
            timestamp is then not understood and the message never expires.
    """

    max_retries: int = 3
    retry_delays: RetryDelays | None = None
    dlq_suffix: str = ".dlq"
    batch_size: int = DEFAULT_BATCH_SIZE
    batch: bool = False
    poll_timeout: Duration = 0.2
    priority_order: bool = True
    overrides: dict[str, Any] = field(default_factory=dict)
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep
    now_us: Callable[[], int] = field(default=lambda: time.time_ns() // 1000)
    naive_timestamps_utc: bool = False

    def __setattr__(self, name: str, value: Any) -> None:
        # Checked on every assignment, at construction and after it (``cfg.poll_timeout = "5s"``),
        # so a running subscription never reads an unparsed or zero wait, nor an unchecked schedule.
        if name == "poll_timeout":
            # float seconds from here on; a zero wait would turn an idle subscription into a busy loop
            value = _seconds(value, param="poll_timeout", allow_zero=False)
        elif name == "retry_delays":
            if isinstance(value, MutableSequence):
                # kept as a tuple: a schedule changed in place would differ from the checked one in use
                value = tuple(value)
            strategy = None  # None: the default, built on first use by backoff()
            if value is not None:
                from ..resilience.backoff import as_backoff  # loaded on first use

                strategy = as_backoff(value, param="retry_delays")  # a bad schedule fails here, not at the first retry
            object.__setattr__(self, "_backoff", strategy)
        object.__setattr__(self, name, value)

    def backoff(self) -> Any:
        """``retry_delays`` as a :mod:`swfast.resilience.backoff` strategy (built once per value):
        a strategy as it is, a sequence as ``ScheduleBackoff`` (the last delay repeats), a callable
        as ``CallableBackoff``, ``None`` as :func:`exponential_delays`' ``ExponentialBackoff``."""
        strategy = self.__dict__.get("_backoff")
        if strategy is None:  # retry_delays is None: the default schedule
            from ..resilience.backoff import ExponentialBackoff  # loaded on first use

            strategy = ExponentialBackoff(initial=0.1, factor=2.0, max_delay=5.0, jitter=0.1)
            object.__setattr__(self, "_backoff", strategy)
        return strategy

    def delay(self, attempt: int, prev: float = 0.0) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based), ``prev`` being the last wait
        of the same message (decorrelated jitter uses it): the backoff strategy's ``next_delay``."""
        return float(self.backoff().next_delay(attempt, prev))


def parse_naive_utc(value: Any) -> int | None:
    """Epoch µs of a zoned ISO 8601 timestamp, or of a naive one read as UTC; None when invalid."""
    us: int | None = _kernel.parse_timestamp(value)
    if us is None and type(value) is str and 10 < len(value) < 40 and value[-1] != "Z" and "+" not in value[10:]:
        us = _kernel.parse_timestamp(value + "+00:00")
    return us


def decode(value: bytes | None) -> Any:
    """A message value as the handler sees it: decoded JSON, else text, else the bytes.

    ``None`` (a tombstone) stays ``None``; integers beyond 64 bits are exact.
    """
    if value is None:
        return None
    try:
        return _codec.loads_exact(value)
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
        lag_due = 0.0  # the lag gauge is sampled at most every LAG_EVERY seconds, not per batch
        monotonic = time.monotonic
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
            now = monotonic()
            if now >= lag_due:
                lag_due = now + LAG_EVERY
                self._lag.set(self.consumer.lag())

    async def _handle_batch(self, records: list[Any]) -> None:
        cfg = self.config
        parse = parse_naive_utc if cfg.naive_timestamps_utc else _kernel.parse_timestamp
        pending = None
        if cfg.batch:
            values, recs, offsets, errors, expired = _batch.prepare(
                records, _codec.loads, decode, parse, cfg.now_us(), DEFAULT_PRIORITY, cfg.priority_order,
                _codec.exact_loads)
        else:  # values that cannot carry metadata stay bytes until just before their handler call
            # (run_sync decodes them): decoding and handling stream through the batch
            values, recs, offsets, errors, expired, pending = _batch.prepare(  # type: ignore[misc]
                records, _codec.loads, decode, parse, cfg.now_us(), DEFAULT_PRIORITY, cfg.priority_order,
                _codec.exact_loads, True)
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
            ok = await self._handle_each(values, recs, pending)
            if ok:
                self._handled.inc(ok)
        if offsets:
            self.consumer.store(offsets)

    async def _handle_each(self, values: list[Any], recs: list[Any], pending: bytearray | None = None) -> int:
        """Run the handler on every value in order (the kernel loops while it returns None,
        decoding the values ``prepare`` left pending; ``values[j]`` is decoded where it stops)."""
        handler = self.handler
        n = len(values)
        ok = i = 0
        loads, exact = _codec.loads, _codec.exact_loads
        while i < n:
            j, outcome, raised = _batch.run_sync(handler, values, i, pending, loads, decode, exact)
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
        wait = cfg.delay(1)
        await cfg.sleep(wait)
        return await self._call(arg, attempt=1, prev=wait)

    async def _call(self, arg: Any, attempt: int = 0, prev: float = 0.0) -> BaseException | None:
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
                prev = cfg.delay(attempt, prev)
                await cfg.sleep(prev)

    async def _dead_letter(self, rec: Any, error: BaseException) -> None:
        """Send ``rec`` to the dead-letter topic: same key, same value, original headers first.

        A tombstone (value None) stays a tombstone. A message the DLQ refuses as too large
        (``MSG_SIZE_TOO_LARGE``) is replaced by a reference: the same key and headers plus
        ``swfast-dlq-reference: 1``, and as value the JSON ``{"swfast_dlq_reference": {"topic",
        "partition", "offset", "size"}}`` pointing at the original (read it from there while the
        topic's retention keeps it). Only when even that cannot be produced (3 tries) is the
        message skipped, counted in ``swfast_messaging_dlq_failures_total`` and logged.
        """
        dlq = self.topic + self.config.dlq_suffix
        value = rec.value()
        original = _headers_of(rec)
        headers = [
            *original,
            ("swfast-error", repr(error)[:1000].encode()),
            ("swfast-error-type", type(error).__qualname__.encode()),
            ("swfast-topic", self.topic.encode()),
            ("swfast-partition", str(rec.partition()).encode()),
            ("swfast-offset", str(rec.offset()).encode()),
            ("swfast-attempts", str(self.config.max_retries + 1).encode()),
        ]
        referenced = False
        for attempt in range(3):
            err = await self._send(dlq, value, rec.key(), headers)
            if err is None:
                (DLQ_REFERENCES if referenced else DLQ).labels(self.topic).inc()
                log.error("message %s[%d]@%d sent to %s%s after %d attempts: %r", self.topic, rec.partition(),
                          rec.offset(), dlq, " as a reference (too large)" if referenced else "",
                          self.config.max_retries + 1, error)
                return
            if not referenced and getattr(err, "code", "") in _TOO_LARGE:
                referenced = True
                value = _codec.dumps({"swfast_dlq_reference": {
                    "topic": self.topic, "partition": rec.partition(), "offset": rec.offset(),
                    "size": 0 if value is None else len(value)}})
                headers.append(("swfast-dlq-reference", b"1"))
                continue
            await self.config.sleep(_DLQ_BACKOFF.calculate_delay(attempt + 1))
        DLQ_FAILED.labels(self.topic).inc()
        log.error("could not dead-letter %s[%d]@%d to %s (%s); skipping it", self.topic, rec.partition(),
                  rec.offset(), dlq, err)


class _LazyBackoff:
    """The dead-letter produce retry delays (0.1 s, 0.2 s, 0.3 s): ``swfast.resilience.LinearBackoff``."""

    _strategy: Any = None

    def calculate_delay(self, attempt: int) -> float:
        if self._strategy is None:
            from ..resilience.backoff import LinearBackoff

            type(self)._strategy = LinearBackoff(initial=0.1, step=0.1, max_delay=0.3)
        return float(self._strategy.calculate_delay(attempt))


_DLQ_BACKOFF = _LazyBackoff()
_TOO_LARGE = frozenset({"MSG_SIZE_TOO_LARGE", "_MSG_SIZE_TOO_LARGE"})


def _headers_of(rec: Any) -> list[tuple[str, bytes]]:
    """The record's headers as ``(str, bytes)`` pairs (``None`` values kept as empty bytes)."""
    get = getattr(rec, "headers", None)
    raw = get() if get is not None else None
    if not raw:
        return []
    return [(k if isinstance(k, str) else bytes(k).decode("utf-8", "replace"),
             b"" if v is None else bytes(v)) for k, v in raw]


__all__ = [
    "ConsumerConfig", "Subscription", "decode", "exponential_delays", "idempotent", "parse_naive_utc", "request_id_of",
]

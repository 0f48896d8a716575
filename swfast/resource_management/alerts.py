"""AlertGenerator: de-duplicated alert events from threshold breaches, with sinks.

An event is the plain dict shared with monitoring's alert view::

    {"fingerprint", "name", "severity", "state", "labels", "value", "peak", "count",
     "started_at", "updated_at", "summary"}

The fingerprint hashes the name and the labels, so one breach stays one alert however often it is
checked: sinks get ``pending``/``firing`` once, a severity change at once, a repeat of an unchanged
firing alert only after ``repeat_interval_s``, and ``resolved`` once. Silences (label matchers
with an end time) keep events out of the sinks but not out of :meth:`AlertGenerator.active`.

Sinks are callables taking the event; one returning an awaitable is scheduled on the running
loop (or kept until :meth:`AlertGenerator.aflush`). Provided: :class:`LogSink`,
:class:`MetricsSink`, :class:`KafkaSink` (``BALANCE_EVENTS_TOPIC``), :class:`WebhookSink` and
:class:`AlertStoreSink` (``swfast.monitoring.alert_store()``).
"""
from __future__ import annotations

import asyncio
import base64
import hashlib
import inspect
import itertools
import json
import logging
import queue
import threading
import time
import urllib.parse
import urllib.request
from typing import Any, Awaitable, Callable, Iterable, Mapping

from .._redact import redact_url
from ..errors import ConfigurationError
from .thresholds import Breach

log = logging.getLogger("swfast.resource_management.alerts")
Event = dict[str, Any]
Sink = Callable[[Event], Any]


def fingerprint(name: str, labels: Mapping[str, str]) -> str:
    """Stable id of an alert: sha1 over the name and the sorted labels (16 hex digits)."""
    text = name + "\x00" + "\x00".join(f"{k}={labels[k]}" for k in sorted(labels))
    return hashlib.sha1(text.encode()).hexdigest()[:16]


class AlertGenerator:
    """Turns breaches into de-duplicated events and delivers them to ``sinks``.

    Args:
        sinks: callables receiving each delivered event.
        group_by: label names :meth:`groups` groups active alerts by.
        repeat_interval_s: least time between two deliveries of an unchanged firing alert.
        clock: epoch-seconds clock.
    Thread-safe.
    """

    def __init__(self, *, sinks: Iterable[Sink] = (), group_by: Iterable[str] = ("key",),
                 repeat_interval_s: float = 3600.0, clock: Callable[[], float] = time.time) -> None:
        self.sinks: list[Sink] = list(sinks)
        self.group_by = tuple(group_by)
        self.repeat_interval_s = float(repeat_interval_s)
        self._clock = clock
        self._active: dict[str, Event] = {}
        self._sent_at: dict[str, float] = {}
        self._silences: dict[int, tuple[dict[str, str], float, str]] = {}
        self._ids = itertools.count(1)
        self._pending: list[Awaitable[Any]] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._lock = threading.Lock()
        self.suppressed = 0

    def add_sink(self, sink: Sink) -> None:
        self.sinks.append(sink)

    # ------------------------------------------------------------------ silences
    def add_silence(self, matchers: Mapping[str, str], *, until: float, comment: str = "") -> int:
        """Silence alerts whose labels (and ``name``) match all ``matchers`` until ``until`` (epoch s)."""
        if not matchers:
            raise ConfigurationError("matchers", "give at least one label to match, e.g. {'metric': 'cpu_fraction'}")
        sid = next(self._ids)
        with self._lock:
            self._silences[sid] = ({str(k): str(v) for k, v in matchers.items()}, float(until), comment)
        return sid

    def remove_silence(self, silence_id: int) -> bool:
        with self._lock:
            return self._silences.pop(silence_id, None) is not None

    def _silenced(self, event: Event, now: float) -> bool:
        for sid, (match, until, _) in list(self._silences.items()):
            if until <= now:
                self._silences.pop(sid, None)
                continue
            fields = {**event["labels"], "name": event["name"]}
            if all(fields.get(k) == v for k, v in match.items()):
                return True
        return False

    # ------------------------------------------------------------------ events
    def process(self, breach: Breach | Mapping[str, Any], *, name: str | None = None) -> Event | None:
        """Record one breach; returns the event if it was delivered, else None (deduplicated,
        silenced or rate-limited)."""
        b = breach if isinstance(breach, Breach) else Breach(**breach)
        labels = {str(k): str(v) for k, v in b.labels.items()} or {"key": b.key, "metric": b.metric}
        alert = name or f"resource_{b.metric}"
        fp = fingerprint(alert, labels)
        now = self._clock()
        with self._lock:
            prev = self._active.get(fp)
            event: Event = {
                "fingerprint": fp, "name": alert, "severity": b.severity, "state": b.state,
                "labels": labels, "value": b.value, "peak": b.peak,
                "count": (prev["count"] + 1) if prev else 1,
                "started_at": prev["started_at"] if prev else b.started_at, "updated_at": now,
                "summary": self._summary(alert, b),
            }
            changed = prev is None or prev["state"] != b.state or prev["severity"] != b.severity
            if b.state == "resolved":
                self._active.pop(fp, None)
            else:
                self._active[fp] = event
            if not changed and now - self._sent_at.get(fp, -float("inf")) < self.repeat_interval_s:
                self.suppressed += 1
                return None
            if b.state == "resolved" and prev is None:
                return None  # nothing was open
            if self._silenced(event, now):
                self.suppressed += 1
                return None
            self._sent_at[fp] = now
            if b.state == "resolved":
                self._sent_at.pop(fp, None)
        self._deliver(event)
        return event

    @staticmethod
    def _summary(alert: str, b: Breach) -> str:
        word = {"pending": "is over", "firing": "is over", "resolved": "is back under"}.get(b.state, "at")
        return f"{b.key}: {b.metric} = {b.value:g} {word} its {b.severity} threshold {b.threshold:g} ({alert})"

    def ingest(self, breaches: Iterable[Breach]) -> list[Event]:
        """:meth:`process` many; returns the delivered events."""
        return [e for e in (self.process(b) for b in breaches) if e is not None]

    def _deliver(self, event: Event) -> None:
        for sink in list(self.sinks):
            try:
                result = sink(dict(event))
            except Exception:
                log.exception("alert sink %r failed", sink)
                continue
            if inspect.isawaitable(result):
                self._schedule(result)

    def _schedule(self, aw: Awaitable[Any]) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            with self._lock:
                self._pending.append(aw)
            return
        task = loop.create_task(self._guard(aw))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _guard(aw: Awaitable[Any]) -> None:
        try:
            await aw
        except Exception:
            log.exception("async alert sink failed")

    async def aprocess(self, breach: Breach | Mapping[str, Any], *, name: str | None = None) -> Event | None:
        """Async form of :meth:`process`: also waits for async sinks to finish."""
        event = self.process(breach, name=name)
        await self.aflush()
        return event

    async def aflush(self) -> None:
        """Await async deliveries made outside a running loop or still in flight."""
        with self._lock:
            pending, self._pending = self._pending, []
        for aw in pending:
            await self._guard(aw)
        if self._tasks:
            await asyncio.gather(*list(self._tasks))

    def active(self) -> list[Event]:
        """Open (pending or firing) alerts, silenced ones included."""
        with self._lock:
            return [dict(e) for e in self._active.values()]

    def groups(self) -> dict[tuple[str, ...], list[Event]]:
        """Open alerts grouped by the ``group_by`` labels."""
        out: dict[tuple[str, ...], list[Event]] = {}
        for e in self.active():
            out.setdefault(tuple(e["labels"].get(g, "") for g in self.group_by), []).append(e)
        return out


# ---------------------------------------------------------------------- sinks
class LogSink:
    """Logs each event: critical → ERROR, warning → WARNING, resolved/info → INFO."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.logger = logger or log

    def __call__(self, event: Event) -> None:
        level = logging.INFO if event["state"] == "resolved" else {
            "critical": logging.ERROR, "warning": logging.WARNING}.get(event["severity"], logging.INFO)
        self.logger.log(level, "alert %s [%s %s] %s", event["name"], event["severity"], event["state"],
                        event["summary"], extra={"alert": event})


class MetricsSink:
    """``swfast_resources_alerts_total{severity,state}`` and ``swfast_resources_alerts_firing``."""

    def __init__(self, registry: Any = None) -> None:
        if registry is None:
            from ..monitoring.metrics import REGISTRY as registry
        self._total = registry.counter("swfast_resources_alerts_total", "Alert events delivered.", ("severity", "state"))
        self._firing = registry.gauge("swfast_resources_alerts_firing", "Alerts currently firing.")
        self._open: set[str] = set()

    def __call__(self, event: Event) -> None:
        self._total.labels(event["severity"], event["state"]).inc()
        if event["state"] == "firing":
            self._open.add(event["fingerprint"])
        elif event["state"] == "resolved":
            self._open.discard(event["fingerprint"])
        self._firing.set(len(self._open))


class KafkaSink:
    """Publishes events as JSON to ``topic`` (default ``BALANCE_EVENTS_TOPIC``) through a
    :class:`swfast.messaging.KafkaService` (default: the process-wide one), keyed by fingerprint.
    ``swfast.messaging`` is imported on the first event."""

    def __init__(self, service: Any = None, topic: str | None = None) -> None:
        self.service = service
        self.topic = topic

    async def __call__(self, event: Event) -> None:
        from ..messaging.constants import BALANCE_EVENTS_TOPIC
        svc = self.service
        if svc is None:
            from ..messaging.kafka_service import get_kafka_service
            svc = self.service = get_kafka_service()
        if not svc.is_connected:
            await svc.connect()
        await svc.send_message(self.topic or BALANCE_EVENTS_TOPIC, event, key=event["fingerprint"])


class WebhookSink:
    """POSTs each event as JSON to ``url`` from one background thread (started on the first
    event), so a slow endpoint never blocks a check. The URL is redacted in logs."""

    def __init__(self, url: str, *, timeout_s: float = 5.0, headers: Mapping[str, str] | None = None,
                 post: Callable[[str, bytes, Mapping[str, str], float], Any] | None = None) -> None:
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ConfigurationError("url", "must be an http:// or https:// URL")
        parts = urllib.parse.urlsplit(url)
        self.headers = {"Content-Type": "application/json", **(headers or {})}
        if parts.username is not None:  # user-info becomes a Basic header (urllib cannot send it in the URL)
            cred = f"{urllib.parse.unquote(parts.username)}:{urllib.parse.unquote(parts.password or '')}"
            self.headers["Authorization"] = "Basic " + base64.b64encode(cred.encode()).decode()
            url = urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
        self.url, self.timeout_s = url, timeout_s
        self._post = post or self._urlopen
        self._queue: queue.Queue[bytes | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self.sent = 0
        self.failed = 0

    @staticmethod
    def _urlopen(url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> None:
        req = urllib.request.Request(url, data=body, headers=dict(headers), method="POST")
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - scheme checked
            resp.read()

    def __call__(self, event: Event) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="swfast-alert-webhook", daemon=True)
            self._thread.start()
        self._queue.put(json.dumps(event, default=str).encode())

    def _run(self) -> None:
        while (body := self._queue.get()) is not None:
            try:
                self._post(self.url, body, self.headers, self.timeout_s)
                self.sent += 1
            except Exception as exc:  # noqa: BLE001 - a failing endpoint is logged, not raised
                self.failed += 1
                log.warning("alert webhook %s failed: %s", redact_url(self.url), type(exc).__name__)
            finally:
                self._queue.task_done()

    def join(self) -> None:
        """Wait until every queued event was posted (or failed)."""
        self._queue.join()

    def close(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None


class AlertStoreSink:
    """Feeds monitoring's alert view: ``swfast.monitoring.alert_store().publish(event)``,
    imported on the first event; when monitoring has no alert store the event is dropped with
    one warning."""

    def __init__(self, store: Any = None) -> None:
        self._store = store
        self._warned = False

    def __call__(self, event: Event) -> None:
        store = self._store
        if store is None:
            from .. import monitoring
            factory = getattr(monitoring, "alert_store", None)
            if not callable(factory):
                if not self._warned:
                    self._warned = True
                    log.warning("swfast.monitoring has no alert_store(); alert events are not shown there")
                return
            store = self._store = factory()
        store.publish(event)


__all__ = ["AlertGenerator", "AlertStoreSink", "Event", "KafkaSink", "LogSink", "MetricsSink", "WebhookSink",
           "fingerprint"]

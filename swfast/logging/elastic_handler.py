"""``ElasticLogHandler``: records to Elasticsearch/OpenSearch through the ``_bulk`` API.

Spoken with the standard library (:mod:`http.client`), no client package. ``_bulk`` answers
HTTP 200 even when items failed, so every item's status is read:

* 2xx: indexed (``sent``);
* 429 and 5xx: retried with backoff (:class:`swfast.resilience.backoff.ExponentialBackoff`) up to
  ``max_retries``, then counted ``failed`` (and handed to ``dead_letter``);
* other 4xx (a mapping conflict, a bad document): that document alone is ``rejected`` and
  handed to ``dead_letter``; the rest of the chunk is indexed.

A whole-request 429/5xx or connection error is retried the same way; when the retries run out
the chunk is counted ``failed`` and the *next chunk is still sent* (elasticsearch-py #2673 stops
at the first failing chunk). All network I/O happens in the worker thread with a socket timeout,
so a down or hung server never blocks the application; ``sleep`` is injectable for tests.
"""
from __future__ import annotations

import base64
import http.client
import json
import logging
import re
import time
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit

from swfast.logging._background import BackgroundHandler


class ElasticLogHandler(BackgroundHandler):
    """Index each record (JSON; ECS names with ``preset="ecs"`` formatters) into ``index``.

    Args:
        url: server base URL (``http://localhost:9200``; user-info is used for basic auth and
            never logged).
        index: target index or data stream (``swfast-logs``).
        api_key: ``Authorization: ApiKey …`` value, if any.
        timeout: socket timeout of each request, seconds.
        max_retries: attempts per chunk (and per retryable item) after the first.
        backoff: an object with ``calculate_delay(attempt)`` (default exponential 0.1 s → 5 s).
        max_chunk_bytes: largest ``_bulk`` body.
        dead_letter: called with ``(document_bytes, reason)`` for rejected or failed documents.
        sleep: the sleep function used between retries.
    """

    guarded_loggers = ("swfast.logging", "urllib3", "elastic_transport", "elasticsearch", "http.client")

    def __init__(self, url: str = "http://localhost:9200", index: str = "swfast-logs", *,
                 api_key: str | None = None, timeout: float = 5.0, max_retries: int = 5, backoff: Any = None,
                 max_chunk_bytes: int = 5_000_000, dead_letter: Callable[[bytes, str], None] | None = None,
                 sleep: Callable[[float], None] = time.sleep, max_queue: int = 10_000, batch_size: int = 500,
                 flush_interval: float | str = 0.5, flush_timeout: float | str = 5.0,
                 report_interval: float | str = 60.0, headers: Mapping[str, str] | None = None,
                 level: int = logging.NOTSET) -> None:
        from swfast.errors import ConfigurationError

        super().__init__(max_queue=max_queue, batch_size=batch_size, flush_interval=flush_interval,
                         flush_timeout=flush_timeout, report_interval=report_interval, level=level, name="elastic")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigurationError("url", "expected http(s)://host[:port], e.g. 'http://localhost:9200'")
        self._scheme = parts.scheme
        self._host = parts.hostname
        self._port = parts.port or (443 if parts.scheme == "https" else 9200)
        self._prefix = parts.path.rstrip("/")
        self.index = index
        self.timeout = float(timeout)
        self.max_retries = int(max_retries)
        if backoff is None:
            from swfast.resilience.backoff import ExponentialBackoff

            backoff = ExponentialBackoff(initial=0.1, factor=2.0, max_delay=5.0, jitter=0.1)
        self.backoff = backoff
        self.max_chunk_bytes = int(max_chunk_bytes)
        self.dead_letter = dead_letter
        self.sleep = sleep
        self._headers = {"Content-Type": "application/x-ndjson", **dict(headers or {})}
        if parts.username is not None:
            raw = f"{parts.username}:{parts.password or ''}".encode()
            self._headers["Authorization"] = "Basic " + base64.b64encode(raw).decode()
        if api_key:
            self._headers["Authorization"] = f"ApiKey {api_key}"
        self._action = json.dumps({"index": {"_index": index}}).encode() + b"\n"
        self._conn: http.client.HTTPConnection | None = None

    def __repr__(self) -> str:  # no credentials
        return f"<ElasticLogHandler {self._scheme}://{self._host}:{self._port} index={self.index}>"

    # ------------------------------------------------------------------ HTTP
    def _post(self, body: bytes) -> tuple[int, bytes]:
        if self._conn is None:
            cls = http.client.HTTPSConnection if self._scheme == "https" else http.client.HTTPConnection
            self._conn = cls(self._host, self._port, timeout=self.timeout)
        try:
            self._conn.request("POST", f"{self._prefix}/_bulk", body=body, headers=self._headers)
            resp = self._conn.getresponse()
            return resp.status, resp.read()
        except Exception:
            self._conn.close()
            self._conn = None
            raise

    def _chunks(self, batch: list[bytes]) -> list[list[bytes]]:
        chunks: list[list[bytes]] = []
        current: list[bytes] = []
        size = 0
        for doc in batch:
            cost = len(self._action) + len(doc) + 1
            if current and size + cost > self.max_chunk_bytes:
                chunks.append(current)
                current, size = [], 0
            current.append(doc)
            size += cost
        if current:
            chunks.append(current)
        return chunks

    def send(self, batch: list[bytes]) -> None:
        for chunk in self._chunks(batch):
            try:
                self._send_chunk(chunk)
            except Exception:  # noqa: BLE001 - one chunk failing never stops the next
                self.counters.add("failed", len(chunk))

    def _give_up(self, docs: list[bytes], outcome: str, reason: str) -> None:
        self.counters.add(outcome, len(docs))
        if self.dead_letter is not None:
            for doc in docs:
                try:
                    self.dead_letter(doc, reason)
                except Exception:  # noqa: BLE001
                    pass

    def _send_chunk(self, docs: list[bytes]) -> None:
        attempt = 0
        while docs:
            # one C-level join (the worker holds the GIL for as little as it can: callers wait on it)
            body = self._action + (b"\n" + self._action).join(docs) + b"\n"
            try:
                status, raw = self._post(body)
            except (OSError, http.client.HTTPException) as exc:
                status, raw = -1, str(exc).encode()
            retry: list[bytes] = []
            if status == 200 and _all_ok(raw):  # no per-item parse of a 500-item answer
                self.counters.add("sent", len(docs))
                return
            if status == 200:
                try:
                    answer = json.loads(raw)
                    items = answer.get("items", []) if answer.get("errors") else None
                except (ValueError, AttributeError):
                    items = None
                    answer = {}
                if items is None:
                    self.counters.add("sent", len(docs))
                    return
                for doc, item in zip(docs, items):
                    result: dict[str, Any] = next(iter(item.values()), {}) if isinstance(item, dict) else {}
                    code = int(result.get("status", 500))
                    if 200 <= code < 300:
                        self.counters.add("sent")
                    elif code == 429 or code >= 500:
                        retry.append(doc)
                    else:
                        error = result.get("error", {})
                        kind = error.get("type", "error") if isinstance(error, dict) else str(error)
                        self._give_up([doc], "rejected", f"{code} {kind}")
                if len(items) < len(docs):  # a short answer: the rest are unknown, retry them
                    retry.extend(docs[len(items):])
            elif status == 429 or status >= 500 or status == -1:
                retry = docs
            else:  # 400/401/403/404 for the whole request: retrying cannot help
                self._give_up(docs, "rejected", f"HTTP {status}")
                return
            if not retry:
                return
            attempt += 1
            delay = float(self.backoff.calculate_delay(attempt))
            if attempt > self.max_retries or time.monotonic() + delay > self.close_deadline:
                self._give_up(retry, "failed", f"gave up after {attempt - 1} retries (last HTTP {status})")
                return
            self.counters.add("retried", len(retry))
            self.sleep(delay)
            docs = retry

    def finish(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def after_fork(self) -> None:
        self._conn = None


_ERRORS_FALSE = re.compile(rb'"errors"\s*:\s*false\b')


def _all_ok(raw: bytes) -> bool:
    """Whether a ``_bulk`` answer says ``"errors": false`` at its top level (before ``"items"``)."""
    end = raw.find(b'"items"')
    return _ERRORS_FALSE.search(raw, 0, end if end >= 0 else min(len(raw), 512)) is not None


__all__ = ["ElasticLogHandler"]

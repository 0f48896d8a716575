"""The non-blocking machinery of the network handlers: bounded queue, one background thread.

``emit`` formats the record in the caller's thread (a consistent snapshot; the record itself is
never queued, so nothing is pickled or stripped as ``QueueHandler.prepare`` does) and appends the
bytes to a bounded :class:`collections.deque`. It never waits: a full queue drops the record and
counts it (``counters["dropped"]``, ``swfast_logging_records_total``), and the losses are reported
once per ``report_interval`` on stderr. The worker thread starts on the first record (constructors
start nothing), sends batches, and is recreated in a forked child (the parent's queue is not
inherited). Records from the worker thread itself, and from the loggers of the clients the
handler uses, are refused (recursion guard). At interpreter exit, every handler flushes within
``flush_timeout`` seconds.
"""
from __future__ import annotations

import abc
import atexit
import collections
import logging
import os
import threading
import time
import weakref
from typing import Callable, Iterable

from swfast.logging._common import Counters
from swfast.logging.formatters import JSONLogFormatter

_LIVE: "weakref.WeakSet[BackgroundHandler]" = weakref.WeakSet()


def _after_fork_child() -> None:
    for handler in list(_LIVE):
        handler._reset_after_fork()


def _flush_at_exit() -> None:
    for handler in list(_LIVE):
        try:
            handler.close()
        except Exception:  # noqa: BLE001 - exit must not fail because of logging
            pass


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_child)
atexit.register(_flush_at_exit)


class BackgroundHandler(logging.Handler, abc.ABC):
    """Base of :class:`KafkaLogHandler` and :class:`ElasticLogHandler`; subclasses implement
    :meth:`send` (one batch of encoded records, called in the worker thread only)."""

    #: logger-name prefixes that never enter this handler (the client libraries' own logs)
    guarded_loggers: tuple[str, ...] = ("swfast.logging",)

    def __init__(self, *, max_queue: int = 10_000, batch_size: int = 500, flush_interval: float | str = 0.5,
                 flush_timeout: float | str = 5.0, report_interval: float | str = 60.0,
                 guarded_loggers: Iterable[str] = (), level: int = logging.NOTSET, name: str = "background",
                 clock: Callable[[], float] = time.monotonic) -> None:
        from swfast.errors import ConfigurationError
        from swfast.logging._common import duration

        super().__init__(level)
        if not isinstance(max_queue, int) or max_queue < 1:
            raise ConfigurationError("max_queue", f"must be an int >= 1, got {max_queue!r}")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ConfigurationError("batch_size", f"must be an int >= 1, got {batch_size!r}")
        self.max_queue = max_queue
        self.batch_size = batch_size
        self.flush_interval = duration(flush_interval, param="flush_interval")
        self.flush_timeout = duration(flush_timeout, param="flush_timeout")
        self.report_interval = duration(report_interval, param="report_interval")
        self.guarded = tuple(self.guarded_loggers) + tuple(guarded_loggers)
        self.clock = clock
        self.counters = Counters(name)
        self.formatter = JSONLogFormatter()
        self._init_runtime()
        _LIVE.add(self)

    def _init_runtime(self) -> None:
        self._queue: collections.deque[bytes] = collections.deque()
        self._wake = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._stop = False
        #: monotonic time by which a closing handler must be done (retries stop before it)
        self.close_deadline = float("inf")
        self._thread: threading.Thread | None = None
        self._thread_ident = -1
        self._start_lock = threading.Lock()
        self._drop_lock = threading.Lock()
        self._last_report = self.clock()

    def _reset_after_fork(self) -> None:
        self._init_runtime()  # the parent's thread does not exist here; its queue is the parent's
        self.counters.reset_after_fork()
        self.after_fork()

    def after_fork(self) -> None:
        """Subclass hook: drop clients inherited from the parent."""

    # ------------------------------------------------------------ caller side
    def handle(self, record: logging.LogRecord) -> bool:
        if threading.get_ident() == self._thread_ident or record.name.startswith(self.guarded):
            self.counters.add("recursion_refused")
            return False
        if not self.filter(record):
            return False
        self.emit(record)  # no handler lock: the deque is thread-safe and emit never waits
        return True

    def encode(self, record: logging.LogRecord) -> bytes:
        fmt = self.formatter
        if isinstance(fmt, JSONLogFormatter):
            return fmt.render(record)
        return self.format(record).encode("utf-8", "surrogatepass")

    def emit(self, record: logging.LogRecord) -> None:
        if self._stop:
            self.counters.add("dropped")
            return
        try:
            item = self.encode(record)
        except Exception:  # noqa: BLE001
            self.counters.add("dropped")
            return
        q = self._queue
        if len(q) >= self.max_queue:
            self.counters.add("dropped")
        else:
            q.append(item)
            self._idle.clear()
            if len(q) >= self.batch_size:
                self._wake.set()
        if self._thread is None:
            self._start()

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None and not self._stop:
                thread = threading.Thread(target=self._run, name=f"swfast-{self.counters.handler}-log", daemon=True)
                self._thread = thread
                thread.start()

    # ------------------------------------------------------------ worker side
    @abc.abstractmethod
    def send(self, batch: list[bytes]) -> None:
        """Deliver ``batch``; count outcomes with ``self.counters``. Runs in the worker thread."""

    def idle(self) -> None:
        """Called by the worker between batches (e.g. to serve client callbacks)."""

    def _run(self) -> None:
        self._thread_ident = threading.get_ident()
        q = self._queue
        while True:
            if not q:
                self._idle.set()
                if self._stop:
                    break
                self._wake.wait(self.flush_interval)
                self._wake.clear()
            batch: list[bytes] = []
            try:
                while q and len(batch) < self.batch_size:
                    batch.append(q.popleft())
            except IndexError:
                pass
            if batch:
                try:
                    self.send(batch)
                except Exception:  # noqa: BLE001 - the sink failing never kills the worker
                    self.counters.add("failed", len(batch))
            try:
                self.idle()
            except Exception:  # noqa: BLE001
                pass
            now = self.clock()
            if now - self._last_report >= self.report_interval:
                self._last_report = now
                self.counters.report()
        self.finish()

    def finish(self) -> None:
        """Subclass hook: the worker is stopping (flush clients within the deadline)."""

    # --------------------------------------------------------------- control
    @property
    def queued(self) -> int:
        return len(self._queue)

    def flush(self, timeout: float | None = None) -> bool:  # type: ignore[override]
        """Wait until the queue is empty (at most ``timeout``, default ``flush_timeout``)."""
        if self._thread is None:
            return not self._queue
        self._wake.set()
        return self._idle.wait(self.flush_timeout if timeout is None else timeout)

    def close(self, timeout: float | None = None) -> None:
        """Stop the worker after it drained the queue, within ``timeout`` (``flush_timeout``)."""
        deadline = self.flush_timeout if timeout is None else timeout
        self.close_deadline = time.monotonic() + deadline
        self._stop = True
        thread = self._thread
        if thread is not None and thread.is_alive() and threading.get_ident() != self._thread_ident:
            self._wake.set()
            thread.join(deadline)
            if thread.is_alive():
                lost = len(self._queue)
                self._queue.clear()
                self.counters.add("dropped", lost)
        self.counters.report()
        _LIVE.discard(self)
        super().close()


__all__ = ["BackgroundHandler"]

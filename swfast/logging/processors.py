"""``process_log`` and ``enrich_data``: one processing pass per record, before fan-out.

* :class:`LogProcessor` holds the pipeline (enrichment, then redaction, then any custom steps).
  :meth:`LogProcessor.process_log` returns a processed *copy* of a record, so handlers never see
  each other's mutations and the caller's objects are never changed. As a :class:`logging.Filter`
  (e.g. from ``dictConfig``) it processes the record in place, once, however many handlers
  carry it.
* :class:`ProcessingHandler` runs the pipeline once and hands the copy to each child handler;
  a child that raises is counted and the others still receive the record (handler isolation).
* :func:`bind_context` / :data:`log_context` carry request, trace and session ids in
  :mod:`contextvars`; ``enrich_data`` adds them plus host, pid, service name and version (and the
  current OpenTelemetry span when ``opentelemetry`` is already imported).
* :func:`structlog_processors` offers the same enrichment and redaction as structlog processors.
"""
from __future__ import annotations

import contextlib
import contextvars
import logging
import os
import socket
import sys
from typing import Any, Callable, Iterable, Iterator, Mapping, MutableMapping

from swfast._native.redscan import FusedJSON as _FusedJSON
from swfast._native.redscan import process_clean as _process_clean
from swfast._native.redscan import process_render as _process_render
from swfast.logging._common import _FIRST, _N_STANDARD, RESERVED, Counters
from swfast.logging.redaction import SensitiveDataFilter

#: Forks seen by this process (the host/pid fields are re-read in a child).
_FORKS = [0]


def _after_fork() -> None:
    _FORKS[0] += 1


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)

#: Context fields bound by :func:`bind_context` (trace_id, request_id, session_id, ...).
log_context: contextvars.ContextVar[Mapping[str, Any]] = contextvars.ContextVar("swfast_log_context", default={})

Step = Callable[[logging.LogRecord], "logging.LogRecord | None"]


@contextlib.contextmanager
def bind_context(**fields: Any) -> Iterator[Mapping[str, Any]]:
    """Add ``fields`` (``request_id=…``, ``trace_id=…``) to every record logged inside the block."""
    merged = {**log_context.get(), **fields}
    token = log_context.set(merged)
    try:
        yield merged
    finally:
        log_context.reset(token)


def _otel_ids() -> dict[str, str]:
    trace = sys.modules.get("opentelemetry.trace")  # never imported here: only used when the app did
    if trace is None:
        return {}
    try:
        ctx = trace.get_current_span().get_span_context()
        if not ctx.is_valid:
            return {}
        return {"trace_id": f"{ctx.trace_id:032x}", "span_id": f"{ctx.span_id:016x}"}
    except Exception:  # noqa: BLE001
        return {}


def _no_span() -> bool:
    """True when no OpenTelemetry span is recording here (the fused kernels add no trace ids)."""
    return "opentelemetry.trace" not in sys.modules or not _otel_ids()


def copy_record(record: logging.LogRecord) -> logging.LogRecord:
    """A shallow copy of ``record`` (its own ``__dict__``; values are shared until replaced)."""
    new = logging.LogRecord.__new__(type(record))
    new.__dict__ = record.__dict__.copy()  # one table copy, not an insertion per attribute
    return new


class LogProcessor(logging.Filter):
    """The record pipeline: ``enrich_data``, then ``filter_sensitive``, then ``steps``.

    Args:
        name: as :class:`logging.Filter`.
        redact: a :class:`SensitiveDataFilter`, ``True`` (the default detectors) or ``False``.
        enrich: add context, host, pid, service and version.
        service, version: service name and version (default ``SWFAST_SERVICE_NAME`` /
            ``SWFAST_SERVICE_VERSION`` or unset).
        steps: extra callables ``record -> record | None`` (``None`` drops the record).
    """

    def __init__(self, name: str = "", *, redact: SensitiveDataFilter | bool = True, enrich: bool = True,
                 service: str | None = None, version: str | None = None, steps: Iterable[Step] = ()) -> None:
        super().__init__(name)
        self.redactor: SensitiveDataFilter | None = (
            redact if isinstance(redact, SensitiveDataFilter) else (SensitiveDataFilter() if redact else None))
        self.enrich = enrich
        from swfast import config as _config

        self.service = service if service is not None else _config.service_name()
        self.version = version if version is not None else _config.service_version()
        self.steps = list(steps)
        self.counters = Counters("processor")
        self._host = ""
        self._pid = -1
        self._fields: tuple[tuple[str, Any], ...] = ()
        self._fields_for: tuple[Any, ...] = ()

    def enrich_data(self, record: logging.LogRecord) -> logging.LogRecord:
        """Add context fields, ``host``, ``pid``, ``service`` and ``version`` (extras win)."""
        self._enrich_context(record)
        self._enrich_process(record)
        return record

    def _enrich_context(self, record: logging.LogRecord) -> None:
        """Context-variable fields and the OpenTelemetry span (application data: redacted after)."""
        ctx = log_context.get()
        otel = _otel_ids() if "opentelemetry.trace" in sys.modules else None
        if ctx or otel:
            d = record.__dict__
            for key, value in {**(otel or {}), **ctx}.items():
                d.setdefault(key, value)

    def _enrich_process(self, record: logging.LogRecord) -> None:
        """Host, pid, service, version (configuration, added after redaction)."""
        d = record.__dict__
        pid = os.getpid()
        if pid != self._pid:  # re-read after fork
            self._pid = pid
            try:
                self._host = socket.gethostname()
            except OSError:
                self._host = ""
        d.setdefault("host", self._host)
        d.setdefault("pid", pid)
        if self.service:
            d.setdefault("service", self.service)
        if self.version:
            d.setdefault("version", self.version)

    def _run(self, record: logging.LogRecord) -> logging.LogRecord | None:
        if self.enrich:
            try:
                self._enrich_context(record)
            except Exception:  # noqa: BLE001 - enrichment is best effort
                self.counters.add("enrich_error")
        if self.redactor is not None:
            self.redactor.process(record)  # never raises: fails closed
        if self.enrich:
            try:
                self._enrich_process(record)
            except Exception:  # noqa: BLE001
                self.counters.add("enrich_error")
        out: logging.LogRecord | None = record
        for step in self.steps:
            try:
                out = step(out)  # type: ignore[arg-type]
            except Exception:  # noqa: BLE001
                self.counters.add("step_error")
            if out is None:
                self.counters.add("dropped_by_step")
                return None
        return out

    def process_log(self, record: logging.LogRecord) -> logging.LogRecord | None:
        """A processed copy of ``record`` (``None`` when a step dropped it)."""
        redactor = self.redactor
        ctx = log_context.get()
        if (redactor is not None and self.enrich and not self.steps and not redactor.patterns
                and type(ctx) is dict and _no_span()):
            # the common clean record: copy, context, redaction check and process fields in one
            # kernel call (None: anything unusual, which the general path below handles)
            out = _process_clean(record, logging.LogRecord, ctx, self._process_fields(), _N_STANDARD,
                                 _FIRST, RESERVED, redactor._key_cache, redactor._mask, redactor._text_key)
            if out is not None:
                return out  # type: ignore[no-any-return]
        return self._process_general(record)

    def _process_general(self, record: logging.LogRecord) -> logging.LogRecord | None:
        """:meth:`process_log` without its fused kernel (for a record it declined)."""
        if record.__dict__.get("_swfast_done"):
            return record
        return self._run(copy_record(record))

    def render_json(self, record: logging.LogRecord, formatter: Any) -> bytes | None:
        """``formatter.render_plain(self.process_log(record))`` (``None`` when a step dropped it).

        ``formatter`` is a :class:`~swfast.logging.JSONLogFormatter`; for the clean common record
        (see :meth:`process_log`) this is one kernel call that renders what the processed copy
        would render, without making the copy.
        """
        renderer = formatter._renderer
        redactor = self.redactor
        ctx = log_context.get()
        if (renderer is not None and redactor is not None and self.enrich and not self.steps
                and not redactor.patterns and type(ctx) is dict and _no_span()):
            line = _process_render(record, logging.LogRecord, ctx, self._process_fields(), _N_STANDARD,
                                   _FIRST, RESERVED, redactor._key_cache, redactor._mask, redactor._text_key, renderer)
            if line is not None:
                return line
        processed = self.process_log(record)
        return None if processed is None else formatter.render_plain(processed)

    def fused_json(self, renderer: Any) -> Any:
        """:meth:`render_json` for ``renderer``'s formatter as one kernel object:
        ``fused.render(record, as_str)`` is the line of a clean common record with no span active (str
        when ``as_str``), ``False`` for any other record (:meth:`_process_general` then gives the
        processed copy to render) or ``None`` (then :meth:`render_json` decides). It reads this
        processor's steps, redactor, enrichment, service and version on every call."""
        return _FusedJSON(self, renderer, log_context, sys.modules, _FORKS, logging.LogRecord, _N_STANDARD, _FIRST,
                          RESERVED)

    @staticmethod
    def _span_active() -> bool:
        """True when an OpenTelemetry span is current (its ids need the general path); asked by
        the fused kernel only when ``opentelemetry.trace`` is loaded."""
        return not _no_span()

    def _process_fields(self) -> tuple[tuple[str, Any], ...]:
        """``(name, value)`` pairs ``_enrich_process`` adds, re-read after a fork or a change."""
        for_ = self._fields_for
        if for_ and for_[0] == _FORKS[0] and for_[1] is self.service and for_[2] is self.version:
            return self._fields
        pid = os.getpid()
        key = (_FORKS[0], self.service, self.version)
        if key != self._fields_for:
            if pid != self._pid:
                self._pid = pid
                try:
                    self._host = socket.gethostname()
                except OSError:
                    self._host = ""
            fields: list[tuple[str, Any]] = [("host", self._host), ("pid", pid)]
            if self.service:
                fields.append(("service", self.service))
            if self.version:
                fields.append(("version", self.version))
            self._fields, self._fields_for = tuple(fields), key
        return self._fields

    def filter(self, record: logging.LogRecord) -> bool:
        if self.name and not super().filter(record):
            return False
        if record.__dict__.get("_swfast_done"):
            return True
        return self._run(record) is not None

    # structlog: processors take (logger, method_name, event_dict)
    def structlog_enrich(self, logger: Any, method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        """structlog processor adding context, host, pid, service and version."""
        fields: dict[str, Any] = {"host": self._host or socket.gethostname(), "pid": os.getpid()}
        if self.service:
            fields["service"] = self.service
        if self.version:
            fields["version"] = self.version
        fields.update(_otel_ids())
        fields.update(log_context.get())
        for key, value in fields.items():
            event_dict.setdefault(key, value)
        return event_dict

    def structlog_redact(self, logger: Any, method: str, event_dict: MutableMapping[str, Any]) -> dict[str, Any]:
        """structlog processor redacting every value (keys such as ``password`` fully)."""
        redactor = self.redactor or SensitiveDataFilter()
        return redactor.redact_event_dict(event_dict)


def structlog_processors(processor: LogProcessor | None = None) -> list[Callable[..., Any]]:
    """``[enrich, redact]`` for ``structlog.configure(processors=[..., *these, renderer])``.

    structlog is optional: these are plain callables with structlog's processor signature.
    """
    processor = processor or LogProcessor()
    return [processor.structlog_enrich, processor.structlog_redact]


class ProcessingHandler(logging.Handler):
    """Run a :class:`LogProcessor` once per record, then fan the copy out to ``handlers``.

    A child handler that raises is counted (``counters.get("handler_error")``) and skipped; the
    other children still receive the record.
    """

    def __init__(self, handlers: Iterable[logging.Handler] = (), processor: LogProcessor | None = None,
                 level: int = logging.NOTSET) -> None:
        super().__init__(level)
        self.handlers = list(handlers)
        self.processor = processor or LogProcessor()
        self.counters = Counters("fanout")

    def handle(self, record: logging.LogRecord) -> bool:
        if not self.filter(record):
            return False
        self.emit(record)
        return True

    def emit(self, record: logging.LogRecord) -> None:
        processed = self.processor.process_log(record)
        if processed is None:
            return
        last = len(self.handlers) - 1
        for i, handler in enumerate(self.handlers):
            if processed.levelno < handler.level:
                continue
            try:  # each child gets its own copy: one handler's mutations never reach another
                handler.handle(processed if i == last else copy_record(processed))
            except Exception:  # noqa: BLE001 - isolation: one sink failing never stops the others
                self.counters.add("handler_error")

    def flush(self) -> None:
        for handler in self.handlers:
            try:
                handler.flush()
            except Exception:  # noqa: BLE001
                self.counters.add("handler_error")

    def close(self) -> None:
        for handler in self.handlers:
            try:
                handler.close()
            except Exception:  # noqa: BLE001
                self.counters.add("handler_error")
        super().close()


__all__ = ["LogProcessor", "ProcessingHandler", "bind_context", "copy_record", "log_context", "structlog_processors"]

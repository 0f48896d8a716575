"""``JSONLogFormatter`` and ``TextLogFormatter``: real :class:`logging.Formatter` subclasses.

* JSON: one object per line; ``timestamp`` (``record.created`` in UTC, ISO-8601 with
  milliseconds), ``level``, ``logger``, ``message`` (``msg % args`` applied), every ``extra=``
  field, ``exception`` as ``{type, message, traceback}`` and ``stack_info``. Extras never overwrite
  those fields (a clash is written as ``extra.<name>``); any object is serialised (readable forms
  for datetime/Decimal/bytes/sets, ``repr`` otherwise), and formatting never raises. Persian stays
  readable UTF-8. ``preset="ecs"`` writes Elastic Common Schema names (``@timestamp``,
  ``log.level``, ``log.logger``, ``error.*``, ``process.*``) as the ``ecs-logging`` package does.
* Text: one record is one physical line. CR, LF, U+2028, U+2029, NEL, NUL, ESC (ANSI sequences)
  and other control characters in any part of the line are escaped (``\\n``, ``\\x1b``: CWE-117);
  tracebacks follow on the same line after `` | ``. Colours only when asked or on a TTY.
"""
from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
import traceback
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from swfast._native.logjson import RecordRenderer as _RecordRenderer
from swfast._native.logjson import render as _render_fast
from swfast.logging._common import _FIRST, _N_STANDARD, RESERVED, UTCStamp, extra_items, json_default, safe_repr

if TYPE_CHECKING:  # pragma: no cover
    from swfast.logging.processors import LogProcessor

_orjson: Any
try:  # optional fast encoder (the ``security`` extra); the stdlib encoder is the fallback
    import orjson as _orjson
except ImportError:  # pragma: no cover - orjson is in the test extra
    _orjson = None

ECS_VERSION = "1.6.0"
_FIELDS = ("timestamp", "level", "logger", "message", "exception", "stack_info")
_OPTIONAL = ("module", "funcName", "lineno", "pathname", "filename", "process", "processName",
             "thread", "threadName", "taskName")
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\x1b": "\\x1b", "\x00": "\\x00"}


def _esc(m: re.Match[str]) -> str:
    ch = m.group()
    return _ESCAPES.get(ch) or (f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")


def escape_line(text: str) -> str:
    """``text`` with line breaks and control characters made visible (one physical line)."""
    return _CONTROL.sub(_esc, text) if not text.isprintable() else text


def record_message(record: logging.LogRecord) -> str:
    """``record.getMessage()`` that never raises (a bad ``msg % args`` gives both, repr'd)."""
    if record.__dict__.get("_swfast_done"):
        return str(record.msg)
    try:
        return record.getMessage()
    except Exception:  # noqa: BLE001 - wrong % args must not lose the record
        return f"{safe_repr(record.msg)} % {safe_repr(record.args)}"


def record_exception(record: logging.LogRecord, formatter: logging.Formatter | None = None) -> dict[str, str] | None:
    """``{type, message, traceback}`` of the record's exception (already redacted when processed)."""
    exc = getattr(record, "_swfast_exc", None)
    if exc is not None:
        return exc  # type: ignore[no-any-return]
    info = record.exc_info
    if info and info[0] is not None:
        try:
            if not record.exc_text:
                record.exc_text = "".join(traceback.format_exception(*info)).rstrip("\n")
            return {"type": info[0].__qualname__, "message": _str(info[1]), "traceback": record.exc_text}
        except Exception:  # noqa: BLE001
            return {"type": safe_repr(info[0]), "message": "<unprintable>", "traceback": ""}
    if record.exc_text:
        return {"type": "", "message": "", "traceback": record.exc_text}
    return None


def _str(value: object) -> str:
    try:
        return str(value)
    except Exception:  # noqa: BLE001
        return safe_repr(value)


def _finite(obj: Any, depth: int = 0) -> Any:
    """``obj`` with every NaN/infinite float as ``None`` (JSON has no such numbers; orjson and the
    compiled renderer write ``null``, the stdlib encoder would write the invalid ``NaN``)."""
    if type(obj) is float:
        return obj if obj - obj == 0.0 else None
    if depth > 200:
        raise ValueError("nesting too deep")
    if isinstance(obj, dict):
        return {k: _finite(v, depth + 1) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v, depth + 1) for v in obj]
    return obj


def dumps(payload: Any) -> bytes:
    """One JSON line (no newline) for ``payload``; never raises. Always valid JSON: a NaN or
    infinite float is written ``null`` on every path."""
    if _orjson is not None:
        try:
            return bytes(_orjson.dumps(payload, default=json_default, option=_orjson.OPT_NON_STR_KEYS))
        except Exception:  # noqa: BLE001 - huge ints, cycles: the stdlib path copes
            pass
    try:
        payload = _finite(payload)
        text = json.dumps(payload, ensure_ascii=False, default=json_default, separators=(",", ":"),
                          allow_nan=False)
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates: \ud800 escapes keep the line valid UTF-8
            return json.dumps(payload, default=json_default, separators=(",", ":"), allow_nan=False).encode("ascii")
    except Exception:  # noqa: BLE001 - e.g. a reference cycle
        safe = {str(k): (_finite(v) if isinstance(v, float) else v if isinstance(v, (str, int, bool)) or v is None
                         else safe_repr(v))
                for k, v in (payload.items() if isinstance(payload, dict) else {"message": payload}.items())}
        return json.dumps(safe, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")


class JSONLogFormatter(logging.Formatter):
    """One JSON object per record (see the module docstring).

    Args:
        fmt, datefmt, style, validate: accepted for ``dictConfig`` compatibility; ``fmt`` is unused.
        preset: ``"default"`` or ``"ecs"`` (Elastic Common Schema field names).
        fields: extra standard record attributes to include, e.g. ``("module", "lineno")``.
        rename: output-name map for the fixed fields, e.g. ``{"timestamp": "@t"}``.
        static_fields: constant fields added to every record (``{"service": "api"}``).
    """

    def __init__(self, fmt: str | None = None, datefmt: str | None = None, style: str = "%",
                 validate: bool = True, *, preset: str = "default", fields: Iterable[str] = (),
                 rename: Mapping[str, str] | None = None, static_fields: Mapping[str, Any] | None = None,
                 defaults: Mapping[str, Any] | None = None, processor: "LogProcessor | None" = None) -> None:
        from swfast.errors import ConfigurationError

        super().__init__(fmt, datefmt, style, validate)  # type: ignore[arg-type]
        if preset not in ("default", "ecs"):
            raise ConfigurationError("preset", f"expected 'default' or 'ecs', got {preset!r}")
        self.preset = preset
        self.fields = tuple(fields)
        bad = [f for f in self.fields if f not in _OPTIONAL]
        if bad:
            raise ConfigurationError("fields", f"unknown record attributes {bad}; choose from {list(_OPTIONAL)}")
        rename = dict(rename or {})
        bad = [k for k in rename if k not in _FIELDS]
        if bad or not all(isinstance(v, str) and v for v in rename.values()):
            raise ConfigurationError("rename", f"keys must be among {list(_FIELDS)} and values non-empty strings")
        self._names = {f: rename.get(f, f) for f in _FIELDS}
        self.static_fields = dict(static_fields or {})
        self.static_fields.update(defaults or {})
        self._taken = frozenset(self._names.values()) | frozenset(self.fields) | frozenset(self.static_fields)
        if preset == "ecs":
            self._taken = frozenset({"@timestamp", "log.level", "message", "ecs.version", "log", "process", "error"})
        self._stamp = UTCStamp()
        self._fast = preset == "default" and not self.fields and not self.static_fields
        self._fixed = (self._names["timestamp"], self._names["level"], self._names["logger"], self._names["message"])
        self._renderer = _RecordRenderer(logging.LogRecord, *self._renderer_args()) if self._fast else None
        self._fused: Any = None
        self._processor: LogProcessor | None = None
        self.processor = processor

    @property
    def processor(self) -> "LogProcessor | None":
        """Enrich + redact each record while rendering it (no copy for the clean common record)."""
        return self._processor

    @processor.setter
    def processor(self, processor: "LogProcessor | None") -> None:
        from swfast.errors import ConfigurationError
        from swfast.logging.processors import LogProcessor

        if processor is not None and not isinstance(processor, LogProcessor):
            raise ConfigurationError("processor", f"expected a LogProcessor, got {type(processor).__name__}")
        if processor is not None and processor.steps:
            raise ConfigurationError("processor", "a formatter cannot drop records: put a processor with steps "
                                                  "on a ProcessingHandler instead")
        self._processor = processor
        # the clean common record in one kernel call (processor state is read on each call)
        self._fused = (processor.fused_json(self._renderer).render
                       if processor is not None and self._renderer is not None else None)

    def _renderer_args(self) -> tuple[Any, ...]:
        return (_N_STANDARD, _FIRST, RESERVED, self._taken, self._fixed, dumps, _gm_seconds)

    def format(self, record: logging.LogRecord) -> str:
        fused = self._fused
        if fused is not None:
            try:
                line = fused(record, True)
            except Exception:  # noqa: BLE001 - the formatter never raises (nor leaks: nothing unprocessed)
                line = _UNPROCESSABLE
            if line is None:  # the fused kernel does not apply here: the processor decides (once)
                try:
                    line = self._processor.render_json(record, self)  # type: ignore[union-attr]
                except Exception:  # noqa: BLE001
                    line = None
                line = _UNPROCESSABLE if line is None else line
            elif line is False:
                line = self._render_general(record)
            return line if type(line) is str else line.decode("utf-8", "surrogatepass")
        return self.render(record).decode("utf-8", "surrogatepass")

    def render(self, record: logging.LogRecord) -> bytes:
        """The JSON line as UTF-8 bytes without the newline (what byte-writing handlers use)."""
        processor = self._processor
        if processor is None:
            return self.render_plain(record)
        try:
            fused = self._fused
            line = fused(record, False) if fused is not None else None
            if line is False:
                return self._render_general(record)
            if line is None:
                line = processor.render_json(record, self)
        except Exception:  # noqa: BLE001 - the formatter never raises (nor leaks: nothing unprocessed)
            line = None
        return _UNPROCESSABLE if line is None else line

    def _render_general(self, record: logging.LogRecord) -> bytes:
        """The line of the processor's general path (for a record its fused kernel declined)."""
        processor = self._processor
        try:
            processed = processor._process_general(record) if processor is not None else None
        except Exception:  # noqa: BLE001
            processed = None
        return _UNPROCESSABLE if processed is None else self.render_plain(processed)

    def render_plain(self, record: logging.LogRecord) -> bytes:
        """:meth:`render` without the formatter's own processor (for records already processed)."""
        try:
            renderer = self._renderer
            if renderer is not None:  # the common record: one kernel call (None: the paths below)
                line = renderer(record)
                if line is not None:
                    return line
            d = record.__dict__
            if self._fast and not (record.exc_info or record.exc_text or record.stack_info or "_swfast_exc" in d):
                try:  # the native renderer (or its twin): fixed fields + extras straight to bytes
                    return _render_fast(d, _N_STANDARD, _FIRST, RESERVED, self._taken, self._fixed,
                                        self._stamp(record.created), record.levelname, record.name,
                                        record_message(record), dumps)
                except Exception:  # noqa: BLE001 - odd records (non-str names): the general path
                    pass
            return dumps(self.payload(record))
        except Exception:  # noqa: BLE001 - the formatter never raises
            return dumps({"message": safe_repr(getattr(record, "msg", None)), "error": "swfast.logging: unformattable record"})

    def payload(self, record: logging.LogRecord) -> dict[str, Any]:
        """The dict that :meth:`render` serialises."""
        if self.preset == "ecs":
            return self._ecs(record)
        names = self._names
        out: dict[str, Any] = {names["timestamp"]: self._stamp(record.created), names["level"]: record.levelname,
                               names["logger"]: record.name, names["message"]: record_message(record)}
        if self.static_fields:
            out.update(self.static_fields)
        for f in self.fields:
            out[f] = getattr(record, f, None)
        taken = self._taken
        for key, value in extra_items(record):
            out[key if key not in taken else "extra." + key] = value
        if record.exc_info or record.exc_text or getattr(record, "_swfast_exc", None):
            exc = record_exception(record)
            if exc is not None:
                out[names["exception"]] = exc
        if record.stack_info:
            out[names["stack_info"]] = record.stack_info
        return out

    def _ecs(self, record: logging.LogRecord) -> dict[str, Any]:
        message = record_message(record)
        out: dict[str, Any] = {"@timestamp": self._stamp(record.created), "log.level": record.levelname.lower(),
                               "message": message, "ecs.version": ECS_VERSION}
        exc = record_exception(record) if (record.exc_info or record.exc_text or hasattr(record, "_swfast_exc")) else None
        if exc is not None:
            stack = exc["traceback"]
            info = record.exc_info
            if info and info[2] is not None and not hasattr(record, "_swfast_exc"):
                stack = "".join(traceback.format_tb(info[2]))
            out["error"] = {"message": exc["message"], "stack_trace": stack, "type": exc["type"]}
        for key, value in extra_items(record):
            _nest(out, key if key not in self._taken else "extra." + key, value)
        out["log"] = {"logger": record.name, "origin": {"file": {"line": record.lineno, "name": record.filename},
                                                        "function": record.funcName}, "original": message}
        out["process"] = {"name": record.processName, "pid": record.process,
                          "thread": {"id": record.thread, "name": record.threadName}}
        if self.static_fields:
            for key, value in self.static_fields.items():
                _nest(out, key, value)
        return out


_UNPROCESSABLE = dumps({"message": "[REDACTED:UNPROCESSABLE]", "error": "swfast.logging: record not rendered"})


def _gm_seconds(sec: int) -> str:
    """``YYYY-mm-ddTHH:MM:SS`` of ``sec`` in UTC (the renderer's per-second timestamp prefix)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec))


def _nest(out: dict[str, Any], dotted: str, value: Any) -> None:
    """``out["a"]["b"] = value`` for ``"a.b"`` (ECS de-dotting); a clash keeps the flat key."""
    parts = dotted.split(".")
    node = out
    for part in parts[:-1]:
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        elif not isinstance(child, dict):
            out[dotted] = value
            return
        node = child
    node[parts[-1]] = value


_RESET = "\x1b[0m"
_COLOURS = {"DEBUG": "\x1b[2m", "INFO": "\x1b[32m", "WARNING": "\x1b[33m", "ERROR": "\x1b[31m",
            "CRITICAL": "\x1b[1;31m"}
_SENTINEL = "\ue000"  # private-use: survives escaping, replaced by the coloured level name


class TextLogFormatter(logging.Formatter):
    """Human-readable single-line records (see the module docstring).

    Args:
        fmt, datefmt, style, validate, defaults: as :class:`logging.Formatter`; the default
            format is ``"%(asctime)s %(levelname)s %(name)s: %(message)s"``.
        colors: ``True``, ``False`` or ``"auto"`` (a TTY on stderr and no ``NO_COLOR``).
        extras: append ``key=value`` for every ``extra=`` field.
    """

    default_format = "%(asctime)s %(levelname)s %(name)s: %(message)s"

    def __init__(self, fmt: str | None = None, datefmt: str | None = None, style: str = "%",
                 validate: bool = True, *, colors: bool | str = "auto", extras: bool = True,
                 defaults: Mapping[str, Any] | None = None) -> None:
        super().__init__(fmt or self.default_format, datefmt, style, validate, defaults=defaults)  # type: ignore[arg-type]
        if colors == "auto":
            try:
                colors = sys.stderr.isatty() and "NO_COLOR" not in os.environ
            except Exception:  # noqa: BLE001
                colors = False
        self.colors = bool(colors)
        self.extras = extras

    def format(self, record: logging.LogRecord) -> str:
        record.message = record_message(record)
        if self.usesTime():
            record.asctime = self.formatTime(record, self.datefmt)
        level = record.levelname
        if self.colors:
            record.levelname = _SENTINEL
        try:
            line = self.formatMessage(record)
        except Exception:  # noqa: BLE001 - a bad format string must not lose the record
            line = f"{level} {record.name}: {record.message}"
        finally:
            record.levelname = level
        if self.extras:
            pairs = [f"{k}={v if isinstance(v, str) else safe_repr(v)}" for k, v in extra_items(record)]
            if pairs:
                line = f"{line} {' '.join(pairs)}"
        exc = record_exception(record) if (record.exc_info or record.exc_text or hasattr(record, "_swfast_exc")) else None
        if exc is not None and exc["traceback"]:
            line = f"{line} | {exc['traceback']}"
        if record.stack_info:
            line = f"{line} | {record.stack_info}"
        line = escape_line(line)
        if self.colors:
            line = line.replace(_SENTINEL, f"{_COLOURS.get(level, '')}{level}{_RESET}", 1)
        return line


__all__ = ["ECS_VERSION", "JSONLogFormatter", "TextLogFormatter", "dumps", "escape_line", "record_message"]

"""Pieces shared by the formatters, processors and handlers of :mod:`swfast.logging`.

Absolute imports only: ``import logging`` anywhere in swfast is the standard library, never this
package (``swfast.logging`` is always imported by its full name).
"""
from __future__ import annotations

import datetime as _dt
import decimal
import enum
import logging
import re
import sys
import threading
import time
import uuid
from itertools import islice
from pathlib import PurePath
from typing import Any

#: Attributes every LogRecord has: anything else on a record came from ``extra=``.
_STANDARD = tuple(vars(logging.LogRecord("", 0, "", 0, "", None, None)))
RESERVED: frozenset[str] = frozenset(_STANDARD) | {"message", "asctime", "taskName", "_swfast_exc", "_swfast_done"}
_N_STANDARD = len(_STANDARD)
_FIRST = _STANDARD[0]


def extra_items(record: logging.LogRecord) -> list[tuple[str, Any]]:
    """The ``extra=`` fields of ``record`` in insertion order.

    ``LogRecord.__init__`` sets the standard attributes first, so extras can only follow them:
    the scan starts after those (a record whose dict does not start that way is scanned whole).
    """
    d = record.__dict__
    if next(iter(d), None) == _FIRST and len(d) >= _N_STANDARD:
        return [(k, v) for k, v in islice(d.items(), _N_STANDARD, None) if k not in RESERVED]
    return [(k, v) for k, v in d.items() if k not in RESERVED]

_UNITS = {"weeks": "w", "week": "w", "days": "d", "day": "d", "hours": "h", "hour": "h", "hrs": "h",
          "hr": "h", "minutes": "m", "minute": "m", "mins": "m", "min": "m", "seconds": "s",
          "second": "s", "secs": "s", "sec": "s"}
_WORD_UNIT = re.compile(r"(\d(?:\.\d+)?)\s*(weeks?|days?|hours?|hrs?|minutes?|mins?|seconds?|secs?)\b", re.I)
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)?\s*$", re.I)
_SIZE_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "kib": 1024, "m": 1000**2, "mb": 1000**2,
               "mib": 1024**2, "g": 1000**3, "gb": 1000**3, "gib": 1024**3, "t": 1000**4, "tb": 1000**4,
               "tib": 1024**4}


def duration(value: object, *, param: str) -> float:
    """Seconds from ``value``: what :func:`swfast._durations.seconds` accepts plus words (``"1 day"``)."""
    from swfast._durations import seconds

    if isinstance(value, str):
        value = _WORD_UNIT.sub(lambda m: m.group(1) + _UNITS[m.group(2).lower()], value).replace(" ", "")
    out = seconds(value, param=param, allow_zero=False)
    return float(out) if out is not None else 0.0


def size(value: object, *, param: str) -> int:
    """Bytes from an int or a human string (``"10 MB"``, ``"512KiB"``, ``"1.5 GB"``)."""
    from swfast.errors import ConfigurationError

    if isinstance(value, bool):
        raise ConfigurationError(param, f"expected a size such as 10485760 or '10 MB', got {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise ConfigurationError(param, f"must be >= 0, got {value}")
        return value
    if isinstance(value, str):
        m = _SIZE.match(value)
        if m and (m.group(2) or "").lower() in _SIZE_UNITS:
            return int(float(m.group(1)) * _SIZE_UNITS[(m.group(2) or "").lower()])
    raise ConfigurationError(param, f"cannot parse {value!r} as a size; write it like 10485760, '10 MB' or '512 KiB'")


def safe_repr(obj: object, limit: int = 2000) -> str:
    """``repr(obj)`` that never raises (an object whose ``__repr__`` raises gets a placeholder)."""
    try:
        text = repr(obj)
    except Exception:  # noqa: BLE001 - any user __repr__ may fail
        try:
            return f"<unrepresentable {type(obj).__qualname__}>"
        except Exception:  # noqa: BLE001
            return "<unrepresentable>"
    return text if len(text) <= limit else text[:limit] + "…"


def json_default(obj: Any) -> Any:
    """``default=`` for JSON encoders: readable forms for common types, ``repr`` for the rest."""
    try:
        if isinstance(obj, (_dt.datetime, _dt.date, _dt.time)):
            return obj.isoformat()
        if isinstance(obj, (decimal.Decimal, uuid.UUID, PurePath)):
            return str(obj)
        if isinstance(obj, (bytes, bytearray, memoryview)):
            return bytes(obj).decode("utf-8", "backslashreplace")
        if isinstance(obj, (set, frozenset)):
            return [json_default(v) if not isinstance(v, (str, int, float)) else v for v in obj]
        if isinstance(obj, enum.Enum):
            return obj.value if isinstance(obj.value, (str, int, float)) else obj.name
        if isinstance(obj, int):  # beyond 64 bits (orjson refuses those)
            return str(obj)
        if isinstance(obj, BaseException):
            return f"{type(obj).__name__}: {obj}"
    except Exception:  # noqa: BLE001
        pass
    return safe_repr(obj)


class Counters:
    """Run-time outcome counters of one handler (sent, dropped, failed, ...), thread-safe.

    Each increment is mirrored to ``swfast_logging_records_total{handler, outcome}`` in the
    swfast metrics registry (loaded on first use).
    """

    def __init__(self, handler: str) -> None:
        self.handler = handler
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}
        self._reported: dict[str, int] = {}
        self._metric: Any = None

    def add(self, outcome: str, n: int = 1) -> None:
        if n <= 0:
            return
        with self._lock:
            self._counts[outcome] = self._counts.get(outcome, 0) + n
        try:
            if self._metric is None:
                from swfast.monitoring.metrics import REGISTRY

                self._metric = REGISTRY.counter(
                    "swfast_logging_records_total", "Log records by handler and outcome", ("handler", "outcome"))
            self._metric.labels(self.handler, outcome).inc(n)
        except Exception:  # noqa: BLE001 - metrics must never break logging
            pass

    def get(self, outcome: str) -> int:
        with self._lock:
            return self._counts.get(outcome, 0)

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def reset_after_fork(self) -> None:
        self._lock = threading.Lock()
        self._counts = {}
        self._reported = {}

    def report(self, outcomes: tuple[str, ...] = ("dropped", "failed", "rejected")) -> str | None:
        """One stderr line for the losses since the last report (None when there were none)."""
        with self._lock:
            parts = []
            for outcome in outcomes:
                delta = self._counts.get(outcome, 0) - self._reported.get(outcome, 0)
                if delta:
                    parts.append(f"{outcome}={delta}")
                    self._reported[outcome] = self._counts.get(outcome, 0)
        if not parts:
            return None
        line = f"swfast.logging: {self.handler} lost records since the last report: {', '.join(parts)}\n"
        try:
            sys.stderr.write(line)
        except Exception:  # noqa: BLE001
            pass
        return line


class UTCStamp:
    """``record.created`` as ``2026-01-02T03:04:05.678Z``; the per-second prefix is cached."""

    __slots__ = ("_cache",)

    def __init__(self) -> None:
        self._cache: tuple[int, str] = (-1, "")

    def __call__(self, created: float) -> str:
        sec = int(created)
        cached_sec, prefix = self._cache  # one tuple: threads never see a torn update
        if sec != cached_sec:
            prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec))
            self._cache = (sec, prefix)
        return prefix + _MS[int((created - sec) * 1000)]


_MS = [f".{i:03d}Z" for i in range(1001)]

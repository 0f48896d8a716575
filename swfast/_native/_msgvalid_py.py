"""Pure-Python twin of the message validation kernel (``_msgvalid_c.pyx``).

The kernel checks decoded JSON (dicts) against a fixed, table-driven field layout: each field
has a kind (string, enum, non-negative int, timestamp, ...) and a required flag. It never raises
on bad data: :meth:`Checker.check` returns ``None`` for valid input or a ``(path, keyword,
message)`` triple naming the first bad field. Enum value sets are policy and are handed in by
the feature package (``swfast.messaging.message_schemas``).

Timestamps follow one grammar, identical in both implementations:
``YYYY-MM-DD(T| )HH:MM:SS[.fraction](Z|z|+HH:MM|-HH:MM|+HHMM|-HHMM)``; a timestamp without a
zone is reported with keyword ``"timezone"``.
"""
from __future__ import annotations

from typing import Any, Sequence

from . import _msgjson_py as _json
from ._msgjson_py import JSON_MAX_DEPTH as JSON_MAX_DEPTH  # the kernel's JSON reader, re-exported
from ._msgjson_py import loads as loads

# Field kinds (same numbers in the compiled kernel).
K_ANY = 0
K_STR = 1
K_OPT_STR = 2
K_ENUM = 3
K_OPT_ENUM = 4
K_INT_MIN0 = 5
K_OPT_INT_MIN0 = 6
K_OPT_NUM_MIN0 = 7
K_NUM_POS = 8
K_BOOL = 9
K_DICT = 10
K_OPT_DICT = 11
K_STR_LIST = 12
K_UUID = 13
K_TS = 14
K_OPT_TS = 15
K_PRIORITY = 16

_HEX = frozenset("0123456789abcdefABCDEF")
_DIGITS = "0123456789"
_DIM = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)

# parse statuses
TS_OK = 0
TS_MALFORMED = 1
TS_NO_ZONE = 2


def is_uuid(value: Any) -> bool:
    """True when ``value`` is a str in canonical 8-4-4-4-12 hex UUID form."""
    if type(value) is not str or len(value) != 36:
        return False
    for i, ch in enumerate(value):
        if i in (8, 13, 18, 23):
            if ch != "-":
                return False
        elif ch not in _HEX:
            return False
    return True


def _num(s: str, start: int, n: int) -> int:
    out = 0
    for i in range(start, start + n):
        d = _DIGITS.find(s[i])
        if d < 0:
            return -1
        out = out * 10 + d
    return out


def _days_from_civil(y: int, m: int, d: int) -> int:
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def parse_ts(value: Any) -> tuple[int, int]:
    """Parse an ISO 8601 timestamp: ``(status, epoch microseconds in UTC)``.

    Status is ``TS_OK``, ``TS_MALFORMED`` (not a str, or not the grammar) or ``TS_NO_ZONE``.
    """
    if type(value) is not str:
        return TS_MALFORMED, 0
    s = value
    n = len(s)
    if n < 19 or s[4] != "-" or s[7] != "-" or s[10] not in "Tt " or s[13] != ":" or s[16] != ":":
        return TS_MALFORMED, 0
    y = _num(s, 0, 4)
    mo = _num(s, 5, 2)
    d = _num(s, 8, 2)
    h = _num(s, 11, 2)
    mi = _num(s, 14, 2)
    se = _num(s, 17, 2)
    if min(y, mo, d, h, mi, se) < 0 or y < 1 or not 1 <= mo <= 12 or h > 23 or mi > 59 or se > 59:
        return TS_MALFORMED, 0
    dim = _DIM[mo] + (1 if mo == 2 and y % 4 == 0 and (y % 100 != 0 or y % 400 == 0) else 0)
    if not 1 <= d <= dim:
        return TS_MALFORMED, 0
    pos = 19
    micros = 0
    if pos < n and s[pos] == ".":
        pos += 1
        start = pos
        while pos < n and s[pos] in _DIGITS:
            if pos - start < 6:
                micros = micros * 10 + _DIGITS.find(s[pos])
            pos += 1
        nd = pos - start
        if nd == 0 or nd > 9:
            return TS_MALFORMED, 0
        for _ in range(nd, 6):
            micros *= 10
    if pos == n:
        return TS_NO_ZONE, 0
    offset = 0
    c = s[pos]
    if c in "Zz":
        if pos + 1 != n:
            return TS_MALFORMED, 0
    elif c in "+-":
        rest = n - pos - 1
        if rest == 5 and s[pos + 3] == ":":
            oh = _num(s, pos + 1, 2)
            om = _num(s, pos + 4, 2)
        elif rest == 4:
            oh = _num(s, pos + 1, 2)
            om = _num(s, pos + 3, 2)
        else:
            return TS_MALFORMED, 0
        if oh < 0 or om < 0 or oh > 23 or om > 59:
            return TS_MALFORMED, 0
        offset = (oh * 3600 + om * 60) * (1 if c == "+" else -1)
    else:
        return TS_MALFORMED, 0
    secs = _days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - offset
    return TS_OK, secs * 1_000_000 + micros


def parse_timestamp(value: Any) -> int | None:
    """Epoch microseconds (UTC) of a zoned ISO 8601 timestamp, or None when invalid."""
    status, us = parse_ts(value)
    return us if status == TS_OK else None


def _describe(value: Any) -> str:
    t = type(value)
    return "null" if value is None else t.__name__


def _is_int(v: Any) -> bool:
    return type(v) is int or (isinstance(v, int) and not isinstance(v, bool))


def _is_num(v: Any) -> bool:
    if type(v) is float:
        return v == v and v not in (float("inf"), float("-inf"))
    return _is_int(v)


def _spec(field: Sequence[Any]) -> tuple[str, int, bool, int, Any]:
    name, kind, required, enum_index = field[:4]
    default = field[4] if len(field) > 4 else None
    return (str(name), int(kind), bool(required), int(enum_index), default)


_MUTABLE_DEFAULT = {K_DICT: dict, K_STR_LIST: list}
_CONVERTED = (K_ENUM, K_OPT_ENUM, K_PRIORITY)


class Checker:
    """Table-driven validator (and converter) of one message shape (metadata + payload).

    Args:
        meta_fields: ``(name, kind, required, enum_index[, default])`` per metadata field.
        payload_fields: the same for the payload.
        enums: mappings ``value -> converted value`` (enum members) referenced by
            ``enum_index``; membership is the validation, the mapped value the conversion.
        enum_names: a human label per mapping, used in error messages.
    """

    def __init__(
        self,
        meta_fields: Sequence[Sequence[Any]],
        payload_fields: Sequence[Sequence[Any]],
        enums: Sequence[Any],
        enum_names: Sequence[str],
    ) -> None:
        self._meta = tuple(_spec(f) for f in meta_fields)
        self._payload = tuple(_spec(f) for f in payload_fields)
        self._enums = tuple(dict(e) if isinstance(e, dict) else {v: v for v in e} for e in enums)
        self._enum_names = tuple(str(n) for n in enum_names)
        for name, kind, _req, index, _default in self._meta + self._payload:
            if kind in (K_ENUM, K_OPT_ENUM, K_PRIORITY) and not 0 <= index < len(self._enums):
                raise ValueError(f"fields: {name!r} uses enum {index}, but only {len(self._enums)} enums are given")
        self._meta_keys = frozenset(f[0] for f in self._meta)
        self._payload_keys = frozenset(f[0] for f in self._payload)

    def check(self, message: Any, strict: bool = False) -> tuple[str, str, str] | None:
        """Return None when ``message`` is valid, else ``(path, keyword, message)``.

        Unknown fields are ignored unless ``strict`` is true (then they are an error).
        Never raises for any input value.
        """
        return self._run(message, strict, None, None)

    def convert(self, message: Any, strict: bool = False) -> tuple[Any, Any, Any]:
        """Validate and convert: ``(None, metadata_args, payload_args)`` or ``(error, None, None)``.

        The argument lists follow the field tables' order: present values (enum values mapped
        through ``enums``), defaults for absent ones (a fresh ``{}``/``[]`` for object and list
        fields). Never raises for any input value.
        """
        meta_out: list[Any] = []
        payload_out: list[Any] = []
        err = self._run(message, strict, meta_out, payload_out)
        if err is not None:
            return err, None, None
        return None, meta_out, payload_out

    def bind(self, meta_cls: Any, payload_cls: Any, envelope_cls: Any) -> None:
        """Classes for :meth:`build`: built from the field tables' argument lists, the envelope
        from ``(metadata, payload)``."""
        self._classes = (meta_cls, payload_cls, envelope_cls)

    def build(self, data: Any, strict: bool = False) -> tuple[Any, Any]:
        """:meth:`decode` and construct: ``(None, envelope)`` or ``(error, None)`` (see :meth:`bind`)."""
        classes = getattr(self, "_classes", None)
        if classes is None:
            raise RuntimeError("build: call bind(meta_cls, payload_cls, envelope_cls) first")
        err, meta, payload = self.decode(data, strict)
        if err is not None:
            return err, None
        return None, classes[2](classes[0](*meta), classes[1](*payload))

    def decode(self, data: Any, strict: bool = False) -> tuple[Any, Any, Any]:
        """``convert(loads(data))``: strict JSON text or bytes validated and converted.

        Invalid JSON gives ``(("", "json", "is not valid JSON (...)"), None, None)``; never
        raises for any input value.
        """
        try:
            value = _json.loads(data)
        except (ValueError, TypeError) as exc:
            return ("", "json", f"is not valid JSON ({exc})"), None, None
        return self.convert(value, strict)

    def _run(self, message: Any, strict: bool, meta_out: list[Any] | None,
             payload_out: list[Any] | None) -> tuple[str, str, str] | None:
        if type(message) is not dict:
            return ("", "type", f"must be an object with 'metadata' and 'payload', got {_describe(message)}")
        meta = message.get("metadata")
        payload = message.get("payload")
        if meta is None:
            return ("metadata", "required", "is required")
        if payload is None:
            return ("payload", "required", "is required")
        if strict and len(message) != 2:
            for key in message:
                if key != "metadata" and key != "payload":
                    return (str(key), "unknown", "unknown field; remove it or validate with strict=False")
        err = self._check_obj(meta, "metadata", self._meta, self._meta_keys, strict, meta_out)
        if err is not None:
            return err
        err = self._check_obj(payload, "payload", self._payload, self._payload_keys, strict, payload_out)
        if err is not None:
            return err
        return self._check_order(meta)

    def _check_order(self, meta: dict[str, Any]) -> tuple[str, str, str] | None:
        exp = meta.get("expires_at")
        if exp is None:
            return None
        _, t0 = parse_ts(meta.get("timestamp"))
        _, t1 = parse_ts(exp)
        if t1 < t0:
            return ("metadata.expires_at", "order", "is before metadata.timestamp; it must be at or after it")
        return None

    def _check_obj(
        self,
        obj: Any,
        where: str,
        fields: tuple[tuple[str, int, bool, int, Any], ...],
        keys: frozenset[str],
        strict: bool,
        out: list[Any] | None,
    ) -> tuple[str, str, str] | None:
        if type(obj) is not dict:
            return (where, "type", f"must be an object, got {_describe(obj)}")
        for name, kind, required, enum_index, default in fields:
            if name not in obj:
                if required:
                    return (f"{where}.{name}", "required", "is required")
                if out is not None:
                    factory = _MUTABLE_DEFAULT.get(kind)
                    out.append(factory() if factory is not None else default)
                continue
            v = obj[name]
            err = self._check_value(v, kind, enum_index)
            if err is not None:
                return (f"{where}.{name}", err[0], err[1])
            if out is not None:
                out.append(self._enums[enum_index].get(v, v) if kind in _CONVERTED and v is not None else v)
        if strict:
            for key in obj:
                if key not in keys:
                    return (f"{where}.{key}", "unknown", "unknown field; remove it or validate with strict=False")
        return None

    def _check_value(self, v: Any, kind: int, enum_index: int) -> tuple[str, str] | None:
        if kind == K_ANY:
            return None
        if kind == K_STR or (kind == K_OPT_STR and v is not None):
            return None if type(v) is str else ("type", f"must be a string, got {_describe(v)}")
        if kind == K_OPT_STR:
            return None
        if kind == K_ENUM or (kind == K_OPT_ENUM and v is not None):
            allowed = self._enums[enum_index]
            if type(v) is str and v in allowed:
                return None
            return ("enum", f"must be one of the {self._enum_names[enum_index]} values {sorted(allowed)}, got {v!r}"[:300])
        if kind == K_OPT_ENUM:
            return None
        if kind == K_INT_MIN0 or (kind == K_OPT_INT_MIN0 and v is not None):
            if not _is_int(v):
                return ("type", f"must be an integer, got {_describe(v)}")
            return None if v >= 0 else ("minimum", f"must be >= 0, got {v}")
        if kind == K_OPT_INT_MIN0:
            return None
        if kind == K_OPT_NUM_MIN0:
            if v is None:
                return None
            if not _is_num(v):
                return ("type", f"must be a finite number, got {_describe(v)}")
            return None if v >= 0 else ("minimum", f"must be >= 0, got {v}")
        if kind == K_NUM_POS:
            if not _is_num(v):
                return ("type", f"must be a finite number, got {_describe(v)}")
            return None if v > 0 else ("minimum", f"must be > 0, got {v}")
        if kind == K_BOOL:
            return None if type(v) is bool else ("type", f"must be a boolean, got {_describe(v)}")
        if kind == K_DICT or (kind == K_OPT_DICT and v is not None):
            return None if type(v) is dict else ("type", f"must be an object, got {_describe(v)}")
        if kind == K_OPT_DICT:
            return None
        if kind == K_STR_LIST:
            if type(v) is not list:
                return ("type", f"must be a list of strings, got {_describe(v)}")
            for item in v:
                if type(item) is not str:
                    return ("type", f"must be a list of strings, has {_describe(item)}")
            return None
        if kind == K_UUID:
            if is_uuid(v):
                return None
            return ("format", f"must be a UUID string (8-4-4-4-12 hex digits), got {v!r}"[:200])
        if kind == K_TS or (kind == K_OPT_TS and v is not None):
            status, _ = parse_ts(v)
            if status == TS_OK:
                return None
            if status == TS_NO_ZONE:
                return ("timezone", f"has no time zone: {v!r}; add 'Z' or an offset such as '+00:00'")
            return ("format", f"must be an ISO 8601 timestamp with a time zone, got {v!r}"[:200])
        if kind == K_OPT_TS:
            return None
        if kind == K_PRIORITY:
            if not _is_int(v):
                return ("type", f"must be an integer priority 1-5, got {_describe(v)}")
            return None if 1 <= v <= 5 else ("range", f"must be from 1 (CRITICAL) to 5 (BACKGROUND), got {v}")
        return ("kind", f"unknown field kind {kind}")


__all__ = [
    "Checker",
    "K_ANY", "K_BOOL", "K_DICT", "K_ENUM", "K_INT_MIN0", "K_NUM_POS", "K_OPT_DICT",
    "K_OPT_ENUM", "K_OPT_INT_MIN0", "K_OPT_NUM_MIN0", "K_OPT_STR", "K_OPT_TS", "K_PRIORITY",
    "K_STR", "K_STR_LIST", "K_TS", "K_UUID",
    "TS_MALFORMED", "TS_NO_ZONE", "TS_OK",
    "is_uuid", "parse_timestamp", "parse_ts",
]

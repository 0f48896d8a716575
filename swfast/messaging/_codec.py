"""JSON encoding for messages: lossless or refused, never changed.

``dumps`` writes compact UTF-8 JSON with orjson when installed (else the standard library) and
holds both to one rule: what it writes decodes back to the same value, or it raises
:class:`~swfast.errors.ValidationError` (``path`` names the value) before anything is sent.

* integers of any size are written exactly (orjson stops at 64 bits: the rare larger ones go
  through the standard library);
* NaN and ±Infinity are refused (orjson would write ``null``; JSON has no such numbers);
* dict keys that are not ``str`` are refused (``{1: "a"}`` would come back as ``{"1": "a"}``).

``loads`` is orjson's (or the standard library's) reader. ``loads_exact`` is the reader for
consumed messages: values that may hold integers beyond 64 bits (a run of 19+ digits) are read
by the strict kernel reader, which keeps them exact (orjson would return floats).
"""
from __future__ import annotations

import json
from typing import Any, Callable

from .._native import msgbatch as _batch
from .._native import msgvalid as _strict
from .._native.msgenc import problem
from ..errors import ValidationError

_orjson: Any

try:  # pragma: no branch - which branch runs depends on the environment
    import orjson as _orjson
except ImportError:  # pragma: no cover - orjson is in the test extra
    _orjson = None


def refusal(obj: Any, path: str = "") -> ValidationError | None:
    """The :class:`ValidationError` ``dumps`` would raise for ``obj``, or None."""
    found = problem(obj)
    if found is None:
        return None
    where, keyword, message = found
    full = f"{path}.{where}" if path and where and not where.startswith("[") else f"{path}{where}"
    return ValidationError(message, path=full or path, keyword=keyword)


def _orjson_default(value: Any) -> Any:
    """The JSON value orjson gives an object the standard library does not know (datetime...)."""
    try:
        return _orjson.loads(_orjson.dumps(value))
    except TypeError:
        raise TypeError(f"{type(value).__name__} is not JSON serializable") from None


def _std(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False,
                      default=_orjson_default if _orjson is not None else None).encode()


def _slow(obj: Any) -> bytes:
    err = refusal(obj)
    if err is not None:
        raise err
    try:
        return _std(obj)
    except (TypeError, ValueError, RecursionError) as exc:
        raise ValidationError(f"not JSON: {exc}", keyword="type") from None


if _orjson is not None:
    _odumps = _orjson.dumps

    def dumps(obj: Any) -> bytes:
        """Lossless compact JSON bytes of ``obj``, or ValidationError (rules in the module doc)."""
        try:
            out: bytes = _odumps(obj)
        except TypeError:  # an int beyond 64 bits, a non-str key, an unknown type, too deep
            return _slow(obj)
        if b"null" in out:  # orjson writes NaN/Infinity as null: look only when one could be there
            err = refusal(obj)
            if err is not None:
                raise err
        return out

    loads: Callable[[Any], Any] = _orjson.loads
    BACKEND = "orjson"
else:  # pragma: no cover
    dumps = _slow

    def loads(data: Any) -> Any:
        if isinstance(data, memoryview):
            data = bytes(data)
        return json.loads(data)

    BACKEND = "json"

#: The reader of values that may hold integers beyond 64 bits (exact, strict JSON).
exact_loads: Callable[[Any], Any] = _strict.loads


def loads_exact(data: Any) -> Any:
    """``loads`` that keeps integers beyond 64 bits exact (strict reader only where needed)."""
    if _batch.long_digits(data):
        return exact_loads(data)
    return loads(data)


JSONDecodeError = (ValueError, TypeError)

__all__ = ["BACKEND", "JSONDecodeError", "dumps", "exact_loads", "loads", "loads_exact", "refusal"]

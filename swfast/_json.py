"""Compact UTF-8 JSON for data already known to be exact JSON (checked by the caller).

orjson when installed (several times faster), else — and for what orjson refuses: integers
beyond 64 bits, lone surrogates — the standard library with the same rules (no NaN/Infinity,
no ASCII escaping). Both write bytes that ``json.loads`` reads back to an equal value; the
caller turns the standard library's ``TypeError``/``ValueError`` into its own typed error.
"""
from __future__ import annotations

import json
from typing import Any, Callable

_orjson_dumps: Callable[[Any], bytes] | None
try:  # pragma: no branch - which branch runs depends on the environment
    from orjson import dumps as _orjson_dumps
except ImportError:  # pragma: no cover - orjson ships with the test and security extras
    _orjson_dumps = None

_STD_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode


def compact_dumps(value: Any) -> bytes:
    """``value`` as compact JSON bytes; raises ``TypeError``/``ValueError`` as ``json.dumps`` does."""
    if _orjson_dumps is not None:
        try:
            return _orjson_dumps(value)
        except TypeError:  # beyond 64-bit integers, lone surrogates: the standard encoder decides
            pass
    return _STD_ENCODE(value).encode()


__all__ = ["compact_dumps"]

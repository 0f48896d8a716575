"""JSON encoding for messages: orjson when installed, else the standard library.

Both paths produce compact UTF-8 bytes and accept ``str``, ``bytes``, ``bytearray`` and
``memoryview`` on decode, so the rest of the package never cares which one is active.
"""
from __future__ import annotations

import json
from typing import Any, Callable

_orjson: Any

try:  # pragma: no branch - which branch runs depends on the environment
    import orjson as _orjson
except ImportError:  # pragma: no cover - orjson is in the test extra
    _orjson = None


def _std_dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def _std_loads(data: str | bytes | bytearray | memoryview) -> Any:
    if isinstance(data, memoryview):
        data = bytes(data)
    return json.loads(data)


if _orjson is not None:
    dumps: Callable[[Any], bytes] = _orjson.dumps
    loads: Callable[[Any], Any] = _orjson.loads
    BACKEND = "orjson"
else:  # pragma: no cover
    dumps = _std_dumps
    loads = _std_loads
    BACKEND = "json"

JSONDecodeError = (ValueError, TypeError)

__all__ = ["BACKEND", "JSONDecodeError", "dumps", "loads"]

"""Pure-Python twin of the strict JSON reader in ``_msgjson.pxi`` (compiled into ``_msgvalid_c``).

``loads`` is ``json.loads`` held to the same strict rules as the compiled reader: NaN/Infinity
literals, numbers that overflow a double, lone surrogate escapes, invalid UTF-8, raw control
characters in strings and nesting deeper than :data:`JSON_MAX_DEPTH` are errors (ValueError);
big integers stay exact. The input is ``str``, ``bytes``, ``bytearray`` or ``memoryview``
(anything else is a TypeError).
"""
from __future__ import annotations

import json
import math
import re
from typing import Any

JSON_MAX_DEPTH = 512

_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_DECODER = json.JSONDecoder(parse_float=lambda s: _finite(float(s)), parse_constant=lambda s: _no_constant(s))


def _finite(value: float) -> float:
    if math.isinf(value):
        raise ValueError("number out of range")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _depth(value: Any) -> int:
    """The container nesting depth of a decoded value (iterative: no recursion limit)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if type(item) is dict:
            items: Any = item.values()
        elif type(item) is list:
            items = item
        else:
            continue
        deepest = max(deepest, depth)
        if depth <= JSON_MAX_DEPTH:
            stack.extend((child, depth + 1) for child in items)
    return deepest


def text_of(data: Any) -> str:
    """The JSON text of ``data`` as str, checked to be valid UTF-8 (no surrogates)."""
    if isinstance(data, str):
        data.encode("utf-8")  # lone surrogates are not UTF-8: UnicodeEncodeError (a ValueError)
        return data
    if isinstance(data, bytes):
        return data.decode("utf-8")
    if isinstance(data, (bytearray, memoryview)):
        return bytes(data).decode("utf-8")
    raise TypeError(f"must be str, bytes, bytearray or memoryview, got {type(data).__name__}")


def loads(data: Any) -> Any:
    """Strict JSON decode (rules in the module docstring).

    Raises:
        ValueError: the text is not valid (strict) JSON.
        TypeError: ``data`` is not text or bytes.
    """
    text = text_of(data)
    try:
        value = _DECODER.decode(text)
    except RecursionError:
        raise ValueError("nesting too deep") from None
    if text.count("[") + text.count("{") > JSON_MAX_DEPTH and _depth(value) > JSON_MAX_DEPTH:
        raise ValueError("nesting too deep")
    if _SURROGATE_ESCAPE.search(text) is not None:
        json.dumps(value, ensure_ascii=False).encode("utf-8")  # a lone surrogate: UnicodeEncodeError
    return value


__all__ = ["JSON_MAX_DEPTH", "loads", "text_of"]

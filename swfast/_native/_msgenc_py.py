"""Pure-Python twin of the message JSON encoder kernel (``_msgenc_c.pyx``).

:class:`Encoder` writes ``{"metadata": {...}, "payload": {...}}`` from two slotted objects,
field by field in the given order, as compact UTF-8 JSON. The twin builds the dicts and hands
them to the ``dumps`` it was given (orjson or json); the compiled kernel writes the bytes itself
and falls back to the same ``dumps`` for any value it does not handle, so both always agree on
what JSON means.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Sequence

PROBLEM_MAX_DEPTH = 512


def _where(path: list[Any]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if type(part) is int else (f".{part}" if out else str(part))
    return out


def problem(obj: Any) -> tuple[str, str, str] | None:
    """The first value JSON cannot carry losslessly, as ``(path, keyword, message)``, else None.

    A dict key that is not a str (``keyword="key"``), a NaN or infinite float (``"finite"``) and
    nesting deeper than :data:`PROBLEM_MAX_DEPTH` (``"depth"``) are problems; every other value is left
    to the encoder (ints of any size are exact in JSON).
    """
    stack: list[tuple[Any, list[Any]]] = [(obj, [])]
    while stack:
        value, path = stack.pop()
        if type(value) is float or isinstance(value, float):
            if not math.isfinite(value):
                return _where(path), "finite", f"{value!r} has no JSON form (NaN and Infinity are refused)"
            continue
        if isinstance(value, dict):
            items: Any = value.items()
        elif isinstance(value, (list, tuple)):
            items = enumerate(value)
        else:
            continue
        if len(path) >= PROBLEM_MAX_DEPTH:
            return _where(path), "depth", f"nesting deeper than {PROBLEM_MAX_DEPTH}"
        pending = []
        for k, v in items:
            if type(items) is not enumerate and not isinstance(k, str):
                return (_where(path), "key",
                        f"key {k!r} ({type(k).__name__}) is not a str: JSON object keys are strings; "
                        "convert the keys first (this would not round-trip)")
            pending.append((v, [*path, k]))
        stack.extend(reversed(pending))
    return None


class Encoder:
    """Encode metadata + payload objects of fixed classes to JSON bytes.

    Args:
        meta_cls: the metadata class (slotted).
        meta_names: its field names, in output order.
        payload_cls: the payload class (slotted).
        payload_names: its field names, in output order.
        dumps: ``obj -> bytes`` used for everything the kernel does not write itself.
    """

    def __init__(self, meta_cls: type, meta_names: Sequence[str], payload_cls: type,
                 payload_names: Sequence[str], dumps: Callable[[Any], bytes]) -> None:
        for cls, names in ((meta_cls, meta_names), (payload_cls, payload_names)):
            for name in names:
                if type(cls.__dict__.get(name)).__name__ != "member_descriptor":
                    raise TypeError(f"{cls.__qualname__}.{name}: not a slot (use a slotted class)")
        self._meta_names = tuple(meta_names)
        self._payload_names = tuple(payload_names)
        self._dumps = dumps

    def encode(self, meta: Any, payload: Any) -> bytes:
        """JSON bytes of ``{"metadata": meta, "payload": payload}``."""
        return self._dumps({
            "metadata": {n: getattr(meta, n) for n in self._meta_names},
            "payload": {n: getattr(payload, n) for n in self._payload_names},
        })


__all__ = ["PROBLEM_MAX_DEPTH", "Encoder", "problem"]

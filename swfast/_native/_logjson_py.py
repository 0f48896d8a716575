"""Pure-Python twin of the compiled log-record JSON renderer (``_logjson_c.pyx``).

Same signature and the same document: the fixed fields, then every extra of ``d`` in insertion
order (``extra.<name>`` for names in ``taken``), serialised by ``fallback`` (the formatter's
encoder). Numbers may differ in spelling only (``1e-05`` against ``1e-5``), never in value.
"""
from __future__ import annotations

from itertools import islice
from typing import Any, Callable, Collection, Mapping


def render(d: Mapping[str, Any], skip: int, first: str, reserved: Collection[str], taken: Collection[str],
           names: tuple[str, str, str, str], stamp: str, level: str, logger: str, message: str,
           fallback: Callable[[Any], bytes]) -> bytes:
    """The JSON line of one record."""
    out: dict[str, Any] = {names[0]: stamp, names[1]: level, names[2]: logger, names[3]: message}
    items = islice(d.items(), skip, None) if next(iter(d), None) == first and len(d) >= skip else d.items()
    for key, value in items:
        key = key if isinstance(key, str) else str(key)
        if key not in reserved:
            out["extra." + key if key in taken else key] = value
    return fallback(out)

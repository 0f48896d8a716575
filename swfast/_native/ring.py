"""Selector for the consistent-hash ring kernel: compiled unless ``SWFAST_NO_EXTENSIONS`` is set."""
from __future__ import annotations

from ._compat import MISSING_HINT, NO_EXTENSIONS

TYPE_CHECKING = False  # typing stays off the import path; mypy reads the twin's names

if TYPE_CHECKING or NO_EXTENSIONS:
    from ._ring_py import (
        DEFAULT_SEED, DEFAULT_VNODES, HashRing, hash32,
    )
else:
    try:
        from ._ring_c import (
            DEFAULT_SEED, DEFAULT_VNODES, HashRing, hash32,
        )
    except ImportError as exc:  # pragma: no cover - exercised by a subprocess test
        raise ImportError(MISSING_HINT.format(name="_ring_c")) from exc

__all__ = [
    "DEFAULT_SEED", "DEFAULT_VNODES", "HashRing", "hash32",
]

"""Selector for the JSON-Schema evaluation kernel: compiled unless ``SWFAST_NO_EXTENSIONS``."""
from __future__ import annotations

from ._compat import MISSING_HINT, NO_EXTENSIONS

TYPE_CHECKING = False  # typing stays off the import path; mypy reads the twin's names

if TYPE_CHECKING or NO_EXTENSIONS:
    from ._jsonschema_py import (
        Checker, Node, TYPE_NAMES, json_equal, type_bits,
    )
else:
    try:
        from ._jsonschema_c import (
            Checker, Node, TYPE_NAMES, json_equal, type_bits,
        )
    except ImportError as exc:  # pragma: no cover - exercised by a subprocess test
        raise ImportError(MISSING_HINT.format(name="_jsonschema_c")) from exc

__all__ = [
    "Checker", "Node", "TYPE_NAMES", "json_equal", "type_bits",
]

"""Selector for the JSON-Schema evaluation kernel: compiled unless ``SWFAST_NO_EXTENSIONS``."""
from __future__ import annotations

from typing import TYPE_CHECKING

from ._compat import MISSING_HINT, NO_EXTENSIONS

if TYPE_CHECKING or NO_EXTENSIONS:
    from ._jsonschema_py import Checker, TYPE_NAMES, Node, json_equal, type_bits
else:
    try:
        from ._jsonschema_c import Checker, TYPE_NAMES, Node, json_equal, type_bits
    except ImportError as exc:  # pragma: no cover - exercised by a subprocess test
        raise ImportError(MISSING_HINT.format(name="_jsonschema_c")) from exc

__all__ = ["Checker", "Node", "TYPE_NAMES", "json_equal", "type_bits"]

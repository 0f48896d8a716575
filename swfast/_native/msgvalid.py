"""Selector for the message validation kernel: compiled unless ``SWFAST_NO_EXTENSIONS`` is set."""
from __future__ import annotations

from typing import TYPE_CHECKING

from ._compat import MISSING_HINT, NO_EXTENSIONS

if TYPE_CHECKING or NO_EXTENSIONS:
    from . import _msgvalid_py as _kernel
else:
    try:
        from . import _msgvalid_c as _kernel  # type: ignore[no-redef]
    except ImportError as exc:  # pragma: no cover - exercised by a subprocess test
        raise ImportError(MISSING_HINT.format(name="_msgvalid_c")) from exc

Checker = _kernel.Checker
is_uuid = _kernel.is_uuid
loads = _kernel.loads
JSON_MAX_DEPTH = _kernel.JSON_MAX_DEPTH
parse_timestamp = _kernel.parse_timestamp
parse_ts = _kernel.parse_ts
K_ANY = _kernel.K_ANY
K_STR = _kernel.K_STR
K_OPT_STR = _kernel.K_OPT_STR
K_ENUM = _kernel.K_ENUM
K_OPT_ENUM = _kernel.K_OPT_ENUM
K_INT_MIN0 = _kernel.K_INT_MIN0
K_OPT_INT_MIN0 = _kernel.K_OPT_INT_MIN0
K_OPT_NUM_MIN0 = _kernel.K_OPT_NUM_MIN0
K_NUM_POS = _kernel.K_NUM_POS
K_BOOL = _kernel.K_BOOL
K_DICT = _kernel.K_DICT
K_OPT_DICT = _kernel.K_OPT_DICT
K_STR_LIST = _kernel.K_STR_LIST
K_UUID = _kernel.K_UUID
K_TS = _kernel.K_TS
K_OPT_TS = _kernel.K_OPT_TS
K_PRIORITY = _kernel.K_PRIORITY

__all__ = [
    "Checker", "JSON_MAX_DEPTH", "K_ANY", "K_BOOL", "K_DICT", "K_ENUM", "K_INT_MIN0", "K_NUM_POS",
    "K_OPT_DICT", "K_OPT_ENUM", "K_OPT_INT_MIN0", "K_OPT_NUM_MIN0", "K_OPT_STR", "K_OPT_TS",
    "K_PRIORITY", "K_STR", "K_STR_LIST", "K_TS", "K_UUID", "is_uuid", "loads", "parse_timestamp",
    "parse_ts",
]

"""Selector for the message validation kernel: compiled unless ``SWFAST_NO_EXTENSIONS`` is set."""
from __future__ import annotations

from ._compat import MISSING_HINT, NO_EXTENSIONS

TYPE_CHECKING = False  # typing stays off the import path; mypy reads the twin's names

if TYPE_CHECKING or NO_EXTENSIONS:
    from ._msgvalid_py import (
        Checker, JSON_MAX_DEPTH, K_ANY, K_BOOL, K_DICT, K_ENUM, K_INT_MIN0, K_NUM_POS, K_OPT_DICT,
        K_OPT_ENUM, K_OPT_INT_MIN0, K_OPT_NUM_MIN0, K_OPT_STR, K_OPT_TS, K_PRIORITY, K_STR,
        K_STR_LIST, K_TS, K_UUID, is_uuid, loads, parse_timestamp, parse_ts,
    )
else:
    try:
        from ._msgvalid_c import (
            Checker, JSON_MAX_DEPTH, K_ANY, K_BOOL, K_DICT, K_ENUM, K_INT_MIN0, K_NUM_POS,
            K_OPT_DICT, K_OPT_ENUM, K_OPT_INT_MIN0, K_OPT_NUM_MIN0, K_OPT_STR, K_OPT_TS, K_PRIORITY,
            K_STR, K_STR_LIST, K_TS, K_UUID, is_uuid, loads, parse_timestamp, parse_ts,
        )
    except ImportError as exc:  # pragma: no cover - exercised by a subprocess test
        raise ImportError(MISSING_HINT.format(name="_msgvalid_c")) from exc

import sys as _sys  # noqa: E402

_kernel = _sys.modules[Checker.__module__]  # the module in use (tests and benchmarks name it)

__all__ = [
    "Checker", "JSON_MAX_DEPTH", "K_ANY", "K_BOOL", "K_DICT", "K_ENUM", "K_INT_MIN0", "K_NUM_POS",
    "K_OPT_DICT", "K_OPT_ENUM", "K_OPT_INT_MIN0", "K_OPT_NUM_MIN0", "K_OPT_STR", "K_OPT_TS",
    "K_PRIORITY", "K_STR", "K_STR_LIST", "K_TS", "K_UUID", "is_uuid", "loads", "parse_timestamp",
    "parse_ts",
]

"""Selector for the consumer batch kernel: compiled unless ``SWFAST_NO_EXTENSIONS`` is set."""
from __future__ import annotations

from ._compat import MISSING_HINT, NO_EXTENSIONS

TYPE_CHECKING = False  # typing stays off the import path; mypy reads the twin's names

if TYPE_CHECKING or NO_EXTENSIONS:
    from ._msgbatch_py import (
        Reports, delivery, long_digits, prepare, produce_all, resolve, run_sync,
    )
else:
    try:
        from ._msgbatch_c import (
            Reports, delivery, long_digits, prepare, produce_all, resolve, run_sync,
        )
    except ImportError as exc:  # pragma: no cover - exercised by a subprocess test
        raise ImportError(MISSING_HINT.format(name="_msgbatch_c")) from exc

__all__ = [
    "Reports", "delivery", "long_digits", "prepare", "produce_all", "resolve", "run_sync",
]

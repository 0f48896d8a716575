"""Selector for the backoff kernel: compiled unless ``SWFAST_NO_EXTENSIONS`` is set."""
from __future__ import annotations

from ._compat import MISSING_HINT, NO_EXTENSIONS

TYPE_CHECKING = False  # typing stays off the import path; mypy reads the twin's names

if TYPE_CHECKING or NO_EXTENSIONS:
    from ._backoff_py import (
        BackoffKernel, CONSTANT, DECORRELATED_JITTER, EQUAL_JITTER, EXPONENTIAL, FIBONACCI,
        FULL_JITTER, LINEAR,
    )
else:
    try:
        from ._backoff_c import (
            BackoffKernel, CONSTANT, DECORRELATED_JITTER, EQUAL_JITTER, EXPONENTIAL, FIBONACCI,
            FULL_JITTER, LINEAR,
        )
    except ImportError as exc:  # pragma: no cover - exercised by a subprocess test
        raise ImportError(MISSING_HINT.format(name="_backoff_c")) from exc

__all__ = [
    "BackoffKernel", "CONSTANT", "DECORRELATED_JITTER", "EQUAL_JITTER", "EXPONENTIAL", "FIBONACCI",
    "FULL_JITTER", "LINEAR",
]

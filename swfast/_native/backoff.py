"""Selector for the backoff kernel: compiled unless ``SWFAST_NO_EXTENSIONS`` is set."""
from __future__ import annotations

from typing import TYPE_CHECKING

from ._compat import MISSING_HINT, NO_EXTENSIONS

if TYPE_CHECKING or NO_EXTENSIONS:
    from ._backoff_py import (
        CONSTANT, DECORRELATED_JITTER, EQUAL_JITTER, EXPONENTIAL, FIBONACCI, FULL_JITTER, LINEAR,
        BackoffKernel,
    )
else:
    try:
        from ._backoff_c import (
            CONSTANT, DECORRELATED_JITTER, EQUAL_JITTER, EXPONENTIAL, FIBONACCI, FULL_JITTER,
            LINEAR, BackoffKernel,
        )
    except ImportError as exc:  # pragma: no cover - exercised by a subprocess test
        raise ImportError(MISSING_HINT.format(name="_backoff_c")) from exc

__all__ = [
    "CONSTANT", "DECORRELATED_JITTER", "EQUAL_JITTER", "EXPONENTIAL", "FIBONACCI",
    "FULL_JITTER", "LINEAR", "BackoffKernel",
]

"""Selector for the message JSON encoder kernel: compiled unless ``SWFAST_NO_EXTENSIONS`` is set."""
from __future__ import annotations

from ._compat import MISSING_HINT, NO_EXTENSIONS

TYPE_CHECKING = False  # typing stays off the import path; mypy reads the twin's names

if TYPE_CHECKING or NO_EXTENSIONS:
    from ._msgenc_py import (
        Encoder, problem, problem_after,
    )
else:
    try:
        from ._msgenc_c import (
            Encoder, problem, problem_after,
        )
    except ImportError as exc:  # pragma: no cover - exercised by a subprocess test
        raise ImportError(MISSING_HINT.format(name="_msgenc_c")) from exc

__all__ = [
    "Encoder", "problem", "problem_after",
]

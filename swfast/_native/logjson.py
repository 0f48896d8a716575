"""Selector for the log-record JSON renderer: compiled unless ``SWFAST_NO_EXTENSIONS`` is set."""
from __future__ import annotations

from ._compat import MISSING_HINT, NO_EXTENSIONS

TYPE_CHECKING = False  # typing stays off the import path; mypy reads the twin's names

if TYPE_CHECKING or NO_EXTENSIONS:
    from ._logjson_py import (
        RecordRenderer, render,
    )
else:
    try:
        from ._logjson_c import (
            RecordRenderer, render,
        )
    except ImportError as exc:  # pragma: no cover - exercised by a subprocess test
        raise ImportError(MISSING_HINT.format(name="_logjson_c")) from exc

__all__ = [
    "RecordRenderer", "render",
]

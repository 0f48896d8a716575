"""Selector for the redaction scanner: compiled unless ``SWFAST_NO_EXTENSIONS`` is set."""
from __future__ import annotations

from ._compat import MISSING_HINT, NO_EXTENSIONS

TYPE_CHECKING = False  # typing stays off the import path; mypy reads the twin's names

if TYPE_CHECKING or NO_EXTENSIONS:
    from ._redscan_py import (
        FusedJSON, clean_record, process_clean, process_render, scan,
    )
else:
    try:
        from ._redscan_c import (
            FusedJSON, clean_record, process_clean, process_render, scan,
        )
    except ImportError as exc:  # pragma: no cover - exercised by a subprocess test
        raise ImportError(MISSING_HINT.format(name="_redscan_c")) from exc

__all__ = [
    "FusedJSON", "clean_record", "process_clean", "process_render", "scan",
]

"""Selector for the AEAD envelope kernel: compiled unless ``SWFAST_NO_EXTENSIONS`` is set."""
from __future__ import annotations

from ._compat import MISSING_HINT, NO_EXTENSIONS

TYPE_CHECKING = False  # typing stays off the import path; mypy reads the twin's names

if TYPE_CHECKING or NO_EXTENSIONS:
    from ._envelope_py import (
        EnvelopeCodec,
    )
else:
    try:
        from ._envelope_c import (
            EnvelopeCodec,
        )
    except ImportError as exc:  # pragma: no cover - exercised by a subprocess test
        raise ImportError(MISSING_HINT.format(name="_envelope_c")) from exc

__all__ = [
    "EnvelopeCodec",
]

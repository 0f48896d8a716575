"""Selector for the AEAD envelope kernel: compiled unless ``SWFAST_NO_EXTENSIONS`` is set."""
from __future__ import annotations

from typing import TYPE_CHECKING

from ._compat import MISSING_HINT, NO_EXTENSIONS

if TYPE_CHECKING or NO_EXTENSIONS:
    from ._envelope_py import EnvelopeCodec
else:
    try:
        from ._envelope_c import EnvelopeCodec
    except ImportError as exc:  # pragma: no cover - exercised by a subprocess test
        raise ImportError(MISSING_HINT.format(name="_envelope_c")) from exc

__all__ = ["EnvelopeCodec"]

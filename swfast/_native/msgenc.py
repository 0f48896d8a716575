"""Selector for the message JSON encoder kernel: compiled unless ``SWFAST_NO_EXTENSIONS`` is set."""
from __future__ import annotations

from typing import TYPE_CHECKING

from ._compat import MISSING_HINT, NO_EXTENSIONS

if TYPE_CHECKING or NO_EXTENSIONS:
    from ._msgenc_py import Encoder, problem
else:
    try:
        from ._msgenc_c import Encoder, problem
    except ImportError as exc:  # pragma: no cover - exercised by a subprocess test
        raise ImportError(MISSING_HINT.format(name="_msgenc_c")) from exc

__all__ = ["Encoder", "problem"]

"""Selector for the frequency sketch kernel: compiled unless ``SWFAST_NO_EXTENSIONS`` is set."""
from __future__ import annotations

from typing import TYPE_CHECKING

from ._compat import MISSING_HINT, NO_EXTENSIONS

if TYPE_CHECKING or NO_EXTENSIONS:
    from ._sketch_py import FrequencySketch, WTinyLFU
else:
    try:
        from ._sketch_c import FrequencySketch, WTinyLFU
    except ImportError as exc:  # pragma: no cover - exercised by a subprocess test
        raise ImportError(MISSING_HINT.format(name="_sketch_c")) from exc

__all__ = ["FrequencySketch", "WTinyLFU"]

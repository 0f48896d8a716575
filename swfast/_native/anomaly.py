"""Selector for the anomaly-scoring kernel (EWMA/EWMV + median/MAD): compiled unless ``SWFAST_NO_EXTENSIONS`` is set."""
from __future__ import annotations

from typing import TYPE_CHECKING

from ._compat import MISSING_HINT, NO_EXTENSIONS

if TYPE_CHECKING or NO_EXTENSIONS:
    from ._anomaly_py import MAD_SCALE, AnomalyScorer
else:
    try:
        from ._anomaly_c import MAD_SCALE, AnomalyScorer
    except ImportError as exc:  # pragma: no cover - exercised by a subprocess test
        raise ImportError(MISSING_HINT.format(name="_anomaly_c")) from exc

__all__ = ["AnomalyScorer", "MAD_SCALE"]

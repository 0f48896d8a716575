"""Selector for the anomaly-scoring kernel (EWMA/EWMV + median/MAD): compiled unless ``SWFAST_NO_EXTENSIONS`` is set."""
from __future__ import annotations

from ._compat import MISSING_HINT, NO_EXTENSIONS

TYPE_CHECKING = False  # typing stays off the import path; mypy reads the twin's names

if TYPE_CHECKING or NO_EXTENSIONS:
    from ._anomaly_py import (
        AnomalyScorer, MAD_SCALE,
    )
else:
    try:
        from ._anomaly_c import (
            AnomalyScorer, MAD_SCALE,
        )
    except ImportError as exc:  # pragma: no cover - exercised by a subprocess test
        raise ImportError(MISSING_HINT.format(name="_anomaly_c")) from exc

__all__ = [
    "AnomalyScorer", "MAD_SCALE",
]

"""Selector for the metrics kernel: compiled unless ``SWFAST_NO_EXTENSIONS`` is set."""
from __future__ import annotations

from ._compat import MISSING_HINT, NO_EXTENSIONS

TYPE_CHECKING = False  # typing stays off the import path; mypy reads the twin's names

if TYPE_CHECKING or NO_EXTENSIONS:
    from ._metrics_py import (
        CounterCell, GaugeCell, HistogramCell, check_bounds,
    )
else:
    try:
        from ._metrics_c import (
            CounterCell, GaugeCell, HistogramCell, check_bounds,
        )
    except ImportError as exc:  # pragma: no cover - exercised by a subprocess test
        raise ImportError(MISSING_HINT.format(name="_metrics_c")) from exc

__all__ = [
    "CounterCell", "GaugeCell", "HistogramCell", "check_bounds",
]

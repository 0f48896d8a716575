"""Selector for the circuit-breaker kernel: compiled unless ``SWFAST_NO_EXTENSIONS`` is set."""
from __future__ import annotations

from ._compat import MISSING_HINT, NO_EXTENSIONS

TYPE_CHECKING = False  # typing stays off the import path; mypy reads the twin's names

if TYPE_CHECKING or NO_EXTENSIONS:
    from ._breaker_py import (
        BreakerCore, CLOSED, CountWindow, DISABLED, FORCED_OPEN, HALF_OPEN, OPEN, TimeWindow,
    )
else:
    try:
        from ._breaker_c import (
            BreakerCore, CLOSED, CountWindow, DISABLED, FORCED_OPEN, HALF_OPEN, OPEN, TimeWindow,
        )
    except ImportError as exc:  # pragma: no cover - exercised by a subprocess test
        raise ImportError(MISSING_HINT.format(name="_breaker_c")) from exc

__all__ = [
    "BreakerCore", "CLOSED", "CountWindow", "DISABLED", "FORCED_OPEN", "HALF_OPEN", "OPEN",
    "TimeWindow",
]

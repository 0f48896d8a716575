"""Selector for the circuit-breaker kernel: compiled unless ``SWFAST_NO_EXTENSIONS`` is set."""
from __future__ import annotations

from typing import TYPE_CHECKING

from ._compat import MISSING_HINT, NO_EXTENSIONS

if TYPE_CHECKING or NO_EXTENSIONS:
    from ._breaker_py import (
        CLOSED, DISABLED, FORCED_OPEN, HALF_OPEN, OPEN, BreakerCore, CountWindow, TimeWindow,
    )
else:
    try:
        from ._breaker_c import (
            CLOSED, DISABLED, FORCED_OPEN, HALF_OPEN, OPEN, BreakerCore, CountWindow, TimeWindow,
        )
    except ImportError as exc:  # pragma: no cover - exercised by a subprocess test
        raise ImportError(MISSING_HINT.format(name="_breaker_c")) from exc

__all__ = [
    "CLOSED", "DISABLED", "FORCED_OPEN", "HALF_OPEN", "OPEN", "BreakerCore", "CountWindow",
    "TimeWindow",
]

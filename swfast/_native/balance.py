"""Selector for the power-of-two-choices balancer kernel: compiled unless ``SWFAST_NO_EXTENSIONS`` is set."""
from __future__ import annotations

from ._compat import MISSING_HINT, NO_EXTENSIONS

TYPE_CHECKING = False  # typing stays off the import path; mypy reads the twin's names

if TYPE_CHECKING or NO_EXTENSIONS:
    from ._balance_py import (
        P2C,
    )
else:
    try:
        from ._balance_c import (
            P2C,
        )
    except ImportError as exc:  # pragma: no cover - exercised by a subprocess test
        raise ImportError(MISSING_HINT.format(name="_balance_c")) from exc

__all__ = [
    "P2C",
]

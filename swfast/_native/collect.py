"""Selector for the ``collect_metric`` hot path: compiled unless ``SWFAST_NO_EXTENSIONS`` is set."""
from __future__ import annotations

from ._compat import MISSING_HINT, NO_EXTENSIONS

TYPE_CHECKING = False  # typing stays off the import path; mypy reads the twin's names

if TYPE_CHECKING or NO_EXTENSIONS:
    from ._collect_py import (
        make_collect_metric,
    )
else:
    try:
        from ._collect_c import (
            make_collect_metric,
        )
    except ImportError as exc:  # pragma: no cover - exercised by a subprocess test
        raise ImportError(MISSING_HINT.format(name="_collect_c")) from exc

__all__ = [
    "make_collect_metric",
]

"""Selector for the lease (budget accounting) kernel: compiled unless ``SWFAST_NO_EXTENSIONS`` is set."""
from __future__ import annotations

from typing import TYPE_CHECKING

from ._compat import MISSING_HINT, NO_EXTENSIONS

if TYPE_CHECKING or NO_EXTENSIONS:
    from ._lease_py import Budget, Lease
else:
    try:
        from ._lease_c import Budget, Lease
    except ImportError as exc:  # pragma: no cover - exercised by a subprocess test
        raise ImportError(MISSING_HINT.format(name="_lease_c")) from exc

__all__ = ["Budget", "Lease"]

"""Selector for the lease (budget accounting) kernel: compiled unless ``SWFAST_NO_EXTENSIONS`` is set."""
from __future__ import annotations

from ._compat import MISSING_HINT, NO_EXTENSIONS

TYPE_CHECKING = False  # typing stays off the import path; mypy reads the twin's names

if TYPE_CHECKING or NO_EXTENSIONS:
    from ._lease_py import (
        Budget, CpuFastPath, Lease,
    )
else:
    try:
        from ._lease_c import (
            Budget, CpuFastPath, Lease,
        )
    except ImportError as exc:  # pragma: no cover - exercised by a subprocess test
        raise ImportError(MISSING_HINT.format(name="_lease_c")) from exc

__all__ = [
    "Budget", "CpuFastPath", "Lease",
]

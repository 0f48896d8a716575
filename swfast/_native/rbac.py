"""Selector for the RBAC permission-index kernel: compiled unless ``SWFAST_NO_EXTENSIONS`` is set."""
from __future__ import annotations

from ._compat import MISSING_HINT, NO_EXTENSIONS

TYPE_CHECKING = False  # typing stays off the import path; mypy reads the twin's names

if TYPE_CHECKING or NO_EXTENSIONS:
    from ._rbac_py import (
        PermissionIndex,
    )
else:
    try:
        from ._rbac_c import (
            PermissionIndex,
        )
    except ImportError as exc:  # pragma: no cover - exercised by a subprocess test
        raise ImportError(MISSING_HINT.format(name="_rbac_c")) from exc

__all__ = [
    "PermissionIndex",
]

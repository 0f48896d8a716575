"""Selector for the JWS codec kernel: compiled unless ``SWFAST_NO_EXTENSIONS`` is set."""
from __future__ import annotations

from ._compat import MISSING_HINT, NO_EXTENSIONS

TYPE_CHECKING = False  # typing stays off the import path; mypy reads the twin's names

if TYPE_CHECKING or NO_EXTENSIONS:
    from ._jws_py import (
        b64url_decode, b64url_encode,
    )
else:
    try:
        from ._jws_c import (
            b64url_decode, b64url_encode,
        )
    except ImportError as exc:  # pragma: no cover - exercised by a subprocess test
        raise ImportError(MISSING_HINT.format(name="_jws_c")) from exc

__all__ = [
    "b64url_decode", "b64url_encode",
]

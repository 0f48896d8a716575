"""The one switch between compiled kernels and their pure-Python twins.

``SWFAST_NO_EXTENSIONS=1`` (any non-empty value other than ``0``) forces the twins, as
multidict's ``MULTIDICT_NO_EXTENSIONS`` does. PyPy always uses the twins.
"""
from __future__ import annotations

from ..config import no_extensions as _no_extensions
import sys

NO_EXTENSIONS: bool = _no_extensions() or (
    sys.implementation.name != "cpython"
)

MISSING_HINT = (
    "swfast's compiled kernel {name!r} is missing: build it (`pip install .` or "
    "`python setup.py build_ext --inplace`) or set SWFAST_NO_EXTENSIONS=1 to use the "
    "pure-Python twins"
)

__all__ = ["MISSING_HINT", "NO_EXTENSIONS"]

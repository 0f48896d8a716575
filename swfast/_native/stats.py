"""Selector for the statistics kernels: Numba (lazily compiled) or the NumPy twin.

``load("auto")`` picks Numba when it is installed and neither ``SWFAST_NO_EXTENSIONS`` nor
``SWFAST_NUMBA=0`` is set; importing this module never imports numba.
"""
from __future__ import annotations

import importlib.util
import os
from types import ModuleType

from ._compat import NO_EXTENSIONS

ENGINES = ("auto", "numba", "numpy")


def numba_available() -> bool:
    """Whether the Numba engine may be used (installed and not switched off)."""
    if NO_EXTENSIONS or os.environ.get("SWFAST_NUMBA", "1") in ("0", ""):
        return False
    return importlib.util.find_spec("numba") is not None


def load(engine: str = "auto") -> ModuleType:
    """Return the kernel module for ``engine`` (``"auto"``, ``"numba"`` or ``"numpy"``)."""
    if engine not in ENGINES:
        raise ValueError(f"engine: {engine!r} is not one of {ENGINES}")
    if engine == "numba" or (engine == "auto" and numba_available()):
        from . import _stats_numba

        return _stats_numba
    from . import _stats_py

    return _stats_py


__all__ = ["ENGINES", "load", "numba_available"]

"""Compiled kernels (``*_c.pyx``) beside their pure-Python twins (``*_py.py``).

Each kernel has a selector module (``lru.py``, ``metrics.py``, ...) that imports the twin under
``TYPE_CHECKING or NO_EXTENSIONS`` and the compiled module otherwise. Kernels hold data
structures and arithmetic only; policy lives in the features that use them.
"""
from ._compat import NO_EXTENSIONS

__all__ = ["NO_EXTENSIONS"]

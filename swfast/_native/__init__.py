"""Compiled kernels (``*_c.pyx``) beside their pure-Python twins (``*_py.py``).

Each kernel has a selector module (``lru.py``, ``metrics.py``, ...) that imports the twin under
``TYPE_CHECKING or NO_EXTENSIONS`` and the compiled module otherwise. Kernels hold data
structures and arithmetic only; policy lives in the features that use them. ``REASON`` says
why the twins are active (empty when the kernels are); see :mod:`swfast._native._compat`.
"""
from ._compat import NO_EXTENSIONS, REASON

__all__ = ["NO_EXTENSIONS", "REASON"]

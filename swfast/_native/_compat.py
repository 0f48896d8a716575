"""The one switch between compiled kernels and their pure-Python twins.

The twins are used when any of these holds (``REASON`` says which):

* ``SWFAST_NO_EXTENSIONS`` asks for them: any value except unset, empty, ``0``, ``false``,
  ``no`` or ``off`` (case-insensitive), as multidict's ``MULTIDICT_NO_EXTENSIONS``. The parser
  is :func:`swfast.config.no_extensions`, which ``setup.py`` loads too, so ``=0`` means
  "compiled" both when building and when running;
* the interpreter is not CPython (PyPy);
* this installation carries no compiled kernels (the ``SENTINEL`` kernel is absent): a
  pure-Python install, made when the build found no C compiler or no Cython (it warns then).
  No variable needs setting for it.

Otherwise every kernel must load: a missing or broken one raises ``ImportError`` with
``MISSING_HINT`` instead of silently falling back, so a half-built install is never mistaken
for a compiled one.
"""
from __future__ import annotations

import os
import sys
from importlib.machinery import EXTENSION_SUFFIXES

from ..config import no_extensions as _no_extensions

TYPE_CHECKING = False  # typing stays off the import path
if TYPE_CHECKING:
    from collections.abc import Mapping


def extensions_disabled(environ: Mapping[str, str] | None = None) -> bool:
    """True when ``SWFAST_NO_EXTENSIONS`` (in ``environ``, default the process environment) asks
    for the pure-Python twins; :func:`swfast.config.no_extensions` is the one parser."""
    return _no_extensions(environ)


#: The kernel whose presence marks a compiled install (a compiled build carries every kernel).
SENTINEL = "_lru_c"


def _compiled_kernels_present(directory: str = os.path.dirname(os.path.abspath(__file__))) -> bool:
    """True when ``directory`` holds the compiled sentinel kernel for this interpreter."""
    base = os.path.join(directory, SENTINEL)
    return any(os.path.exists(base + suffix) for suffix in EXTENSION_SUFFIXES)


def _reason() -> str:
    if extensions_disabled():
        return "SWFAST_NO_EXTENSIONS is set"
    if sys.implementation.name != "cpython":
        return f"{sys.implementation.name} uses the pure-Python twins"
    if not _compiled_kernels_present():
        return ("pure-Python install: no compiled kernels (no C compiler or Cython at build time, "
                "or not built yet)")
    return ""


#: Why the twins are active; empty when the compiled kernels are.
REASON: str = _reason()

#: True when the pure-Python twins are active (the selectors import them instead of kernels).
NO_EXTENSIONS: bool = bool(REASON)

MISSING_HINT = (
    "swfast's compiled kernel {name!r} is missing or broken while others are installed: rebuild "
    "(`pip install --force-reinstall .` or `python setup.py build_ext --inplace`), or set "
    "SWFAST_NO_EXTENSIONS=1 to use the pure-Python twins"
)

__all__ = ["MISSING_HINT", "NO_EXTENSIONS", "REASON", "extensions_disabled"]

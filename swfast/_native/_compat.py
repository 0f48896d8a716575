"""The one switch between compiled kernels and their pure-Python twins.

The twins are used when any of these holds (``REASON`` says which):

* ``SWFAST_NO_EXTENSIONS`` asks for them: any value except unset, empty, ``0``, ``false``,
  ``no`` or ``off`` (case-insensitive), as multidict's ``MULTIDICT_NO_EXTENSIONS``. ``setup.py``
  reads the variable through :func:`extensions_disabled` too, so ``=0`` means "compiled" both
  when building and when running;
* the interpreter is not CPython (PyPy);
* this installation carries no compiled kernel at all: a pure-Python install, made when the
  build found no C compiler or no Cython (it warns then). No variable needs setting for it.

Otherwise every kernel must load: a missing or broken one raises ``ImportError`` with
``MISSING_HINT`` instead of silently falling back, so a half-built install is never mistaken
for a compiled one.
"""
from __future__ import annotations

import os
import sys
from importlib.machinery import EXTENSION_SUFFIXES

TYPE_CHECKING = False  # typing stays off the import path
if TYPE_CHECKING:
    from collections.abc import Mapping

_OFF_VALUES = frozenset({"", "0", "false", "no", "off"})


def extensions_disabled(environ: Mapping[str, str] = os.environ) -> bool:
    """True when ``SWFAST_NO_EXTENSIONS`` in ``environ`` asks for the pure-Python twins."""
    return environ.get("SWFAST_NO_EXTENSIONS", "").strip().lower() not in _OFF_VALUES


def _compiled_kernels_present(directory: str = os.path.dirname(os.path.abspath(__file__))) -> bool:
    """True when ``directory`` holds at least one compiled ``*_c`` kernel for this interpreter."""
    try:
        names = os.listdir(directory)
    except OSError:  # pragma: no cover - zip imports and the like: let the selectors decide
        return True
    suffixes = tuple(f"_c{suffix}" for suffix in EXTENSION_SUFFIXES)
    return any(name.endswith(suffixes) for name in names)


def _reason() -> str:
    if extensions_disabled():
        return "SWFAST_NO_EXTENSIONS is set"
    if sys.implementation.name != "cpython":
        return f"{sys.implementation.name} uses the pure-Python twins"
    if not _compiled_kernels_present():
        return "pure-Python install (built without a C compiler or Cython)"
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

"""Lazy re-exports for subpackages: names load on first attribute access.

A subpackage lists ``{name: submodule}`` and gets module-level ``__getattr__`` and ``__dir__``
(PEP 562), so ``import swfast.security`` costs nothing until a name is used, and optional
dependencies imported inside submodules stay unloaded.
"""
from __future__ import annotations

import importlib

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable


def attach(package: str, exports: dict[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Return ``(__getattr__, __dir__)`` for ``package`` exporting ``exports`` lazily."""
    import sys

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f".{module}", package), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *exports})

    return __getattr__, __dir__


__all__ = ["attach"]

"""swfast: native-accelerated shared infrastructure for AI model code.

Importing ``swfast`` is cheap: subpackages load on first attribute access, and heavy optional
dependencies (numba, cupy, pynvml, redis, confluent_kafka, cryptography) load only inside the
features that need them.
"""
from __future__ import annotations

import importlib

from ._native._compat import NO_EXTENSIONS as _NO_EXTENSIONS

TYPE_CHECKING = False  # typing is not imported at run time: `import swfast` stays cheap

__version__ = "0.1.0"

#: True when the compiled kernels are active, False when the pure-Python twins are.
USE_EXTENSIONS: bool = not _NO_EXTENSIONS

_SUBPACKAGES = (
    "cache",
    "config",
    "errors",
    "logging",
    "messaging",
    "monitoring",
    "resilience",
    "resource_management",
    "security",
    "utils",
)

if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from . import cache as cache
    from . import config as config
    from . import errors as errors
    from . import monitoring as monitoring


def _present(name: str) -> bool:
    """True when subpackage/module ``name`` exists in this installation (nothing is imported)."""
    import os

    here = os.path.dirname(__file__)
    return os.path.isdir(os.path.join(here, name)) or os.path.isfile(os.path.join(here, name + ".py"))


def __getattr__(name: str) -> Any:
    if name in _SUBPACKAGES:
        try:
            module = importlib.import_module(f".{name}", __name__)
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise  # the subpackage exists; something it imports is missing: say what
            # not part of this installation: an AttributeError, so help()/pydoc/hasattr work
            raise AttributeError(f"module 'swfast' has no attribute {name!r} "
                                 f"(swfast.{name} is not installed)") from None
        globals()[name] = module
        return module
    raise AttributeError(f"module 'swfast' has no attribute {name!r}")


def __dir__() -> list[str]:
    """Module globals and the subpackages that exist (``help(swfast)`` imports each it lists)."""
    return sorted({*globals(), *(n for n in _SUBPACKAGES if _present(n))})


__all__ = ["USE_EXTENSIONS", "__version__"]

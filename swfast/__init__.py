"""swfast: native-accelerated shared infrastructure for AI model code.

Importing ``swfast`` is cheap: subpackages load on first attribute access, and heavy optional
dependencies (numba, cupy, pynvml, redis, confluent_kafka, cryptography) load only inside the
features that need them.
"""
from __future__ import annotations

import importlib
import logging as _logging

_logging.getLogger(__name__).addHandler(_logging.NullHandler())  # libraries never print by default

from ._native._compat import NO_EXTENSIONS as _NO_EXTENSIONS

TYPE_CHECKING = False  # typing is not imported at run time: `import swfast` stays cheap

__version__ = "0.1.0"

#: True when the compiled kernels are active, False when the pure-Python twins are.
USE_EXTENSIONS: bool = not _NO_EXTENSIONS

_SUBPACKAGES = (
    "cache",
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

    from . import cache, errors, monitoring


def __getattr__(name: str) -> Any:
    if name in _SUBPACKAGES:
        module = importlib.import_module(f".{name}", __name__)
        globals()[name] = module
        return module
    raise AttributeError(f"module 'swfast' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_SUBPACKAGES])


__all__ = ["USE_EXTENSIONS", "__version__"]

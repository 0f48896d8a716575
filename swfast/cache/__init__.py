"""The tiered cache. L1 (in-process, compiled LRU+TTL) and the ``cached`` decorator.

Names load on first access, so ``import swfast.cache`` stays cheap and never imports redis.
"""
from __future__ import annotations

import importlib

TYPE_CHECKING = False

_EXPORTS = {
    "CacheStats": "l1",
    "L1Cache": "l1",
    "cached": "decorators",
    "make_key": "decorators",
}

if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from .decorators import cached as cached
    from .decorators import make_key as make_key
    from .l1 import CacheStats as CacheStats
    from .l1 import L1Cache as L1Cache


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'swfast.cache' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


__all__ = sorted(_EXPORTS)

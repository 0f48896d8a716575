"""Optional dependencies: import them lazily, and name the extra to install when one is missing.

``require("confluent_kafka", "kafka")`` returns the module, or raises
:class:`MissingDependency` (an ``ImportError``) saying ``pip install "swfast[kafka]"`` instead of
a bare ``ModuleNotFoundError``. Any component can use it::

    redis = require("redis", "redis", feature="the Redis L2 tier")
"""
from __future__ import annotations

import importlib
from types import ModuleType


class MissingDependency(ImportError):
    """An optional dependency is not installed; the message names the extra that provides it."""

    def __init__(self, module: str, extra: str, feature: str | None = None) -> None:
        what = f" for {feature}" if feature else ""
        super().__init__(f"{module!r} is required{what} but is not installed: "
                         f'pip install "swfast[{extra}]"', name=module)
        self.module = module
        self.extra = extra


def require(module: str, extra: str, *, feature: str | None = None) -> ModuleType:
    """Import ``module`` or raise :class:`MissingDependency` naming ``swfast[extra]``."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        top = module.partition(".")[0]
        if exc.name is not None and exc.name.partition(".")[0] != top:
            raise  # the package is there but one of *its* imports is broken: show that
        raise MissingDependency(module, extra, feature) from None


__all__ = ["MissingDependency", "require"]

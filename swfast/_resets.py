"""Reset hooks for explicit process-wide state (formerly ``swfast._testing``).

Features with process-wide state (a testing switch, a lazily created singleton) register a
reset callable with :func:`register_reset` at import; :func:`reset_all` runs them all (the test
suite's autouse fixture calls it after every test). Production modules import this one, so it
holds no test-only code.
"""
from __future__ import annotations

from typing import Callable

_RESETS: list[Callable[[], None]] = []


def register_reset(fn: Callable[[], None]) -> Callable[[], None]:
    """Register ``fn`` to run at :func:`reset_all`; usable as a decorator."""
    _RESETS.append(fn)
    return fn


def reset_all() -> None:
    """Run every registered reset."""
    for fn in list(_RESETS):
        fn()


__all__ = ["register_reset", "reset_all"]

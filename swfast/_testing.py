"""Test support: reset hooks for explicit global state.

Features with process-wide state (a testing switch, a lazily created singleton) register a
reset callable with :func:`register_reset`; the test suite's autouse fixture calls
:func:`reset_all` after every test.
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

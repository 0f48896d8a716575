"""Pure-Python twin of ``_attempt_c.pyx``: the first attempt of a retried call.

``FirstAttempt(fn, on_failure, var, first)`` calls ``fn(*args, **kwargs)``; on success it makes
sure the context variable ``var`` holds ``first`` (writing only when it does not) and returns
the result; on any exception it returns ``on_failure(exc, args, kwargs)``. It binds as a method
as a function does and has a ``__dict__`` (for :func:`functools.update_wrapper`).
"""
from __future__ import annotations

from contextvars import ContextVar
from types import MethodType
from typing import Any, Callable


class FirstAttempt:
    """``fn`` with its first attempt inline; failures go to ``on_failure``."""

    __slots__ = ("_fn", "_on_failure", "_var", "_first", "__dict__", "__weakref__")

    def __init__(self, fn: Callable[..., Any], on_failure: Callable[[BaseException, tuple[Any, ...], dict[str, Any]], Any],
                 var: ContextVar[Any], first: object) -> None:
        if not callable(fn) or not callable(on_failure):
            raise TypeError("fn and on_failure must be callable")
        self._fn = fn
        self._on_failure = on_failure
        self._var = var
        self._first = first

    @property
    def fn(self) -> Callable[..., Any]:
        return self._fn

    def __call__(self, /, *args: Any, **kwargs: Any) -> Any:
        try:
            result = self._fn(*args, **kwargs)
        except BaseException as exc:
            return self._on_failure(exc, args, kwargs)
        if self._var.get(None) is not self._first:
            self._var.set(self._first)
        return result

    def __get__(self, obj: object, objtype: type | None = None) -> Any:
        if obj is None:
            return self
        return MethodType(self, obj)

    def __repr__(self) -> str:
        return f"<retried {self._fn!r}>"


__all__ = ["FirstAttempt"]

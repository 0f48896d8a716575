"""``TieredCache.cached``: memoize sync and async functions through the tiered cache.

Keys come from a template formatted with the call's bound arguments (``"user:{user_id}"``), a
callable taking the same arguments, or by default the function's qualified name plus the
``repr`` of its arguments. TTLs are seconds, a ``timedelta`` or a string such as ``"2h5m"``.
Concurrent misses share one call (the manager's single flight); exceptions are not cached;
an async function's result is awaited before storing, so a coroutine is never cached.
"""
from __future__ import annotations

import functools
import inspect
from datetime import timedelta
from typing import Any, Callable, ParamSpec, TypeVar

from .policy import parse_ttl

P = ParamSpec("P")
R = TypeVar("R")


def cached_over(manager: Any, *, key: str | Callable[..., str] | None = None,
                ttl: float | str | timedelta | None = None) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorator factory used by :meth:`TieredCache.cached`.

    Raises:
        ValueError: ``ttl`` cannot be parsed, or (at call time) the key template names an
            argument the function does not have.
    """
    seconds = parse_ttl(ttl)

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        sig = inspect.signature(func)
        name = f"{func.__module__}.{func.__qualname__}"

        def make_key(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
            if callable(key):
                return key(*args, **kwargs)
            bound = sig.bind(*args, **kwargs)
            bound.apply_defaults()
            if key is None:
                return f"{name}:{tuple(bound.arguments.values())!r}"
            try:
                return key.format(**bound.arguments)
            except (KeyError, IndexError) as exc:
                raise ValueError(f"key: template {key!r} names {exc} which {name} does not take") from None

        if inspect.iscoroutinefunction(func):
            @functools.wraps(func)
            async def awrapper(*args: Any, **kwargs: Any) -> Any:
                return await manager.asmart_get(make_key(args, kwargs), lambda: func(*args, **kwargs), ttl=seconds)

            return awrapper  # type: ignore[return-value]

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return manager.smart_get(make_key(args, kwargs), lambda: func(*args, **kwargs), ttl=seconds)

        return wrapper

    return decorate


__all__ = ["cached_over"]

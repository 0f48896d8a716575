"""Sans-I/O L2 steps and their two drivers (the tenacity ``iter()`` idea, for Redis calls).

A step is a generator that yields effects, ``(method, args, kwargs)`` tuples naming a redis-py
client method, and receives each call's result; its return value is the step's result. The
same generator runs synchronously (:func:`run`) or on an asyncio client (:func:`arun`), so
the policy is written once. A client error propagates out of the driver to the caller, who
counts it like any other node failure.
"""
from __future__ import annotations

from typing import Any, Generator, TypeVar

T = TypeVar("T")
Effect = tuple[str, tuple[Any, ...], dict[str, Any]]
Step = Generator[Effect, Any, T]


def call(method: str, *args: Any, **kwargs: Any) -> Effect:
    """The effect "call ``client.method(*args, **kwargs)``"."""
    return method, args, kwargs


def run(client: Any, step: Step[T]) -> T:
    """Drive ``step`` with a sync redis-py client."""
    try:
        method, args, kwargs = next(step)
        while True:
            method, args, kwargs = step.send(getattr(client, method)(*args, **kwargs))
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


async def arun(client: Any, step: Step[T]) -> T:
    """Drive ``step`` with a ``redis.asyncio`` client."""
    try:
        method, args, kwargs = next(step)
        while True:
            method, args, kwargs = step.send(await getattr(client, method)(*args, **kwargs))
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


__all__ = ["Effect", "Step", "arun", "call", "run"]

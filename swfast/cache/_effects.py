"""Sans-I/O L2 operations and their two drivers (the tenacity ``iter()`` idea, for Redis calls).

An operation is a generator that yields effects and receives each effect's result, or has the
effect's exception thrown in at the ``yield`` (so the generator alone decides what a failure
means: a miss, a dirty key, a counted error); its return value is the operation's result. An
effect is ``(node, op, args, kwargs)``: call ``op`` on ``node``'s client, where ``op`` is a
redis-py method name or an :class:`Op` with distinct sync and asyncio forms. Every call goes
through the node's circuit breaker (``node.breaker.call``/``acall``), so a node the breaker
has opened raises :class:`~swfast.errors.CircuitOpenError` into the generator without I/O.

The same generator runs synchronously (:func:`run`) or on asyncio clients (:func:`arun`), so
every policy is written once. Exceptions outside ``Exception`` (cancellation,
``KeyboardInterrupt``) are not thrown in: they leave the driver at once.
"""
from __future__ import annotations

from asyncio import get_running_loop
from typing import Any, Awaitable, Callable, Generator, TypeVar

T = TypeVar("T")
Effect = tuple[Any, Any, tuple[Any, ...], dict[str, Any]]
Step = Generator[Effect, Any, T]
NOKW: dict[str, Any] = {}


class Op:
    """A client operation beyond one method: ``sync(node, client, *args)``, which on an asyncio
    client returns the awaitable to await, unless a distinct coroutine function ``aio`` is given."""

    __slots__ = ("name", "sync", "aio")

    def __init__(self, name: str, sync: Callable[..., Any], aio: Callable[..., Awaitable[Any]] | None = None) -> None:
        self.name, self.sync, self.aio = name, sync, aio if aio is not None else sync

    def __repr__(self) -> str:
        return f"Op({self.name})"


def run(step: Step[T]) -> T:
    """Drive ``step`` with each node's sync client (opened on first use)."""
    send = step.send
    try:
        node, op, args, kwargs = next(step)
        while True:
            try:
                client = node.client
                if client is None:
                    client = node.open(False)
                if op.__class__ is str:
                    value = node.breaker.call(getattr(client, op), *args, **kwargs)
                else:
                    value = node.breaker.call(op.sync, node, client, *args, **kwargs)
            except Exception as exc:
                node, op, args, kwargs = step.throw(exc)
                continue
            node, op, args, kwargs = send(value)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


async def arun(step: Step[T]) -> T:
    """Drive ``step`` with each node's ``redis.asyncio`` client (opened on first use)."""
    send, loop = step.send, get_running_loop()
    try:
        node, op, args, kwargs = next(step)
        while True:
            try:
                client = node.aclient
                if client is None or (node.aloop is not loop and node.aloop is not None):
                    client = node.open(True)  # asyncio connections belong to the loop that made them
                if op.__class__ is str:
                    value = await node.breaker.acall(getattr(client, op), *args, **kwargs)
                else:
                    value = await node.breaker.acall(op.aio, node, client, *args, **kwargs)
            except Exception as exc:
                node, op, args, kwargs = step.throw(exc)
                continue
            node, op, args, kwargs = send(value)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


__all__ = ["NOKW", "Effect", "Op", "Step", "arun", "run"]

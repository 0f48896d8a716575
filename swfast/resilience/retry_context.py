"""The iterator form of retrying (stamina's ``retry_context``): two thin drivers of the core.

Example:
    >>> from swfast.resilience.retry import retry_context
    >>> for attempt in retry_context(on=ValueError, attempts=3):
    ...     with attempt:
    ...         result = int("42")
    >>> result
    42

``async for attempt in retry_context(...)`` works the same in coroutines (``with attempt`` or
``async with attempt``). Each ``Attempt`` swallows a retryable error so the loop can go on; the
iterator hands it to the sans-I/O core (:mod:`swfast.resilience._retry_core`), performs the
sleep it asks for and yields the next attempt, or raises what the core says to raise. This
module imports the core only (never :mod:`swfast.resilience.retry`, which imports it).
"""
from __future__ import annotations

from types import TracebackType
from typing import AsyncIterator, Iterator

from . import _retry_core as core


class Attempt:
    """One attempt: a context manager (sync and async). ``num`` is 1-based."""

    __slots__ = ("num", "_policy", "error", "done")

    def __init__(self, num: int, policy: core.Policy) -> None:
        self.num = num
        self._policy = policy
        self.error: BaseException | None = None
        self.done = False

    def __enter__(self) -> "Attempt":
        return self

    def __exit__(self, et: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> bool:
        if exc is None:
            self.done = True
            return False
        if not self._policy.retryable(exc):
            self.done = True
            return False
        self.error = exc
        return True

    async def __aenter__(self) -> "Attempt":
        return self

    async def __aexit__(self, et: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> bool:
        return self.__exit__(et, exc, tb)


class RetryContext:
    """Iterate to get :class:`Attempt` objects until one succeeds or the policy gives up."""

    def __init__(self, policy: core.Policy) -> None:
        self.policy = policy

    def __iter__(self) -> Iterator[Attempt]:
        policy = self.policy
        if policy.budget is not None:
            policy.budget.deposit()
        attempt = Attempt(1, policy)
        yield attempt
        if attempt.error is None:
            core.LAST.set(core.FIRST_TRY)
            return
        steps = core.steps(policy, attempt.error)
        effect = core.advance(steps, None)
        while True:
            if effect is core.ATTEMPT:
                attempt = Attempt(attempt.num + 1, policy)
                yield attempt
                effect = core.advance(steps, attempt.error)
            elif type(effect) is core.Sleep:
                policy.sleep(effect.delay)
                effect = core.advance(steps, None)
            elif type(effect) is core.Hook:
                core.skip_hook(policy, effect)
                effect = core.advance(steps, None)
            else:
                error = core.stop_error(effect)
                if error is None:
                    return
                raise error

    async def __aiter__(self) -> AsyncIterator[Attempt]:
        policy = self.policy
        if policy.budget is not None:
            policy.budget.deposit()
        attempt = Attempt(1, policy)
        yield attempt
        if attempt.error is None:
            core.LAST.set(core.FIRST_TRY)
            return
        steps = core.steps(policy, attempt.error)
        effect = core.advance(steps, None)
        while True:
            if effect is core.ATTEMPT:
                attempt = Attempt(attempt.num + 1, policy)
                yield attempt
                effect = core.advance(steps, attempt.error)
            elif type(effect) is core.Sleep:
                await policy.asleep(effect.delay)
                effect = core.advance(steps, None)
            elif type(effect) is core.Hook:
                await core.run_hook(policy, effect)
                effect = core.advance(steps, None)
            else:
                error = core.stop_error(effect)
                if error is None:
                    return
                raise error


__all__ = ["Attempt", "RetryContext"]

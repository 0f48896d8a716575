"""The iterator form of retrying (stamina's ``retry_context``).

Example:
    >>> from swfast.resilience.retry import retry_context
    >>> for attempt in retry_context(on=ValueError, attempts=3):
    ...     with attempt:
    ...         result = int("42")
    >>> result
    42

``async for attempt in retry_context(...)`` works the same in coroutines (``with attempt`` or
``async with attempt``). Each ``Attempt`` swallows a retryable error so the loop can go on; the
iterator then sleeps and yields the next attempt, or raises as :class:`Retrying` would.
"""
from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Any, AsyncIterator, Iterator

if TYPE_CHECKING:
    from .retry import Retrying


class Attempt:
    """One attempt: a context manager (sync and async). ``num`` is 1-based."""

    __slots__ = ("num", "_policy", "error", "done")

    def __init__(self, num: int, policy: "Retrying") -> None:
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

    def __init__(self, policy: "Retrying") -> None:
        self.policy = policy

    def __iter__(self) -> Iterator[Attempt]:
        from .retry import _Run

        if self.policy.budget is not None:
            self.policy.budget.deposit()
        run: _Run | None = None
        num = 1
        while True:
            attempt = Attempt(num, self.policy)
            yield attempt
            if attempt.error is None:
                (run.finish(None) if run is not None else _first())
                return
            run = run or _Run(self.policy)
            self.policy.sleep(run.wait_sync(attempt.error))
            num += 1

    async def __aiter__(self) -> AsyncIterator[Attempt]:
        from .retry import _Run

        if self.policy.budget is not None:
            self.policy.budget.deposit()
        run: _Run | None = None
        num = 1
        while True:
            attempt = Attempt(num, self.policy)
            yield attempt
            if attempt.error is None:
                (run.finish(None) if run is not None else _first())
                return
            run = run or _Run(self.policy)
            await self.policy.asleep(await run.wait_async(attempt.error))
            num += 1


def _first() -> None:
    from .retry import _FIRST_TRY, _LAST

    _LAST.set(_FIRST_TRY)


def retry_context(*, on: Any, **options: Any) -> RetryContext:
    """A :class:`RetryContext` for a new :class:`~swfast.resilience.retry.Retrying` policy."""
    from .retry import Retrying

    return RetryContext(Retrying(on=on, **options))


__all__ = ["Attempt", "RetryContext", "retry_context"]

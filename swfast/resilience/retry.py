"""Retries with backoff, attempt and time limits, budgets and a global testing switch.

Three forms share one policy, :class:`Retrying`, and one sans-I/O core
(:mod:`swfast.resilience._retry_core`, which makes every decision after a failure and yields
sleeps and attempts as effects) with thin sync and async drivers:

* ``policy.attempt_retry(fn, *args, **kwargs)`` / ``await policy.aattempt_retry(...)``
  (and the module-level :func:`attempt_retry` with default settings);
* the :func:`retry` decorator (sync or async, types preserved through ``ParamSpec``);
* the :func:`retry_context` iterator: ``for attempt in retry_context(on=OSError): with attempt: ...``
  (``async for`` as well).

Only the exceptions listed in ``on`` are retried; ``CancelledError``, ``KeyboardInterrupt``,
``SystemExit`` and :class:`~swfast.errors.CircuitOpenError` never are. Retrying stops after
``attempts`` attempts or once the next sleep would pass ``timeout`` seconds (measured from the
first failure; default :data:`DEFAULT_OPERATION_TIMEOUT`), then raises
:class:`~swfast.errors.RetryError` chained to the last error (or re-raises it with
``reraise=True``). With a ``breaker``, an open breaker stops the loop at once, without sleeping.
With a :class:`~swfast.resilience.budget.RetryBudget`, an exhausted budget re-raises the
original error immediately. :func:`track_attempts` returns the statistics of the last call in
the current thread or task. :func:`set_testing` makes every retry sleep zero seconds and caps
attempts; :func:`set_active` turns retrying off.

The successful path costs one ``try`` and one context-variable read over the bare call (the
write that resets :func:`track_attempts` to "first try" happens only when it changes the value).
"""
from __future__ import annotations

import functools
import inspect
import time
from typing import Any, Awaitable, Callable, ParamSpec, TypeVar, Union

from .. import _resets
from .._native import attempt as _attempt
from ..errors import CircuitOpenError, ConfigurationError
from . import _aio
from ._retry_core import FIRST_TRY as _FIRST_TRY
from ._retry_core import LAST as _LAST
from ._retry_core import SWITCH as _SWITCH
from ._retry_core import AttemptStats, run_async, run_sync
from .._durations import Duration
from ._validate import count, duration_non_negative, non_negative
from .backoff import BackoffStrategy, FullJitterBackoff
from .budget import RetryBudget
from .retry_context import Attempt, RetryContext

P = ParamSpec("P")
R = TypeVar("R")

#: Default total-time budget of a retried operation, in seconds: the one constant (30 s) of
#: :mod:`swfast.config`, shared with messaging.
from ..config import DEFAULT_OPERATION_TIMEOUT  # noqa: E402

RetryOn = Union[type[BaseException], tuple[type[BaseException], ...], Callable[[BaseException], bool]]
_NEVER = (KeyboardInterrupt, SystemExit, GeneratorExit, CircuitOpenError)  # and asyncio.CancelledError


def set_active(active: bool) -> None:
    """Turn retrying on or off process-wide (off: every error propagates at once)."""
    _SWITCH.active = bool(active)


def set_testing(testing: bool, *, attempts: int = 1) -> None:
    """Testing mode: zero-second sleeps and at most ``attempts`` attempts per call."""
    _SWITCH.testing = bool(testing)
    _SWITCH.testing_attempts = count("attempts", attempts)


def is_testing() -> bool:
    """Whether :func:`set_testing` is on."""
    return _SWITCH.testing


@_resets.register_reset
def _reset() -> None:
    _SWITCH.active, _SWITCH.testing, _SWITCH.testing_attempts = True, False, 1


def track_attempts() -> AttemptStats | None:
    """Statistics of the last retried call made in this thread or asyncio task."""
    return _LAST.get()


class Retrying:
    """A retry policy; callable as a decorator.

    Args:
        on: exception type(s) to retry, or a predicate on the exception. Required: there
            is no safe default.
        attempts: total attempts including the first (``>= 1``).
        timeout: total-time budget from the first failure (``>= 0``): float seconds, a
            ``timedelta`` or a string such as ``"30s"``.
        backoff: a :class:`~swfast.resilience.backoff.BackoffStrategy`; default full jitter
            from 0.1 s doubling to 5 s.
        reraise: re-raise the last error instead of :class:`~swfast.errors.RetryError`.
        budget: an optional shared :class:`RetryBudget`.
        breaker: an optional :class:`~swfast.resilience.CircuitBreaker` whose opening stops
            the loop (calls are not routed through it: decorate with both for that).
        name: label for logs and metrics.
        on_retry: optional hook ``(attempt, delay, error)`` called before each sleep; may be
            a coroutine function for async callers. Its exceptions are logged, never raised.
        sleep, asleep, clock: injectable for tests.
    """

    def __init__(self, *, on: RetryOn, attempts: int = 10, timeout: Duration = DEFAULT_OPERATION_TIMEOUT,
                 backoff: BackoffStrategy | None = None, reraise: bool = False,
                 budget: RetryBudget | None = None, breaker: Any = None, name: str = "retry",
                 on_retry: Callable[[int, float, BaseException], object] | None = None,
                 sleep: Callable[[float], object] = time.sleep,
                 asleep: Callable[[float], Awaitable[object]] = _aio.asleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if isinstance(on, type) and issubclass(on, BaseException):
            self._types: tuple[type[BaseException], ...] = (on,)
            self._pred: Callable[[BaseException], bool] | None = None
        elif isinstance(on, tuple) and on and all(isinstance(t, type) and issubclass(t, BaseException) for t in on):
            self._types, self._pred = on, None
        elif callable(on):
            self._types, self._pred = (), on  # type: ignore[assignment]
        else:
            raise ConfigurationError("on", f"must be an exception type, a tuple of them or a predicate, got {on!r}")
        self.attempts = count("attempts", attempts)
        self.timeout = duration_non_negative("timeout", timeout, allow_inf=True)
        if backoff is not None and not isinstance(backoff, BackoffStrategy):
            raise ConfigurationError("backoff", f"must have calculate_delay/next_delay, got {type(backoff).__name__}")
        self.backoff: BackoffStrategy = backoff if backoff is not None else FullJitterBackoff()
        self.reraise = bool(reraise)
        self.budget = budget
        self.breaker = breaker
        self.name = name
        self.on_retry = on_retry
        self.sleep, self.asleep, self.clock = sleep, asleep, clock

    def retryable(self, exc: BaseException) -> bool:
        """Whether ``exc`` may be retried under this policy."""
        if isinstance(exc, _NEVER) or _aio.is_cancelled(exc):
            return False
        if self._pred is not None:
            return bool(self._pred(exc))
        return isinstance(exc, self._types)

    def calculate_delay(self, attempt: int) -> float:
        """The backoff before retry ``attempt`` (zero in testing mode)."""
        return 0.0 if _SWITCH.testing else float(self.backoff.calculate_delay(attempt))

    track_attempts = staticmethod(track_attempts)

    def attempt_retry(self, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
        """Call ``fn`` until it succeeds or the policy gives up."""
        if self.budget is not None:
            self.budget.deposit()
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            return run_sync(self, self.sleep, exc, fn, args, kwargs)
        if _LAST.get() is not _FIRST_TRY:  # a read is ~4x cheaper than a write (a Token each)
            _LAST.set(_FIRST_TRY)
        return result

    async def aattempt_retry(self, fn: Callable[P, Awaitable[R]], /, *args: P.args, **kwargs: P.kwargs) -> R:
        """Await ``fn`` until it succeeds or the policy gives up."""
        if self.budget is not None:
            self.budget.deposit()
        try:
            result = await fn(*args, **kwargs)
        except BaseException as exc:
            return await run_async(self, self.asleep, exc, fn, args, kwargs)
        if _LAST.get() is not _FIRST_TRY:  # a read is ~4x cheaper than a write (a Token each)
            _LAST.set(_FIRST_TRY)
        return result

    def __call__(self, fn: Callable[P, R]) -> Callable[P, R]:
        """Decorate ``fn`` (sync or async) so each call is retried under this policy."""
        wrapped: Any
        if inspect.iscoroutinefunction(fn):
            aretry = self.aattempt_retry

            @functools.wraps(fn)
            async def awrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
                return await aretry(fn, *args, **kwargs)

            wrapped = awrapper
        elif self.budget is None:
            # The first attempt is compiled (_native.attempt); the core runs only after a failure.
            sleep = self.sleep

            def on_failure(exc: BaseException, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
                return run_sync(self, sleep, exc, fn, args, kwargs)

            wrapped = functools.update_wrapper(_attempt.FirstAttempt(fn, on_failure, _LAST, _FIRST_TRY), fn)
        else:
            @functools.wraps(fn)
            def bwrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
                return self.attempt_retry(fn, *args, **kwargs)

            wrapped = bwrapper
        wrapped.retry_policy = self
        wrapped.track_attempts = track_attempts
        return wrapped  # type: ignore[no-any-return]

    def context(self) -> "RetryContext":
        """A :class:`RetryContext` iterator under this policy."""
        return RetryContext(self)


def retry(*, on: RetryOn, **options: Any) -> Retrying:
    """Decorator factory: ``@retry(on=OSError, attempts=5, timeout=10)`` (see :class:`Retrying`)."""
    return Retrying(on=on, **options)


_DEFAULT = Retrying(on=Exception, name="attempt_retry")


def attempt_retry(fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
    """Retry ``fn(*args, **kwargs)`` on any ``Exception`` with the default policy."""
    return _DEFAULT.attempt_retry(fn, *args, **kwargs)


async def aattempt_retry(fn: Callable[P, Awaitable[R]], /, *args: P.args, **kwargs: P.kwargs) -> R:
    """Async :func:`attempt_retry`."""
    return await _DEFAULT.aattempt_retry(fn, *args, **kwargs)


def calculate_delay(attempt: int) -> float:
    """Delay of the default policy's backoff before retry ``attempt``."""
    return _DEFAULT.calculate_delay(attempt)


def retry_context(*, on: RetryOn, **options: Any) -> RetryContext:
    """A :class:`RetryContext` for a new :class:`Retrying` policy (see :mod:`.retry_context`)."""
    return RetryContext(Retrying(on=on, **options))

__all__ = [
    "DEFAULT_OPERATION_TIMEOUT", "Attempt", "AttemptStats", "RetryContext", "Retrying",
    "aattempt_retry", "attempt_retry", "calculate_delay", "is_testing", "retry", "retry_context",
    "set_active", "set_testing", "track_attempts",
]

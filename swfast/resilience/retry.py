"""Retries with backoff, attempt and time limits, budgets and a global testing switch.

Three forms share one engine, :class:`Retrying`:

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

The successful path costs one ``try`` and one context-variable write over the bare call.
"""
from __future__ import annotations

import contextvars
import functools
import inspect
import logging
import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, ParamSpec, TypeVar, Union

from .. import _resets
from ..errors import CircuitOpenError, ConfigurationError, RetryError
from ..monitoring.metrics import REGISTRY
from . import _aio
from ._validate import count, non_negative
from .backoff import BackoffStrategy, FullJitterBackoff
from .budget import RetryBudget
from .history import CircuitState

P = ParamSpec("P")
R = TypeVar("R")
log = logging.getLogger("swfast.resilience")

#: Default total-time budget of a retried operation, in seconds (the messaging default).
DEFAULT_OPERATION_TIMEOUT = 30.0

RetryOn = Union[type[BaseException], tuple[type[BaseException], ...], Callable[[BaseException], bool]]
_NEVER = (KeyboardInterrupt, SystemExit, GeneratorExit, CircuitOpenError)  # and asyncio.CancelledError
_OPEN = (CircuitState.OPEN, CircuitState.FORCED_OPEN)

_RETRIES = REGISTRY.counter("swfast_resilience_retry_retries_total", "Retries performed.", ("name",))
_GIVEUPS = REGISTRY.counter("swfast_resilience_retry_giveups_total",
                            "Retried operations that gave up, by reason.", ("name", "reason"))


@dataclass(frozen=True, slots=True)
class AttemptStats:
    """Statistics of one retried call.

    Attributes:
        attempts: attempts made (1 when the first one succeeded).
        total_delay: seconds slept between attempts.
        last_error: the last attempt's exception, or None when it succeeded.
    """

    attempts: int
    total_delay: float
    last_error: BaseException | None


_FIRST_TRY = AttemptStats(1, 0.0, None)
_LAST: contextvars.ContextVar[AttemptStats | None] = contextvars.ContextVar("swfast_retry_stats", default=None)


class _Switch:
    active = True
    testing = False
    testing_attempts = 1


_SWITCH = _Switch()


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


class _Run:
    """Per-call retry state: decides, after each failure, whether and how long to wait."""

    __slots__ = ("policy", "attempts", "total_delay", "prev", "started", "max_attempts", "pending")

    def __init__(self, policy: "Retrying") -> None:
        self.policy = policy
        self.attempts = 1
        self.total_delay = 0.0
        self.prev = 0.0
        self.started = policy.clock()
        self.max_attempts = min(policy.attempts, _SWITCH.testing_attempts) if _SWITCH.testing else policy.attempts
        self.pending: Awaitable[object] | None = None

    def next_wait(self, exc: BaseException) -> float:
        """Seconds to sleep before the next attempt; raises when retrying must stop."""
        p = self.policy
        if not p.retryable(exc) or not _SWITCH.active:
            self.finish(exc)
            raise exc
        reason = ""
        delay = 0.0
        if self.attempts >= self.max_attempts:
            reason = "attempts"
        else:
            delay = 0.0 if _SWITCH.testing else float(p.backoff.next_delay(self.attempts, self.prev))
            if p.clock() - self.started + delay > p.timeout:
                reason = "timeout"
            elif p.breaker is not None and p.breaker.check_state() in _OPEN:
                self.finish(exc)
                _GIVEUPS.labels(p.name, "breaker_open").inc()
                raise CircuitOpenError(p.breaker.name, p.breaker.remaining_wait()) from exc
            elif p.budget is not None and not p.budget.try_withdraw():
                self.finish(exc)
                _GIVEUPS.labels(p.name, "budget").inc()
                raise exc
        if reason:
            self.finish(exc)
            _GIVEUPS.labels(p.name, reason).inc()
            if p.reraise:
                raise exc
            raise RetryError(f"{p.name}: gave up after {self.attempts} attempts ({reason}): {exc!r}",
                             attempts=self.attempts, last_error=exc) from exc
        self.prev = delay
        self.total_delay += delay
        self.attempts += 1
        _RETRIES.labels(p.name).inc()
        log.info("%s: attempt %d failed with %r; retrying in %.3fs", p.name, self.attempts - 1, exc, delay)
        if p.on_retry is not None:
            try:
                outcome = p.on_retry(self.attempts - 1, delay, exc)
                if inspect.isawaitable(outcome):
                    self.pending = outcome
            except Exception:
                log.exception("%s: on_retry hook failed", p.name)
        return delay

    def wait_sync(self, exc: BaseException) -> float:
        """:meth:`next_wait` for sync callers (an async hook cannot run here: it is closed)."""
        delay = self.next_wait(exc)
        if self.pending is not None:
            pending, self.pending = self.pending, None
            close = getattr(pending, "close", None)
            if close is not None:
                close()
            log.warning("%s: on_retry returned an awaitable in a sync retry; it was not run", self.policy.name)
        return delay

    async def wait_async(self, exc: BaseException) -> float:
        """:meth:`next_wait` for async callers; awaits an async ``on_retry`` hook."""
        delay = self.next_wait(exc)
        if self.pending is not None:
            pending, self.pending = self.pending, None
            try:
                await pending
            except Exception:
                log.exception("%s: on_retry hook failed", self.policy.name)
        return delay

    def finish(self, exc: BaseException | None) -> None:
        _LAST.set(AttemptStats(self.attempts, self.total_delay, exc))


class Retrying:
    """A retry policy; callable as a decorator.

    Args:
        on: exception type(s) to retry, or a predicate on the exception. Required: there
            is no safe default.
        attempts: total attempts including the first (``>= 1``).
        timeout: total-time budget in seconds from the first failure (``>= 0``).
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

    def __init__(self, *, on: RetryOn, attempts: int = 10, timeout: float = DEFAULT_OPERATION_TIMEOUT,
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
        self.timeout = non_negative("timeout", timeout, allow_inf=True)
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
            run = _Run(self)
            while True:
                self.sleep(run.wait_sync(exc))
                try:
                    result = fn(*args, **kwargs)
                except BaseException as again:
                    exc = again
                    continue
                run.finish(None)
                return result
        _LAST.set(_FIRST_TRY)
        return result

    async def aattempt_retry(self, fn: Callable[P, Awaitable[R]], /, *args: P.args, **kwargs: P.kwargs) -> R:
        """Await ``fn`` until it succeeds or the policy gives up."""
        if self.budget is not None:
            self.budget.deposit()
        try:
            result = await fn(*args, **kwargs)
        except BaseException as exc:
            run = _Run(self)
            while True:
                await self.asleep(await run.wait_async(exc))
                try:
                    result = await fn(*args, **kwargs)
                except BaseException as again:
                    exc = again
                    continue
                run.finish(None)
                return result
        _LAST.set(_FIRST_TRY)
        return result

    def __call__(self, fn: Callable[P, R]) -> Callable[P, R]:
        """Decorate ``fn`` (sync or async) so each call is retried under this policy."""
        if inspect.iscoroutinefunction(fn):
            aretry = self.aattempt_retry

            @functools.wraps(fn)
            async def awrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
                return await aretry(fn, *args, **kwargs)

            wrapped: Any = awrapper
        elif self.budget is None:
            sleep, last, first = self.sleep, _LAST, _FIRST_TRY

            @functools.wraps(fn)
            def wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
                try:
                    result = fn(*args, **kwargs)
                except BaseException as exc:
                    run = _Run(self)
                    while True:
                        sleep(run.wait_sync(exc))
                        try:
                            result = fn(*args, **kwargs)
                        except BaseException as again:
                            exc = again
                            continue
                        run.finish(None)
                        return result
                last.set(first)
                return result

            wrapped = wrapper
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


from .retry_context import Attempt, RetryContext, retry_context  # noqa: E402

__all__ = [
    "DEFAULT_OPERATION_TIMEOUT", "Attempt", "AttemptStats", "RetryContext", "Retrying",
    "aattempt_retry", "attempt_retry", "calculate_delay", "is_testing", "retry", "retry_context",
    "set_active", "set_testing", "track_attempts",
]

"""The sans-I/O retry core: every decision of a retried call, written once.

As tenacity's ``BaseRetrying.iter()`` drives ``Retrying`` and ``AsyncRetrying``, :func:`steps`
is a generator that makes the decisions after a failed first attempt and *yields effects*
instead of doing I/O: :class:`Sleep` (sleep ``delay`` seconds), :class:`Hook` (an awaitable
returned by an async ``on_retry`` hook: await it, or close it in a sync caller) and
:data:`ATTEMPT` (run the next attempt, then ``send`` its exception, or ``None`` when it
succeeded); when it is done the drivers get :class:`Stop` with the exception to raise
(:class:`~swfast.errors.RetryError`, the last error with ``reraise``, or
:class:`~swfast.errors.CircuitOpenError`; ``None`` after a success). The thin drivers, :func:`run_sync` and
:func:`run_async` here and the ``retry_context`` iterators, only perform the effects.

The first attempt never enters the core: the callers try it inline (the fast path) and start
the core with its exception.
"""
from __future__ import annotations

import contextvars
import inspect
import logging
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Generator, Protocol, TypeVar, Union

from ..errors import CircuitOpenError, RetryError
from ..monitoring.metrics import REGISTRY
from .history import CircuitState

R = TypeVar("R")
log = logging.getLogger("swfast.resilience")

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


FIRST_TRY = AttemptStats(1, 0.0, None)
LAST: contextvars.ContextVar[AttemptStats | None] = contextvars.ContextVar("swfast_retry_stats", default=None)


class Switch:
    """Process-wide switches (:func:`~swfast.resilience.retry.set_active`, ``set_testing``)."""

    active = True
    testing = False
    testing_attempts = 1


SWITCH = Switch()


class Policy(Protocol):
    """What the core reads from a policy (:class:`~swfast.resilience.retry.Retrying`)."""

    name: str
    attempts: int
    timeout: float
    reraise: bool
    budget: Any
    breaker: Any
    backoff: Any
    on_retry: Callable[[int, float, BaseException], object] | None
    clock: Callable[[], float]
    sleep: Callable[[float], object]
    asleep: Callable[[float], Awaitable[object]]

    def retryable(self, exc: BaseException) -> bool: ...  # pragma: no cover - protocol


class Sleep:
    """Effect: sleep ``delay`` seconds before the next attempt."""

    __slots__ = ("delay",)

    def __init__(self, delay: float) -> None:
        self.delay = delay


class Hook:
    """Effect: the awaitable an ``on_retry`` hook returned (await it, or close it when sync)."""

    __slots__ = ("awaitable",)

    def __init__(self, awaitable: Awaitable[object]) -> None:
        self.awaitable = awaitable


#: Effect: run the next attempt and ``send`` its exception (``None`` on success).
ATTEMPT = object()

class Stop:
    """Effect: the core is done; raise ``error`` (``None``: the last attempt succeeded)."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException | None) -> None:
        self.error = error


Effect = Union[Sleep, Hook, Stop, object]
Steps = Generator[Effect, Union[BaseException, None], Union[BaseException, None]]


def _gave_up(error: BaseException, cause: BaseException) -> BaseException:
    error.__cause__ = cause  # as ``raise error from cause`` (it suppresses the context too)
    return error


def steps(policy: Policy, exc: BaseException) -> Steps:
    """The retry loop after the first attempt failed with ``exc``, as a generator of effects.

    It returns the exception the caller must raise (it never raises it itself, so a
    ``StopIteration`` from the guarded function stays one), or ``None`` after a success.
    """
    attempts, total_delay, prev = 1, 0.0, 0.0
    started = policy.clock()
    max_attempts = min(policy.attempts, SWITCH.testing_attempts) if SWITCH.testing else policy.attempts
    name = policy.name
    while True:
        if not SWITCH.active or not policy.retryable(exc):
            LAST.set(AttemptStats(attempts, total_delay, exc))
            return exc
        reason = ""
        delay = 0.0
        if attempts >= max_attempts:
            reason = "attempts"
        else:
            delay = 0.0 if SWITCH.testing else float(policy.backoff.next_delay(attempts, prev))
            breaker, budget = policy.breaker, policy.budget
            if policy.clock() - started + delay > policy.timeout:
                reason = "timeout"
            elif breaker is not None and breaker.check_state() in _OPEN:
                LAST.set(AttemptStats(attempts, total_delay, exc))
                _GIVEUPS.labels(name, "breaker_open").inc()
                return _gave_up(CircuitOpenError(breaker.name, breaker.remaining_wait()), exc)
            elif budget is not None and not budget.try_withdraw():
                LAST.set(AttemptStats(attempts, total_delay, exc))
                _GIVEUPS.labels(name, "budget").inc()
                return exc
        if reason:
            LAST.set(AttemptStats(attempts, total_delay, exc))
            _GIVEUPS.labels(name, reason).inc()
            if policy.reraise:
                return exc
            return _gave_up(RetryError(f"{name}: gave up after {attempts} attempts ({reason}): {exc!r}",
                                       attempts=attempts, last_error=exc), exc)
        prev = delay
        total_delay += delay
        attempts += 1
        _RETRIES.labels(name).inc()
        log.info("%s: attempt %d failed with %r; retrying in %.3fs", name, attempts - 1, exc, delay)
        if policy.on_retry is not None:
            try:
                outcome = policy.on_retry(attempts - 1, delay, exc)
            except Exception:
                log.exception("%s: on_retry hook failed", name)
            else:
                if inspect.isawaitable(outcome):
                    yield Hook(outcome)
        yield Sleep(delay)
        error = yield ATTEMPT
        if error is None:
            LAST.set(AttemptStats(attempts, total_delay, None))
            return None
        exc = error


def advance(core: Steps, value: BaseException | None) -> Effect:
    """Send ``value`` (an attempt's exception, or ``None``) and return the next effect."""
    try:
        return core.send(value)
    except StopIteration as stop:
        return Stop(stop.value)


def stop_error(effect: Effect) -> BaseException | None:
    """The exception a :class:`Stop` effect says to raise (``None`` after a success)."""
    if type(effect) is Stop:
        return effect.error
    raise RuntimeError(f"retry core: unexpected effect {effect!r}")  # pragma: no cover


def failure(effect: Effect) -> BaseException:
    """The exception to raise for a :class:`Stop` that follows a failed attempt."""
    error = stop_error(effect)
    return error if error is not None else RuntimeError("retry core stopped without an error")


def skip_hook(policy: Policy, effect: Hook) -> None:
    """A sync driver cannot run an async ``on_retry`` hook: close it and say so."""
    close = getattr(effect.awaitable, "close", None)
    if close is not None:
        close()
    log.warning("%s: on_retry returned an awaitable in a sync retry; it was not run", policy.name)


async def run_hook(policy: Policy, effect: Hook) -> None:
    """Await an async ``on_retry`` hook; its exceptions are logged, never raised."""
    try:
        await effect.awaitable
    except Exception:
        log.exception("%s: on_retry hook failed", policy.name)


def run_sync(policy: Policy, sleep: Callable[[float], object], exc: BaseException,
             fn: Callable[..., R], args: tuple[Any, ...], kwargs: dict[str, Any]) -> R:
    """The sync driver: perform the effects of :func:`steps` after the first failure ``exc``."""
    core = steps(policy, exc)
    effect = advance(core, None)
    while True:
        if effect is ATTEMPT:
            try:
                result = fn(*args, **kwargs)
            except BaseException as again:
                error: BaseException | None = again
            else:
                advance(core, None)
                return result
            effect = advance(core, error)
            error = None
        elif type(effect) is Sleep:
            sleep(effect.delay)
            effect = advance(core, None)
        elif type(effect) is Hook:
            skip_hook(policy, effect)
            effect = advance(core, None)
        else:
            raise failure(effect)


async def run_async(policy: Policy, asleep: Callable[[float], Awaitable[object]], exc: BaseException,
                    fn: Callable[..., Awaitable[R]], args: tuple[Any, ...], kwargs: dict[str, Any]) -> R:
    """The async driver: as :func:`run_sync`, awaiting sleeps, hooks and attempts."""
    core = steps(policy, exc)
    effect = advance(core, None)
    while True:
        if effect is ATTEMPT:
            try:
                result = await fn(*args, **kwargs)
            except BaseException as again:
                error: BaseException | None = again
            else:
                advance(core, None)
                return result
            effect = advance(core, error)
            error = None
        elif type(effect) is Sleep:
            await asleep(effect.delay)
            effect = advance(core, None)
        elif type(effect) is Hook:
            await run_hook(policy, effect)
            effect = advance(core, None)
        else:
            raise failure(effect)


__all__ = [
    "ATTEMPT", "FIRST_TRY", "LAST", "SWITCH", "AttemptStats", "Effect", "Hook", "Policy", "Sleep",
    "Steps", "Stop", "advance", "failure", "stop_error", "run_async", "run_hook", "run_sync", "skip_hook", "steps",
]

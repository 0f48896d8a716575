"""Fallback chains: primary, then the last good value, then fallback functions, then a default.

:class:`Fallback` calls the primary (through a breaker if given). When it raises one of the
``on`` exceptions, or the breaker rejects it, the chain answers with, in order: the last good
result for the same arguments (``use_last_good``), each fallback function, then ``default``.
Each use of the chain after a primary failure reports to a :class:`DegradationManager`, which
raises the service level; the first primary success after the breaker closes restores it.

If a fallback function raises and nothing later in the chain answers, the caller sees that
fallback's error with the primary's error chained as ``__cause__``: nothing is swallowed.

Example:
    >>> chain = Fallback(lambda: 1 / 0, lambda: "from replica")
    >>> chain.call()
    'from replica'

Thread safety: safe to share between threads and tasks.
"""
from __future__ import annotations

import functools
import inspect
import logging
import threading
from collections import OrderedDict
from typing import Any, Callable, Generator, Generic, ParamSpec, TypeVar

from ..errors import CircuitOpenError
from ..monitoring.metrics import REGISTRY
from .breaker import CircuitBreaker
from ._validate import count, exception_types
from .degradation import DegradationManager

P = ParamSpec("P")
R = TypeVar("R")
log = logging.getLogger("swfast.resilience")
_SERVED = REGISTRY.counter("swfast_resilience_fallback_served_total",
                           "Answers of fallback chains by source.", ("name", "source"))
MISSING: Any = object()
_KW: Any = object()  # separates keyword arguments in last-good keys (never a user value)


class Fallback(Generic[R]):
    """A fallback chain around ``primary``.

    Args:
        primary: the preferred function (sync or async; use :meth:`acall` for async).
        *fallbacks: functions tried in order with the same arguments.
        default: value returned when everything else failed (omit to raise instead).
        use_last_good: answer with the last good primary result for the same arguments.
        max_cached: how many argument sets keep a last good result.
        on: exception types that trigger the chain (``CircuitOpenError`` always does).
        breaker: optional breaker the primary is called through.
        degradation: optional manager told about fallbacks and successes.
        name: label for logs and metrics.
    """

    def __init__(self, primary: Callable[..., Any], *fallbacks: Callable[..., Any], default: Any = MISSING,
                 use_last_good: bool = True, max_cached: int = 1024,
                 on: tuple[type[BaseException], ...] = (Exception,), breaker: CircuitBreaker | None = None,
                 degradation: DegradationManager | None = None, name: str = "fallback") -> None:
        self.primary = primary
        self.fallbacks = fallbacks
        self.default = default
        self.use_last_good = use_last_good
        self.max_cached = count("max_cached", max_cached, minimum=0)
        self.on = exception_types("on", on) + (CircuitOpenError,)
        self.breaker = breaker
        self.degradation = degradation
        self.name = name
        self._good: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _key(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        # ``(_KW, args, kwargs)`` can never equal a positional-only ``args`` tuple, so
        # ``f((1,), (("a", 1),))`` and ``f(1, a=1)`` keep separate last good results.
        key = (_KW, args, tuple(sorted(kwargs.items()))) if kwargs else args
        try:
            hash(key)
        except TypeError:
            return MISSING
        return key

    def _remember(self, args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> None:
        if self.degradation is not None:
            self.degradation.report_success()
        if not self.use_last_good:
            return
        key = self._key(args, kwargs)
        if key is MISSING:
            return
        with self._lock:
            self._good[key] = result
            self._good.move_to_end(key)
            while len(self._good) > self.max_cached:
                self._good.popitem(last=False)

    def _cached(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if not self.use_last_good:
            return MISSING
        key = self._key(args, kwargs)
        if key is MISSING:
            return MISSING
        with self._lock:
            return self._good.get(key, MISSING)

    def _degrade(self, primary_error: BaseException) -> None:
        if self.degradation is not None:
            self.degradation.report_fallback(f"{self.name}: primary failed with {type(primary_error).__name__}")

    def _steps(self, primary_error: BaseException, args: tuple[Any, ...],
               kwargs: dict[str, Any]) -> Generator[Callable[..., Any], Any, "_End"]:
        """The chain after the primary failed, written once for :meth:`call` and :meth:`acall`.

        Sans-I/O: yields each fallback function to call and receives its result, or a
        :class:`_Failed` with its exception; returns how the chain ends.
        """
        self._degrade(primary_error)
        cached = self._cached(args, kwargs)
        if cached is not MISSING:
            _SERVED.labels(self.name, "last_good").inc()
            return _End(cached)
        last: BaseException | None = None
        for fb in self.fallbacks:
            outcome = yield fb
            if type(outcome) is not _Failed:
                _SERVED.labels(self.name, "fallback").inc()
                return _End(outcome)
            log.warning("%s: fallback %r failed: %r", self.name, getattr(fb, "__name__", fb), outcome.error)
            last = outcome.error
        if self.default is not MISSING:
            _SERVED.labels(self.name, "default").inc()
            return _End(self.default)
        _SERVED.labels(self.name, "error").inc()
        return _End(MISSING, last if last is not None else primary_error, primary_error if last is not None else None)

    def call(self, /, *args: Any, **kwargs: Any) -> R:
        """Run the chain for these arguments."""
        try:
            if self.breaker is not None:
                result = self.breaker.call(self.primary, *args, **kwargs)
            else:
                result = self.primary(*args, **kwargs)
        except self.on as exc:
            steps = self._steps(exc, args, kwargs)
            outcome: Any = None
            while True:
                try:
                    fb = steps.send(outcome)
                except StopIteration as stop:
                    end: _End = stop.value
                    break
                try:
                    outcome = fb(*args, **kwargs)
                except Exception as error:
                    outcome = _Failed(error)
            return end.answer()  # type: ignore[no-any-return]
        self._remember(args, kwargs, result)
        return result  # type: ignore[no-any-return]

    async def acall(self, /, *args: Any, **kwargs: Any) -> R:
        """Run the chain for an async primary (fallbacks may be sync or async)."""
        try:
            if self.breaker is not None:
                result = await self.breaker.acall(self.primary, *args, **kwargs)
            else:
                result = await self.primary(*args, **kwargs)
        except self.on as exc:
            steps = self._steps(exc, args, kwargs)
            outcome: Any = None
            while True:
                try:
                    fb = steps.send(outcome)
                except StopIteration as stop:
                    end: _End = stop.value
                    break
                try:
                    outcome = fb(*args, **kwargs)
                    if inspect.isawaitable(outcome):
                        outcome = await outcome
                except Exception as error:
                    outcome = _Failed(error)
            return end.answer()  # type: ignore[no-any-return]
        self._remember(args, kwargs, result)
        return result  # type: ignore[no-any-return]


class _Failed:
    """What a fallback raised (sent back into :meth:`Fallback._steps`)."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


class _End:
    """How the chain ends: a value, or an error to raise (chained to ``cause``)."""

    __slots__ = ("value", "error", "cause")

    def __init__(self, value: Any, error: BaseException | None = None, cause: BaseException | None = None) -> None:
        self.value, self.error, self.cause = value, error, cause

    def answer(self) -> Any:
        if self.error is None:
            return self.value
        if self.cause is None:
            raise self.error
        raise self.error from self.cause


def fallback(*fallbacks: Callable[..., Any], **options: Any) -> Callable[[Callable[P, Any]], Callable[P, Any]]:
    """Decorator: ``@fallback(replica_lookup, default=None, breaker=db_breaker)``."""
    def deco(fn: Callable[P, Any]) -> Callable[P, Any]:
        chain: Fallback[Any] = Fallback(fn, *fallbacks, **options)
        if inspect.iscoroutinefunction(fn):
            @functools.wraps(fn)
            async def awrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
                return await chain.acall(*args, **kwargs)

            awrapper.fallback_chain = chain  # type: ignore[attr-defined]
            return awrapper

        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
            return chain.call(*args, **kwargs)

        wrapper.fallback_chain = chain  # type: ignore[attr-defined]
        return wrapper
    return deco


__all__ = ["MISSING", "Fallback", "fallback"]

"""Circuit breaker with resilience4j semantics, a bounded history and isolated listeners.

CLOSED records outcomes in a count- or time-based sliding window; once ``minimum_calls``
outcomes are in it, a failure rate or slow-call rate at or above its threshold opens the
breaker. OPEN rejects at once with :class:`~swfast.errors.CircuitOpenError` (carrying the name
and the remaining wait) without calling the function. After ``wait_duration_open`` the first
caller half-opens it; HALF_OPEN admits exactly ``half_open_calls`` probes (an ignored exception
or a cancelled probe gives its permit back) and their verdict closes or reopens it;
``max_wait_in_half_open`` reopens a breaker whose probes never return. ``trip_breaker`` forces
it open (the clock does not half-open it) and ``reset_breaker`` closes it with an empty window.

The arithmetic and state live in the compiled kernel (:mod:`swfast._native.breaker`): each
step is atomic, no lock is held across the guarded call, and each transition is published
exactly once, to the history store, the listeners, the metrics and the ``swfast.resilience``
log. A raising listener or store is logged and changes neither the call's result nor the state.

Example:
    >>> breaker = CircuitBreaker("db", minimum_calls=10, window_size=20)
    >>> breaker.call(lambda: 42)
    42
    >>> @breaker
    ... def query() -> int:
    ...     return 1

Thread safety: every method may be called from any thread or asyncio task.
"""
from __future__ import annotations

import functools
import inspect
import logging
import operator
import threading
from types import TracebackType
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Iterable, Literal, ParamSpec, TypedDict, TypeVar, overload


from .._native import breaker as _k
from ..errors import CircuitOpenError, ConfigurationError
from . import _breaker_metrics
from .._durations import Duration
from ._validate import count, duration_non_negative, duration_positive, exception_types, percent
from .history import LOCAL, ORIGINS, BoundedHistory, CircuitState, HistoryStore, Transition

if TYPE_CHECKING:
    from .shared_state import SharedState

P = ParamSpec("P")
R = TypeVar("R")
Listener = Callable[[Transition], object]

log = logging.getLogger("swfast.resilience")
_INF = float("inf")


class BreakerMetrics(TypedDict):
    """What :meth:`CircuitBreaker.metrics` returns.

    ``failure_ratio``/``slow_call_ratio`` are the shares of the window's calls, ``0``-``1``, and
    ``None`` while unknown (fewer than ``minimum_calls`` outcomes, or the half-open probes not
    all back) — the same numbers the monitoring exposition exports as
    ``swfast_resilience_breaker_failure_ratio``/``..._slow_call_ratio`` (no sample while
    unknown). ``failure_rate``/``slow_call_rate`` are the older percentages, ``-1`` while
    unknown, kept for compatibility.
    """

    state: int
    calls: int
    failed_calls: int
    slow_calls: int
    failure_ratio: float | None
    slow_call_ratio: float | None
    failure_rate: float
    slow_call_rate: float
    permits: int
    successful: int
    failed: int
    slow: int
    ignored: int
    not_permitted: int
    entered: float


class CircuitBreaker:
    """A circuit breaker guarding calls to one dependency.

    Durations (``slow_call_duration``, ``wait_duration_open``, ``max_wait_in_half_open``) take
    float seconds, a :class:`datetime.timedelta` or a string such as ``"250ms"``/``"1m"``.

    Args:
        name: the breaker's name, used in errors, logs and metric labels.
        failure_rate_threshold: percent in ``(0, 100]``; opens at a failure rate ``>=`` it.
        slow_call_rate_threshold: percent in ``(0, 100]``; opens at a slow-call rate ``>=`` it.
        slow_call_duration: seconds from which a call counts as slow (``inf`` disables).
        window_type: ``"count"`` (last ``window_size`` calls) or ``"time"`` (last
            ``window_size`` seconds).
        window_size: calls or seconds in the window (``>= 1``).
        minimum_calls: outcomes needed before rates are computed (capped at ``window_size``
            for count windows).
        wait_duration_open: seconds OPEN lasts before a probe is admitted (``> 0``).
        half_open_calls: probes admitted in HALF_OPEN (``>= 1``).
        max_wait_in_half_open: seconds after which an unfinished HALF_OPEN reopens
            (``0`` waits for the probes forever).
        record_exceptions: exception types counted as failures (default ``Exception``); any
            other ``Exception`` counts as a success (resilience4j semantics). A bare class
            is accepted; anything else raises :class:`~swfast.errors.ConfigurationError`.
        ignore_exceptions: exception types that neither count nor consume a permit; they win
            over ``record_exceptions``. Exceptions outside ``Exception`` (cancellation,
            ``KeyboardInterrupt``) are never counted.
        history: a :class:`~swfast.resilience.history.HistoryStore`; default keeps the last
            ``history_size`` transitions.
        history_size: size of the default history.
        listeners: callables receiving each :class:`Transition`.
        clock: monotonic clock in seconds (tests inject a fake one); default is the C
            monotonic clock read inside the kernel.
        shared_state: optional shared state (the
            :class:`~swfast.resilience.shared_state.SharedState` protocol, e.g.
            :class:`~swfast.resilience.shared_state.RedisBreakerState`) sharing CLOSED/OPEN
            across processes: it is attached once, synced before each guarded call and handed
            every transition (with its ``origin``).
    """

    def __init__(
        self,
        name: str,
        *,
        failure_rate_threshold: float = 50.0,
        slow_call_rate_threshold: float = 100.0,
        slow_call_duration: Duration = 60.0,
        window_type: Literal["count", "time"] = "count",
        window_size: int = 100,
        minimum_calls: int = 100,
        wait_duration_open: Duration = 60.0,
        half_open_calls: int = 10,
        max_wait_in_half_open: Duration = 0.0,
        record_exceptions: tuple[type[BaseException], ...] = (Exception,),
        ignore_exceptions: tuple[type[BaseException], ...] = (),
        history: HistoryStore | None = None,
        history_size: int = 100,
        listeners: Iterable[Listener] = (),
        clock: Callable[[], float] | None = None,
        shared_state: "SharedState | None" = None,
    ) -> None:
        if not isinstance(name, str) or not name:
            raise ConfigurationError("name", "must be a non-empty str")
        size = count("window_size", window_size)
        if window_type == "count":
            window: Any = _k.CountWindow(size)
            minimum = min(count("minimum_calls", minimum_calls), size)
        elif window_type == "time":
            window = _k.TimeWindow(size)
            minimum = count("minimum_calls", minimum_calls)
        else:
            raise ConfigurationError("window_type", f"must be 'count' or 'time', got {window_type!r}")
        self.name = name
        self.record_exceptions = exception_types("record_exceptions", record_exceptions)
        self.ignore_exceptions = exception_types("ignore_exceptions", ignore_exceptions)
        self._core = _k.BreakerCore(
            window, minimum, percent("failure_rate_threshold", failure_rate_threshold),
            percent("slow_call_rate_threshold", slow_call_rate_threshold),
            duration_non_negative("slow_call_duration", slow_call_duration, allow_inf=True) if slow_call_duration == _INF else duration_positive("slow_call_duration", slow_call_duration),
            duration_positive("wait_duration_open", wait_duration_open), count("half_open_calls", half_open_calls),
            duration_non_negative("max_wait_in_half_open", max_wait_in_half_open), clock,
        )
        self.history: HistoryStore = history if history is not None else BoundedHistory(count("history_size", history_size))
        self._listeners: list[Listener] = list(listeners)
        self._drain_lock = threading.Lock()
        self._core.set_hooks(self._rejected, self._settle_error, self._drain)
        self.shared_state = shared_state
        self._call = self._default_call()
        if shared_state is not None:
            shared_state.attach(self)
        _breaker_metrics.track(self)

    # -- seed API -----------------------------------------------------------------------

    def check_state(self) -> CircuitState:
        """The current state (an OPEN breaker whose wait elapsed half-opens on the next call)."""
        return CircuitState(self._core.state)

    @property
    def state(self) -> CircuitState:
        """Same as :meth:`check_state`."""
        return CircuitState(self._core.state)

    def trip_breaker(self, reason: str = "trip_breaker") -> bool:
        """Force the breaker open until :meth:`reset_breaker`; False if it already was."""
        return self.transition(CircuitState.FORCED_OPEN, reason)

    def reset_breaker(self, reason: str = "reset_breaker") -> bool:
        """Close the breaker with an empty window; False (nothing published) if already closed."""
        return self.transition(CircuitState.CLOSED, reason)

    def disable(self, reason: str = "disable") -> bool:
        """Let every call through and record nothing until :meth:`reset_breaker`."""
        return self.transition(CircuitState.DISABLED, reason)

    def transition(self, to: CircuitState, reason: str, *, origin: str = LOCAL) -> bool:
        """Move to state ``to`` now; publishes one event, or nothing if already in ``to``.

        ``origin`` is :data:`~swfast.resilience.history.LOCAL` or, for shared state adopting a
        remote state, :data:`~swfast.resilience.history.SHARED` (not published back to it).
        """
        if origin not in ORIGINS:
            raise ConfigurationError("origin", f"must be one of {ORIGINS}, got {origin!r}")
        moved = bool(self._core.transition(int(CircuitState(to)), str(reason), origin))
        self._drain()
        return moved

    def manage_state(self) -> CircuitState:
        """Publish pending transitions and return the state (housekeeping between calls)."""
        self._drain()
        return self.check_state()

    def store_history(self, transition: Transition) -> None:
        """Append ``transition`` to the history store; a failing store is logged, not raised."""
        try:
            self.history.append(transition)
        except Exception:
            log.exception("circuit %r: history store failed; transition kept in state only", self.name)

    # -- observation --------------------------------------------------------------------

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener(transition)`` after every transition (exceptions are logged)."""
        self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        """Stop calling ``listener``."""
        self._listeners.remove(listener)

    def metrics(self) -> BreakerMetrics:
        """Window totals, ratios (``None`` while unknown), the older percentages (``-1`` while
        unknown), permits and lifetime counters: see :class:`BreakerMetrics`."""
        snap: Any = self._core.snapshot()
        calls = snap["calls"]
        known = snap["failure_rate"] >= 0
        snap["failure_ratio"] = snap["failed_calls"] / calls if known else None
        snap["slow_call_ratio"] = snap["slow_calls"] / calls if known else None
        result: BreakerMetrics = snap
        return result

    def remaining_wait(self) -> float:
        """Seconds until an OPEN breaker admits a probe (0 in other states)."""
        return float(self._core.remaining())

    def _drain(self) -> None:
        events = self._core.events
        while events:
            if not self._drain_lock.acquire(blocking=False):
                return
            try:
                while True:
                    try:
                        frm, to, at, reason, origin = events.pop(0)
                    except IndexError:
                        break
                    self._publish(Transition(self.name, CircuitState(frm), CircuitState(to), at, reason, origin))
            finally:
                self._drain_lock.release()

    def _publish(self, t: Transition) -> None:
        if self.shared_state is not None:
            self.shared_state.publish(t)
        level = logging.WARNING if t.to_state in (CircuitState.OPEN, CircuitState.FORCED_OPEN) else logging.INFO
        log.log(level, "circuit %r: %s -> %s (%s)", self.name, t.from_state.name, t.to_state.name, t.reason)
        self.store_history(t)
        try:
            _breaker_metrics.TRANSITIONS.labels(self.name, t.from_state.name.lower(), t.to_state.name.lower()).inc()
        except Exception:
            log.exception("circuit %r: transition metric failed", self.name)
        for listener in list(self._listeners):
            try:
                listener(t)
            except Exception:
                log.exception("circuit %r: listener %r failed", self.name, listener)

    # -- guarded calls ------------------------------------------------------------------

    def _rejected(self) -> CircuitOpenError:
        if self._core.events:
            self._drain()
        return CircuitOpenError(self.name, self._core.remaining())

    def _enter(self) -> float:
        """Admit one guarded call (sync with shared state first): its start time, or raise
        :class:`CircuitOpenError`. Every guarded form but the compiled ``call`` uses it."""
        if self.shared_state is not None:
            self.shared_state.sync()
        core = self._core
        start = core.acquire()
        if start is None:
            raise self._rejected()
        if core.events:
            self._drain()
        return start

    def _exit(self, start: float, exc: BaseException | None) -> None:
        """Settle the call admitted at ``start``: a success, or the exception it raised."""
        if exc is not None:
            self._settle_error(start, exc)
        elif self._core.record(start, False):
            self._drain()

    def _settle_error(self, start: float, exc: BaseException) -> None:
        # resilience4j: ignored exceptions (and cancellation) give the permit back; an
        # Exception outside ``record_exceptions`` counts as a success, not as ignored.
        if isinstance(exc, self.ignore_exceptions) or not isinstance(exc, Exception):
            self._core.release(start)
        elif self._core.record(start, isinstance(exc, self.record_exceptions)):
            self._drain()

    def _default_call(self) -> Callable[..., Any]:
        # The compiled kernel runs the guarded call itself (one C frame around ``fn``).
        return self._core.call if self.shared_state is None else self._call_shared

    def _set_call(self, fn: Callable[..., Any]) -> None:  # instance patching (mock.patch.object)
        self._call = fn

    def _del_call(self) -> None:
        self._call = self._default_call()

    if TYPE_CHECKING:
        def call(self, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
            """Call ``fn(*args, **kwargs)`` through the breaker.

            Raises:
                CircuitOpenError: the breaker is open; ``fn`` was not called.
            """
    else:
        # A class-level attribute, not one rebound per instance: a subclass's ``call`` and a
        # ``mock.patch`` of ``CircuitBreaker.call`` (or of one breaker's ``call``) run; the
        # getter is C (attrgetter), so ``breaker.call(fn)`` still reaches the kernel directly.
        call = property(operator.attrgetter("_call"), _set_call, _del_call,
                        doc="""Call ``fn(*args, **kwargs)`` through the breaker.

        Raises:
            CircuitOpenError: the breaker is open; ``fn`` was not called.
        """)

    def _call_shared(self, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
        self.shared_state.sync()  # type: ignore[union-attr]
        result: R = self._core.call(fn, *args, **kwargs)
        return result

    async def acall(self, fn: Callable[P, Awaitable[R]], /, *args: P.args, **kwargs: P.kwargs) -> R:
        """Await ``fn(*args, **kwargs)`` through the breaker (cancellation returns the permit).

        Raises:
            CircuitOpenError: the breaker is open; ``fn`` was not called.
        """
        start = self._enter()
        try:
            result = await fn(*args, **kwargs)
        except BaseException as exc:
            self._exit(start, exc)
            raise
        self._exit(start, None)
        return result

    @overload
    def __call__(self, fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]: ...

    @overload
    def __call__(self, fn: Callable[P, R]) -> Callable[P, R]: ...

    def __call__(self, fn: Callable[P, Any]) -> Callable[P, Any]:
        """Decorate a sync or async function so every call goes through the breaker."""
        if inspect.iscoroutinefunction(fn):
            @functools.wraps(fn)
            async def async_wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
                return await self.acall(fn, *args, **kwargs)

            async_wrapper.breaker = self  # type: ignore[attr-defined]
            return async_wrapper

        wrapper: Any
        if self.shared_state is None and type(self).call is _CALL and self._call == self._core.call:
            wrapper = self._core.wrap(fn)
        else:  # shared state, a subclass's or a patched ``call``: every call goes through it
            def wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
                return self.call(fn, *args, **kwargs)
        functools.update_wrapper(wrapper, fn)
        wrapper.breaker = self
        return wrapper  # type: ignore[no-any-return]

    def guard(self) -> "BreakerGuard":
        """A context manager (sync and async) that guards the block it encloses."""
        return BreakerGuard(self)

    def __repr__(self) -> str:
        return f"CircuitBreaker({self.name!r}, state={self.check_state().name})"


_CALL = CircuitBreaker.__dict__["call"]


class BreakerGuard:
    """``with breaker.guard():`` / ``async with breaker.guard():`` for one guarded block.

    Entering raises :class:`~swfast.errors.CircuitOpenError` when the breaker rejects; leaving
    records the block's outcome. Use a fresh guard per block.
    """

    __slots__ = ("_breaker", "_start")

    def __init__(self, breaker: CircuitBreaker) -> None:
        self._breaker = breaker
        self._start: float | None = None

    def __enter__(self) -> "BreakerGuard":
        self._start = self._breaker._enter()
        return self

    def __exit__(self, et: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        start, self._start = self._start, None
        if start is not None:
            self._breaker._exit(start, exc)

    async def __aenter__(self) -> "BreakerGuard":
        return self.__enter__()

    async def __aexit__(self, et: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        self.__exit__(et, exc, tb)


__all__ = ["BreakerGuard", "BreakerMetrics", "CircuitBreaker", "Listener"]

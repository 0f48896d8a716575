"""Backoff strategies: how long to wait before retry number ``attempt``.

Each strategy is the compiled kernel (:mod:`swfast._native.backoff`) with validated,
keyword-only arguments, so ``calculate_delay`` is one C call. Attempts are 1-based; every
strategy is capped by ``max_delay``; deterministic strategies are exact, and attempts up to and
beyond ``2**63`` return the cap without overflow, inf or NaN. Jittered strategies draw from a
per-instance splitmix64 stream (``seed=`` makes it reproducible).

Example:
    >>> ExponentialBackoff(initial=1, factor=2, max_delay=40).calculate_delay(7)
    40.0

Thread safety: ``next_delay(attempt, prev)`` is pure apart from the jitter stream and is what
the retry engine uses; ``calculate_delay`` also remembers the previous delay (for decorrelated
jitter), which concurrent callers share.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable, Protocol, runtime_checkable

from .._native import backoff as _k
from ..errors import ConfigurationError
from .._durations import Duration
from ._validate import duration_non_negative, duration_positive, fraction, non_negative, positive


@runtime_checkable
class BackoffStrategy(Protocol):
    """What the retry engine needs from a strategy."""

    def calculate_delay(self, attempt: int) -> float:
        """Delay in seconds before retry ``attempt`` (1-based)."""
        ...  # pragma: no cover - protocol

    def next_delay(self, attempt: int, prev: float) -> float:
        """Delay before retry ``attempt`` given the previous delay."""
        ...  # pragma: no cover - protocol


def _cap(initial: float, max_delay: Duration) -> float:
    cap = duration_non_negative("max_delay", max_delay)
    if cap < initial:
        raise ConfigurationError("max_delay", f"must be >= the initial delay {initial}, got {max_delay!r}")
    return cap


class ConstantBackoff(_k.BackoffKernel):
    """The same delay every time, optionally with proportional jitter (``0.5`` = ±50 %)."""

    __slots__ = ()

    def __init__(self, delay: Duration = 1.0, *, jitter: float = 0.0, seed: int | None = None) -> None:
        d = duration_non_negative("delay", delay)
        super().__init__(_k.CONSTANT, d, d * (1.0 + fraction("jitter", jitter)), 1.0, 0.0, jitter, seed)


class LinearBackoff(_k.BackoffKernel):
    """``initial + step * (attempt - 1)``, capped at ``max_delay``."""

    __slots__ = ()

    def __init__(self, *, initial: Duration = 1.0, step: Duration = 1.0, max_delay: Duration = 60.0,
                 jitter: float = 0.0, seed: int | None = None) -> None:
        i = duration_non_negative("initial", initial)
        super().__init__(_k.LINEAR, i, _cap(i, max_delay), 1.0, duration_non_negative("step", step),
                         fraction("jitter", jitter), seed)


class ExponentialBackoff(_k.BackoffKernel):
    """``initial * factor ** (attempt - 1)``, capped; the power is skipped past the cap."""

    __slots__ = ()

    def __init__(self, *, initial: Duration = 0.1, factor: float = 2.0, max_delay: Duration = 5.0,
                 jitter: float = 0.0, seed: int | None = None) -> None:
        i = duration_non_negative("initial", initial)
        super().__init__(_k.EXPONENTIAL, i, _cap(i, max_delay), _factor(factor), 0.0,
                         fraction("jitter", jitter), seed)


class FullJitterBackoff(_k.BackoffKernel):
    """AWS "full jitter": uniform in ``[0, min(max_delay, initial * factor ** (attempt-1))]``."""

    __slots__ = ()

    def __init__(self, *, initial: Duration = 0.1, factor: float = 2.0, max_delay: Duration = 5.0,
                 seed: int | None = None) -> None:
        i = duration_non_negative("initial", initial)
        super().__init__(_k.FULL_JITTER, i, _cap(i, max_delay), _factor(factor), 0.0, 0.0, seed)


class EqualJitterBackoff(_k.BackoffKernel):
    """Half the capped exponential delay plus a uniform draw over the other half."""

    __slots__ = ()

    def __init__(self, *, initial: Duration = 0.1, factor: float = 2.0, max_delay: Duration = 5.0,
                 seed: int | None = None) -> None:
        i = duration_non_negative("initial", initial)
        super().__init__(_k.EQUAL_JITTER, i, _cap(i, max_delay), _factor(factor), 0.0, 0.0, seed)


class DecorrelatedJitterBackoff(_k.BackoffKernel):
    """AWS "decorrelated jitter": uniform in ``[initial, min(max_delay, 3 * previous)]``."""

    __slots__ = ()

    def __init__(self, *, initial: Duration = 0.1, max_delay: Duration = 5.0, seed: int | None = None) -> None:
        i = duration_positive("initial", initial)
        super().__init__(_k.DECORRELATED_JITTER, i, _cap(i, max_delay), 3.0, 0.0, 0.0, seed)


class FibonacciBackoff(_k.BackoffKernel):
    """``initial * F(attempt)`` with ``F = 1, 2, 3, 5, 8, ...``, capped."""

    __slots__ = ()

    def __init__(self, *, initial: Duration = 0.1, max_delay: Duration = 5.0, jitter: float = 0.0,
                 seed: int | None = None) -> None:
        i = duration_non_negative("initial", initial)
        super().__init__(_k.FIBONACCI, i, _cap(i, max_delay), 1.0, 0.0, fraction("jitter", jitter), seed)


class ScheduleBackoff:
    """The listed delays in order, the last one repeating (``[0.1, 0.5, 2.0]``: 0.1, 0.5, 2, 2, ...).

    An empty schedule waits zero seconds. Each delay must be a finite number ``>= 0``.
    """

    __slots__ = ("delays",)

    def __init__(self, delays: Iterable[float]) -> None:
        if isinstance(delays, (str, bytes)):
            raise ConfigurationError("delays", f"must be numbers of seconds, got {delays!r}")
        self.delays: tuple[float, ...] = tuple(duration_non_negative(f"delays[{i}]", d) for i, d in enumerate(delays))

    def next_delay(self, attempt: int, prev: float = 0.0) -> float:
        """The delay before retry ``attempt`` (1-based); ``prev`` is unused."""
        if isinstance(attempt, bool) or not isinstance(attempt, int):
            raise TypeError(f"attempt: expected an int >= 1, got {type(attempt).__name__}")
        if attempt < 1:
            raise ValueError(f"attempt: must be >= 1 (attempts are 1-based), got {attempt}")
        d = self.delays
        return d[min(attempt, len(d)) - 1] if d else 0.0

    def calculate_delay(self, attempt: int) -> float:
        """Same as :meth:`next_delay` (a schedule keeps no state)."""
        return self.next_delay(attempt)

    def __repr__(self) -> str:
        return f"ScheduleBackoff({list(self.delays)!r})"


class CallableBackoff:
    """An ``attempt -> seconds`` function as a strategy (a negative or NaN result waits 0 s)."""

    __slots__ = ("fn",)

    def __init__(self, fn: Callable[[int], float]) -> None:
        if not callable(fn):
            raise ConfigurationError("fn", f"must be callable, got {fn!r}")
        self.fn = fn

    def next_delay(self, attempt: int, prev: float = 0.0) -> float:
        """``fn(attempt)`` as seconds; ``prev`` is unused."""
        d = float(self.fn(attempt))
        return d if d >= 0.0 else 0.0

    def calculate_delay(self, attempt: int) -> float:
        """Same as :meth:`next_delay`."""
        return self.next_delay(attempt)


def as_backoff(value: Any, *, param: str = "backoff") -> BackoffStrategy:
    """``value`` as a :class:`BackoffStrategy`: a strategy as it is, the bound
    ``calculate_delay`` of one as that strategy, an ``attempt -> seconds`` callable as a
    :class:`CallableBackoff`, a sequence of seconds as a :class:`ScheduleBackoff`.

    Raises:
        ConfigurationError: (naming ``param``) anything else, or a bad delay in a sequence.
    """
    if isinstance(value, BackoffStrategy):
        return value
    owner = getattr(value, "__self__", None)
    if isinstance(owner, BackoffStrategy) and getattr(value, "__name__", "") == "calculate_delay":
        return owner
    calculate = getattr(value, "calculate_delay", None)
    if callable(calculate):  # a strategy-like object without next_delay
        return CallableBackoff(calculate)
    if callable(value):
        return CallableBackoff(value)
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ConfigurationError(param, "must be a backoff strategy, an attempt -> seconds callable or a "
                                        f"sequence of seconds, got {value!r}")
    try:
        return ScheduleBackoff(value)
    except ConfigurationError as exc:
        raise ConfigurationError(param, str(exc)) from None


def _factor(factor: float) -> float:
    f = positive("factor", factor)
    if f < 1.0:
        raise ConfigurationError("factor", f"must be >= 1 so delays never shrink, got {factor!r}")
    return f


STRATEGIES: dict[str, type] = {
    "constant": ConstantBackoff,
    "linear": LinearBackoff,
    "exponential": ExponentialBackoff,
    "full_jitter": FullJitterBackoff,
    "equal_jitter": EqualJitterBackoff,
    "decorrelated_jitter": DecorrelatedJitterBackoff,
    "fibonacci": FibonacciBackoff,
}


def create_backoff(strategy: str, **kwargs: Any) -> BackoffStrategy:
    """Build a strategy by name (``"exponential"``, ``"full_jitter"``, ... see ``STRATEGIES``).

    Raises:
        ConfigurationError: unknown ``strategy`` name or invalid arguments.
    """
    cls = STRATEGIES.get(strategy)
    if cls is None:
        raise ConfigurationError("strategy", f"unknown backoff strategy {strategy!r}; choose one of {sorted(STRATEGIES)}")
    result: BackoffStrategy = cls(**kwargs)
    return result


__all__ = [
    "STRATEGIES", "BackoffStrategy", "CallableBackoff", "ConstantBackoff", "DecorrelatedJitterBackoff",
    "EqualJitterBackoff", "ExponentialBackoff", "FibonacciBackoff", "FullJitterBackoff",
    "LinearBackoff", "ScheduleBackoff", "as_backoff", "create_backoff",
]

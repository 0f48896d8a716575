"""Argument checks shared by the resilience components; errors name the parameter and the fix."""
from __future__ import annotations

import math
from datetime import timedelta

from ..errors import ConfigurationError


def positive(name: str, value: float) -> float:
    """Return ``value`` as a float after checking it is finite and ``> 0``."""
    v = _number(name, value)
    if not v > 0:
        raise ConfigurationError(name, f"must be > 0, got {value!r}")
    return v


def non_negative(name: str, value: float, *, allow_inf: bool = False) -> float:
    """Return ``value`` as a float after checking it is ``>= 0`` (and finite unless allowed)."""
    v = _number(name, value, allow_inf=allow_inf)
    if not v >= 0:
        raise ConfigurationError(name, f"must be >= 0, got {value!r}")
    return v


def percent(name: str, value: float) -> float:
    """Return ``value`` after checking it lies in ``(0, 100]``."""
    v = _number(name, value)
    if not 0 < v <= 100:
        raise ConfigurationError(name, f"must be a percentage in (0, 100], got {value!r}")
    return v


def fraction(name: str, value: float) -> float:
    """Return ``value`` after checking it lies in ``[0, 1]``."""
    v = _number(name, value)
    if not 0 <= v <= 1:
        raise ConfigurationError(name, f"must be a fraction in [0, 1], got {value!r}")
    return v


def count(name: str, value: int, *, minimum: int = 1) -> int:
    """Return ``value`` after checking it is an int ``>= minimum``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigurationError(name, f"must be an int >= {minimum}, got {type(value).__name__}")
    if value < minimum:
        raise ConfigurationError(name, f"must be >= {minimum}, got {value}")
    return value


def exception_types(name: str, value: object) -> tuple[type[BaseException], ...]:
    """Return ``value`` as a tuple of exception classes (a bare class is accepted as one).

    Raises:
        ConfigurationError: ``value`` holds anything but ``BaseException`` subclasses
            (a string, an instance, a number), naming the argument.
    """
    if isinstance(value, type):
        value = (value,)
    if isinstance(value, (str, bytes)) or not isinstance(value, (tuple, list, frozenset, set)):
        raise ConfigurationError(name, f"must be an exception class or a tuple of them, got {value!r}")
    out = tuple(value)
    for item in out:
        if not (isinstance(item, type) and issubclass(item, BaseException)):
            raise ConfigurationError(name, f"must hold exception classes only, got {item!r}")
    return out


def _as_seconds(name: str, value: object) -> object:
    """A ``timedelta`` or a string such as ``"10m"`` as float seconds (the one duration parser);
    numbers pass through to the numeric checks."""
    if isinstance(value, (timedelta, str)):
        from .._durations import seconds

        return seconds(value, param=name, allow_zero=True, allow_inf=True)
    return value


def duration_positive(name: str, value: object) -> float:
    """:func:`positive` for a duration: seconds, a ``timedelta`` or ``"250ms"``."""
    return positive(name, _as_seconds(name, value))  # type: ignore[arg-type]


def duration_non_negative(name: str, value: object, *, allow_inf: bool = False) -> float:
    """:func:`non_negative` for a duration: seconds, a ``timedelta`` or ``"10m"``."""
    return non_negative(name, _as_seconds(name, value), allow_inf=allow_inf)  # type: ignore[arg-type]


def _number(name: str, value: float, *, allow_inf: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigurationError(name, f"must be a number, got {type(value).__name__}")
    v = float(value)
    if math.isnan(v) or (math.isinf(v) and not allow_inf):
        raise ConfigurationError(name, f"must be finite, got {value!r}")
    return v


__all__ = ["count", "duration_non_negative", "duration_positive", "exception_types", "fraction", "non_negative",
           "percent", "positive"]

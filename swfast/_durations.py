"""The one duration parser of swfast: every duration parameter goes through :func:`seconds`.

Accepted everywhere a duration is taken: ``int``/``float`` seconds, :class:`datetime.timedelta`,
and strings made of ``<number><unit>`` parts (``"90s"``, ``"2h5m"``, ``"1d 3h"``, ``"250ms"``,
``"1.5h"``) with units ``w``, ``d``, ``h``, ``m``, ``s``, ``ms``, ``us``/``µs``.
"""
from __future__ import annotations

import math
import re
from datetime import timedelta
from typing import Union

from swfast.errors import ConfigurationError

#: What a duration parameter accepts (seconds as a number, a timedelta, or a string like "10m").
Duration = Union[int, float, timedelta, str]

_UNITS = {"w": 604800.0, "d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3,
          "us": 1e-6, "µs": 1e-6}
_PART = re.compile(r"\s*(\d+(?:\.\d+)?|\.\d+)\s*(ms|us|µs|w|d|h|m|s)\s*", re.I)


def seconds(value: object, *, param: str, allow_zero: bool = True, allow_inf: bool = False,
            allow_none: bool = False) -> float | None:
    """Seconds (float) from ``value``; raises :class:`~swfast.errors.ConfigurationError` naming ``param``.

    Args:
        value: seconds, a ``timedelta`` or a string such as ``"10m"``.
        param: the argument's name, used in the error message.
        allow_zero: whether ``0`` is accepted.
        allow_inf: whether ``math.inf`` ("forever") is accepted.
        allow_none: whether ``None`` passes through (returned as ``None``).

    Raises:
        ConfigurationError: a wrong type, NaN, a negative value, an unparsable string, or zero /
            infinity where not allowed. The message names ``param`` and how to write it.
    """
    if value is None:
        if allow_none:
            return None
        raise ConfigurationError(param, "a duration is required: seconds, a timedelta or a string like '10m'")
    if isinstance(value, timedelta):
        out = value.total_seconds()
    elif isinstance(value, str):
        text = value.strip()
        pos, out, seen = 0, 0.0, False
        while pos < len(text):
            m = _PART.match(text, pos)
            if not m:
                raise ConfigurationError(
                    param, f"cannot parse {value!r} as a duration; write it like '90s', '2h5m' or '250ms'")
            out += float(m.group(1)) * _UNITS[m.group(2).lower()]
            pos, seen = m.end(), True
        if not seen:
            raise ConfigurationError(param, "an empty string is not a duration; write it like '90s'")
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        out = float(value)
    else:
        raise ConfigurationError(
            param, f"expected seconds (int/float), a timedelta or a string like '10m', got {type(value).__name__}")
    if math.isnan(out):
        raise ConfigurationError(param, "NaN is not a duration")
    if out < 0:
        raise ConfigurationError(param, f"must be >= 0 seconds, got {value!r}")
    if out == 0 and not allow_zero:
        raise ConfigurationError(param, "must be > 0 seconds")
    if math.isinf(out) and not allow_inf:
        raise ConfigurationError(param, "must be finite; pass None for 'no expiry' where supported")
    return out

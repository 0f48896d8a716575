"""Time utilities: ``convert_timezone``, ``format_datetime``, ``calculate_duration``.

zoneinfo only (no pytz). Naive datetimes are never guessed: they are rejected unless the caller
names the zone they are in (``assume_tz``), and wall times that fall in a DST gap or fold follow
an explicit policy. Durations are parsed from and printed as compact human text (``"2h5m"``).
``format_datetime`` speaks the Solar Hijri (Jalali) calendar for the platform's users.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .._durations import _PART, _UNITS  # the one duration grammar of swfast
from ..errors import ConfigurationError, ValidationError
from .jalali import MONTHS_EN, MONTHS_FA, WEEKDAYS_EN, WEEKDAYS_FA, to_jalali

_POLICIES = ("raise", "earlier", "later")
_FA_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


@lru_cache(maxsize=256)
def get_zone(name: str) -> tzinfo:
    """Return the zoneinfo zone ``name`` (``"UTC"`` and ``"Asia/Tehran"`` style names)."""
    if name.upper() == "UTC":
        return timezone.utc
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigurationError("tz", f"unknown time zone {name!r}; use an IANA name such as "
                                       f"'Asia/Tehran'") from None


def _zone(tz: str | tzinfo) -> tzinfo:
    return get_zone(tz) if isinstance(tz, str) else tz


def localize(naive: datetime, tz: str | tzinfo, *, ambiguous: str = "raise",
             nonexistent: str = "raise") -> datetime:
    """Attach zone ``tz`` to a naive wall time, resolving DST folds and gaps explicitly.

    Args:
        naive: a datetime without tzinfo.
        tz: the zone the wall time is in.
        ambiguous: for a repeated wall time (DST ends): ``"raise"``, ``"earlier"`` (first
            occurrence) or ``"later"``.
        nonexistent: for a skipped wall time (DST starts): ``"raise"``, ``"earlier"`` (the
            instant just before the gap, read with the old offset) or ``"later"`` (shifted
            forward by the gap).

    Raises:
        ValidationError: the time is ambiguous or nonexistent and the policy is ``"raise"``.
    """
    if naive.tzinfo is not None:
        raise ConfigurationError("naive", "already has a tzinfo; use convert_timezone")
    for name, val in (("ambiguous", ambiguous), ("nonexistent", nonexistent)):
        if val not in _POLICIES:
            raise ConfigurationError(name, f"{val!r}: use one of {_POLICIES}")
    zone = _zone(tz)
    first = naive.replace(tzinfo=zone, fold=0)
    second = naive.replace(tzinfo=zone, fold=1)
    off0, off1 = first.utcoffset(), second.utcoffset()
    if off0 == off1:
        return first
    roundtrip = first.astimezone(timezone.utc).astimezone(zone).replace(tzinfo=None)
    if roundtrip == naive:  # both folds exist: a repeated wall time
        if ambiguous == "raise":
            raise ValidationError(f"{naive.isoformat()} happens twice in {zone} (DST ends); pass "
                                  f"ambiguous='earlier' or 'later'", keyword="ambiguous")
        return first if ambiguous == "earlier" else second
    if nonexistent == "raise":
        raise ValidationError(f"{naive.isoformat()} does not exist in {zone} (DST gap); pass "
                              f"nonexistent='earlier' or 'later'", keyword="nonexistent")
    # fold=0 reads the wall time with the offset before the gap, fold=1 with the one after.
    instant = (first if nonexistent == "later" else second).astimezone(timezone.utc)
    return instant.astimezone(zone)


def convert_timezone(dt: datetime, tz: str | tzinfo, *, assume_tz: str | tzinfo | None = None,
                     ambiguous: str = "raise", nonexistent: str = "raise") -> datetime:
    """Return the same instant as ``dt`` expressed in zone ``tz``.

    Args:
        dt: an aware datetime, or a naive one together with ``assume_tz``.
        tz: the target zone (IANA name or tzinfo).
        assume_tz: the zone a naive ``dt`` is in; without it naive input is rejected.
        ambiguous, nonexistent: DST policies for naive input (see :func:`localize`).

    Raises:
        ValidationError: naive ``dt`` without ``assume_tz`` (keyword ``naive``), or a DST
            ambiguity the policy refuses.
        ConfigurationError: an unknown zone.
    """
    target = _zone(tz)
    if dt.tzinfo is None or dt.utcoffset() is None:
        if assume_tz is None:
            raise ValidationError("naive datetime: pass an aware datetime or assume_tz='Zone/Name'",
                                  keyword="naive")
        dt = localize(dt, assume_tz, ambiguous=ambiguous, nonexistent=nonexistent)
    return dt.astimezone(target)


_JALALI_DIRECTIVES = re.compile(r"%[YymdBbAaejHIMSpfzZ%]")


def format_datetime(dt: datetime | date, fmt: str = "%Y-%m-%d %H:%M:%S", *,
                    calendar: str = "gregorian", tz: str | tzinfo | None = None,
                    lang: str = "en", persian_digits: bool | None = None) -> str:
    """Format ``dt``; ``fmt="iso"`` gives ISO 8601. Jalali dates with ``calendar="jalali"``.

    Args:
        dt: a datetime (converted to ``tz`` first when given; naive values are rejected then)
            or a date.
        fmt: ``strftime`` directives. With ``calendar="jalali"``, ``%Y %y %m %d %j`` are Jalali
            numbers, ``%B``/``%b`` the Jalali month name and ``%A``/``%a`` the weekday, in
            ``lang`` (``"fa"`` or ``"en"``); time directives are unchanged.
        calendar: ``"gregorian"`` or ``"jalali"``.
        tz: show the instant in this zone.
        lang: language of Jalali month and weekday names.
        persian_digits: write digits as ۰-۹ (default: when ``lang == "fa"``).

    Raises:
        ValidationError: ``tz`` given with a naive datetime.
        ConfigurationError: unknown calendar or language.
    """
    if calendar not in ("gregorian", "jalali"):
        raise ConfigurationError("calendar", f"{calendar!r}: use 'gregorian' or 'jalali'")
    if lang not in ("fa", "en"):
        raise ConfigurationError("lang", f"{lang!r}: use 'fa' or 'en'")
    if tz is not None and isinstance(dt, datetime):
        dt = convert_timezone(dt, tz)
    if fmt == "iso":
        out = dt.isoformat()
        if calendar == "jalali":
            jy, jm, jd = to_jalali(dt)
            out = f"{jy:04d}-{jm:02d}-{jd:02d}" + out[10:]
    elif calendar == "gregorian":
        out = dt.strftime(fmt)
    else:
        jy, jm, jd = to_jalali(dt)
        yday = (jm - 1) * 31 - max(0, jm - 7) + jd
        months = MONTHS_FA if lang == "fa" else MONTHS_EN
        days = WEEKDAYS_FA if lang == "fa" else WEEKDAYS_EN
        values: dict[str, Any] = {
            "%Y": f"{jy:04d}", "%y": f"{jy % 100:02d}", "%m": f"{jm:02d}", "%d": f"{jd:02d}",
            "%B": months[jm - 1], "%b": months[jm - 1][:3] if lang == "en" else months[jm - 1],
            "%A": days[dt.weekday()], "%a": days[dt.weekday()], "%e": str(jd),
            "%j": f"{yday:03d}", "%%": "%",
        }

        def sub(m: re.Match[str]) -> str:
            d = m.group()
            if d in values:
                return str(values[d])
            return dt.strftime(d) if isinstance(dt, datetime) else d

        out = _JALALI_DIRECTIVES.sub(sub, fmt)
    if persian_digits if persian_digits is not None else lang == "fa":
        out = out.translate(_FA_DIGITS)
    return out


def parse_duration(value: str | float | int | timedelta) -> timedelta:
    """Parse ``"2h5m"``, ``"1d 3h"``, ``"1.5h"``, ``"250ms"``, seconds or a timedelta.

    The grammar is that of every duration parameter (:func:`swfast._durations.seconds`); unlike
    parameters, a leading ``-`` gives a negative duration.

    Raises:
        ValidationError: not a duration (keyword ``duration``).
    """
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValidationError("a boolean is not a duration", keyword="duration")
    if isinstance(value, (int, float)):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValidationError(f"{value!r} is not a finite duration", keyword="duration")
        return timedelta(seconds=value)
    text = value.strip()
    sign = -1 if text.startswith("-") else 1
    text = text.lstrip("+-")
    pos, total, seen = 0, 0.0, False
    while pos < len(text):
        m = _PART.match(text, pos)
        if not m:
            raise ValidationError(f"{value!r} is not a duration; write it like '2h5m', '90s' "
                                  f"or '1d 3h'", keyword="duration")
        total += float(m.group(1)) * _UNITS[m.group(2).lower()]
        pos = m.end()
        seen = True
    if not seen:
        raise ValidationError(f"{value!r} is empty, not a duration", keyword="duration")
    return timedelta(seconds=sign * total)


def format_duration(td: timedelta | float, *, precision: str = "s") -> str:
    """Print a duration compactly: ``7500s -> "2h5m"``, ``0.25s -> "250ms"`` (with
    ``precision="ms"``); the largest unit is days."""
    seconds = td.total_seconds() if isinstance(td, timedelta) else float(td)
    if precision not in ("s", "ms"):
        raise ConfigurationError("precision", "use 's' or 'ms'")
    sign = "-" if seconds < 0 else ""
    ms_total = round(abs(seconds) * 1000)
    if precision == "s":
        ms_total = round(ms_total / 1000) * 1000
    parts = []
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000),
                       ("ms", 1)):
        q, ms_total = divmod(ms_total, size)
        if q:
            parts.append(f"{q}{unit}")
    return sign + ("".join(parts) or ("0s" if precision == "s" else "0ms"))


def calculate_duration(start: datetime | str | float, end: datetime | None = None, *,
                       assume_tz: str | tzinfo | None = None, human: bool = False,
                       now: datetime | None = None) -> timedelta | str:
    """Elapsed time between two instants, or the value of a duration text.

    Args:
        start: a datetime (then ``end`` defaults to ``now``), or a duration such as ``"2h5m"``.
        end: the end instant.
        assume_tz: the zone of naive datetimes (otherwise naive input is rejected).
        human: return ``"2h5m"`` text instead of a timedelta.
        now: the current time for ``end=None`` (injectable; default ``datetime.now(UTC)``).

    The difference is taken between instants, so a span across a DST change counts real
    elapsed time (a 23-hour day is 23 hours).
    """
    if not isinstance(start, datetime):
        td = parse_duration(start)
    else:
        utc = timezone.utc
        a = convert_timezone(start, utc, assume_tz=assume_tz)
        b_raw = end if end is not None else (now or datetime.now(utc))
        b = convert_timezone(b_raw, utc, assume_tz=assume_tz)
        td = b - a
    return format_duration(td) if human else td


__all__ = ["calculate_duration", "convert_timezone", "format_datetime", "format_duration",
           "get_zone", "localize", "parse_duration"]

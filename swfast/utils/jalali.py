"""The Solar Hijri (Jalali) calendar: exact conversion to and from the Gregorian calendar.

Uses the break-year algorithm of the ``jalaali`` reference implementation (Borkowski's 2,820-year
cycle corrected by the astronomical break years), valid for Jalali years -61 to 3177.
"""
from __future__ import annotations

from datetime import date

from ..errors import ConfigurationError

_BREAKS = (-61, 9, 38, 199, 426, 686, 756, 818, 1111, 1181, 1210, 1635, 2060, 2097, 2192, 2262,
           2324, 2394, 2456, 3178)
MONTHS_FA = ("فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور", "مهر", "آبان", "آذر",
             "دی", "بهمن", "اسفند")
MONTHS_EN = ("Farvardin", "Ordibehesht", "Khordad", "Tir", "Mordad", "Shahrivar", "Mehr", "Aban",
             "Azar", "Dey", "Bahman", "Esfand")
#: Weekday names indexed by ``date.weekday()`` (Monday = 0).
WEEKDAYS_FA = ("دوشنبه", "سه‌شنبه", "چهارشنبه", "پنج‌شنبه", "جمعه", "شنبه", "یکشنبه")
WEEKDAYS_EN = ("Doshanbe", "Seshanbe", "Chaharshanbe", "Panjshanbe", "Jome", "Shanbe",
               "Yekshanbe")


def _div(a: int, b: int) -> int:
    return int(a / b)


def _mod(a: int, b: int) -> int:
    return a - _div(a, b) * b


def _cal(jy: int) -> tuple[int, int, int]:
    """Return ``(leap, gregorian_year, march_day_of_nowruz)``; ``leap == 0`` in leap years."""
    if not _BREAKS[0] <= jy < _BREAKS[-1]:
        raise ConfigurationError("year", f"Jalali year {jy} is outside {_BREAKS[0]}..3177")
    gy = jy + 621
    leap_j = -14
    jp = _BREAKS[0]
    jump = 0
    for jm in _BREAKS[1:]:
        jump = jm - jp
        if jy < jm:
            break
        leap_j += _div(jump, 33) * 8 + _div(_mod(jump, 33), 4)
        jp = jm
    n = jy - jp
    leap_j += _div(n, 33) * 8 + _div(_mod(n, 33) + 3, 4)
    if _mod(jump, 33) == 4 and jump - n == 4:
        leap_j += 1
    leap_g = _div(gy, 4) - _div((_div(gy, 100) + 1) * 3, 4) - 150
    march = 20 + leap_j - leap_g
    if jump - n < 6:
        n = n - jump + _div(jump + 4, 33) * 33
    leap = _mod(_mod(n + 1, 33) - 1, 4)
    if leap == -1:
        leap = 4
    return leap, gy, march


def is_leap(jy: int) -> bool:
    """Whether Jalali year ``jy`` has 366 days (Esfand has 30 days)."""
    return _cal(jy)[0] == 0


def month_length(jy: int, jm: int) -> int:
    """Days in Jalali month ``jm`` of year ``jy``."""
    if not 1 <= jm <= 12:
        raise ConfigurationError("month", f"{jm} is not in 1..12")
    if jm <= 6:
        return 31
    if jm <= 11:
        return 30
    return 30 if is_leap(jy) else 29


def to_jalali(d: date) -> tuple[int, int, int]:
    """Convert a Gregorian date (or datetime) to ``(year, month, day)`` in the Jalali calendar."""
    ordinal = date(d.year, d.month, d.day).toordinal()
    jy = d.year - 621
    leap, gy, march = _cal(jy)
    k = ordinal - date(gy, 3, march).toordinal()
    if k >= 0:
        if k <= 185:
            return jy, 1 + k // 31, k % 31 + 1
        k -= 186
    else:
        jy -= 1
        k += 179
        if leap == 1:  # the previous year (now jy) was a leap year
            k += 1
    return jy, 7 + k // 30, k % 30 + 1


def from_jalali(jy: int, jm: int, jd: int) -> date:
    """Convert a Jalali date to a Gregorian :class:`datetime.date`.

    Raises:
        ConfigurationError: the month or day does not exist in that year.
    """
    if not 1 <= jd <= month_length(jy, jm):
        raise ConfigurationError("day", f"{jy}/{jm}/{jd} does not exist (month has "
                                        f"{month_length(jy, jm)} days)")
    _, gy, march = _cal(jy)
    ordinal = date(gy, 3, march).toordinal() + (jm - 1) * 31 - (jm // 7) * (jm - 7) + jd - 1
    return date.fromordinal(ordinal)


__all__ = ["MONTHS_EN", "MONTHS_FA", "WEEKDAYS_EN", "WEEKDAYS_FA", "from_jalali", "is_leap",
           "month_length", "to_jalali"]

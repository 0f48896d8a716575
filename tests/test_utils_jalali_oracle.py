"""The Jalali calendar against jdatetime (and persiantools where installed) as oracles.

jdatetime uses FarsiWeb's 33-year arithmetic rule, which matches the astronomical calendar (and
swfast's jalaali-js year breaks) for Jalali years 1178..1633 (1799..2255 CE); outside that range
the two legitimately differ, so the comparisons stay inside it."""
from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone

import pytest

from swfast.utils.jalali import from_jalali, is_leap, month_length, to_jalali
from swfast.utils.timeutils import format_datetime

jdatetime = pytest.importorskip("jdatetime")


def test_every_day_1900_to_2150_matches_jdatetime() -> None:
    d = date(1900, 1, 1)
    end = date(2150, 12, 31)
    one = timedelta(days=1)
    n = 0
    while d <= end:
        j = jdatetime.date.fromgregorian(date=d)
        assert to_jalali(d) == (j.year, j.month, j.day), d
        n += 1
        d += one
    assert n > 91_000


@pytest.mark.parametrize("seed", range(3))
def test_random_days_and_round_trip(seed: int) -> None:
    rnd = random.Random(seed)
    lo, hi = date(1799, 3, 22).toordinal(), date(2255, 3, 20).toordinal()
    for _ in range(3000):
        d = date.fromordinal(rnd.randint(lo, hi))
        j = jdatetime.date.fromgregorian(date=d)
        assert to_jalali(d) == (j.year, j.month, j.day), d
        assert from_jalali(j.year, j.month, j.day) == d


def test_leap_years_and_month_lengths_match() -> None:
    for jy in range(1178, 1634):
        assert is_leap(jy) == jdatetime.date(jy, 1, 1).isleap(), jy
        assert month_length(jy, 12) == (30 if jdatetime.date(jy, 1, 1).isleap() else 29)
    for jy in (1354, 1399, 1403, 1404, 1408):
        for jm in range(1, 13):
            last = month_length(jy, jm)
            jdatetime.date(jy, jm, last)  # exists
            with pytest.raises(ValueError):
                jdatetime.date(jy, jm, last + 1)


def test_formatting_matches_jdatetime_strftime() -> None:
    dt = datetime(2024, 3, 20, 3, 6, 26, tzinfo=timezone.utc)  # Nowruz 1403
    for day in range(0, 400, 7):
        x = dt + timedelta(days=day)
        j = jdatetime.datetime.fromgregorian(datetime=x)
        assert format_datetime(x, "%Y-%m-%d %H:%M:%S", calendar="jalali") == j.strftime("%Y-%m-%d %H:%M:%S")
        assert format_datetime(x, "%j", calendar="jalali") == j.strftime("%j")


def test_persiantools_agrees_where_installed() -> None:
    pt = pytest.importorskip("persiantools.jdatetime")
    rnd = random.Random(7)
    for _ in range(2000):
        d = date.fromordinal(rnd.randint(date(1900, 1, 1).toordinal(), date(2100, 1, 1).toordinal()))
        j = pt.JalaliDate(d)
        assert to_jalali(d) == (j.year, j.month, j.day)

"""Time utilities: zones, DST gaps and folds, durations, the Jalali calendar."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from swfast.errors import ConfigurationError, ValidationError
from swfast.utils.jalali import from_jalali, is_leap, month_length, to_jalali
from swfast.utils.timeutils import (
    calculate_duration,
    convert_timezone,
    format_datetime,
    format_duration,
    localize,
    parse_duration,
)

UTC = timezone.utc

KNOWN = [  # (gregorian, jalali): Nowruz dates, leap-year ends, historical days
    (date(2024, 3, 20), (1403, 1, 1)), (date(2025, 3, 21), (1404, 1, 1)),
    (date(2025, 3, 20), (1403, 12, 30)), (date(2021, 3, 20), (1399, 12, 30)),
    (date(2023, 3, 21), (1402, 1, 1)), (date(1979, 2, 11), (1357, 11, 22)),
    (date(1921, 3, 21), (1300, 1, 1)), (date(2000, 1, 1), (1378, 10, 11)),
    (date(2024, 9, 22), (1403, 7, 1)), (date(1989, 6, 4), (1368, 3, 14)),
]


@pytest.mark.parametrize("g, j", KNOWN)
def test_jalali_known_dates(g: date, j: tuple[int, int, int]) -> None:
    assert to_jalali(g) == j
    assert from_jalali(*j) == g


def test_jalali_round_trip_and_leaps() -> None:
    d = date(1900, 1, 1)
    while d < date(2100, 1, 1):
        assert from_jalali(*to_jalali(d)) == d
        d += timedelta(days=1)
    assert [y for y in range(1395, 1412) if is_leap(y)] == [1395, 1399, 1403, 1408]
    assert month_length(1403, 12) == 30 and month_length(1402, 12) == 29
    with pytest.raises(ConfigurationError, match="day"):
        from_jalali(1402, 12, 30)
    with pytest.raises(ConfigurationError, match="month"):
        month_length(1402, 13)


def test_format_jalali() -> None:
    dt = datetime(2024, 3, 20, 14, 5, 9, tzinfo=UTC)
    assert format_datetime(dt, "%Y/%m/%d %H:%M", calendar="jalali", lang="en") == \
        "1403/01/01 14:05"
    assert format_datetime(dt, "%A %d %B %Y", calendar="jalali", lang="fa") == \
        "چهارشنبه ۰۱ فروردین ۱۴۰۳"
    assert format_datetime(dt, "%d %B", calendar="jalali", lang="fa",
                           persian_digits=False) == "01 فروردین"
    assert format_datetime(dt, "%j %b %%", calendar="jalali") == "001 Far %"
    tehran = format_datetime(dt, "%Y/%m/%d %H:%M", calendar="jalali", tz="Asia/Tehran")
    assert tehran == "1403/01/01 17:35"
    assert format_datetime(dt, "iso", calendar="jalali").startswith("1403-01-01T14:05:09")
    assert format_datetime(date(2024, 9, 22), "%Y-%m-%d", calendar="jalali") == "1403-07-01"
    assert format_datetime(dt, "iso") == "2024-03-20T14:05:09+00:00"
    with pytest.raises(ConfigurationError):
        format_datetime(dt, calendar="hebrew")


def test_convert_timezone_rejects_naive_unless_told() -> None:
    naive = datetime(2024, 6, 1, 12, 0)
    with pytest.raises(ValidationError) as info:
        convert_timezone(naive, "UTC")
    assert info.value.keyword == "naive"
    got = convert_timezone(naive, "UTC", assume_tz="Asia/Tehran")
    assert got == datetime(2024, 6, 1, 8, 30, tzinfo=UTC)
    assert convert_timezone(got, "Asia/Tehran").hour == 12
    with pytest.raises(ConfigurationError, match="time zone"):
        convert_timezone(got, "Mars/Olympus")


def test_dst_gap_and_fold() -> None:
    ny = "America/New_York"
    gap = datetime(2024, 3, 10, 2, 30)
    with pytest.raises(ValidationError) as info:
        localize(gap, ny)
    assert info.value.keyword == "nonexistent"
    later = localize(gap, ny, nonexistent="later")
    earlier = localize(gap, ny, nonexistent="earlier")
    assert (later.hour, later.minute) == (3, 30) and (earlier.hour, earlier.minute) == (1, 30)
    fold = datetime(2024, 11, 3, 1, 30)
    with pytest.raises(ValidationError) as info:
        localize(fold, ny)
    assert info.value.keyword == "ambiguous"
    first = localize(fold, ny, ambiguous="earlier")
    second = localize(fold, ny, ambiguous="later")
    assert second.astimezone(UTC) - first.astimezone(UTC) == timedelta(hours=1)
    normal = localize(datetime(2024, 7, 1, 9, 0), ny)
    assert normal.utcoffset() == timedelta(hours=-4)
    with pytest.raises(ConfigurationError):
        localize(normal, ny)
    with pytest.raises(ConfigurationError):
        localize(gap, ny, ambiguous="whatever")


def test_durations_parse_and_print() -> None:
    assert parse_duration("2h5m") == timedelta(hours=2, minutes=5)
    assert parse_duration("1d 3h") == timedelta(days=1, hours=3)
    assert parse_duration("1.5h") == timedelta(minutes=90)
    assert parse_duration("250ms") == timedelta(milliseconds=250)
    assert parse_duration("-90s") == timedelta(seconds=-90)
    assert parse_duration(30) == timedelta(seconds=30)
    assert parse_duration("1w") == timedelta(days=7)
    for bad in ("", "2x", "h", "5 minutes", float("nan"), True):
        with pytest.raises(ValidationError):
            parse_duration(bad)  # type: ignore[arg-type]
    assert format_duration(timedelta(hours=2, minutes=5)) == "2h5m"
    assert format_duration(93784) == "1d2h3m4s"
    assert format_duration(0) == "0s"
    assert format_duration(0.25, precision="ms") == "250ms"
    assert format_duration(-61) == "-1m1s"
    for text in ("2h5m", "1d2h3m4s", "45s", "3d"):
        assert format_duration(parse_duration(text)) == text


def test_calculate_duration_across_dst() -> None:
    ny = "America/New_York"
    a = localize(datetime(2024, 3, 9, 12, 0), ny)
    b = localize(datetime(2024, 3, 10, 12, 0), ny)
    assert calculate_duration(a, b) == timedelta(hours=23)
    assert calculate_duration(a, b, human=True) == "23h"
    assert calculate_duration("2h5m", human=True) == "2h5m"
    now = datetime(2024, 1, 1, 1, 0, tzinfo=UTC)
    assert calculate_duration(datetime(2024, 1, 1, tzinfo=UTC), now=now) == timedelta(hours=1)
    with pytest.raises(ValidationError):
        calculate_duration(datetime(2024, 1, 1), now=now)
    assert calculate_duration(datetime(2024, 1, 1, 3, 30), now=now, assume_tz="Asia/Tehran") \
        == timedelta(hours=1)

"""Schedule triggers: one-off, fixed interval and cron expressions.

A trigger answers ``next_after(t)``: the first due time strictly after epoch second ``t``, or
``None`` when it will never fire again. Due times are deterministic functions of the trigger
alone (intervals are anchored, not relative to "now"), so several worker processes compute the
same due times and a shared lock can make each run happen once.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from fractions import Fraction

from .._durations import Duration, seconds
from ..errors import ConfigurationError
from .timeutils import get_zone

_NAMES = {
    3: {n: i for i, n in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug",
                                    "sep", "oct", "nov", "dec"], start=1)},
    4: {n: i for i, n in enumerate(["sun", "mon", "tue", "wed", "thu", "fri", "sat"])},
}
_BOUNDS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
_FIELDS = ("minute", "hour", "day of month", "month", "day of week")


@dataclass(frozen=True)
class OneOff:
    """Fire once at epoch second ``at``."""

    at: float

    def next_after(self, t: float) -> float | None:
        return self.at if self.at > t else None


def _exact(x: float) -> Fraction:
    """The decimal a float was written as (``3.3`` -> 33/10), exactly."""
    return Fraction(repr(float(x)))


@dataclass(frozen=True)
class Interval:
    """Fire every ``every_s`` at ``anchor + k * every_s`` (anchor defaults to epoch 0, so every
    process agrees on the due times).

    ``every_s`` is seconds, a ``timedelta`` or a string like ``"10m"``; ``anchor`` is epoch
    seconds. Due times are computed exactly (the decimal values of ``every_s`` and ``anchor`` as
    fractions), then rounded once to the nearest float: every due time lies on the grid, one per
    slot, however far from the anchor (no accumulated floating-point error).
    """

    every_s: float
    anchor: float = 0.0

    def __post_init__(self) -> None:
        every = seconds(self.every_s, param="every_s", allow_zero=False)
        if isinstance(self.anchor, bool) or not isinstance(self.anchor, (int, float)) \
                or not math.isfinite(self.anchor):
            raise ConfigurationError("anchor", "must be finite epoch seconds")
        object.__setattr__(self, "every_s", every)
        object.__setattr__(self, "anchor", float(self.anchor))
        object.__setattr__(self, "_step", _exact(every))  # type: ignore[arg-type]
        object.__setattr__(self, "_origin", _exact(self.anchor))

    def due(self, k: int) -> float:
        """The ``k``-th grid point, ``anchor + k * every_s``, rounded once to a float."""
        return float(self._origin + k * self._step)  # type: ignore[attr-defined]

    def next_after(self, t: float) -> float:
        step: Fraction = self._step  # type: ignore[attr-defined]
        origin: Fraction = self._origin  # type: ignore[attr-defined]
        k = math.floor((Fraction(t) - origin) / step) + 1
        due = float(origin + k * step)
        while due <= t:  # the exact point is after t but rounds onto it: take the next one
            k += 1
            due = float(origin + k * step)
        return due


def _parse_field(text: str, index: int) -> frozenset[int]:
    lo, hi = _BOUNDS[index]
    names = _NAMES.get(index, {})
    out: set[int] = set()
    for raw in text.lower().split(","):
        part, step = raw, 1
        has_step = "/" in raw
        if has_step:
            part, step_s = raw.split("/", 1)
            if not step_s.isdigit() or int(step_s) < 1:
                raise ConfigurationError("cron", f"{_FIELDS[index]}: bad step in {text!r}")
            step = int(step_s)
        if part in ("*", ""):
            a, b = lo, hi
        elif "-" in part:
            x, y = part.split("-", 1)
            a = names[x] if x in names else (int(x) if x.isdigit() else -1)
            b = names[y] if y in names else (int(y) if y.isdigit() else -1)
        else:
            v = names.get(part)
            a = b = v if v is not None else (int(part) if part.isdigit() else -1)
            if has_step:  # "5/15": from 5 to the top, every 15
                b = hi
        if not (lo <= a <= hi and lo <= b <= hi and a <= b):
            raise ConfigurationError("cron", f"{_FIELDS[index]}: {text!r} is outside {lo}-{hi}")
        out.update(range(a, b + 1, step))
    if index == 4 and 7 in out:  # 7 is also Sunday
        out.discard(7)
        out.add(0)
    return frozenset(out)


@dataclass(frozen=True)
class Cron:
    """A five-field cron expression (minute hour day-of-month month day-of-week) in zone ``tz``.

    Supports ``*``, lists, ranges, steps and names (``mon``, ``jan``). As in Vixie cron and
    cronie, when both day fields are restricted a day matches either; a day field that starts
    with ``*`` (``*``, ``*/2``) counts as unrestricted for this rule, so ``0 0 */2 * mon`` fires
    on odd-numbered days that are Mondays. Wall times skipped by a DST change
    do not fire; a repeated wall time fires once (the first occurrence).
    """

    expr: str
    tz: str = "UTC"

    def __post_init__(self) -> None:
        parts = self.expr.split()
        if len(parts) != 5:
            raise ConfigurationError("cron", f"{self.expr!r}: need 5 fields (minute hour "
                                             f"day-of-month month day-of-week)")
        fields = tuple(_parse_field(p, i) for i, p in enumerate(parts))
        object.__setattr__(self, "_fields", fields)
        object.__setattr__(self, "_minutes", tuple(sorted(fields[0])))
        object.__setattr__(self, "_hours", tuple(sorted(fields[1])))
        # Vixie cron / cronie DOM_STAR, DOW_STAR: a day field *starting* with "*" ("*", "*/2")
        # makes the two day fields combine with AND; only when both are restricted do they OR.
        object.__setattr__(self, "_dom_any", parts[2].startswith("*"))
        object.__setattr__(self, "_dow_any", parts[4].startswith("*"))
        object.__setattr__(self, "_zone", get_zone(self.tz))

    def _day_ok(self, d: datetime) -> bool:
        f = self._fields  # type: ignore[attr-defined]
        dom = d.day in f[2]
        dow = (d.weekday() + 1) % 7 in f[4]
        if self._dom_any or self._dow_any:  # type: ignore[attr-defined]
            return dom and dow
        return dom or dow

    def next_after(self, t: float) -> float | None:
        zone: tzinfo = self._zone  # type: ignore[attr-defined]
        minutes, hours, _, months, _ = self._fields  # type: ignore[attr-defined]
        wall = datetime.fromtimestamp(math.floor(t / 60) * 60 + 60, timezone.utc) \
            .astimezone(zone).replace(tzinfo=None)
        limit = wall + timedelta(days=366 * 5)
        while wall < limit:
            if wall.month not in months:
                wall = (wall.replace(day=1, hour=0, minute=0) + timedelta(days=32)).replace(day=1)
                continue
            if not self._day_ok(wall):
                wall = wall.replace(hour=0, minute=0) + timedelta(days=1)
                continue
            if wall.hour not in hours:
                later_h = [h for h in self._hours if h > wall.hour]  # type: ignore[attr-defined]
                wall = (wall.replace(hour=later_h[0], minute=0) if later_h
                        else wall.replace(hour=0, minute=0) + timedelta(days=1))
                continue
            if wall.minute not in minutes:
                later_m = [m for m in self._minutes if m > wall.minute]  # type: ignore[attr-defined]
                wall = (wall.replace(minute=later_m[0]) if later_m
                        else wall.replace(minute=0) + timedelta(hours=1))
                continue
            aware = wall.replace(tzinfo=zone, fold=0)
            back = aware.astimezone(timezone.utc).astimezone(zone).replace(tzinfo=None)
            ts = aware.timestamp()
            if back == wall and ts > t:  # skip wall times inside a DST gap
                return ts
            wall += timedelta(minutes=1)
        return None


Trigger = OneOff | Interval | Cron

__all__ = ["Cron", "Interval", "OneOff", "Trigger"]

"""Scheduler regressions of issue 11: the exact interval grid, catch-up within max_instances,
misfire="skip" with a grace period, Vixie/cronie DOM_STAR against a cron reference (cronsim),
and durations in every form."""
from __future__ import annotations

import asyncio
import random
from datetime import datetime, timedelta, timezone
from fractions import Fraction
from typing import Any

import pytest

from swfast.errors import ConfigurationError
from swfast.utils.scheduler import RedisRunLock, Scheduler
from swfast.utils.triggers import Cron, Interval

T0 = 1_700_000_000.0


class FakeClock:
    def __init__(self, t: float = T0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    async def sleep(self, s: float) -> None:
        self.t += s
        await asyncio.sleep(0)


def _sched(clock: FakeClock, **kw: Any) -> Scheduler:
    kw.setdefault("cpu_percent", lambda: 0.0)
    return Scheduler(clock=clock, sleep=clock.sleep, **kw)


# ---------------------------------------------------------------- 11: the interval grid
@pytest.mark.parametrize("every, anchor", [(3.3, 0.0), (0.3, 0.0), (0.3, 1e9), (3.3, 1e9 + 0.7),
                                           (0.1, 1.7e9), (0.7, 999_999_999.9), (1 / 3, 1e9), (86400.5, 0.0)])
def test_interval_stays_on_the_grid(every: float, anchor: float) -> None:
    trig = Interval(every, anchor=anchor)
    step, origin = Fraction(repr(every)), Fraction(repr(anchor))
    t = anchor + 12_345 * every
    k0 = None
    prev = None
    for _ in range(3000):
        due = trig.next_after(t)
        assert due > t
        k = round((Fraction(due) - origin) / step)
        assert due == float(origin + k * step), (t, due)  # exactly a grid point
        if k0 is None:
            k0 = k
        else:
            assert k == prev + 1, (t, due)  # consecutive: no slot fires twice, none is skipped
        prev = k
        t = due
    assert prev == k0 + 2999


@pytest.mark.parametrize("every, anchor", [(3.3, 0.0), (0.3, 1e9), (0.1, 1.7e9)])
def test_one_due_time_per_slot_from_any_instant(every: float, anchor: float) -> None:
    trig = Interval(every, anchor=anchor)
    rnd = random.Random(1)
    for _ in range(2000):
        t = anchor + rnd.uniform(0, 1e6) * every
        due = trig.next_after(t)
        again = trig.next_after(math_nextafter(due, -1.0))  # just before the due time
        assert again == due
        assert trig.next_after(due) - due == pytest.approx(every, rel=1e-6, abs=1e-6)


def math_nextafter(x: float, towards: float) -> float:
    import math

    return math.nextafter(x, towards * float("inf"))


async def test_interval_job_on_a_fractional_grid_never_double_fires() -> None:
    clock = FakeClock(1e9)
    s = _sched(clock)
    seen: list[float] = []
    s.schedule_task(lambda: None, every_s=0.3, id="j")
    for _ in range(4000):
        clock.t += 0.1
        res = await s.run_pending()
        for _, due, outcome in res:
            if outcome == "started":
                seen.append(due)
        await s.drain()
    dues = seen
    assert len(dues) == len(set(dues))
    gaps = [b - a for a, b in zip(dues, dues[1:])]
    assert min(gaps) > 0.2 and max(gaps) < 0.4


def test_interval_accepts_durations() -> None:
    assert Interval("10m").every_s == 600.0
    assert Interval(timedelta(seconds=1.5)).next_after(0.2) == 1.5
    for bad in ("soon", 0, -1, float("nan"), None, "0s"):
        with pytest.raises(ConfigurationError, match="every_s"):
            Interval(bad)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="anchor"):
        Interval(1, anchor=float("inf"))


# ---------------------------------------------------------------- 12: catch-up
@pytest.mark.parametrize("max_instances", [1, 2])
async def test_catch_up_respects_max_instances(max_instances: int) -> None:
    clock = FakeClock(T0)
    s = _sched(clock)
    active = peak = done = 0

    async def job() -> None:
        nonlocal active, peak, done
        active += 1
        peak = max(peak, active)
        for _ in range(3):
            await asyncio.sleep(0)
        active -= 1
        done += 1

    s.schedule_task(job, every_s=10, id="j", misfire="run_all", misfire_grace_s=0.5,
                    overlap="allow", max_instances=max_instances)
    clock.t += 61  # asleep past six due times
    res = await s.run_pending()
    assert [r[2] for r in res] == ["started"] * 6
    await s.drain()
    assert done == 6 and peak == max_instances


async def test_catch_up_runs_in_due_order_one_at_a_time() -> None:
    clock = FakeClock(T0)
    s = _sched(clock)
    order: list[float] = []
    active = peak = 0

    async def job(tag: list[float]) -> None:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0)
        active -= 1

    s.schedule_task(job, every_s=10, id="j", misfire="run_all", misfire_grace_s=0, args=(order,))
    clock.t += 61
    await s.run_pending()
    assert s.jobs["j"].running == 6
    # a due time arriving while the backlog drains is an overlap
    clock.t += 10
    assert [r[2] for r in await s.run_pending()] == ["overlap skipped"]
    await s.drain()
    assert peak == 1 and [h[1] for h in s.jobs["j"].history] == ["ok"] * 6
    assert [h[0] for h in s.jobs["j"].history] == sorted(h[0] for h in s.jobs["j"].history)


async def test_misfire_skip_with_grace_runs_once() -> None:
    clock = FakeClock(T0)
    s = _sched(clock)
    runs: list[float] = []

    async def job() -> None:
        runs.append(clock())

    s.schedule_task(job, every_s=10, id="j", misfire="skip", misfire_grace_s=60)
    clock.t += 200  # 20 missed due times, 6 of them within the grace
    res = await s.run_pending()
    await s.drain()
    assert len(runs) == 1 and [r[2] for r in res] == ["started"]
    assert res[0][1] == T0 + 200  # the latest due time within the grace
    assert s.jobs["j"].next_run == T0 + 210
    # a shorter stall, all within the grace: still one run, not a burst
    clock.t = T0 + 250
    res = await s.run_pending()
    await s.drain()
    assert [r[2] for r in res] == ["started"] and res[0][1] == T0 + 250 and len(runs) == 2


async def test_misfire_skip_drops_all_when_every_due_is_late() -> None:
    clock = FakeClock(T0)
    s = _sched(clock)
    s.schedule_task(lambda: None, every_s=100, id="j", misfire="skip", misfire_grace_s="30s")
    clock.t += 1050  # due times at +100..+1000, the latest 50 s ago
    res = await s.run_pending()
    assert [r[2] for r in res] == ["misfire skipped"]
    assert s.jobs["j"].next_run == T0 + 1100


def test_long_stall_skips_ahead_in_one_step() -> None:
    clock = FakeClock(T0)
    s = _sched(clock)
    job = s.schedule_task(lambda: None, every_s=0.001, id="fast", misfire="run_all")
    clock.t += 86400 * 30  # a month of millisecond due times
    due, _ = s.handle_conflicts(job, clock.t)
    assert len(due) == 100 and job.next_run is not None and clock.t < job.next_run <= clock.t + 0.001


# ---------------------------------------------------------------- 13: DOM_STAR
def test_dom_star_with_step_ands_with_day_of_week() -> None:
    t = datetime(2024, 3, 1, tzinfo=timezone.utc).timestamp()
    c = Cron("0 0 */2 * mon")  # Vixie/cronie: odd days that are Mondays
    got = []
    for _ in range(4):
        t = c.next_after(t)  # type: ignore[assignment]
        got.append(datetime.fromtimestamp(t, timezone.utc).strftime("%a %d %b"))
    assert got == ["Mon 11 Mar", "Mon 25 Mar", "Mon 01 Apr", "Mon 15 Apr"]
    # a restricted day-of-month without "*" still ORs with the day of week
    assert datetime.fromtimestamp(Cron("0 0 1-31/2 * mon").next_after(
        datetime(2024, 3, 2, tzinfo=timezone.utc).timestamp()), timezone.utc).day == 3  # type: ignore[arg-type]


def _random_expr(rnd: random.Random) -> str:
    def field(lo: int, hi: int, star_bias: float) -> str:
        r = rnd.random()
        if r < star_bias:
            return "*"
        if r < star_bias + 0.2:
            return f"*/{rnd.randint(2, max(2, (hi - lo) // 2))}"
        if r < star_bias + 0.4:
            a = rnd.randint(lo, hi)
            return f"{a}-{rnd.randint(a, hi)}" + (f"/{rnd.randint(1, 3)}" if rnd.random() < 0.3 else "")
        return ",".join(str(rnd.randint(lo, hi)) for _ in range(rnd.randint(1, 3)))

    return " ".join([field(0, 59, 0.1), field(0, 23, 0.3), field(1, 31, 0.4), field(1, 12, 0.6),
                     field(0, 6, 0.4)])


def test_cron_agrees_with_cronsim() -> None:
    cronsim = pytest.importorskip("cronsim")
    rnd = random.Random(20261207)
    checked = 0
    for _ in range(300):
        expr = _random_expr(rnd)
        start = datetime.fromtimestamp(rnd.uniform(1.6e9, 1.9e9), timezone.utc).replace(second=0, microsecond=0)
        try:
            ref = cronsim.CronSim(expr, start)
            want = [next(ref).timestamp() for _ in range(5)]
        except (cronsim.CronSimError, StopIteration):
            continue
        ours = Cron(expr)
        t = start.timestamp()
        got = []
        for _ in range(5):
            t = ours.next_after(t)  # type: ignore[assignment]
            got.append(t)
        assert got == want, expr
        checked += 1
    assert checked > 200


# ---------------------------------------------------------------- durations
def test_scheduler_durations() -> None:
    clock = FakeClock()
    s = Scheduler(clock=clock, sleep=clock.sleep, cpu_percent=lambda: 0.0, max_defer_s="5m")
    assert s.max_defer_s == 300.0
    job = s.schedule_task(lambda: None, every_s="1m", misfire_grace_s=timedelta(seconds=30), id="j")
    assert job.trigger.every_s == 60.0 and job.misfire_grace_s == 30.0  # type: ignore[union-attr]
    assert RedisRunLock(object(), ttl_s="2h").ttl_ms == 7_200_000
    for kw in ({"misfire_grace_s": "later"}, {"every_s": [1]}, {"max_instances": 0}):
        with pytest.raises(ConfigurationError, match=next(iter(kw))):
            s.schedule_task(lambda: None, **{"every_s": 1, "id": "x", **kw})  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="ttl_s"):
        RedisRunLock(object(), ttl_s=0)
    with pytest.raises(ConfigurationError, match="max_defer_s"):
        Scheduler(cpu_percent=lambda: 0.0, max_defer_s="x")

"""Scheduler: triggers, misfire/overlap policies, load awareness, once-per-due-time via Redis."""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from swfast.errors import ConfigurationError
from swfast.utils.scheduler import RedisRunLock, Scheduler
from swfast.utils.triggers import Cron, Interval, OneOff

T0 = 1_700_000_000.0  # 2023-11-14T22:13:20Z


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


def _ts(*args: int, tz: Any = timezone.utc) -> float:
    return datetime(*args, tzinfo=tz).timestamp()


# ---------------------------------------------------------------- triggers
def test_interval_is_anchored_and_cron_fields() -> None:
    assert Interval(10).next_after(1005) == 1010 and Interval(10).next_after(1010) == 1020
    assert Interval(10, anchor=3).next_after(1005) == 1013
    assert OneOff(5).next_after(4) == 5 and OneOff(5).next_after(5) is None
    t = _ts(2024, 3, 9, 12, 0)
    assert Cron("*/15 * * * *").next_after(t) == _ts(2024, 3, 9, 12, 15)
    assert Cron("0 9 * * mon-fri").next_after(t) == _ts(2024, 3, 11, 9, 0)
    assert Cron("0 0 29 feb *").next_after(t) == _ts(2028, 2, 29, 0, 0)
    assert Cron("5/20 * * * *").next_after(t) == _ts(2024, 3, 9, 12, 5)
    assert Cron("0 12 1 * sun").next_after(t) == _ts(2024, 3, 10, 12, 0)  # dom OR dow
    for bad in ("* * *", "60 * * * *", "* * * * 8", "*/0 * * * *", "a * * * *"):
        with pytest.raises(ConfigurationError):
            Cron(bad)
    with pytest.raises(ConfigurationError):
        Interval(0)


def test_cron_dst_gap_is_skipped_and_fold_runs_once() -> None:
    from zoneinfo import ZoneInfo

    ny = ZoneInfo("America/New_York")
    c = Cron("30 2 * * *", "America/New_York")
    nxt = c.next_after(_ts(2024, 3, 9, 12, 0))
    assert nxt == _ts(2024, 3, 11, 2, 30, tz=ny)  # 10 March 02:30 does not exist
    fold = Cron("30 1 * * *", "America/New_York")
    first = fold.next_after(_ts(2024, 11, 3, 0, 0, tz=ny))
    assert fold.next_after(first) == _ts(2024, 11, 4, 1, 30, tz=ny)


@pytest.mark.parametrize("expr", ["*/15 9-17 * * mon-fri", "30 2 * * *", "0 0 29 2 *",
                                  "7,37 */3 1-10 * *", "* * * * *", "0 12 * jan,jul sun"])
def test_cron_agrees_with_apscheduler_in_utc(expr: str) -> None:
    import random

    aps = pytest.importorskip("apscheduler.triggers.cron")
    ours, theirs = Cron(expr), aps.CronTrigger.from_crontab(expr, timezone=timezone.utc)
    rnd = random.Random(expr)
    for _ in range(200):
        ts = rnd.uniform(1.6e9, 1.8e9)
        now = datetime.fromtimestamp(ts, timezone.utc)
        got = ours.next_after(ts)
        want = theirs.get_next_fire_time(None, now)
        assert want is not None and got == want.timestamp(), (expr, now)


# ---------------------------------------------------------------- scheduling
async def test_interval_job_runs_on_fake_clock() -> None:
    clock = FakeClock(T0)
    s = _sched(clock)
    seen: list[float] = []

    async def tick() -> None:
        seen.append(clock())

    s.schedule_task(tick, every_s=10, id="tick")
    for _ in range(35):
        clock.t += 1
        await s.run_pending()
        await s.drain()
    assert len(seen) == 3 and all(t % 10 == 0 for t in seen)


async def test_one_off_sync_job_and_priorities() -> None:
    clock = FakeClock(T0)
    s = _sched(clock)
    order: list[str] = []
    s.schedule_task(lambda: order.append("low"), at=T0 + 5, id="low", priority=5)
    s.schedule_task(lambda: order.append("crit"), at=T0 + 5, id="crit", priority=1)
    clock.t += 5
    res = await s.run_pending()
    assert [r[0] for r in res] == ["crit", "low"]
    await s.drain()
    assert sorted(order) == ["crit", "low"] and s.jobs == {}


async def test_misfire_policies() -> None:
    for policy, expected in (("skip", 0), ("run_once", 1), ("run_all", 6)):
        clock = FakeClock(T0)
        s = _sched(clock)
        runs: list[int] = []

        async def job() -> None:
            runs.append(1)

        s.schedule_task(job, every_s=10, id=policy, misfire=policy, misfire_grace_s=0.5)
        clock.t += 61  # asleep past six due times, all later than the grace
        res = await s.run_pending()
        await s.drain()
        assert len(runs) == expected, policy
        if policy == "skip":
            assert res[0][2] == "misfire skipped"


async def test_overlap_policies() -> None:
    for policy, expected_started in (("skip", 1), ("queue", 3), ("allow", 1)):
        clock = FakeClock(T0)
        s = _sched(clock)
        gate = asyncio.Event()
        count = 0

        async def slow() -> None:
            nonlocal count
            count += 1
            await gate.wait()

        s.schedule_task(slow, every_s=1, id="slow", overlap=policy)
        outcomes = []
        for _ in range(3):
            clock.t += 1
            outcomes += [r[2] for r in await s.run_pending()]
            await asyncio.sleep(0)
        gate.set()
        await s.drain()
        assert outcomes.count("started") == expected_started, (policy, outcomes)
        assert count == expected_started
    clock = FakeClock(T0)
    s = _sched(clock)
    s.schedule_task(slow, every_s=1, id="two", overlap="allow", max_instances=2)
    gate.clear()
    outs = []
    for _ in range(3):
        clock.t += 1
        outs += [r[2] for r in await s.run_pending()]
    assert outs == ["started", "started", "overlap skipped"]
    gate.set()
    await s.drain()


async def test_load_aware_deferral() -> None:
    clock = FakeClock(T0)
    cpu = [99.0]
    s = _sched(clock, cpu_percent=lambda: cpu[0], max_defer_s=30)
    ran: list[str] = []
    s.schedule_task(lambda: ran.append("bg"), every_s=100, id="bg", priority=5,
                    misfire_grace_s=1000)
    s.schedule_task(lambda: ran.append("crit"), every_s=100, id="crit", priority=1)
    clock.t = 1_700_000_100.0
    res = await s.run_pending()
    await s.drain()
    assert ("bg", 1_700_000_100.0, "deferred") in res and ran == ["crit"]
    clock.t += 10
    await s.run_pending()
    assert ran == ["crit"]
    cpu[0] = 10.0
    clock.t += 1
    await s.run_pending()
    await s.drain()
    assert ran == ["crit", "bg"]
    cpu[0] = 99.0  # deferred too long: runs anyway
    clock.t = 1_700_000_200.0
    await s.run_pending()
    clock.t += 31
    await s.run_pending()
    await s.drain()
    assert ran.count("bg") == 2


async def test_manage_recurring_and_errors() -> None:
    clock = FakeClock(T0)
    s = _sched(clock)
    hits: list[int] = []

    async def boom() -> None:
        hits.append(1)
        raise RuntimeError("job failure is logged, not raised")

    job = s.schedule_task(boom, every_s=5, id="b")
    s.manage_recurring("b", "pause")
    clock.t += 10
    await s.run_pending()
    assert hits == []
    s.manage_recurring("b", "resume")
    clock.t += 5
    await s.run_pending()
    await s.drain()
    assert hits == [1] and job.history[-1][1] == "error"
    s.manage_recurring("b", "reschedule", trigger=Interval(100))
    assert job.next_run is not None and job.next_run % 100 == 0
    s.manage_recurring("b", "remove")
    assert "b" not in s.jobs
    with pytest.raises(ConfigurationError):
        s.manage_recurring("b", "pause")
    with pytest.raises(ConfigurationError):
        s.schedule_task(boom)
    with pytest.raises(ConfigurationError):
        s.schedule_task(boom, every_s=1, cron="* * * * *")
    with pytest.raises(ConfigurationError, match="priority"):
        s.schedule_task(boom, every_s=1, priority=0)
    s.schedule_task(boom, every_s=1, id="x")
    with pytest.raises(ConfigurationError, match="already"):
        s.schedule_task(boom, every_s=1, id="x")


async def test_run_forever_with_injected_sleep() -> None:
    clock = FakeClock(T0)
    s = _sched(clock)
    stop = asyncio.Event()
    n = 0

    async def job() -> None:
        nonlocal n
        n += 1
        if n == 3:
            stop.set()

    s.schedule_task(job, every_s=60, id="m")
    await asyncio.wait_for(s.run_forever(idle_s=30, stop=stop), timeout=10)
    await s.drain()
    assert n == 3 and clock.t - T0 < 200


# ---------------------------------------------------------------- Redis run lock
async def test_lock_claims_once_sync_client(redis_client: Any) -> None:
    lock = RedisRunLock(redis_client, prefix="t1", ttl_s=60)
    assert await lock.claim("j", 100.0) is True
    assert await lock.claim("j", 100.0) is False
    assert await lock.claim("j", 101.0) is True
    assert 0 < redis_client.pttl("t1:j:100000") <= 60_000


async def test_lock_with_async_client_and_two_schedulers(redis_server: Any) -> None:
    import redis.asyncio as aredis

    client = aredis.Redis(host=redis_server.host, port=redis_server.port)
    await client.flushall()
    clock = FakeClock(T0)
    runs: list[str] = []
    scheds = [_sched(clock, lock=RedisRunLock(client, prefix="t2")) for _ in range(2)]
    for i, s in enumerate(scheds):
        s.schedule_task(lambda i=i: runs.append(f"w{i}"), every_s=5, id="shared")
    for _ in range(20):
        clock.t += 1
        for s in scheds:
            await s.run_pending()
            await s.drain()
    assert len(runs) == 4
    await client.aclose()


async def test_lock_failure_skips_and_counts() -> None:
    class Broken:
        def set(self, *a: Any, **k: Any) -> Any:
            raise ConnectionError("redis down")

    from swfast.monitoring.metrics import REGISTRY

    clock = FakeClock(T0)
    s = _sched(clock, lock=RedisRunLock(Broken()))
    ran: list[int] = []
    s.schedule_task(lambda: ran.append(1), every_s=1, id="down")
    clock.t += 1
    res = await s.run_pending()
    assert res[0][2] == "lock error" and ran == []
    text = REGISTRY.render_text().decode()
    assert 'swfast_scheduler_lock_errors_total{job="down"} 1' in text


def test_three_processes_run_each_due_time_once(redis_server: Any, redis_client: Any) -> None:
    worker = Path(__file__).parent / "_sched_worker.py"
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).parents[1]))
    procs = [subprocess.Popen([sys.executable, str(worker), redis_server.host,
                               str(redis_server.port), f"w{i}", str(T0), "40"], env=env)
             for i in range(3)]
    for p in procs:
        assert p.wait(timeout=120) == 0
    runs = [r.decode() for r in redis_client.lrange("runs", 0, -1)]
    ticks = [r.split(":")[1] for r in runs]
    assert len(runs) == 20 and len(set(ticks)) == 20  # every 2 s over 40 s, once each
    assert redis_client.llen("runs5") == 8
    assert len(redis_client.keys("t3p:every2:*")) == 20

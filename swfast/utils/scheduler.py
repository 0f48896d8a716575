"""An async-first, load-aware scheduler that runs each job once per due time across workers.

``Scheduler`` keeps jobs with one-off, interval or cron triggers (:mod:`swfast.utils.triggers`),
priorities (1 = critical ... 5 = background, as in messaging), misfire and overlap policies
(:meth:`Scheduler.handle_conflicts`) and load awareness (jobs of low priority wait while the CPU
is saturated). With a :class:`RedisRunLock`, several worker processes share the schedule and
each due time runs in exactly one of them (``SET key NX PX``), the fix for the classic "the job
ran once per web worker". Time is injected (``clock``/``sleep``), so tests never wait.
"""
from __future__ import annotations

import asyncio
import inspect
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from .._durations import Duration, seconds
from ..errors import ConfigurationError
from ..monitoring.metrics import REGISTRY
from .triggers import Cron, Interval, OneOff, Trigger

log = logging.getLogger("swfast.utils.scheduler")

MISFIRE_POLICIES = ("run_once", "skip", "run_all")
OVERLAP_POLICIES = ("skip", "queue", "allow")
_RUNS = REGISTRY.counter("swfast_scheduler_runs_total", "Job runs by outcome",
                         ("job", "outcome"))
_LOCK_ERRORS = REGISTRY.counter("swfast_scheduler_lock_errors_total",
                                "Run-lock failures (the run was skipped)", ("job",))


class RedisRunLock:
    """Claims ``(job_id, due_time)`` once across processes with ``SET key 1 NX PX ttl``.

    Works with a synchronous ``redis.Redis`` or an asyncio ``redis.asyncio.Redis`` client.
    Keys expire after ``ttl_s`` (seconds, a ``timedelta`` or a string like ``"1h"``) so the
    store does not grow.
    """

    def __init__(self, client: Any, *, prefix: str = "swfast:sched", ttl_s: Duration = 3600.0
                 ) -> None:
        ttl = seconds(ttl_s, param="ttl_s", allow_zero=False)
        assert ttl is not None
        self.client = client
        self.prefix = prefix
        self.ttl_ms = max(1, int(ttl * 1000))

    def key(self, job_id: str, due: float) -> str:
        return f"{self.prefix}:{job_id}:{int(round(due * 1000))}"

    async def claim(self, job_id: str, due: float) -> bool:
        """Return True in exactly one caller per ``(job_id, due)``."""
        res = self.client.set(self.key(job_id, due), b"1", nx=True, px=self.ttl_ms)
        if inspect.isawaitable(res):
            res = await res
        return bool(res)


@dataclass
class Job:
    """A scheduled job; created by :meth:`Scheduler.schedule_task`."""

    id: str
    func: Callable[..., Any]
    trigger: Trigger
    priority: int = 3
    misfire: str = "run_once"
    misfire_grace_s: float = 60.0
    overlap: str = "skip"
    max_instances: int = 1
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    next_run: float | None = None
    paused: bool = False
    running: int = 0
    deferred_since: float | None = None
    history: list[tuple[float, str]] = field(default_factory=list)
    _chain: asyncio.Task[Any] | None = None
    _last: asyncio.Task[Any] | None = None


class Scheduler:
    """Async scheduler. Not thread-safe: use it from one event loop.

    Args:
        clock: epoch seconds now (default ``time.time``); inject a fake in tests.
        sleep: async sleep (default ``asyncio.sleep``); inject a fake clock's advance in tests.
        lock: a :class:`RedisRunLock` (or anything with ``async claim(job_id, due) -> bool``)
            to run each due time once across processes; None runs locally.
        cpu_percent: current CPU use in percent (default ``psutil.cpu_percent``).
        cpu_threshold: above it, jobs with ``priority >= defer_priority`` wait.
        defer_priority: the least important priority that is still never deferred, plus one.
        max_defer_s: a deferred job runs anyway after waiting this long (seconds, a
            ``timedelta`` or a string like ``"5m"``).
    """

    def __init__(self, *, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep, lock: Any = None,
                 cpu_percent: Callable[[], float] | None = None, cpu_threshold: float = 90.0,
                 defer_priority: int = 4, max_defer_s: Duration = 300.0) -> None:
        self.clock = clock
        self.sleep = sleep
        self.lock = lock
        if cpu_percent is None:
            import psutil  # type: ignore[import-untyped, unused-ignore]

            cpu_percent = lambda: psutil.cpu_percent(interval=None)  # noqa: E731
        self.cpu_percent = cpu_percent
        self.cpu_threshold = cpu_threshold
        self.defer_priority = defer_priority
        self.max_defer_s: float = seconds(max_defer_s, param="max_defer_s")  # type: ignore[assignment]
        self.jobs: dict[str, Job] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    # ------------------------------------------------------------------ API
    def schedule_task(self, func: Callable[..., Any], *, at: float | None = None,
                      every_s: Duration | None = None, cron: str | None = None, tz: str = "UTC",
                      trigger: Trigger | None = None, id: str | None = None,
                      priority: int = 3, misfire: str = "run_once",
                      misfire_grace_s: Duration = 60.0, overlap: str = "skip",
                      max_instances: int = 1, args: tuple[Any, ...] = (),
                      kwargs: dict[str, Any] | None = None) -> Job:
        """Add a job: exactly one of ``at`` (epoch seconds), ``every_s``, ``cron`` or
        ``trigger``. ``func`` may be sync (run in a thread) or async. ``every_s`` and
        ``misfire_grace_s`` are seconds, a ``timedelta`` or a string like ``"10m"``.

        Raises:
            ConfigurationError: no or several triggers, a bad policy, priority, duration,
                ``max_instances`` or duplicate id.
        """
        given = [x is not None for x in (at, every_s, cron, trigger)]
        if sum(given) != 1:
            raise ConfigurationError("trigger", "pass exactly one of at, every_s, cron, trigger")
        trig: Trigger = trigger if trigger is not None else (
            OneOff(float(at)) if at is not None else
            Interval(every_s) if every_s is not None else Cron(str(cron), tz))  # type: ignore[arg-type]
        grace = seconds(misfire_grace_s, param="misfire_grace_s", allow_inf=True)
        assert grace is not None
        if isinstance(max_instances, bool) or not isinstance(max_instances, int) or max_instances < 1:
            raise ConfigurationError("max_instances", "must be an int >= 1")
        if misfire not in MISFIRE_POLICIES:
            raise ConfigurationError("misfire", f"{misfire!r}: use one of {MISFIRE_POLICIES}")
        if overlap not in OVERLAP_POLICIES:
            raise ConfigurationError("overlap", f"{overlap!r}: use one of {OVERLAP_POLICIES}")
        if not 1 <= priority <= 5:
            raise ConfigurationError("priority", "must be 1 (critical) to 5 (background)")
        job_id: str = id or str(getattr(func, "__qualname__", "job"))
        if job_id in self.jobs:
            raise ConfigurationError("id", f"a job {job_id!r} already exists; pass another id")
        job = Job(job_id, func, trig, priority, misfire, grace, overlap,
                  max_instances, args, dict(kwargs or {}))
        now = self.clock()
        job.next_run = at if isinstance(trig, OneOff) else trig.next_after(now)
        self.jobs[job_id] = job
        return job

    def manage_recurring(self, job_id: str, action: str, *, trigger: Trigger | None = None
                         ) -> Job | None:
        """``pause``, ``resume``, ``remove`` or ``reschedule`` (with ``trigger``) a job."""
        job = self.jobs.get(job_id)
        if job is None:
            raise ConfigurationError("job_id", f"no job {job_id!r}")
        if action == "pause":
            job.paused = True
        elif action == "resume":
            job.paused = False
            job.next_run = job.trigger.next_after(self.clock())
        elif action == "remove":
            return self.jobs.pop(job_id)
        elif action == "reschedule":
            if trigger is None:
                raise ConfigurationError("trigger", "reschedule needs a trigger")
            job.trigger = trigger
            job.next_run = trigger.next_after(self.clock())
        else:
            raise ConfigurationError("action", f"{action!r}: use pause, resume, remove or "
                                               f"reschedule")
        return job

    def handle_conflicts(self, job: Job, now: float) -> tuple[list[float], str]:
        """Decide what to run for a due job: ``(due_times, reason)``.

        Misfires (due longer than ``misfire_grace_s`` ago): ``skip`` drops them and runs the
        latest due time still within the grace once (if any), ``run_once`` coalesces them into
        one run, ``run_all`` runs each (at most 100), never more than ``max_instances`` at a
        time: the rest wait for a free slot. Several due times within the grace run once
        (except with ``run_all``). Overlap with a run still in progress: ``skip`` drops the due
        time, ``queue`` runs it after, ``allow`` runs it beside up to ``max_instances``. Also
        advances ``job.next_run``.
        """
        due: list[float] = []
        t = job.next_run
        while t is not None and t <= now and len(due) < 100:
            due.append(t)
            t = job.trigger.next_after(t)
        if t is not None and t <= now:  # beyond the cap: skip ahead in one step
            t = job.trigger.next_after(now)
        job.next_run = t
        if not due:
            return [], "not due"
        late = [d for d in due if now - d > job.misfire_grace_s]
        reason = "due"
        if late:
            if job.misfire == "skip":
                due = [d for d in due if now - d <= job.misfire_grace_s][-1:]
                reason = "misfire skipped"
            elif job.misfire == "run_once":
                due = [due[-1]]
                reason = "misfire coalesced"
            else:
                reason = "misfire run_all"
        elif len(due) > 1 and job.misfire != "run_all":
            due = [due[-1]]
        if due and job.running >= job.max_instances and job.overlap != "queue":
            return [], "overlap skipped"
        return due, reason

    # ------------------------------------------------------------------ running
    async def run_pending(self) -> list[tuple[str, float, str]]:
        """Start every job that is due now; return ``(job_id, due_time, outcome)`` for each
        decision (``started``, ``deferred``, ``claimed elsewhere``, ``lock error``, or the
        conflict reason)."""
        now = self.clock()
        out: list[tuple[str, float, str]] = []
        for job in sorted(self.jobs.values(), key=lambda j: (j.priority, j.next_run or 0.0)):
            if job.paused or job.next_run is None or job.next_run > now:
                continue
            if job.priority >= self.defer_priority and self._overloaded(job, now):
                out.append((job.id, job.next_run, "deferred"))
                continue
            job.deferred_since = None
            due_times, reason = self.handle_conflicts(job, now)
            if not due_times:
                out.append((job.id, now, reason))
                _RUNS.labels(job.id, reason.replace(" ", "_")).inc()
                continue
            # run_all catch-up: one lane per free slot; a lane's runs follow one another, so at
            # most max_instances run at once
            lanes: list[asyncio.Task[Any] | None] = [None] * max(1, job.max_instances - job.running)
            for i, due in enumerate(due_times):
                lane = i % len(lanes)
                outcome = await self._start(job, due, after=lanes[lane])
                if outcome == "started" and job.overlap != "queue":
                    lanes[lane] = job._last
                out.append((job.id, due, outcome))
            if isinstance(job.trigger, OneOff) and job.next_run is None:
                self.jobs.pop(job.id, None)
        return out

    def _overloaded(self, job: Job, now: float) -> bool:
        try:
            busy = self.cpu_percent() > self.cpu_threshold
        except Exception:  # a broken load probe must not stop scheduling
            log.warning("cpu probe failed; not deferring", exc_info=True)
            return False
        if not busy:
            return False
        if job.deferred_since is None:
            job.deferred_since = now
        return now - job.deferred_since < self.max_defer_s

    async def _start(self, job: Job, due: float, after: asyncio.Task[Any] | None = None) -> str:
        if self.lock is not None:
            try:
                if not await self.lock.claim(job.id, due):
                    _RUNS.labels(job.id, "claimed_elsewhere").inc()
                    return "claimed elsewhere"
            except Exception:  # Redis down: skipping beats running twice
                _LOCK_ERRORS.labels(job.id).inc()
                log.warning("run lock failed for %s at %s; skipped", job.id, due, exc_info=True)
                return "lock error"
        prev = job._chain if job.overlap == "queue" and job.running else after
        job.running += 1
        task = asyncio.ensure_future(self._execute(job, due, prev))
        job._last = task
        if job.overlap == "queue":
            job._chain = task
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return "started"

    async def _execute(self, job: Job, due: float, prev: asyncio.Task[Any] | None) -> None:
        try:
            if prev is not None:
                await asyncio.wait([prev])
            result = job.func(*job.args, **job.kwargs) if inspect.iscoroutinefunction(
                job.func) else await asyncio.to_thread(job.func, *job.args, **job.kwargs)
            if inspect.isawaitable(result):
                await result
            job.history.append((due, "ok"))
            _RUNS.labels(job.id, "ok").inc()
        except Exception:
            job.history.append((due, "error"))
            _RUNS.labels(job.id, "error").inc()
            log.exception("job %s (due %s) failed", job.id, due)
        finally:
            job.running -= 1
            del job.history[:-100]

    async def drain(self) -> None:
        """Wait for every started run to finish."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def next_due(self) -> float | None:
        """The earliest ``next_run`` of an active job."""
        times = [j.next_run for j in self.jobs.values() if not j.paused and j.next_run is not None]
        return min(times) if times else None

    async def run_forever(self, *, idle_s: Duration = 1.0, stop: asyncio.Event | None = None
                          ) -> None:
        """Loop: run what is due, then sleep until the next due time (at most ``idle_s``:
        seconds, a ``timedelta`` or a string like ``"1s"``)."""
        idle = seconds(idle_s, param="idle_s", allow_zero=False)
        assert idle is not None
        while stop is None or not stop.is_set():
            await self.run_pending()
            nxt = self.next_due()
            wait = idle if nxt is None else min(idle, max(0.0, nxt - self.clock()))
            await self.sleep(wait)


__all__ = ["Job", "MISFIRE_POLICIES", "OVERLAP_POLICIES", "RedisRunLock", "Scheduler"]

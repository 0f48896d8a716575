"""CPU budget: leases, adaptive concurrency (Gradient2 / AIMD) and a priority executor with aging."""
from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import math
import os
import threading
import time
from concurrent.futures import Future
from typing import Any, Callable, Iterator, TypeVar

from .._native.lease import Budget, CpuFastPath, Lease
from ..errors import BudgetExceeded, ConfigurationError
from ..monitoring.metrics import REGISTRY
from ._common import acquire, check_amount, check_fraction, check_owner
from .cgroup import cpu_budget

T = TypeVar("T")
log = logging.getLogger("swfast.resource_management")
_LIMIT = REGISTRY.gauge("swfast_resources_concurrency_limit",
                        "Current adaptive concurrency limit (tasks) per CPU allocator.", ("name",))
PRIORITIES = {"high": 0, "normal": 1, "low": 2}


def _cgroup_cpus() -> float:
    return float(cpu_budget())


def priority_level(priority: int | str) -> int:
    """``"high"``/``"normal"``/``"low"`` or an int >= 0 (0 is the most urgent)."""
    level = PRIORITIES.get(priority, -1) if isinstance(priority, str) else priority
    if isinstance(level, bool) or not isinstance(level, int) or level < 0:
        raise ConfigurationError("priority", f"must be 'high', 'normal', 'low' or an int >= 0, got {priority!r}")
    return level


class AdaptiveLimit:
    """Adaptive concurrency limit, after Netflix concurrency-limits.

    ``gradient2`` (default): ``long_rtt`` is a slow EMA of latency, ``gradient =
    clamp(tolerance * long_rtt / rtt, 0.5, 1)``, ``limit = gradient * limit + queue_size``,
    smoothed by ``smoothing``; the limit does not grow while fewer than half of it are in flight.
    ``aimd``: ``limit *= backoff`` on a drop or a latency over ``timeout_s``, ``+1`` otherwise
    (only while at least half of it is in flight). Both are clamped to ``[min_limit, max_limit]``.
    Thread-safe (one lock).
    """

    def __init__(self, *, algorithm: str = "gradient2", initial: int = 4, min_limit: int = 1,
                 max_limit: int = 64, tolerance: float = 1.5, smoothing: float = 0.2,
                 long_window: int = 600, queue_size: float = 4.0, backoff: float = 0.9,
                 timeout_s: float = 5.0) -> None:
        if algorithm not in ("gradient2", "aimd"):
            raise ConfigurationError("algorithm", f"must be 'gradient2' or 'aimd', got {algorithm!r}")
        if not 1 <= min_limit <= max_limit:
            raise ConfigurationError("min_limit", f"must be between 1 and max_limit={max_limit}, got {min_limit!r}")
        self.algorithm = algorithm
        self.min_limit, self.max_limit = int(min_limit), int(max_limit)
        self.tolerance, self.smoothing, self.queue_size = tolerance, smoothing, queue_size
        self.backoff, self.timeout_s = backoff, timeout_s
        self._long_alpha = 2.0 / (long_window + 1)
        self._estimate = float(min(max(initial, min_limit), max_limit))
        self._long_rtt = 0.0
        self._lock = threading.Lock()

    @property
    def limit(self) -> int:
        return int(self._estimate)

    def set_max(self, max_limit: int) -> None:
        """Change the upper bound (the CPU budget changed)."""
        with self._lock:
            self.max_limit = max(self.min_limit, int(max_limit))
            self._estimate = min(self._estimate, float(self.max_limit))

    def update(self, latency_s: float, inflight: int, dropped: bool = False) -> int:
        """Feed one sample; returns the new limit."""
        with self._lock:
            est = self._estimate
            if self.algorithm == "aimd":
                if dropped or latency_s > self.timeout_s:
                    est = est * self.backoff
                elif inflight * 2 >= est:
                    est = est + 1.0
            else:
                rtt = max(latency_s, 1e-9)
                if self._long_rtt == 0.0:
                    self._long_rtt = rtt
                else:
                    self._long_rtt += self._long_alpha * (rtt - self._long_rtt)
                if self._long_rtt / rtt > 2.0:  # recovering from a slow period: let the baseline catch up
                    self._long_rtt *= 0.95
                if not dropped and inflight < est / 2:
                    return int(est)
                gradient = max(0.5, min(1.0, self.tolerance * self._long_rtt / rtt))
                if dropped:
                    gradient = 0.5
                new = est * gradient + self.queue_size
                est = est * (1.0 - self.smoothing) + new * self.smoothing
            self._estimate = min(max(est, float(self.min_limit)), float(self.max_limit))
            return int(self._estimate)


class PriorityExecutor:
    """A thread pool running the most urgent task first, with aging so nothing starves.

    A task's rank is ``submitted_at + priority * aging_s`` (lower runs first; priority 0 is the
    highest). So a task is overtaken only by tasks submitted less than ``priority * aging_s``
    after it: under a flood of priority-0 tasks, a priority-``p`` task waits at most
    ``p * aging_s`` plus the time to drain what was queued ahead of it when it was submitted.

    Threads start on the first :meth:`submit`, not in the constructor. ``background=True`` makes
    workers run with ``SCHED_IDLE`` (or ``nice 19`` where that is refused).
    """

    def __init__(self, max_workers: int | None = None, *, aging_s: float = 1.0, background: bool = False,
                 clock: Callable[[], float] = time.monotonic, name: str = "swfast-cpu") -> None:
        self.max_workers = max_workers
        self.aging_s = float(aging_s)
        self.background = background
        self._clock = clock
        self._name = name
        self._heap: list[tuple[float, int, Future[Any], Callable[[], Any]]] = []
        self._seq = itertools.count()
        self._cv = threading.Condition()
        self._threads: list[threading.Thread] = []
        self._closed = False

    def rank(self, priority: int, submitted_at: float) -> float:
        return submitted_at + priority * self.aging_s

    def submit(self, fn: Callable[..., T], *args: Any, priority: int | str = "normal", **kwargs: Any) -> "Future[T]":
        level = priority_level(priority)
        fut: Future[T] = Future()
        with self._cv:
            if self._closed:
                raise RuntimeError("PriorityExecutor is shut down; create a new one")
            heapq.heappush(self._heap, (self.rank(level, self._clock()), next(self._seq), fut,
                                        lambda: fn(*args, **kwargs)))
            if len(self._threads) < (self.max_workers or cpu_budget()):
                t = threading.Thread(target=self._work, name=f"{self._name}-{len(self._threads)}", daemon=True)
                self._threads.append(t)
                t.start()
            self._cv.notify()
        return fut

    def pending(self) -> int:
        return len(self._heap)

    def _work(self) -> None:
        if self.background:
            lower_thread_priority()
        while True:
            with self._cv:
                while not self._heap and not self._closed:
                    self._cv.wait()
                if not self._heap:
                    return
                _, _, fut, call = heapq.heappop(self._heap)
            if not fut.set_running_or_notify_cancel():
                continue
            try:
                fut.set_result(call())
            except BaseException as exc:  # noqa: BLE001 - delivered to the future
                fut.set_exception(exc)

    def shutdown(self, wait: bool = True) -> None:
        with self._cv:
            self._closed = True
            self._cv.notify_all()
        if wait:
            for t in self._threads:
                t.join()


def lower_thread_priority() -> str:
    """Make the calling thread background work: ``SCHED_IDLE``, else ``nice 19``; returns which."""
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
        return "sched_idle"
    except (AttributeError, OSError):
        pass
    try:
        os.nice(19 - os.nice(0))
        return "nice"
    except (AttributeError, OSError):
        return "none"


@contextlib.contextmanager
def limit_blas_threads(n: int) -> Iterator[bool]:
    """Cap BLAS/OpenMP threads with ``threadpoolctl`` when installed; yields whether it was applied."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield False
        return
    with threadpool_limits(limits=int(n)):
        yield True


class CPUAllocator:
    """Leases against the CPU budget (``cpu_budget()`` unless ``capacity_cpus`` is given).

    The constructor reads nothing; the budget is read on first use. Leases are bookkeeping
    (admission control); with ``affinity=True`` the calling thread is also pinned to whole CPUs
    until the lease ends. Low-priority leases leave ``reserve_cpus`` free for the others.
    Thread-safe.
    """

    def __init__(self, *, capacity_cpus: float | None = None, reserve_cpus: float = 1.0,
                 name: str = "default", limit: AdaptiveLimit | None = None,
                 setaffinity: Callable[[int, set[int]], None] | None = None,
                 getaffinity: Callable[[int], set[int]] | None = None) -> None:
        self.name = name
        self.reserve_cpus = check_amount(reserve_cpus, "reserve_cpus", allow_zero=True)
        self._capacity = None if capacity_cpus is None else check_amount(capacity_cpus, "capacity_cpus")
        # the budget exists at once but reads cpu_budget() only when first needed
        self._budget = Budget(self._capacity or 0.0, None if self._capacity is not None else _cgroup_cpus)
        # the common call is one kernel call; the method below is the documented API and fallback
        setattr(self, "allocate_cpu", CpuFastPath(self._budget, self._allocate))
        self._limit = limit
        self._set_aff = setaffinity or getattr(os, "sched_setaffinity", None)
        self._get_aff = getaffinity or getattr(os, "sched_getaffinity", None)
        self._pinned: set[int] = set()
        self._executors: dict[bool, PriorityExecutor] = {}
        self._lock = threading.Lock()

    @property
    def budget(self) -> Budget:
        return self._budget

    def set_capacity(self, capacity_cpus: float) -> None:
        """Resize the budget (held leases stay); the adaptive limit's bound follows."""
        self.budget.set_capacity(check_amount(capacity_cpus, "capacity_cpus"))
        if self._limit is not None:
            self._limit.set_max(max(1, math.ceil(capacity_cpus)) * 4)

    def allocate_cpu(self, cpus: float | None = None, *, fraction: float | None = None, owner: str = "default",
                     priority: int | str = "normal", affinity: bool = False) -> Lease:
        """Lease ``cpus`` CPUs (or ``fraction`` of the budget); a context manager.

        Raises:
            ConfigurationError: both or neither of ``cpus``/``fraction``, a bad number, an
                unknown priority.
            BudgetExceeded: it does not fit (low priority must also leave ``reserve_cpus``).
        """
        return self._allocate(cpus, fraction=fraction, owner=owner, priority=priority, affinity=affinity)

    def _allocate(self, cpus: float | None = None, *, fraction: float | None = None, owner: str = "default",
                  priority: int | str = "normal", affinity: bool = False) -> Lease:
        budget = self.budget
        if (cpus is None) == (fraction is None):
            raise ConfigurationError("cpus", "pass exactly one of cpus= or fraction=")
        amount = check_amount(cpus, "cpus") if cpus is not None else check_fraction(fraction, "fraction") * budget.capacity
        check_owner(owner)
        level = priority_level(priority)
        if level >= PRIORITIES["low"] and budget.available - amount < self.reserve_cpus - 1e-9:
            raise BudgetExceeded(f"cpu:{self.name} (low priority keeps {self.reserve_cpus:g} free)", amount,
                                 max(0.0, budget.available - self.reserve_cpus), budget.capacity, owner,
                                 budget.held_by(owner), "CPUs")
        lease = acquire(budget, f"cpu:{self.name}", amount, owner, "CPUs")
        if affinity:
            self._pin(lease, max(1, math.ceil(amount)))
        return lease

    def _pin(self, lease: Lease, count: int) -> None:
        if self._set_aff is None or self._get_aff is None:
            return
        before = set(self._get_aff(0))
        with self._lock:
            free = sorted(before - self._pinned) or sorted(before)
            chosen = set(free[:count])
            self._pinned |= chosen
        try:
            self._set_aff(0, chosen)
        except OSError:
            log.warning("cpu:%s: sched_setaffinity(%s) refused; lease is bookkeeping only", self.name, sorted(chosen))

        def restore() -> None:
            with self._lock:
                self._pinned -= chosen
            try:
                self._set_aff(0, before)  # type: ignore[misc]
            except OSError:
                log.warning("cpu:%s: could not restore affinity %s", self.name, sorted(before))
        lease.on_release = restore

    @property
    def limit(self) -> AdaptiveLimit:
        if self._limit is None:
            cap = max(1, math.ceil(self.budget.capacity))
            self._limit = AdaptiveLimit(initial=cap, max_limit=cap * 4)
        return self._limit

    def optimize_threads(self, latency_s: float, *, inflight: int, dropped: bool = False) -> int:
        """Feed one measured latency (and the tasks in flight); returns the pool size to use now.

        Exposed as the ``swfast_resources_concurrency_limit{name=...}`` gauge.
        """
        check_amount(latency_s, "latency_s", allow_zero=True)
        new = self.limit.update(latency_s, int(inflight), dropped)
        _LIMIT.labels(self.name).set(new)
        return new

    def manage_priority(self, fn: Callable[..., T], *args: Any, priority: int | str = "normal",
                        background: bool = False, blas_threads: int | None = None, **kwargs: Any) -> "Future[T]":
        """Run ``fn`` on a priority executor with aging (see :class:`PriorityExecutor`).

        ``background=True`` runs it on workers with ``SCHED_IDLE``/``nice``; ``blas_threads``
        caps BLAS threads around the call through ``threadpoolctl`` when installed.
        """
        workers = max(1, math.ceil(self.budget.capacity))
        with self._lock:
            ex = self._executors.get(background)
            if ex is None:
                ex = self._executors[background] = PriorityExecutor(
                    workers, background=background,
                    name=f"swfast-cpu-{self.name}{'-bg' if background else ''}")
        if blas_threads is None:
            return ex.submit(fn, *args, priority=priority, **kwargs)

        def capped() -> T:
            with limit_blas_threads(blas_threads):
                return fn(*args, **kwargs)
        return ex.submit(capped, priority=priority)

    async def amanage_priority(self, fn: Callable[..., T], *args: Any, priority: int | str = "normal",
                               background: bool = False, **kwargs: Any) -> T:
        """Async form of :meth:`manage_priority`: awaits the result."""
        return await asyncio.wrap_future(self.manage_priority(fn, *args, priority=priority,
                                                              background=background, **kwargs))

    def reservations(self) -> dict[str, float]:
        """CPUs held per owner."""
        return self.budget.by_owner()

    def shutdown(self) -> None:
        for ex in list(self._executors.values()):
            ex.shutdown()
        self._executors.clear()


__all__ = ["AdaptiveLimit", "CPUAllocator", "PRIORITIES", "PriorityExecutor", "limit_blas_threads",
           "lower_thread_priority"]

"""Memory budget: reservations, consumers shrunk and grown under pressure, defragment, leak check.

Reservations are bookkeeping of what was promised against a cgroup-aware budget
(``memory_budget_bytes()`` times ``1 - headroom_fraction``), not host "used" memory.
:meth:`MemoryAllocator.optimize_usage` is the SPEC's cache ↔ resources interaction: when the
pressure (PSI or usage ratio, injectable) crosses ``shrink_above`` the lowest-priority consumer
that can still shrink is shrunk one step; below ``grow_below`` the highest-priority shrunk one
grows back one step. One step per call, so a periodic caller converges without oscillating.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
import sys
import threading
import time
import tracemalloc
from dataclasses import dataclass
from typing import Any, Callable, Protocol

from .._native.lease import Budget, Lease
from ..errors import ConfigurationError
from ._common import Action, acquire, check_amount, check_fraction, check_owner
from .cgroup import limits, memory_budget_bytes

log = logging.getLogger("swfast.resource_management")


class Consumer(Protocol):
    """Something holding memory that can give some back (a cache, a pool)."""

    name: str
    priority: int

    def shrink(self, factor: float) -> dict[str, Any] | None:
        """Shrink to ``factor`` of the current size; returns what changed, None if at the floor."""

    def grow(self, factor: float) -> dict[str, Any] | None:
        """Grow by ``factor`` (not past the original size); returns what changed, None if full."""


class L1CacheConsumer:
    """Shrinks an :class:`swfast.cache.L1Cache` through ``resize`` (entries) and, when the cache
    supports a runtime change of ``max_bytes`` (``set_max_bytes`` or a settable property), its
    byte bound too. Grows back up to the sizes it had when registered."""

    def __init__(self, cache: Any, *, name: str = "l1", priority: int = 0, min_entries: int = 16) -> None:
        self.cache, self.name, self.priority = cache, name, priority
        self.min_entries = min_entries
        self.full_entries = int(cache.maxsize)
        self.full_bytes: int | None = getattr(cache, "max_bytes", None)

    def _set_bytes(self, value: int) -> bool:
        setter = getattr(self.cache, "set_max_bytes", None)
        if callable(setter):
            setter(value)
            return True
        prop = getattr(type(self.cache), "max_bytes", None)
        if isinstance(prop, property) and prop.fset is not None:
            self.cache.max_bytes = value
            return True
        return False

    def _apply(self, entries: int) -> dict[str, Any]:
        before = int(self.cache.maxsize)
        self.cache.resize(entries)
        out: dict[str, Any] = {"from_entries": before, "to_entries": entries}
        if self.full_bytes:
            nbytes = max(1, self.full_bytes * entries // self.full_entries)
            if self._set_bytes(nbytes):
                out["to_max_bytes"] = nbytes
        return out

    def shrink(self, factor: float) -> dict[str, Any] | None:
        cur = int(self.cache.maxsize)
        new = max(self.min_entries, int(cur * factor))
        return None if new >= cur else self._apply(new)

    def grow(self, factor: float) -> dict[str, Any] | None:
        cur = int(self.cache.maxsize)
        new = min(self.full_entries, max(cur + 1, int(cur * factor)))
        return None if new <= cur else self._apply(new)


class CallbackConsumer:
    """A consumer from two callables (e.g. L3 ``cleanup`` as ``shrink``, GPU ``free_all_blocks``)."""

    def __init__(self, name: str, shrink: Callable[[float], Any], grow: Callable[[float], Any] | None = None,
                 *, priority: int = 0) -> None:
        self.name, self.priority = name, priority
        self._shrink, self._grow = shrink, grow

    def shrink(self, factor: float) -> dict[str, Any] | None:
        result = self._shrink(factor)
        return None if result is False else {"result": result}

    def grow(self, factor: float) -> dict[str, Any] | None:
        if self._grow is None:
            return None
        result = self._grow(factor)
        return None if result is False else {"result": result}


def default_pressure() -> float:
    """Memory pressure in [0, 1]: max(cgroup usage / budget, PSI memory ``some avg10`` / 100)."""
    lim = limits()
    ratio = 0.0
    if lim.memory_current_bytes is not None and lim.memory_budget_bytes:
        ratio = lim.memory_current_bytes / lim.memory_budget_bytes
    else:
        import psutil
        ratio = psutil.virtual_memory().percent / 100.0
    psi = lim.pressure.get("memory")
    if psi is not None:
        ratio = max(ratio, psi.some_avg10_percent / 100.0)
    return min(1.0, max(0.0, ratio))


@dataclass(frozen=True)
class DefragReport:
    """What :meth:`MemoryAllocator.defragment` did; RSS in bytes (None where unreadable)."""

    rss_before_bytes: int | None
    rss_after_bytes: int | None
    collected_objects: int
    malloc_trimmed: bool
    gpu_blocks_freed: bool
    skipped: bool = False


def _rss_bytes() -> int | None:
    try:
        import psutil
        return int(psutil.Process().memory_info().rss)
    except Exception:  # noqa: BLE001 - psutil missing or the process unreadable
        return None


def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        fn = libc.malloc_trim
    except (OSError, AttributeError):  # musl has no malloc_trim
        return None
    fn.argtypes, fn.restype = [ctypes.c_size_t], ctypes.c_int
    return fn


class MemoryAllocator:
    """Reservations against the memory budget and the consumers shrunk under pressure.

    Args:
        capacity_bytes: the budget; default ``memory_budget_bytes() * (1 - headroom_fraction)``
            read on first use (the constructor reads nothing).
        headroom_fraction: share of the cgroup budget kept out of reservations.
        pressure: callable returning pressure in [0, 1] (default :func:`default_pressure`).
        shrink_above / grow_below: pressure thresholds (hysteresis between them).
        defrag_interval_s: least time between two real :meth:`defragment` runs.
    Thread-safe.
    """

    def __init__(self, *, capacity_bytes: int | None = None, headroom_fraction: float = 0.1,
                 pressure: Callable[[], float] | None = None, shrink_above: float = 0.85,
                 grow_below: float = 0.7, shrink_factor: float = 0.5, defrag_interval_s: float = 30.0,
                 clock: Callable[[], float] = time.monotonic, name: str = "default") -> None:
        self.name = name
        self._capacity = None if capacity_bytes is None else int(check_amount(capacity_bytes, "capacity_bytes", integer=True))
        self.headroom_fraction = check_amount(headroom_fraction, "headroom_fraction", allow_zero=True)
        if self.headroom_fraction >= 1.0:
            raise ConfigurationError("headroom_fraction", f"must be below 1, got {headroom_fraction!r}")
        self.shrink_above = check_fraction(shrink_above, "shrink_above")
        self.grow_below = check_fraction(grow_below, "grow_below")
        if self.grow_below >= self.shrink_above:
            raise ConfigurationError("grow_below", f"must be below shrink_above={shrink_above!r} (hysteresis), got {grow_below!r}")
        self.shrink_factor = check_fraction(shrink_factor, "shrink_factor")
        self._pressure = pressure or default_pressure
        self._defrag_interval = defrag_interval_s
        self._clock = clock
        self._last_defrag = -float("inf")
        self._budget: Budget | None = None
        self._consumers: list[Any] = []
        self._shrunk: dict[str, int] = {}
        self._lock = threading.Lock()
        self._snapshot: tracemalloc.Snapshot | None = None

    @property
    def budget(self) -> Budget:
        b = self._budget
        if b is None:
            with self._lock:
                if self._budget is None:
                    cap = self._capacity
                    if cap is None:
                        total = memory_budget_bytes() or 0
                        cap = int(total * (1.0 - self.headroom_fraction))
                    self._budget = Budget(float(cap))
                b = self._budget
        return b

    def allocate_memory(self, nbytes: int, *, owner: str = "default") -> Lease:
        """Reserve ``nbytes`` for ``owner``; a context manager released on exit or GC.

        Raises:
            ConfigurationError: negative, NaN or fractional ``nbytes``, an empty owner.
            BudgetExceeded: it does not fit; names the budget and the owner's reservations.
        """
        amount = check_amount(nbytes, "nbytes", integer=True)
        check_owner(owner)
        return acquire(self.budget, f"memory:{self.name}", amount, owner, "bytes")

    def reservations(self) -> dict[str, int]:
        """Bytes reserved per owner."""
        return {k: int(v) for k, v in self.budget.by_owner().items()}

    # ------------------------------------------------------------------ consumers
    def register_consumer(self, consumer: Any) -> None:
        """Add a consumer (:class:`L1CacheConsumer`, :class:`CallbackConsumer`, ...); higher
        ``priority`` = more important = shrunk last."""
        for attr in ("name", "priority", "shrink", "grow"):
            if not hasattr(consumer, attr):
                raise ConfigurationError("consumer", f"needs a {attr!r} attribute (see MemoryAllocator.Consumer)")
        with self._lock:
            self._consumers = [c for c in self._consumers if c.name != consumer.name] + [consumer]

    def register_cache(self, cache: Any, *, name: str = "l1", priority: int = 0, min_entries: int = 16) -> L1CacheConsumer:
        """Register an L1 cache (anything with ``maxsize`` and ``resize``)."""
        consumer = L1CacheConsumer(cache, name=name, priority=priority, min_entries=min_entries)
        self.register_consumer(consumer)
        return consumer

    def optimize_usage(self, *, pressure: float | None = None, dry_run: bool = False) -> list[Action]:
        """Shrink or grow one consumer step from the current pressure; returns the actions."""
        level = self._pressure() if pressure is None else check_amount(pressure, "pressure", allow_zero=True)
        actions: list[Action] = []
        with self._lock:
            consumers = sorted(self._consumers, key=lambda c: c.priority)
        if level >= self.shrink_above:
            for c in consumers:  # least important first
                if dry_run:
                    actions.append(Action("shrink", c.name, {"pressure": level, "factor": self.shrink_factor}, False))
                    break
                done = self._call(c.shrink, self.shrink_factor, c.name)
                if done is not None:
                    self._shrunk[c.name] = self._shrunk.get(c.name, 0) + 1
                    actions.append(Action("shrink", c.name, {"pressure": level, **done}))
                    break
        elif level <= self.grow_below:
            for c in reversed(consumers):  # most important grows back first
                if not self._shrunk.get(c.name):
                    continue
                if dry_run:
                    actions.append(Action("grow", c.name, {"pressure": level, "factor": 1 / self.shrink_factor}, False))
                    break
                done = self._call(c.grow, 1.0 / self.shrink_factor, c.name)
                self._shrunk[c.name] -= 1
                if done is not None:
                    actions.append(Action("grow", c.name, {"pressure": level, **done}))
                    break
        return actions

    @staticmethod
    def _call(fn: Callable[[float], dict[str, Any] | None], factor: float, name: str) -> dict[str, Any] | None:
        try:
            return fn(factor)
        except Exception:
            log.exception("memory consumer %r failed to resize", name)
            return None

    # ------------------------------------------------------------------ defragment / leaks
    def defragment(self, *, force: bool = False) -> DefragReport:
        """``gc.collect()`` + ``malloc_trim(0)`` (glibc) + CuPy ``free_all_blocks()`` when CuPy is
        loaded; throttled to one run per ``defrag_interval_s`` unless ``force``. Never call it on
        a hot path."""
        now = self._clock()
        if not force and now - self._last_defrag < self._defrag_interval:
            return DefragReport(None, None, 0, False, False, skipped=True)
        self._last_defrag = now
        before = _rss_bytes()
        collected = gc.collect()
        trim = _malloc_trim()
        trimmed = bool(trim is not None and trim(0) >= 0)
        gpu = False
        cupy = sys.modules.get("cupy")
        if cupy is not None:
            try:
                cupy.get_default_memory_pool().free_all_blocks()
                cupy.get_default_pinned_memory_pool().free_all_blocks()
                gpu = True
            except Exception:  # noqa: BLE001 - no device behind an imported CuPy
                log.debug("CuPy free_all_blocks failed", exc_info=True)
        return DefragReport(before, _rss_bytes(), collected, trimmed, gpu)

    def leak_check(self, *, top: int = 10) -> list[tuple[str, int]]:
        """Diff ``tracemalloc`` snapshots: the first call starts tracing and returns ``[]``; each
        later call returns the ``top`` (location, grown bytes) since the previous call."""
        if not tracemalloc.is_tracing():
            tracemalloc.start()
        snap = tracemalloc.take_snapshot()
        prev, self._snapshot = self._snapshot, snap
        if prev is None:
            return []
        stats = snap.compare_to(prev, "lineno")
        return [(str(s.traceback), s.size_diff) for s in stats[:top] if s.size_diff > 0]


__all__ = ["CallbackConsumer", "Consumer", "DefragReport", "L1CacheConsumer", "MemoryAllocator",
           "default_pressure"]

"""What this process may really use: cgroup v1/v2 limits, cpusets, affinity and PSI pressure.

``os.cpu_count()`` and psutil report the *host* inside containers (psutil #2100, xgboost #7653);
:func:`limits` reads the cgroup files instead. The process's own cgroup comes from
``/proc/self/cgroup`` (not the mount root: joblib/loky #634); every ancestor up to the mount root
is read and the minimum wins (nested limits). ``root`` is injectable so tests use fixture trees.

Files read (relative to ``root``):

* v2 (``sys/fs/cgroup/cgroup.controllers`` present, or ``sys/fs/cgroup/unified`` on hybrid
  hosts): ``cpu.max`` (``"quota period"`` or ``"max period"``), ``memory.max``, ``memory.high``,
  ``memory.current``, ``cpuset.cpus.effective``, ``memory.pressure``/``cpu.pressure``.
* v1: ``cpu/cpu.cfs_quota_us`` (``-1`` = none) and ``cpu.cfs_period_us``,
  ``memory/memory.limit_in_bytes`` (values ≥ 2**62, such as ``9223372036854771712``, = none),
  ``memory.usage_in_bytes``, ``cpuset/cpuset.effective_cpus`` or ``cpuset.cpus``.
* ``proc/pressure/{cpu,memory,io}`` (host PSI) where the cgroup has none, ``proc/meminfo``.
"""
from __future__ import annotations

import math
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Mapping

from ..errors import ConfigurationError

#: cgroup v1 reports "no limit" as LONG_MAX rounded down to a page; anything this big is unlimited.
V1_UNLIMITED_FLOOR = 1 << 62


@dataclass(frozen=True)
class Pressure:
    """One PSI resource: share of wall time (percent) some / all tasks stalled."""

    some_avg10_percent: float = 0.0
    some_avg60_percent: float = 0.0
    some_avg300_percent: float = 0.0
    some_total_us: int = 0
    full_avg10_percent: float = 0.0
    full_avg60_percent: float = 0.0
    full_avg300_percent: float = 0.0
    full_total_us: int = 0


@dataclass(frozen=True)
class Limits:
    """A reading of this process's limits. ``None`` means "no limit at that layer"."""

    cgroup_version: str = "none"
    cgroup_path: str = "/"
    cpu_quota_cores: float | None = None
    cpuset_cpus: frozenset[int] | None = None
    affinity_cpus: frozenset[int] = frozenset()
    cpu_budget: int = 1
    memory_max_bytes: int | None = None
    memory_high_bytes: int | None = None
    memory_current_bytes: int | None = None
    host_memory_bytes: int | None = None
    memory_budget_bytes: int | None = None
    pressure: Mapping[str, Pressure] = field(default_factory=dict)


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except (OSError, UnicodeDecodeError):
        return None


def parse_cpuset(text: str) -> frozenset[int]:
    """``"0-3,8,10-11"`` -> {0, 1, 2, 3, 8, 10, 11}; empty text -> empty set."""
    cpus: set[int] = set()
    for part in text.replace("\n", ",").split(","):
        part = part.strip()
        if not part:
            continue
        lo, _, hi = part.partition("-")
        try:
            a, b = int(lo), int(hi or lo)
        except ValueError:
            continue
        cpus.update(range(a, b + 1))
    return frozenset(cpus)


def parse_pressure(text: str) -> Pressure:
    """Parse a PSI file (``some avg10=0.00 avg60=... total=...`` / ``full ...``)."""
    vals: dict[str, float] = {}
    for line in text.splitlines():
        kind, _, rest = line.partition(" ")
        for item in rest.split():
            k, _, v = item.partition("=")
            try:
                vals[f"{kind}_{k}"] = float(v)
            except ValueError:
                continue
    return Pressure(
        vals.get("some_avg10", 0.0), vals.get("some_avg60", 0.0), vals.get("some_avg300", 0.0),
        int(vals.get("some_total", 0)), vals.get("full_avg10", 0.0), vals.get("full_avg60", 0.0),
        vals.get("full_avg300", 0.0), int(vals.get("full_total", 0)))


def _int_or_none(text: str | None, v1: bool = False) -> int | None:
    if text is None or text == "max" or text == "":
        return None
    try:
        value = int(text)
    except ValueError:
        return None
    if value < 0 or (v1 and value >= V1_UNLIMITED_FLOOR):
        return None
    return value


def _cgroup_paths(root: Path) -> dict[str, str]:
    """Controller -> path from ``proc/self/cgroup`` (``""`` key for the v2 unified line)."""
    paths: dict[str, str] = {}
    text = _read(root / "proc" / "self" / "cgroup") or ""
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        if controllers == "":
            paths[""] = path
        for c in controllers.split(","):
            if c:
                paths[c] = path
    return paths


def _chain(mount: Path, rel: str) -> list[Path]:
    """Directories from the process's cgroup up to the mount root (falls back to the root).

    Inside a container without a cgroup namespace ``proc/self/cgroup`` names a host path that
    does not exist under the container's mount; then only the mount root is read.
    """
    leaf = mount / rel.lstrip("/")
    if not rel.strip("/") or not leaf.is_dir():
        return [mount]
    out = [leaf]
    cur = leaf
    while cur != mount and mount in cur.parents:
        cur = cur.parent
        out.append(cur)
    return out


def _minimum(values: Iterable[float | int | None]) -> float | int | None:
    present = [v for v in values if v is not None]
    return min(present) if present else None


def _v2_cpu(dirs: list[Path]) -> float | None:
    quotas: list[float | None] = []
    for d in dirs:
        text = _read(d / "cpu.max")
        if not text:
            continue
        quota, _, period = text.partition(" ")
        if quota == "max":
            continue
        try:
            quotas.append(int(quota) / int(period or "100000"))
        except (ValueError, ZeroDivisionError):
            continue
    found = _minimum(quotas)
    return None if found is None else float(found)


def _v1_cpu(dirs: list[Path]) -> float | None:
    quotas: list[float | None] = []
    for d in dirs:
        q = _int_or_none(_read(d / "cpu.cfs_quota_us"))
        p = _int_or_none(_read(d / "cpu.cfs_period_us"))
        if q is not None and p:
            quotas.append(q / p)
    found = _minimum(quotas)
    return None if found is None else float(found)


def _cpuset(dirs: list[Path], names: tuple[str, ...]) -> frozenset[int] | None:
    for d in dirs:  # the leaf's effective set already reflects its ancestors
        for name in names:
            text = _read(d / name)
            if text:
                return parse_cpuset(text)
    return None


def _memory(dirs: list[Path], name: str, v1: bool) -> int | None:
    found = _minimum(_int_or_none(_read(d / name), v1) for d in dirs)
    return None if found is None else int(found)


def _meminfo_total(root: Path) -> int | None:
    for line in (_read(root / "proc" / "meminfo") or "").splitlines():
        if line.startswith("MemTotal:"):
            try:
                return int(line.split()[1]) * 1024
            except (IndexError, ValueError):
                return None
    return None


def _affinity(root: Path, affinity: Iterable[int] | None) -> frozenset[int]:
    if affinity is not None:
        return frozenset(int(c) for c in affinity)
    if str(root) == "/" and hasattr(os, "sched_getaffinity"):
        return frozenset(os.sched_getaffinity(0))
    return frozenset(range(os.cpu_count() or 1))


def limits(root: str | os.PathLike[str] = "/", *, affinity: Iterable[int] | None = None) -> Limits:
    """Read this process's CPU and memory limits.

    Args:
        root: filesystem root holding ``proc/`` and ``sys/fs/cgroup/`` (tests pass a fixture tree).
        affinity: CPUs the process may run on; default ``os.sched_getaffinity(0)`` for the real
            root, every CPU otherwise.

    Returns:
        A :class:`Limits`; ``cpu_budget`` = min(affinity ∩ cpuset, ceil(quota)) (rounded up, as
        ``nproc`` does), ``memory_budget_bytes`` = min(memory.max, memory.high, host memory).
    """
    base = Path(root)
    if not base.is_dir():
        raise ConfigurationError("root", f"{str(root)!r} is not a directory; pass '/' or a cgroup fixture tree")
    mount = base / "sys" / "fs" / "cgroup"
    paths = _cgroup_paths(base)
    unified: Path | None = None
    if (mount / "cgroup.controllers").exists():
        version, unified = "v2", mount
    elif (mount / "unified" / "cgroup.controllers").exists():
        version, unified = "hybrid", mount / "unified"
    elif any((mount / c).is_dir() for c in ("cpu", "memory", "cpu,cpuacct")):
        version = "v1"
    else:
        version = "none"
    quota: float | None = None
    cpuset: frozenset[int] | None = None
    mem_max = mem_high = mem_cur = None
    pressure: dict[str, Pressure] = {}
    v2dirs = _chain(unified, paths.get("", "/")) if unified is not None else []
    if version == "v2":
        quota = _v2_cpu(v2dirs)
        cpuset = _cpuset(v2dirs, ("cpuset.cpus.effective", "cpuset.cpus"))
        mem_max = _memory(v2dirs, "memory.max", False)
        mem_high = _memory(v2dirs, "memory.high", False)
        mem_cur = _int_or_none(_read(v2dirs[0] / "memory.current"))
    if version in ("v1", "hybrid"):
        cpu_dir = next((mount / c for c in ("cpu", "cpu,cpuacct") if (mount / c).is_dir()), mount / "cpu")
        cpu_dirs = _chain(cpu_dir, paths.get("cpu", "/"))
        mem_dirs = _chain(mount / "memory", paths.get("memory", "/"))
        set_dirs = _chain(mount / "cpuset", paths.get("cpuset", "/"))
        quota = _v1_cpu(cpu_dirs)
        cpuset = _cpuset(set_dirs, ("cpuset.effective_cpus", "cpuset.cpus"))
        mem_max = _memory(mem_dirs, "memory.limit_in_bytes", True)
        mem_cur = _int_or_none(_read(mem_dirs[0] / "memory.usage_in_bytes"))
    for res in ("cpu", "memory", "io"):
        text = _read(v2dirs[0] / f"{res}.pressure") if v2dirs else None
        text = text or _read(base / "proc" / "pressure" / res)
        if text:
            pressure[res] = parse_pressure(text)
    aff = _affinity(base, affinity)
    usable = aff & cpuset if cpuset else aff
    count = max(1, len(usable))
    if quota is not None:
        count = max(1, min(count, math.ceil(quota - 1e-9)))
    host = _meminfo_total(base)
    budget = _minimum([mem_max, mem_high, host])
    rel = paths.get("", paths.get("memory", "/"))
    return Limits(version, rel, quota, cpuset, aff, count, mem_max, mem_high, mem_cur, host,
                  None if budget is None else int(budget), pressure)


class _Cached:
    """A :func:`limits` reading reused for ``ttl_s`` seconds (thread-safe)."""

    def __init__(self, ttl_s: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl_s
        self._clock = clock
        self._lock = threading.Lock()
        self._value: Limits | None = None
        self._at = 0.0

    def get(self) -> Limits:
        now = self._clock()
        value = self._value
        if value is None or now - self._at > self._ttl:
            with self._lock:
                value = limits()
                self._value, self._at = value, now
        return value


_CACHE = _Cached()


def cpu_budget() -> int:
    """CPUs this process should size pools for (cached reading of :func:`limits`, 5 s)."""
    return _CACHE.get().cpu_budget


def memory_budget_bytes() -> int | None:
    """Bytes this process may use (cgroup ``memory.max``/``high`` or host RAM; cached 5 s)."""
    return _CACHE.get().memory_budget_bytes


__all__ = ["Limits", "Pressure", "cpu_budget", "limits", "memory_budget_bytes", "parse_cpuset",
           "parse_pressure"]

"""Process and system gauges from a primed, container-aware, never-blocking sampler.

``ProcessSampler.sample()`` returns the latest reading at once: from the background thread when
:meth:`ProcessSampler.start` was called, otherwise an instant reading (a few ``/proc`` and
``/sys/fs/cgroup`` reads, no sleep). CPU use is a delta between readings; the first reading is
*primed* with the process start time (CPU seconds since start / wall seconds since start), so it
is never the ``0.0`` that ``psutil.cpu_percent()`` returns first (psutil #1095).

Container limits come from cgroup v2 (``memory.max``, ``cpu.max``) or v1
(``memory.limit_in_bytes``, ``cpu.cfs_quota_us``/``cpu.cfs_period_us``); the "unlimited"
sentinels (``max``, ``-1``, values ≥ 2**62) mean no limit, and then the host's totals are used.
Ratios are 0-1 of what the container may use (``cpu_usage_ratio`` = cores used / cores allowed).
"""
from __future__ import annotations

import gc
import os
import threading
import time
from pathlib import Path
from typing import Callable

from .metrics import MetricSnapshot, Sample

_UNLIMITED = 2 ** 62


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def _own_cgroup(root: Path, proc_cgroup: Path) -> tuple[Path | None, dict[str, Path]]:
    """The v2 directory and the v1 per-controller directories of this process."""
    text = _read(proc_cgroup) or ""
    v2: Path | None = None
    v1: dict[str, Path] = {}
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, rel = parts
        rel = rel.lstrip("/")
        if controllers == "":
            for base in (root / "unified", root):
                if (base / rel / "memory.max").exists() or (base / rel / "cpu.max").exists():
                    v2 = base / rel
                    break
        else:
            for ctl in controllers.split(","):
                for cand in (root / ctl / rel, root / controllers / rel, root / ctl, root / controllers):
                    if cand.exists():
                        v1[ctl] = cand
                        break
    return v2, v1


def cgroup_limits(root: str | os.PathLike[str] = "/sys/fs/cgroup",
                  proc_cgroup: str | os.PathLike[str] = "/proc/self/cgroup") -> dict[str, float | None]:
    """Container limits: ``memory_limit_bytes``, ``memory_usage_bytes``, ``cpu_limit_cores``.

    ``None`` where no limit is set (or no cgroup is visible).
    """
    rootp = Path(root)
    v2, v1 = _own_cgroup(rootp, Path(proc_cgroup))
    mem_limit: float | None = None
    mem_usage: float | None = None
    cpu: float | None = None
    if v2 is not None:
        raw = _read(v2 / "memory.max")
        if raw and raw != "max":
            mem_limit = float(raw)
        raw = _read(v2 / "memory.current")
        if raw:
            mem_usage = float(raw)
        raw = _read(v2 / "cpu.max")
        if raw:
            quota, _, period = raw.partition(" ")
            if quota != "max" and period:
                cpu = float(quota) / float(period)
    if mem_limit is None and "memory" in v1:
        raw = _read(v1["memory"] / "memory.limit_in_bytes")
        if raw and raw.lstrip("-").isdigit() and 0 < int(raw) < _UNLIMITED:
            mem_limit = float(raw)
        raw = _read(v1["memory"] / "memory.usage_in_bytes")
        if raw and raw.isdigit() and mem_usage is None:
            mem_usage = float(raw)
    if cpu is None:
        for ctl in ("cpu", "cpu,cpuacct", "cpuacct"):
            if ctl in v1:
                quota_s = _read(v1[ctl] / "cpu.cfs_quota_us")
                period_s = _read(v1[ctl] / "cpu.cfs_period_us")
                if quota_s and period_s and quota_s.lstrip("-").isdigit() and int(quota_s) > 0:
                    cpu = int(quota_s) / max(int(period_s), 1)
                break
    if mem_limit is not None and mem_limit >= _UNLIMITED:
        mem_limit = None
    return {"memory_limit_bytes": mem_limit, "memory_usage_bytes": mem_usage, "cpu_limit_cores": cpu}


def _pressure(path: str = "/proc/pressure/memory") -> float | None:
    """PSI ``some avg10`` as a 0-1 ratio, or None when PSI is absent."""
    text = _read(Path(path))
    if not text:
        return None
    for part in text.splitlines()[0].split():
        if part.startswith("avg10="):
            return float(part[6:]) / 100.0
    return None


class ProcessSampler:
    """Background sampler of process and system gauges (started only by :meth:`start`).

    Args:
        interval: seconds between background readings (default 5).
        cgroup_root / proc_cgroup: where cgroup files live (tests point them at a fake tree).
        clock: wall clock (injectable).
    """

    def __init__(self, interval: float = 5.0, *, cgroup_root: str = "/sys/fs/cgroup",
                 proc_cgroup: str = "/proc/self/cgroup", clock: Callable[[], float] = time.time) -> None:
        self.interval = float(interval)
        self._root = cgroup_root
        self._proc_cgroup = proc_cgroup
        self._clock = clock
        self._lock = threading.Lock()
        self._last: dict[str, float] = {}
        self._prev: tuple[float, float, float, float] | None = None  # wall, proc cpu, sys busy, sys total
        self._limits: dict[str, float | None] | None = None
        self._limits_at = 0.0
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._proc: object = None
        self.errors = 0

    # -- readings ---------------------------------------------------------------------------
    def _psutil_proc(self) -> object:
        import psutil

        if self._proc is None or getattr(self._proc, "pid", None) != os.getpid():
            self._proc = psutil.Process()
        return self._proc

    def limits(self) -> dict[str, float | None]:
        """Container limits, re-read at most every 60 s."""
        now = self._clock()
        if self._limits is None or now - self._limits_at > 60.0:
            self._limits = cgroup_limits(self._root, self._proc_cgroup)
            self._limits_at = now
        return dict(self._limits)

    def read(self) -> dict[str, float]:
        """Take one reading now (no sleep; a few file reads) and make it the latest."""
        import psutil

        proc = self._psutil_proc()
        now = self._clock()
        with proc.oneshot():  # type: ignore[attr-defined]
            cpu = proc.cpu_times()  # type: ignore[attr-defined]
            proc_cpu = float(cpu.user + cpu.system)
            mem = proc.memory_info()  # type: ignore[attr-defined]
            threads = proc.num_threads()  # type: ignore[attr-defined]
            fds: float | None
            try:
                fds = float(proc.num_fds())  # type: ignore[attr-defined]
            except (AttributeError, psutil.Error):
                fds = None  # not knowable here (no -1 sentinel): the gauge is left out
            created = float(proc.create_time())  # type: ignore[attr-defined]
        st = psutil.cpu_times()
        sys_total = float(sum(st))
        sys_busy = sys_total - float(st.idle) - float(getattr(st, "iowait", 0.0))
        limits = self.limits()
        host_cores = float(os.cpu_count() or 1)
        cores = limits["cpu_limit_cores"] or host_cores
        with self._lock:
            prev = self._prev
            if prev is None:  # primed: average since the process started
                wall = max(now - created, 1e-6)
                used = proc_cpu
                sys_ratio = sys_busy / sys_total if sys_total else 0.0
            else:
                wall = max(now - prev[0], 1e-6)
                used = max(proc_cpu - prev[1], 0.0)
                dt = sys_total - prev[3]
                sys_ratio = (sys_busy - prev[2]) / dt if dt > 0 else self._last.get("system_cpu_usage_ratio", 0.0)
            self._prev = (now, proc_cpu, sys_busy, sys_total)
        vm = psutil.virtual_memory()
        mem_limit = limits["memory_limit_bytes"] or float(vm.total)
        mem_used = limits["memory_usage_bytes"] if limits["memory_limit_bytes"] else float(vm.total - vm.available)
        out: dict[str, float] = {
            "process_cpu_seconds_total": proc_cpu,
            "process_cpu_usage_ratio": min(used / wall / cores, 1.0),
            "process_resident_memory_bytes": float(mem.rss),
            "process_virtual_memory_bytes": float(mem.vms),
            "process_threads": float(threads),
            "process_start_time_seconds": created,
            "system_cpu_usage_ratio": min(max(sys_ratio, 0.0), 1.0),
            "system_cpu_limit_cores": float(cores),
            "system_memory_limit_bytes": float(mem_limit),
            "system_memory_used_bytes": float(mem_used or 0.0),
            "system_memory_usage_ratio": min(float(mem_used or 0.0) / mem_limit, 1.0) if mem_limit else 0.0,
            "sample_timestamp_seconds": now,
        }
        if fds is not None:
            out["process_open_fds"] = fds
        pressure = _pressure()
        if pressure is not None:
            out["system_memory_pressure_ratio"] = pressure
        for gen, stats in enumerate(gc.get_stats()):
            out[f"process_gc_collections_total:{gen}"] = float(stats.get("collections", 0))
        with self._lock:
            self._last = out
        return dict(out)

    def sample(self) -> dict[str, float]:
        """The latest reading: the background one if fresh, otherwise an instant one."""
        with self._lock:
            last = self._last
        if last and self._thread is not None and self._clock() - last["sample_timestamp_seconds"] < 2 * self.interval:
            return dict(last)
        try:
            return self.read()
        except Exception:  # a sampler must never break its caller
            self.errors += 1
            import logging

            logging.getLogger("swfast.monitoring").exception("process sampler reading failed")
            return dict(last)

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> "ProcessSampler":
        """Start the background thread (idempotent)."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return self
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="swfast-sampler", daemon=True)
            self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.read()
            except Exception:
                self.errors += 1
            self._stop.wait(self.interval)

    def close(self) -> None:
        """Stop the background thread."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=5.0)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def __enter__(self) -> "ProcessSampler":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- exposition -------------------------------------------------------------------------
    def snapshots(self) -> list[MetricSnapshot]:
        """The latest reading as ``swfast_<name>`` metric families."""
        data = self.sample()
        gcs: list[Sample] = []
        out: list[MetricSnapshot] = []
        for key, value in data.items():
            if key.startswith("process_gc_collections_total:"):
                gcs.append(Sample("swfast_process_gc_collections_total", {"generation": key.split(":")[1]}, value))
                continue
            name = "swfast_" + key
            kind = "counter" if key.endswith("_total") else "gauge"
            out.append(MetricSnapshot(name, kind, _HELP.get(key, key.replace("_", " ")), [Sample(name, {}, value)]))
        if gcs:
            out.append(MetricSnapshot("swfast_process_gc_collections_total", "counter",
                                      "Garbage collections by generation.", gcs))
        return out


_HELP = {
    "process_cpu_usage_ratio": "Process CPU use as a share of the cores the container may use (0-1).",
    "system_cpu_usage_ratio": "Host CPU busy share (0-1).",
    "system_memory_limit_bytes": "Memory the container may use (cgroup limit, else host total).",
    "system_memory_usage_ratio": "Memory used against the container limit (0-1).",
    "system_memory_pressure_ratio": "PSI memory pressure, some avg10 (0-1).",
}

_DEFAULT: ProcessSampler | None = None
_DEFAULT_LOCK = threading.Lock()


def default_sampler() -> ProcessSampler:
    """The process-wide sampler (created on first use; not started)."""
    global _DEFAULT
    if _DEFAULT is None:
        with _DEFAULT_LOCK:
            if _DEFAULT is None:
                _DEFAULT = ProcessSampler()
    return _DEFAULT


__all__ = ["ProcessSampler", "cgroup_limits", "default_sampler"]

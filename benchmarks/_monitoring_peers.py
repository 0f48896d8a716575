"""Workloads shared by the monitoring benchmarks (asv and quick): multi-process directories
after worker churn, for swfast's MultiProcessDir and prometheus_client's MultiProcessCollector."""
from __future__ import annotations

import os
import signal
from typing import Callable

SERIES = 20  # counter series per worker, plus one histogram with 5 label sets


def _fork(body: Callable[[], None], block: bool) -> tuple[int, int]:
    r, w = os.pipe()
    go_r, go_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            body()
            os.write(w, b"r")
            if block:
                os.read(go_r, 1)
        finally:
            os._exit(0)
    os.read(r, 1)
    os.close(r)
    os.close(w)
    os.close(go_r)
    if not block:
        os.waitpid(pid, 0)
    return pid, go_w


def _stop(live: list[tuple[int, int]]) -> None:
    for pid, go in live:
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except OSError:
            pass
        os.close(go)


def swfast_dir(path: str, restarts: int = 100, live: int = 4) -> tuple[Callable[[], bytes], Callable[[], None]]:
    """A swfast directory after ``restarts`` dead workers with ``live`` workers still running."""
    from swfast.monitoring.metrics import render_text
    from swfast.monitoring.multiprocess import MultiProcessDir

    mp = MultiProcessDir(path)

    def work() -> None:
        c = mp.counter("app_requests_total", "requests", ("route",))
        h = mp.histogram("app_latency_seconds", "latency", ("route",))
        for i in range(SERIES):
            c.labels(f"/r{i}").inc()
        for i in range(5):
            h.labels(f"/r{i}").observe(0.01 * i)

    for _ in range(restarts):
        _fork(work, False)
    workers = [_fork(work, True) for _ in range(live)]
    reader = MultiProcessDir(path)
    return (lambda: render_text(reader.collect())), (lambda: _stop(workers))


def prometheus_dir(path: str, restarts: int = 100, live: int = 4) -> tuple[Callable[[], bytes], Callable[[], None]]:
    """The same workload in prometheus_client multiprocess mode (one file per type per pid)."""
    import prometheus_client as pc
    from prometheus_client import multiprocess, values

    def work() -> None:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
        values.ValueClass = values.MultiProcessValue()
        reg = pc.CollectorRegistry()
        c = pc.Counter("app_requests", "requests", ["route"], registry=reg)
        h = pc.Histogram("app_latency_seconds", "latency", ["route"], registry=reg)
        for i in range(SERIES):
            c.labels(f"/r{i}").inc()
        for i in range(5):
            h.labels(f"/r{i}").observe(0.01 * i)

    os.makedirs(path, exist_ok=True)
    for _ in range(restarts):
        _fork(work, False)
    workers = [_fork(work, True) for _ in range(live)]
    reg = pc.CollectorRegistry()
    multiprocess.MultiProcessCollector(reg, path=path)
    return (lambda: pc.generate_latest(reg)), (lambda: _stop(workers))


__all__ = ["prometheus_dir", "swfast_dir"]

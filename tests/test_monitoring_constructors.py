"""Issue 13: every monitoring constructor takes no required argument, is idempotent and starts
nothing (no thread, socket, file, timer or process); shared registration never raises."""
from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from swfast import monitoring
from swfast.monitoring.metrics import REGISTRY

CLASSES = ("MetricsCollector", "MetricsAggregator", "MetricsExporter", "HealthChecker", "HealthReporter",
           "DashboardGenerator", "AlertVisualizer")


def _fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


@pytest.mark.parametrize("name", CLASSES)
def test_constructor_has_no_side_effects(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cls = getattr(monitoring, name)
    monkeypatch.chdir(tmp_path)
    cls()  # first use may import modules; what follows must be inert
    threads = {t.ident for t in threading.enumerate()}
    fds = _fds()
    metrics = {m.name for m in REGISTRY.collect()}
    objs = [cls() for _ in range(50)]  # dozens per process; a second instance never raises
    assert {t.ident for t in threading.enumerate()} == threads
    assert _fds() == fds  # no socket, file or pipe
    assert list(tmp_path.iterdir()) == []  # nothing written
    assert {m.name for m in REGISTRY.collect()} <= metrics | {"swfast_monitoring_dropped_series_total",
                                                            "swfast_monitoring_ignored_fields_total"}
    for o in objs:  # close() on a never-started object is a no-op
        close = getattr(o, "close", None)
        if close is not None:
            close()
    assert {t.ident for t in threading.enumerate()} == threads


def test_public_surface() -> None:
    for name in CLASSES:
        assert name in monitoring.__all__ and callable(getattr(monitoring, name))

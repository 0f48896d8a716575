"""Multi-process metrics: totals survive worker churn (SIGKILL included), files stay bounded."""
from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from swfast.errors import ConfigurationError
from swfast.monitoring.metrics import Registry, render_text
from swfast.monitoring.multiprocess import MultiProcessDir


CHURN = int(os.environ.get("SWFAST_TEST_CHURN", "1000"))


def _values(mp: MultiProcessDir) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for f in mp.collect() for s in f.samples}


def _worker(mp: MultiProcessDir, amount: int, *, block: bool = False, kill: bool = False) -> tuple[int, int]:
    """Fork a worker that increments, reports 'ready', then exits (or waits to be released)."""
    r, w = os.pipe()
    go_r, go_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        try:
            os.close(r)
            mp.counter("app_requests_total", "requests", ("route",)).labels("/").inc(amount)
            mp.histogram("app_latency_seconds", "latency", buckets=(0.1, 1.0)).observe(0.05 * amount)
            mp.gauge("app_inflight", "in flight").set(1)
            mp.gauge("app_worker_up", "per pid", mode="liveall").set(1)
            os.write(w, b"r")
            if block or kill:
                os.read(go_r, 1)
        finally:
            os._exit(0)
    os.close(w)
    assert os.read(r, 1) == b"r"
    os.close(r)
    os.close(go_r)
    if kill:
        os.kill(pid, signal.SIGKILL)
    return pid, go_w


def test_thousand_worker_churn_keeps_totals_bounded_files_and_flat_scrape_cost(tmp_path: Path) -> None:
    mp = MultiProcessDir(tmp_path / "mp", slot_bytes=16384)
    live = [_worker(mp, 1, block=True) for _ in range(4)]
    try:
        _churn(mp, live)
    finally:
        for pid, _ in live:
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except OSError:
                pass


def _churn(mp: MultiProcessDir, live: list[tuple[int, int]]) -> None:
    before = _values(mp)
    cost_before = mp.last_scrape_entries
    assert before[("app_requests_total", (("route", "/"),))] == 4.0
    expected = 4
    sizes = []
    for i in range(CHURN):
        amount = 1 + i % 3
        pid, go = _worker(mp, amount, block=True, kill=(i % 4 == 0))
        if i % 4:
            os.write(go, b"x")  # clean exit
        os.waitpid(pid, 0)
        os.close(go)
        expected += amount
        if i % 100 == 0:
            sizes.append(len(mp.files()))
            assert _values(mp)[("app_requests_total", (("route", "/"),))] == expected
    after = _values(mp)
    assert after[("app_requests_total", (("route", "/"),))] == expected
    assert after[("app_latency_seconds_count", ())] == CHURN + 4
    # gauges of dead workers are dropped; the 4 live ones remain
    assert after[("app_inflight", ())] == 4.0
    assert sum(1 for k in after if k[0] == "app_worker_up") == 4
    # bounded directory: lock + archive + at most live + 1 slot files, whatever the churn
    assert max(sizes) <= 2 + 5 and len(mp.files()) <= 2 + 5
    # a scrape with 4 live workers reads the same number of entries before and after the churn
    # (live slots + archive rows); prometheus_client would read 1,000 more files
    assert mp.last_scrape_entries <= cost_before + 9  # + the archive's rows (one per series)
    for pid, go in live:
        os.write(go, b"x")
        os.waitpid(pid, 0)
    assert _values(mp)[("app_requests_total", (("route", "/"),))] == expected


def test_reused_pid_with_another_start_time_is_folded(tmp_path: Path) -> None:
    mp = MultiProcessDir(tmp_path)
    mp.counter("x_total").inc(3)
    slot = mp._slot
    assert slot is not None
    pid, ticks, used, gen = slot.header()
    slot.write_header(pid, ticks + 1, used, gen)  # pretend the owner died and the pid was reused
    reader = MultiProcessDir(tmp_path)
    assert _values(reader)[("x_total", ())] == 3.0
    assert reader.folded == 1
    assert _values(reader)[("x_total", ())] == 3.0  # not folded twice


def test_interrupted_fold_is_not_applied_twice(tmp_path: Path) -> None:
    mp = MultiProcessDir(tmp_path)
    mp.counter("y_total").inc(5)
    slot = mp._slot
    assert slot is not None
    pid, ticks, used, gen = slot.header()
    # simulate: the archive was renamed into place, then the folding process died before the reset
    reader = MultiProcessDir(tmp_path)
    fd = reader._flock()
    try:
        reader._fold(mp._slot_index, reader._reader(mp._slot_index, slot.path), gen, used)
    finally:
        reader._unlock(fd)
    slot.write_header(pid, ticks + 1, used, gen)  # the slot still holds the values, owner gone
    assert _values(MultiProcessDir(tmp_path))[("y_total", ())] == 5.0


def test_registry_integration_and_exposition(tmp_path: Path) -> None:
    mp = MultiProcessDir(tmp_path)
    reg = Registry()
    mp.register(reg)
    mp.counter("jobs_total", "jobs", ("q",)).labels("a").inc()
    mp.histogram("t_seconds", "t", buckets=(1.0,)).observe(0.5)
    text = reg.render_text().decode()
    assert 'jobs_total{q="a"} 1.0' in text
    assert 't_seconds_bucket{le="1.0"} 1.0' in text and 't_seconds_bucket{le="+Inf"} 1.0' in text


def test_slot_overflow_is_counted_not_raised(tmp_path: Path) -> None:
    mp = MultiProcessDir(tmp_path, slot_bytes=4096)
    c = mp.counter("many_total", "m", ("i",))
    for i in range(200):
        c.labels(str(i)).inc()
    assert mp.overflow > 0
    assert len([s for f in mp.collect() for s in f.samples]) == 200 - mp.overflow


def test_configuration_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SWFAST_MULTIPROC_DIR", raising=False)
    with pytest.raises(ConfigurationError, match="path"):
        MultiProcessDir()
    with pytest.raises(ConfigurationError, match="slot_bytes"):
        MultiProcessDir(tmp_path, slot_bytes=100)
    mp = MultiProcessDir(tmp_path)
    with pytest.raises(ConfigurationError, match="mode"):
        mp.gauge("g", mode="sum")
    mp.counter("c_total")
    with pytest.raises(ConfigurationError, match="name"):
        mp.gauge("c_total")
    with pytest.raises(ValueError, match="amount"):
        mp.counter("c_total").inc(-1)
    assert render_text(mp.collect()) == b""  # nothing recorded yet
    monkeypatch.setenv("SWFAST_MULTIPROC_DIR", str(tmp_path / "from-env"))
    from_env = MultiProcessDir()
    assert from_env.path == tmp_path / "from-env" and not from_env.path.exists()  # no side effect yet


def test_metric_base_is_abstract_until_a_kind_builds_its_cells(tmp_path: Path) -> None:
    from swfast.monitoring.multiprocess import _MPMetric

    with pytest.raises(TypeError, match="_child"):
        _MPMetric(MultiProcessDir(tmp_path), "x_total", "doc", ())  # type: ignore[abstract]

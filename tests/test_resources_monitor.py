"""Anomaly kernel (compiled and twin), the monitor's sampler/history and Holt forecasts."""
from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import pytest

from swfast.errors import ConfigurationError
from swfast.resource_management import ResourceMonitor
from swfast.resource_management.monitor import HistoryRing, holt, score_series
from tests.conftest import Impl


def _reference(x: np.ndarray, alpha: float, window: int, warmup: int) -> tuple[np.ndarray, np.ndarray]:
    """Straightforward NumPy reference of the documented formulas."""
    z1, z2 = np.zeros_like(x), np.zeros_like(x)
    mean = var = 0.0
    for i, v in enumerate(x):
        if i >= warmup:
            sd = math.sqrt(var)
            z1[i] = (v - mean) / sd if sd > 0 else 0.0
        if i == 0:
            mean = v
        else:
            d = v - mean
            mean += alpha * d
            var = (1 - alpha) * (var + alpha * d * d)
        win = x[max(0, i - window):i]
        if win.shape[0] >= warmup:
            med = np.median(win)
            mad = np.median(np.abs(win - med))
            z2[i] = (v - med) / (1.4826 * mad) if mad > 0 else 0.0
    return z1, z2


def test_kernel_matches_reference_and_twin(impl: Impl) -> None:
    k = impl.load("anomaly")
    rng = np.random.default_rng(7)
    x = rng.normal(10, 2, size=600)
    x[300] += 40
    s = k.AnomalyScorer(alpha=0.2, window=33, warmup=8)
    z1, z2 = s.score(x)
    r1, r2 = _reference(x, 0.2, 33, 8)
    np.testing.assert_allclose(z1, r1, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(z2, r2, rtol=1e-9, atol=1e-12)
    assert z1[300] > 10 and z2[300] > 10 and abs(z2[299]) < 5
    assert s.count == 600 and s.median() == pytest.approx(np.median(x[-33:]))
    even = k.AnomalyScorer(window=4, warmup=1)
    even.score([1.0, 2.0, 10.0, 4.0])
    assert even.median() == 3.0 and even.mad() == 1.5  # |dev| = 2,1,7,1 -> median 1.5


def test_streaming_equals_batch_and_warmup_nan_inf(impl: Impl) -> None:
    k = impl.load("anomaly")
    x = np.linspace(0, 5, 100) + np.sin(np.arange(100))
    a, b = k.AnomalyScorer(window=16, warmup=5), k.AnomalyScorer(window=16, warmup=5)
    batch = a.score(x)
    stream = [b.update(v) for v in x]
    assert np.array_equal(batch[0], [p[0] for p in stream]) and np.array_equal(batch[1], [p[1] for p in stream])
    assert all(v == 0.0 for v in batch[0][:5]) and all(v == 0.0 for v in batch[1][:5])
    c = k.AnomalyScorer(window=8, warmup=3)
    for _ in range(5):
        assert c.update(1.0) == (0.0, 0.0)  # flat: no spread, same value
    z = c.update(2.0)
    assert z[0] == math.inf and z[1] == math.inf
    n = c.update(math.nan)
    assert math.isnan(n[0]) and c.count == 6  # NaN is scored NaN and not added


def test_seasonal_baselines_are_separate(impl: Impl) -> None:
    k = impl.load("anomaly")
    s = k.AnomalyScorer(alpha=0.5, window=8, warmup=2, seasons=2)
    vals = [100.0, 1.0] * 20
    z1, _ = s.score(vals, [0, 1] * 20)
    assert np.all(np.abs(z1) < 1e-9)  # each bucket is flat on its own
    assert s.mean(0) == 100.0 and s.mean(1) == 1.0
    with pytest.raises(IndexError):
        s.update(1.0, 2)
    with pytest.raises(ValueError, match="seasons"):
        s.score([1.0, 2.0], [0])
    for bad in ({"alpha": 0.0}, {"window": 2}, {"warmup": 0}, {"seasons": 0}):
        with pytest.raises(ValueError):
            k.AnomalyScorer(**bad)


def test_score_series_wrapper() -> None:
    z1, z2 = score_series(np.r_[np.zeros(50) + np.tile([0.0, 1.0], 25), 30.0], warmup=10)
    assert z1[-1] > 10 and z2[-1] > 10


class FakeSampler:
    def __init__(self) -> None:
        self.calls = 0
        self.mem = 1000.0

    def __call__(self) -> dict[str, Any]:
        self.calls += 1
        self.mem += 10.0
        return {"cpu_percent": 5.0 + (self.calls % 3), "memory_bytes": self.mem, "threads": 4.0}


def test_monitor_first_read_is_valid_and_later_reads_are_memory_reads() -> None:
    fake = FakeSampler()
    t = [1_700_000_000.0]
    mon = ResourceMonitor(sampler=fake, interval_s=3600, wall=lambda: t[0])
    assert not mon.running and fake.calls == 0  # constructor starts nothing
    first = mon.monitor_usage()
    assert first.memory_bytes == 1010.0 and fake.calls == 1 and mon.running
    assert mon.monitor_usage() is first and fake.calls == 1  # no sampling on the caller's path
    mon.stop()
    assert not mon.running


def test_monitor_anomalies_and_prediction() -> None:
    fake = FakeSampler()
    t = [0.0]

    def wall() -> float:
        t[0] += 10.0
        return t[0]
    mon = ResourceMonitor(sampler=fake, wall=wall, warmup=8, z_threshold=6.0)
    for _ in range(40):
        mon.sample()
    assert mon.detect_anomalies() == []
    fake.mem += 1e6  # a jump
    mon.sample()
    found = mon.detect_anomalies("memory_bytes")
    assert len(found) == 1 and found[0].value == fake.mem and found[0].robust_z > 6
    assert mon.detect_anomalies("cpu_percent") == [] and mon.detect_anomalies(since=t[0] + 1) == []
    with pytest.raises(ConfigurationError):
        mon.detect_anomalies("usage")
    for _ in range(100):
        mon.sample()
    p = mon.predict_needs(100.0)  # 10 samples ahead, +10 bytes per sample
    assert p.value == pytest.approx(fake.mem + 100.0, abs=5.0)
    assert p.lower <= p.value <= p.upper and p.trend_per_s == pytest.approx(1.0, abs=0.05)
    with pytest.raises(ConfigurationError):
        mon.predict_needs(-1)


def test_monitor_real_sampler_and_async() -> None:
    import asyncio
    mon = ResourceMonitor(interval_s=0.05)
    u = asyncio.run(mon.amonitor_usage())
    try:
        assert u.memory_bytes > 1e6 and u.threads >= 1 and u.cpu_percent >= 0
        assert 0 <= u.cpu_fraction and (math.isnan(u.memory_fraction) or 0 < u.memory_fraction < 1)
        deadline = time.monotonic() + 10
        while len(mon.history) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(mon.history) >= 3
        assert mon.monitor_usage().timestamp >= u.timestamp
    finally:
        mon.stop()


def test_history_ring_wraps() -> None:
    ring = HistoryRing(3, metrics=("a",))
    for i in range(5):
        ring.append(float(i), {"a": i * 2.0})
    assert ring.timestamps().tolist() == [2.0, 3.0, 4.0] and ring.series("a").tolist() == [4.0, 6.0, 8.0]
    with pytest.raises(ConfigurationError):
        HistoryRing(1)


def test_holt_linear_series_and_interval() -> None:
    value, level, trend, sd = holt([1.0, 2.0, 3.0, 4.0, 5.0], 2)
    assert value == pytest.approx(7.0) and trend == pytest.approx(1.0) and sd == pytest.approx(0.0)
    noisy = np.arange(50.0) + np.tile([0.5, -0.5], 25)
    _, _, _, sd1 = holt(noisy, 1)
    _, _, _, sd10 = holt(noisy, 10)
    assert 0 < sd1 < sd10
    with pytest.raises(ConfigurationError):
        holt([], 1)

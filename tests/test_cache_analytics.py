"""Analytics: windowed hit rates, memory per tier, usage tracking, forecasts, advice, metrics."""
from __future__ import annotations

from pathlib import Path

import pytest

from swfast.cache.analytics import CacheAnalyzer, register_metrics
from swfast.cache.l1 import L1Cache
from swfast.cache.l3 import PersistentCache
from swfast.cache.manager import TieredCache
from swfast.cache.usage import UsageTracker
from swfast.monitoring.metrics import REGISTRY


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_hit_rate_windows_and_memory(tmp_path: Path) -> None:
    clock = Clock()
    m = TieredCache(l1=L1Cache(10_000, clock=clock), l3=PersistentCache(tmp_path / "l3", clock=clock), clock=clock,
                    monotonic=clock)
    an = CacheAnalyzer(m, clock=clock)
    for i in range(10):
        m.smart_get(f"k{i}", lambda i=i: i)  # 10 loads
    for i in range(10):
        m.smart_get(f"k{i}")  # 10 L1 hits
    clock.t += 120
    an.sample()
    m.l1.clear()
    for i in range(10):
        m.smart_get(f"k{i}")  # 10 L3 hits
    rates = an.analyze_hit_rate(windows=(60.0,))
    assert rates["total"]["l1"] == pytest.approx(10 / 30)
    assert rates["total"]["l3"] == pytest.approx(10 / 20)
    assert rates["total"]["overall"] == pytest.approx(20 / 30)
    assert rates["60s"]["l1"] == 0.0 and rates["60s"]["l3"] == 1.0 and rates["60s"]["overall"] == 1.0
    mem = an.analyze_memory_usage()
    assert mem["l1"]["entries"] == 10 and mem["l3"]["entries"] == 10 and mem["l3"]["bytes"] > 0


def test_usage_tracker_hot_keys_and_forecast() -> None:
    clock = Clock()
    t = UsageTracker(top_k=5, capacity=1000, half_life=1, clock=clock)
    for i in range(600):
        clock.t += 0.01
        t.track_usage("hot")
        t.track_usage(f"cold{i}")
        if i % 3 == 0:
            t.track_usage("warm")
    hot = dict(t.hot_keys(3))
    assert list(hot)[:2] == ["hot", "warm"]
    assert hot["hot"] == pytest.approx(100, rel=0.1)  # ~100 requests/s recently
    assert t.predict_usage("hot", 1.0) > 10 * t.predict_usage("cold5", 1.0)
    clock.t += 10  # ten half-lives of silence
    assert t.predict_usage("hot", 1.0) < 1.0


def test_miss_ratio_curve_and_optimize_advice() -> None:
    clock = Clock()
    tracker = UsageTracker(trace_size=5000, clock=clock)
    tracker.track_many([i % 200 for i in range(5000)])  # a loop of 200 keys
    curve = tracker.miss_ratio_curve([100, 200, 400])
    assert curve[100] == 0.0 and curve[200] == pytest.approx(1 - 200 / 5000) and curve[400] == curve[200]
    m = TieredCache(l1=L1Cache(100), clock=clock, monotonic=clock)
    advice = CacheAnalyzer(m, clock=clock).optimize(tracker)
    grow = [a for a in advice if a["action"] == "grow_l1"]
    assert grow and grow[0]["hit_rate_by_size"][200] > 0.9 and "200" in grow[0]["reason"]
    insights = tracker.generate_insights(sizes=(100, 200, 400))
    size = next(i for i in insights if i["kind"] == "l1_size")
    assert size["recommended"] == 200
    assert any(i["kind"] == "concentration" for i in insights)


def test_metrics_exported_and_tracker_fed(tmp_path: Path) -> None:
    tracker = UsageTracker()
    m = TieredCache(l1=L1Cache(10_000), tracker=tracker)
    collect = register_metrics(m, name="t1")
    try:
        m.smart_get("a", lambda: 1)
        m.smart_get("a")
        text = REGISTRY.render_text().decode()
        assert 'swfast_cache_tier_hits_total{cache="t1",tier="l1"} 1' in text
        assert 'swfast_cache_loads_total{cache="t1"} 1' in text
        assert tracker.total == 2
    finally:
        REGISTRY.unregister(collect)

"""Metrics-core fixes: one family per name, never two identical series, conflicts counted."""
from __future__ import annotations

import logging

import pytest

from swfast.monitoring.metrics import MetricSnapshot, Registry, Sample


def _families(text: str, name: str) -> int:
    return sum(1 for line in text.splitlines() if line == f"# TYPE {name} counter")


def test_same_name_different_label_sets_render_once_and_are_reported(caplog: pytest.LogCaptureFixture) -> None:
    # the TieredCache case: the manager's {tier,op} counter and register_metrics' {cache,tier} family
    reg = Registry()
    c = reg.counter("swfast_cache_tier_errors_total", "tier errors", ("tier", "op"))
    c.labels("l2", "get").inc()
    reg.register_collector(lambda: [MetricSnapshot("swfast_cache_tier_errors_total", "counter", "errors per tier", [
        Sample("swfast_cache_tier_errors_total", {"cache": "default", "tier": "l2"}, 1.0)])])
    with caplog.at_level(logging.ERROR, "swfast.monitoring"):
        text = reg.render_text().decode()
        reg.render_text()
    assert _families(text, "swfast_cache_tier_errors_total") == 1
    assert 'swfast_cache_tier_errors_total{tier="l2",op="get"} 1.0' in text
    assert "cache=" not in text
    assert reg.conflicts == {"swfast_cache_tier_errors_total": 2}
    assert sum("swfast_cache_tier_errors_total" in r.message for r in caplog.records) == 1  # logged once


def test_same_name_same_labels_merge_and_identical_series_are_dropped() -> None:
    reg = Registry()

    def cache(name: str) -> list[MetricSnapshot]:
        return [MetricSnapshot("swfast_cache_hits_total", "counter", "hits",
                               [Sample("swfast_cache_hits_total", {"cache": name}, 1.0)])]

    reg.register_collector(lambda: cache("a"))
    reg.register_collector(lambda: cache("b"))
    reg.register_collector(lambda: cache("a"))  # a second cache with the same name
    text = reg.render_text().decode()
    assert _families(text, "swfast_cache_hits_total") == 1
    assert text.count('swfast_cache_hits_total{cache="a"}') == 1
    assert 'swfast_cache_hits_total{cache="b"}' in text
    assert reg.conflicts == {"swfast_cache_hits_total": 1}


def test_kind_conflict_keeps_the_registered_metric() -> None:
    reg = Registry()
    reg.gauge("swfast_x", "x").set(2)
    reg.register_collector(lambda: [MetricSnapshot("swfast_x", "counter", "x", [Sample("swfast_x", {}, 1.0)])])
    text = reg.render_text().decode()
    assert text.count("# TYPE swfast_x") == 1 and "swfast_x 2.0" in text


def test_empty_family_does_not_fix_the_label_set() -> None:
    reg = Registry()
    reg.counter("swfast_y_total", "y", ("a",))  # no series yet
    reg.register_collector(lambda: [MetricSnapshot("swfast_y_total", "counter", "y",
                                                   [Sample("swfast_y_total", {"b": "1"}, 1.0)])])
    text = reg.render_text().decode()
    assert text.count("# TYPE swfast_y_total") == 1 and 'swfast_y_total{b="1"} 1.0' in text


def test_breaker_rates_are_ratios_without_sentinels() -> None:
    from swfast.monitoring.metrics import REGISTRY
    from swfast.resilience import CircuitBreaker

    b = CircuitBreaker("core-fix-ratio", window_size=4, minimum_calls=4, failure_rate_threshold=100)

    def ours(text: str) -> list[str]:
        return [x for x in text.splitlines() if 'name="core-fix-ratio"' in x and "_calls_total" not in x
                and "breaker_state" not in x]

    text = REGISTRY.render_text().decode()
    assert "breaker_failure_rate" not in text and "breaker_slow_call_rate" not in text
    assert ours(text) == []  # fewer than minimum_calls: no ratio sample at all (never -1)

    def boom() -> None:
        raise ValueError("down")

    for fn in (boom, lambda: None, lambda: None, lambda: None):
        try:
            b.call(fn)
        except ValueError:
            pass
    text = REGISTRY.render_text().decode()
    assert 'swfast_resilience_breaker_failure_ratio{name="core-fix-ratio"} 0.25' in text
    assert 'swfast_resilience_breaker_slow_call_ratio{name="core-fix-ratio"} 0.0' in text
    assert "# TYPE swfast_resilience_breaker_failure_ratio gauge" in text


def test_real_tiered_cache_register_metrics_renders_each_family_once() -> None:
    """The issue's case on the real objects: TieredCache's {tier,op} error counter and
    register_metrics' {cache,tier} families, plus a second cache registered under the same name."""
    from swfast.cache import TieredCache
    from swfast.cache.analytics import register_metrics
    from swfast.monitoring.metrics import REGISTRY

    class Broken:
        def get(self, key: object, *a: object, **kw: object) -> object:
            raise OSError("l2 down")

        def __getattr__(self, name: str) -> object:
            def fail(*a: object, **kw: object) -> object:
                raise OSError("l2 down")
            return fail

    first, second = TieredCache(l2=Broken()), TieredCache()
    assert first.smart_get("k") is None  # the broken L2 is a miss, counted in the {tier,op} counter
    collectors = [register_metrics(first, "core-fix-dup"), register_metrics(second, "core-fix-dup")]
    try:
        text = REGISTRY.render_text().decode()
        for family in ("swfast_cache_tier_errors_total", "swfast_cache_tier_hits_total", "swfast_cache_loads_total"):
            assert text.count(f"# TYPE {family} ") == 1, family
        lines = [x for x in text.splitlines() if not x.startswith("#")]
        assert any(x.startswith("swfast_cache_tier_errors_total{") and 'op="' in x for x in lines)
        assert len(lines) == len(set(x.rsplit(" ", 1)[0] for x in lines))  # never two identical series
        assert REGISTRY.conflicts.get("swfast_cache_loads_total", 0) >= 1  # the same-name cache is reported
    finally:
        for c in collectors:
            REGISTRY.unregister(c)

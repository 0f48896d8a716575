"""The public L1Cache: MutableMapping protocol, statistics, metrics export, errors."""
from __future__ import annotations

from collections.abc import MutableMapping
from datetime import timedelta

import pytest

from swfast.cache import L1Cache
from swfast.errors import CacheKeyError, ConfigurationError, SwfastError
from swfast.monitoring.metrics import Registry


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_seed_api_and_mapping_protocol():
    c = L1Cache(3, ttl=timedelta(seconds=30), registry=None)
    assert isinstance(c, MutableMapping)
    c.fast_set("a", 1)
    c["b"] = 2
    c.set("c", 3)
    assert c.fast_get("a") == 1 and c["b"] == 2 and c.get("c") == 3
    assert c.check_vitality("a") and "b" in c and "zz" not in c
    assert c.ttl == 30.0 and c.maxsize == 3
    c.update({"d": 4})  # evicts the least recent: a was read before b and c
    assert sorted(c) == ["b", "c", "d"]
    assert dict(c.items()) == {"b": 2, "c": 3, "d": 4}
    assert c.pop("b") == 2 and c.setdefault("e", 5) == 5
    assert len(c) == 3
    c.clear()
    assert len(c) == 0 and c != L1Cache(3, registry=None)


def test_stats_and_hit_rate():
    clock = Clock()
    c = L1Cache(2, clock=clock, registry=None)
    c.fast_set("a", 1, ttl=1)
    c.fast_get("a")
    c.fast_get("x")
    clock.t = 5
    c.fast_get("a")
    c.fast_set("b", 1)
    c.fast_set("c", 1)
    c.fast_set("d", 1)
    s = c.stats()
    assert s == {
        "hits": 1, "misses": 2, "evictions": 1, "expirations": 1,
        "size": 2, "maxsize": 2, "bytes": 0, "hit_rate": pytest.approx(1 / 3),
    }


def test_errors_are_typed_and_named():
    with pytest.raises(ConfigurationError, match="maxsize") as info:
        L1Cache(0)
    assert isinstance(info.value, ValueError) and isinstance(info.value, SwfastError)
    with pytest.raises(ConfigurationError, match="maxsize"):
        L1Cache("10")  # type: ignore[arg-type]
    c = L1Cache(2, max_bytes=10, sizeof=len, registry=None)
    with pytest.raises(CacheKeyError) as kinfo:
        c.fast_set({1: 2}, "x")
    assert isinstance(kinfo.value, TypeError) and "dict" in str(kinfo.value)
    with pytest.raises(ValueError, match="max_bytes"):
        c.fast_set("k", "x" * 11)
    assert len(c) == 0
    with pytest.raises(TypeError, match="clock"):
        L1Cache(2, clock=5)  # type: ignore[arg-type]


def test_stats_exported_through_metrics_registry():
    reg = Registry()
    c = L1Cache(10, name="users", registry=reg)
    c.fast_set("a", 1)
    c.fast_get("a")
    c.fast_get("b")
    text = reg.render_text().decode()
    assert 'swfast_cache_hits_total{cache="users",tier="l1"} 1.0' in text
    assert 'swfast_cache_misses_total{cache="users",tier="l1"} 1.0' in text
    assert 'swfast_cache_entries{cache="users",tier="l1"} 1.0' in text
    del c
    import gc

    gc.collect()
    assert "users" not in reg.render_text().decode()  # a collected cache stops being exported


def test_subclass_keeps_kernel_speed_path():
    # the public class adds no Python frame on the hot path: the methods are the kernel's
    from swfast._native.lru import LRUCore

    assert L1Cache.fast_get is LRUCore.fast_get and L1Cache.get is LRUCore.fast_get

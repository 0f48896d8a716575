"""Frequency sketch and W-TinyLFU kernels (compiled and twin), and the TinyLFUCache front."""
from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest


class Clock:
    def __init__(self) -> None:
        self.t = 50.0

    def __call__(self) -> float:
        return self.t


def zipf_trace(n: int, keys: int, alpha: float = 0.99, seed: int = 42) -> list[int]:
    p = 1.0 / np.arange(1, keys + 1) ** alpha
    cdf = np.cumsum(p)
    cdf /= cdf[-1]
    return np.searchsorted(cdf, np.random.default_rng(seed).random(n)).tolist()  # type: ignore[no-any-return]


def replay(cache, trace) -> float:  # type: ignore[no-untyped-def]
    miss, hits = object(), 0
    get, put = cache.fast_get, cache.fast_set
    for k in trace:
        if get(k, miss) is miss:
            put(k, k)
        else:
            hits += 1
    return hits / len(trace)


def lru_ratio(trace: list[int], cap: int) -> float:
    o: OrderedDict[int, int] = OrderedDict()
    hits = 0
    for k in trace:
        if k in o:
            o.move_to_end(k)
            hits += 1
        else:
            o[k] = 1
            if len(o) > cap:
                o.popitem(last=False)
    return hits / len(trace)


def test_sketch_counts_and_halves(impl) -> None:  # type: ignore[no-untyped-def]
    mod = impl.load("sketch")
    s = mod.FrequencySketch(100, sample_size=1000)
    for _ in range(10):
        s.increment("hot")
    s.increment("warm")
    assert s.estimate("hot") == 10 and s.estimate("warm") == 1 and s.estimate("cold") == 0
    for _ in range(20):
        s.increment("hot")
    assert s.estimate("hot") == 15  # saturates
    s.increment_many(f"k{i}" for i in range(1000 - s.additions))
    assert s.additions == 500 and s.estimate("hot") == 7  # halved
    s.clear()
    assert s.estimate("hot") == 0 and s.additions == 0
    with pytest.raises(ValueError, match="capacity"):
        mod.FrequencySketch(0)


def test_sketch_twins_agree(impl) -> None:  # type: ignore[no-untyped-def]
    from swfast._native import _sketch_py

    a, b = impl.load("sketch").FrequencySketch(500, seed=7), _sketch_py.FrequencySketch(500, seed=7)
    trace = zipf_trace(20000, 5000)
    a.increment_many(trace)
    b.increment_many(trace)
    assert [a.estimate(k) for k in range(5000)] == [b.estimate(k) for k in range(5000)]


def test_twins_evict_identically(impl) -> None:  # type: ignore[no-untyped-def]
    from swfast._native import _sketch_py

    trace = zipf_trace(100_000, 100_000, seed=3)
    a, b = impl.load("sketch").WTinyLFU(1000), _sketch_py.WTinyLFU(1000)
    assert replay(a, trace) == replay(b, trace)
    assert (a.hits, a.misses, a.evictions, a.rejections) == (b.hits, b.misses, b.evictions, b.rejections)
    assert a.segment_sizes() == b.segment_sizes() and sorted(a) == sorted(b)


def test_zipf_hit_ratio_beats_lru(impl) -> None:  # type: ignore[no-untyped-def]
    """Issue goal: >= 0.63 on Zipf(0.99), 10^6 requests over 10^6 keys, capacity 10^4 (LRU 0.565).

    The compiled kernel replays 10^6 requests; the twin (identical decisions, see
    test_twins_evict_identically) replays 10^5 of them against LRU on the same prefix.
    """
    n = 10**6 if impl.name == "c" else 10**5
    trace = zipf_trace(n, 10**6)
    ratio = replay(impl.load("sketch").WTinyLFU(10**4), trace)
    lru = lru_ratio(trace, 10**4)
    assert ratio > lru + (0.04 if impl.name == "c" else 0.01)
    if impl.name == "c":
        assert lru == pytest.approx(0.565, abs=0.005)
        assert ratio >= 0.63


def test_scan_resistance(impl) -> None:  # type: ignore[no-untyped-def]
    c = impl.load("sketch").WTinyLFU(100)
    for _ in range(20):
        for k in range(50):
            c.fast_get(k) if k in c else c.fast_set(k, k)
    for k in range(1000, 11000):  # a one-pass scan larger than the cache
        c.fast_set(k, k)
    assert sum(1 for k in range(50) if k in c) >= 45
    assert len(c) <= 100 and sum(c.segment_sizes()) == len(c)


def test_ttl_and_mapping_ops(impl) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    c = impl.load("sketch").WTinyLFU(10, ttl=5, clock=clock)
    c.fast_set("a", 1)
    c.fast_set("b", 2, ttl=None)
    c.fast_set("n", None, 100)
    assert c.remaining_ttl("a") == pytest.approx(5) and c.fast_get("n", "MISS") is None
    clock.t += 4.999
    assert c.fast_get("a") == 1 and c.check_vitality("a")
    clock.t += 0.001
    assert not c.check_vitality("a") and c.fast_get("a", "MISS") == "MISS"
    with pytest.raises(KeyError):
        c.remaining_ttl("a")
    c.fast_set("a", 3)  # expired overwrite: fresh TTL
    assert c.fast_get("a") == 3 and c.remaining_ttl("a") == pytest.approx(5)
    c.fast_set("a", 4, ttl=0)
    assert "a" not in c
    assert c.pop("b") == 2 and c.pop("b", "d") == "d"
    with pytest.raises(KeyError):
        c.pop("b")
    c.fast_set("e", 1, ttl=1)
    clock.t += 2
    assert c.expire() == 1 and len(c) == 1
    c.clear()
    assert len(c) == 0
    for bad in ({"maxsize": 0}, {"maxsize": 5, "window_fraction": 1.0}, {"maxsize": 5, "ttl": -1}):
        with pytest.raises(ValueError):
            impl.load("sketch").WTinyLFU(**bad)
    with pytest.raises(ValueError, match="ttl"):
        c.fast_set("x", 1, ttl=-1)


def test_capacity_one_and_bound(impl) -> None:  # type: ignore[no-untyped-def]
    c = impl.load("sketch").WTinyLFU(1)
    for k in range(100):
        c.fast_set(k, k)
        assert len(c) == 1
    c = impl.load("sketch").WTinyLFU(37)
    for k in zipf_trace(5000, 500):
        c.fast_set(k, k)
        assert len(c) <= 37


def test_tinylfu_cache_front() -> None:
    from collections.abc import MutableMapping

    from swfast.cache.tinylfu import TinyLFUCache
    from swfast.errors import CacheKeyError

    c = TinyLFUCache(100, ttl=60)
    c["a"] = 1
    assert c["a"] == 1 and c.get("zz", 5) == 5 and isinstance(c, MutableMapping)
    del c["a"]
    with pytest.raises(KeyError):
        c["a"]
    with pytest.raises(CacheKeyError, match="list"):
        c[[1]] = 1  # type: ignore[index]
    st = c.stats()
    assert st["hits"] == 1 and st["misses"] >= 1 and c.maxsize == 100

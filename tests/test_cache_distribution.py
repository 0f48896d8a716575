"""Distribution policy over the ring: distribute (plain and bounded), sync repair of a returning node."""
from __future__ import annotations

import pytest

from _cache_helpers import dbsize

from swfast.cache.ring import Distribution


def test_distribute_groups_and_bounded_loads() -> None:
    d = Distribution({"a": 1.0, "b": 1.0, "c": 2.0})
    keys = [f"k{i}" for i in range(20_000)]
    groups = d.distribute(keys)
    assert sorted(k for ks in groups.values() for k in ks) == sorted(keys)
    assert all(d.node_for(k) == n for n, ks in groups.items() for k in ks[:100])
    assert groups["c"] and 1.6 < len(groups["c"]) / len(groups["a"]) < 2.4
    bounded = d.distribute(keys, bounded=1.01)
    caps = {"a": 0.25, "b": 0.25, "c": 0.5}
    for n, ks in bounded.items():
        assert len(ks) <= 1.01 * len(keys) * caps[n] + 1
    moved = sum(1 for n, ks in bounded.items() for k in ks if d.node_for(k) != n)
    assert moved < 0.2 * len(keys)  # most keys still sit on their ring owner


def test_sync_drops_dirty_and_stray_keys(redis_client) -> None:  # type: ignore[no-untyped-def]
    d = Distribution(["self", "other"])
    mine = [f"swfast:m{i}" for i in range(400) if d.node_for(f"swfast:m{i}") == "self"]
    stray = [f"swfast:m{i}" for i in range(400) if d.node_for(f"swfast:m{i}") != "self"]
    for k in mine + stray:
        redis_client.set(k, b"v")
    redis_client.set(b"foreign:x", b"untouched")
    dirty = mine[:10]
    report = d.sync("self", redis_client, dirty=dirty, match="swfast:*")
    assert report.dropped == len(dirty) + len(stray)
    left = {k.decode() for k in redis_client.scan_iter(match="swfast:*")}
    assert left == set(mine[10:])
    assert redis_client.get(b"foreign:x") == b"untouched"


def test_rebalance_reports_unreachable_destination(redis_client) -> None:  # type: ignore[no-untyped-def]
    d = Distribution(["src"])
    for i in range(200):
        redis_client.set(f"swfast:r{i}", b"v", px=100_000)
    d.ring.add("gone")
    report = d.rebalance({"src": redis_client}, match="swfast:*")
    assert report.moved == 0 and 50 < len(report.failed["gone"]) < 150
    assert dbsize(redis_client) == 200  # nothing lost: the keys stay where they were


def test_distribution_rejects_bad_weights() -> None:
    with pytest.raises(ValueError, match="weight"):
        Distribution({"a": -1.0})
    assert Distribution(["x"]).distribute(["a", "b"]) == {"x": ["a", "b"]}

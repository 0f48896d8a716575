"""Regression tests for the cache defects of issue 10 (#1-#11), on real Redis and SQLite."""
from __future__ import annotations

import copy
import math
import pickle
import secrets
from pathlib import Path
from typing import Any, Iterator

import pytest

from _cache_helpers import Clock

from swfast.cache.l1 import L1Cache
from swfast.cache.l2 import DistributedCache
from swfast.cache.l3 import PersistentCache
from swfast.cache.manager import TieredCache
from swfast.errors import CacheValueTooLarge, ConfigurationError


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def tiers(redis_client, redis_url, tmp_path: Path, clock: Clock) -> Iterator[tuple[L1Cache, DistributedCache, PersistentCache]]:  # type: ignore[no-untyped-def]
    l2 = DistributedCache(redis_url, timeout=2.0, clock=clock, max_value_bytes=4096)
    l3 = PersistentCache(tmp_path / "l3", clock=clock)
    yield L1Cache(1000, clock=clock), l2, l3
    l2.close()


def _mgr(tiers, clock, **kw: Any) -> TieredCache:  # type: ignore[no-untyped-def]
    l1, l2, l3 = tiers
    return TieredCache(l1=l1, l2=l2, l3=l3, clock=clock, monotonic=clock, **kw)


def _fresh_reader(tiers, clock) -> TieredCache:  # type: ignore[no-untyped-def]
    """Another process's view: its own empty L1 over the same L2/L3."""
    _, l2, l3 = tiers
    return TieredCache(l1=L1Cache(1000, clock=clock), l2=l2, l3=l3, clock=clock, monotonic=clock)


# -- 1: smart_set removes the key from the tiers it skips --------------------------------------
def test_high_then_low_priority_leaves_no_old_copy(tiers, clock) -> None:  # type: ignore[no-untyped-def]
    m = _mgr(tiers, clock)
    assert m.smart_set("k", "old", priority="high") == ("l1", "l2", "l3")
    assert m.smart_set("k", "new", priority="low") == ("l3",)
    assert tiers[1].get_entry("k") is None
    assert _fresh_reader(tiers, clock).smart_get("k") == "new"


def test_short_ttl_rewrite_removes_long_lived_l3_copy(tiers, clock) -> None:  # type: ignore[no-untyped-def]
    m = _mgr(tiers, clock)
    assert "l3" in m.smart_set("k", "old", ttl=None)
    assert m.smart_set("k", "new", ttl=60) == ("l1", "l2")
    assert tiers[2].get_entry("k") is None
    clock.t += 61  # the new value expired everywhere: the old one must not resurface
    assert _fresh_reader(tiers, clock).smart_get("k", default="miss") == "miss"


def test_value_too_large_for_l2_removes_old_l2_copy(tiers, clock) -> None:  # type: ignore[no-untyped-def]
    m = _mgr(tiers, clock)
    m.smart_set("k", "small", ttl=60)
    big = "x" * 10_000 + "".join(chr(0x4E00 + i) for i in range(3000))  # over 4096 encoded
    written = m.smart_set("k", big, ttl=60)
    assert "l2" not in written and "l3" in written
    assert tiers[1].get_entry("k") is None
    assert _fresh_reader(tiers, clock).smart_get("k") == big


# -- 2: promotion skips a tier the value does not fit --------------------------------------------
def test_value_above_l2_limit_is_served_from_l3(tiers, clock) -> None:  # type: ignore[no-untyped-def]
    m = _mgr(tiers, clock)
    big = "".join(chr(0x4E00 + i % 20000) for i in range(5000))
    assert m.smart_set("big", big, ttl=600) == ("l1", "l3")
    reader = _fresh_reader(tiers, clock)
    assert reader.smart_get("big") == big
    assert reader.promote("big") is True
    assert reader.promote("big", to="l2") is True  # found, and L2 skipped
    assert tiers[1].get_entry("big") is None


# -- 3: demote keeps the entry's own lifetime ---------------------------------------------------
def test_demote_keeps_the_entry_expiry(tiers, clock) -> None:  # type: ignore[no-untyped-def]
    m = _mgr(tiers, clock, l1_ttl=60)
    m.smart_set("k", "v", ttl=86400, tiers=("l1", "l2"))
    m.smart_get("k")
    assert m.demote("k", to="l3") is True
    entry = tiers[2].get_entry("k")
    assert entry is not None and entry[1] == pytest.approx(clock.t + 86400)
    assert tiers[1].get_entry("k") is None
    m.smart_set("j", "v", ttl=86400, tiers=("l1", "l3"))
    assert m.demote("j", to="l2") is True
    entry = tiers[1].get_entry("j")
    assert entry is not None and entry[1] == pytest.approx(clock.t + 86400, abs=0.01)


# -- 4: an entry expiring between read and promotion is a miss ----------------------------------
class _ExpiringL3:
    """Wraps L3: the read succeeds, then the clock passes the entry's expiry."""

    def __init__(self, l3: PersistentCache, clock: Clock) -> None:
        self._l3, self._clock = l3, clock

    def get_entry(self, key: str) -> Any:
        entry = self._l3.get_entry(key)
        if entry is not None:
            self._clock.t = entry[1] + 1
        return entry

    def __getattr__(self, name: str) -> Any:
        return getattr(self._l3, name)


def test_entry_expiring_during_promotion_is_a_miss(tiers, clock) -> None:  # type: ignore[no-untyped-def]
    _, l2, l3 = tiers
    l3.persistent_set("k", "v", ttl=5)
    m = TieredCache(l1=L1Cache(100, clock=clock), l2=l2, l3=_ExpiringL3(l3, clock), clock=clock, monotonic=clock)
    assert m.smart_get("k", default="miss") == "miss"
    assert m.smart_get("k", lambda: "loaded") == "loaded"
    l3.persistent_set("j", "v", ttl=5)
    assert m.promote("j") is False
    assert l2.get_entry("j") is None


# -- 8: a rejected smart_set leaves the cache unchanged -----------------------------------------
def test_rejected_smart_set_keeps_the_existing_entry(tiers, clock) -> None:  # type: ignore[no-untyped-def]
    m = _mgr(tiers, clock)
    m.smart_set("k", "v", ttl=60)
    with pytest.raises(TypeError):
        m.smart_set("k", object(), ttl=60)
    assert tiers[0].get("k") == "v"
    assert tiers[1].get_entry("k") is not None
    with pytest.raises(CacheValueTooLarge):
        m.smart_set("k", secrets.token_urlsafe(20_000), ttl=60, tiers=("l1", "l2"))
    assert tiers[0].get("k") == "v" and tiers[1].distributed_get("k") == "v"


# -- 10: lifetimes: decided and documented ---------------------------------------------------
@pytest.mark.parametrize("bad", [math.inf, 1e300, math.nan, -1, "forever"])
def test_bad_ttl_raises_configuration_error(tiers, clock, bad: Any) -> None:  # type: ignore[no-untyped-def]
    m = _mgr(tiers, clock)
    m.smart_set("k", "v", ttl=60)
    with pytest.raises(ConfigurationError) as err:
        m.smart_set("k", "w", ttl=bad)
    assert err.value.param == "ttl"
    assert tiers[0].get("k") == "v"


def test_l1_ttl_zero_is_refused() -> None:
    with pytest.raises(ConfigurationError) as err:
        TieredCache(l1_ttl=0)
    assert err.value.param == "l1_ttl"


def test_given_l1_keeps_its_ttl_and_l1_only_keeps_long_ttls(clock) -> None:  # type: ignore[no-untyped-def]
    l1 = L1Cache(100, ttl=300, clock=clock)
    m = TieredCache(l1=l1, clock=clock, monotonic=clock)
    assert m.l1_ttl == 300
    m.smart_set("k", "v", ttl=3600)
    assert l1.remaining_ttl("k") == pytest.approx(3600)  # L1-only: nothing shared to cap
    m2 = TieredCache(l1=L1Cache(100, clock=clock), clock=clock, monotonic=clock, default_ttl=None)
    m2.smart_set("forever", "v")
    assert m2.l1.remaining_ttl("forever") is None
    assert TieredCache(l1_ttl="2m").l1_ttl == 120


def test_l1_ttl_still_caps_copies_of_shared_tiers(tiers, clock) -> None:  # type: ignore[no-untyped-def]
    m = _mgr(tiers, clock, l1_ttl=60)
    m.smart_set("k", "v", ttl=3600)
    assert tiers[0].remaining_ttl("k") == pytest.approx(60)


# -- 11: an L1 cache is never silently shallow-copied; runtime max_bytes -----------------------
def test_l1_copy_is_refused_on_both_kernels(impl) -> None:  # type: ignore[no-untyped-def]
    core = impl.load("lru").LRUCore(4)
    core.fast_set("a", 1)
    for op in (copy.copy, copy.deepcopy, pickle.dumps):
        with pytest.raises(TypeError, match="cannot be copied"):
            op(core)
    assert list(core) == ["a"]
    with pytest.raises(TypeError, match="cannot be copied"):
        copy.copy(L1Cache(4))


def test_set_max_bytes_evicts_down_to_the_new_bound(impl) -> None:  # type: ignore[no-untyped-def]
    core = impl.load("lru").LRUCore(100, None, 1000, lambda v: 100, None)
    for i in range(10):
        core.fast_set(i, i)
    assert core.currsize_bytes == 1000
    core.set_max_bytes(350)
    assert list(core) == [7, 8, 9] and core.currsize_bytes == 300 and core.max_bytes == 350
    core.max_bytes = 100
    assert list(core) == [9]
    for bad in (0, -1, True, 1.5):
        with pytest.raises(ConfigurationError):
            core.set_max_bytes(bad)
    assert core.max_bytes == 100
    core.max_bytes = None
    for i in range(20, 25):
        core.fast_set(i, i)
    assert len(core) == 6 and core.currsize_bytes == 600
    unbounded = impl.load("lru").LRUCore(10)
    with pytest.raises(ConfigurationError):
        unbounded.set_max_bytes(100)
    unbounded.set_max_bytes(None)


def test_l1cache_max_bytes_setter() -> None:
    l1 = L1Cache(100, max_bytes=10_000, sizeof=lambda v: 1000)
    for i in range(10):
        l1[i] = i
    l1.max_bytes = 3000
    assert len(l1) == 3 and l1.stats()["bytes"] == 3000


# -- 7: "?" removes the same keys in every tier ----------------------------------------------
def test_question_mark_pattern_removes_the_same_keys_everywhere(tiers, clock) -> None:  # type: ignore[no-untyped-def]
    m = _mgr(tiers, clock)
    doomed, kept = ["aéb", "aسb", "axb", "a😀b"], ["ab", "axxb", "aéxb", "xaéb"]
    for k in doomed + kept:
        m.smart_set(k, k, priority="high")
    report = m.pattern_invalidate("a?b")
    assert report.ok
    l1, l2, l3 = tiers
    for k in doomed:
        assert k not in l1 and l2.get_entry(k) is None and l3.get_entry(k) is None, k
    for k in kept:
        assert l1.get(k) == k and l2.distributed_get(k) == k and l3.persistent_get(k) == k, k


# -- 6: one dirty set per node for the sync and the asyncio shell -------------------------------
class _WritesFail:
    """A redis-py client whose writes and deletes fail (the node unreachable for them)."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def _fail(self, *a: Any, **k: Any) -> Any:
        import redis

        raise redis.ConnectionError("injected: node unreachable")

    set = unlink = pipeline = _fail

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def test_failed_sync_write_hides_the_node_copy_from_async_reads(redis_url, tiers, clock) -> None:  # type: ignore[no-untyped-def]
    import asyncio

    from swfast.cache.l2_async import AsyncDistributedCache

    l1, l2, _ = tiers
    assert l2.asyncio().nodes[redis_url].dirty is l2.nodes[redis_url].dirty
    al2 = AsyncDistributedCache(redis_url, timeout=2.0, clock=clock)  # configured separately
    with pytest.warns(DeprecationWarning, match="al2"):
        m = TieredCache(l1=l1, l2=l2, al2=al2, clock=clock, monotonic=clock)
    m.smart_set("k", "old", ttl=60)
    node = l2.nodes[redis_url]
    real, node.client = node.client, _WritesFail(node.client)
    try:
        assert m.smart_set("k", "new", ttl=60) == ("l1",)
    finally:
        node.client = real
    m.clear_local()

    async def read() -> Any:
        try:
            return await m.asmart_get("k", default="miss")
        finally:
            await al2.close()

    assert asyncio.run(read()) == "miss"  # never the value the failed write should have replaced
    assert l2.sync_nodes() == {redis_url: 1}
    assert al2.nodes[redis_url].dirty is node.dirty and not node.dirty


def test_share_state_refuses_other_nodes(redis_url, tiers) -> None:  # type: ignore[no-untyped-def]
    from swfast.cache.l2_async import AsyncDistributedCache

    other = AsyncDistributedCache(redis_url, namespace="other:")
    with pytest.raises(ConfigurationError) as err, pytest.warns(DeprecationWarning):
        TieredCache(l2=tiers[1], al2=other)
    assert err.value.param == "al2"


@pytest.mark.parametrize("given", ["sync", "asyncio"])
def test_one_l2_serves_sync_and_async_methods(redis_url, tiers, clock, given, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import asyncio

    from swfast.cache import l2_async

    l1, l2, _ = tiers
    m = TieredCache(l1=l1, l2=l2 if given == "sync" else l2.asyncio(), clock=clock, monotonic=clock)
    assert m.l2.nodes[redis_url] is l2.nodes[redis_url] and m.al2.nodes[redis_url] is l2.nodes[redis_url]
    m.smart_set("k", "old", ttl=60)
    node = l2.nodes[redis_url]
    real, node.client = node.client, _WritesFail(node.client)
    try:
        assert m.smart_set("k", "new", ttl=60) == ("l1",)  # the sync write failed: k is dirty
    finally:
        node.client = real
    m.clear_local()
    driven: list[str] = []
    real_arun = l2_async.arun

    async def spy(step: Any) -> Any:
        driven.append(step.__name__)
        return await real_arun(step)

    async def read() -> Any:
        try:
            return await m.asmart_get("k", default="miss")
        finally:
            closed: list[Any] = []
            real_close = m.al2.close

            async def close() -> None:
                closed.append(m.al2)
                await real_close()

            m.al2.close = close
            await m.aclose()  # closes the asyncio shell it made itself, never the one it was given
            assert closed == ([m.al2] if given == "sync" else [])
            if given == "asyncio":
                await real_close()

    monkeypatch.setattr(l2_async, "arun", spy)
    assert asyncio.run(read()) == "miss"  # the async read skips the node's stale copy
    assert driven == ["_get_entry"]  # on the asyncio shell, not the sync one in a thread
    assert m.smart_get("k", default="miss") == "miss"


# -- 5: a Redis node restarted from its RDB file does not serve overwritten values -------------
def test_restarted_node_does_not_serve_values_overwritten_while_down(tmp_path: Path) -> None:
    import shutil

    import redis

    from _servers import start_redis

    first = start_redis()
    port, url = first.port, f"redis://127.0.0.1:{first.port}/0"
    second = None
    writer = DistributedCache(url, timeout=1.0)        # process A
    reader = DistributedCache(url, timeout=1.0)        # process B, connected before the outage
    try:
        assert writer.distributed_set("k", "v1") and writer.distributed_set("gone", "x")
        assert reader.distributed_get("k") == "v1"
        raw = redis.Redis(port=port)
        raw.save()  # the RDB file now holds k=v1
        raw.close()
        shutil.copy(Path(first.workdir) / "dump.rdb", tmp_path / "dump.rdb")
        first.kill()
        assert writer.distributed_set("k", "v2") is False  # lost: only A's memory knows
        assert writer.delete(["gone"])                      # ditto for the delete
        second = start_redis(port, extra_args=("--dir", str(tmp_path), "--dbfilename", "dump.rdb"))
        check = redis.Redis(port=port)
        assert check.get(b"swfast:k") is not None  # the node came back with the old value
        fresh = DistributedCache(url, timeout=1.0)  # process C, started after the restart
        for cache in (fresh, reader, writer):
            assert cache.distributed_get("k") is None
            assert cache.distributed_get("gone") is None
            assert cache.get_many(["k", "gone"]) == {}
        assert check.get(b"swfast:k") is None  # repaired: its stale keys were removed
        assert writer.distributed_set("k", "v3")
        assert reader.distributed_get("k") == "v3" and fresh.get_many(["k"])["k"][0] == "v3"
        check.close()
        fresh.close()
    finally:
        writer.close()
        reader.close()
        first.stop()
        if second is not None:
            second.stop()


def test_repair_runs_once_per_redis_run(redis_client, redis_url) -> None:  # type: ignore[no-untyped-def]
    a = DistributedCache(redis_url)
    assert a.distributed_get("warm") is None  # first contact with this run: repaired (nothing to remove)
    redis_client.set(b"swfast:planted", b"x")  # written after the repair: not swept again
    b = DistributedCache(redis_url)
    assert b.distributed_get("nothing") is None
    assert redis_client.exists(b"swfast:planted") == 1
    a.close()
    b.close()


def test_async_shell_repairs_a_restarted_node_too(redis_client, redis_url) -> None:  # type: ignore[no-untyped-def]
    import asyncio

    from swfast.cache.l2_async import AsyncDistributedCache

    redis_client.set(b"swfast:stale", b"\xa5\x01" + bytes(8) + b"old")  # a node's unproven leftover

    async def main() -> Any:
        al2 = AsyncDistributedCache(redis_url)
        try:
            return await al2.get_entry("stale"), await al2.get_many(["stale"])
        finally:
            await al2.close()

    assert asyncio.run(main()) == (None, {})
    assert redis_client.exists(b"swfast:stale") == 0

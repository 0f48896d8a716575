"""Tiered cache manager: read-through, promotion TTLs, policy, single flight, isolation, invalidation."""
from __future__ import annotations

import asyncio
import importlib
import os
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any, Iterator

import pytest

from _cache_helpers import Clock, dbsize, warm

from _servers import ServerUnavailable, free_port, start_redis

from swfast.cache.l1 import L1Cache
from swfast.cache.l2 import DistributedCache
from swfast.cache.l3 import PersistentCache
from swfast.cache.manager import TieredCache
from swfast.cache.policy import PlacementPolicy, parse_ttl
from swfast.errors import CacheValueTooLarge, ConfigurationError
from swfast.monitoring.metrics import REGISTRY

REQUIRE_SERVICES = os.environ.get("SWFAST_REQUIRE_SERVICES", "") not in ("", "0")


def _wait_for(cond: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond() and time.monotonic() < deadline:
        time.sleep(0.001)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def tiers(redis_client, redis_url, tmp_path: Path, clock: Clock) -> Iterator[tuple[L1Cache, DistributedCache, PersistentCache]]:  # type: ignore[no-untyped-def]
    l2 = DistributedCache(redis_url, timeout=2.0, clock=clock)  # generous: the CI host is shared
    l3 = PersistentCache(tmp_path / "l3", clock=clock)
    yield L1Cache(10_000, clock=clock), l2, l3
    l2.close()


def _mgr(tiers, clock, **kw) -> TieredCache:  # type: ignore[no-untyped-def]
    l1, l2, l3 = tiers
    return TieredCache(l1=l1, l2=l2, l3=l3, clock=clock, monotonic=clock, **kw)


def test_read_through_order_and_remaining_ttl(tiers, clock, redis_client) -> None:  # type: ignore[no-untyped-def]
    l1, l2, l3 = tiers
    m = _mgr(tiers, clock, l1_ttl=60)
    l3.persistent_set("k", "from-l3", ttl=100)
    clock.t += 30
    calls = []
    assert m.smart_get("k", lambda: calls.append(1)) == "from-l3" and calls == []
    e2 = l2.get_entry("k")
    assert e2 is not None and e2[1] == pytest.approx(clock.t + 70, abs=0.01)  # never extended
    assert 69_000 < redis_client.pttl(b"swfast:k") <= 70_000
    assert l1.remaining_ttl("k") == pytest.approx(60)  # capped by the max local TTL
    m2 = _mgr((L1Cache(10_000, clock=clock), l2, l3), clock, l1_ttl=1000)
    assert m2.smart_get("k") == "from-l3" and m2.l1.remaining_ttl("k") == pytest.approx(70, abs=0.01)
    clock.t += 69.99
    assert m2.smart_get("k", default="MISS") == "from-l3"
    clock.t += 0.02
    assert m2.smart_get("k", default="MISS") == "MISS"  # expired in L1 and L3; L2 stamp expired too
    assert m.stats.snapshot()["hits"]["l3"] == 1


def test_loader_result_placed_and_none_is_a_hit(tiers, clock) -> None:  # type: ignore[no-untyped-def]
    l1, l2, l3 = tiers
    m = _mgr(tiers, clock, default_ttl=7200)
    calls: list[int] = []

    def loader() -> None:
        calls.append(1)
        return None

    assert m.smart_get("n", loader) is None
    assert m.smart_get("n", loader) is None
    assert calls == [1]
    assert l2.get_entry("n") == (None, pytest.approx(clock.t + 7200))
    assert l3.get_entry("n") is not None  # long TTL: also in L3
    l1.clear()
    assert m.smart_get("n", loader) is None and calls == [1]
    for falsy in (0, "", b"", [], False):
        m.smart_set(f"f{falsy!r}", falsy)
        assert m.smart_get(f"f{falsy!r}", lambda: "loaded") == falsy


def test_placement_policy(tiers, clock) -> None:  # type: ignore[no-untyped-def]
    l1, l2, l3 = tiers
    m = _mgr(tiers, clock, policy=PlacementPolicy(l1_max_bytes=100, l3_min_ttl=3600))
    assert m.smart_set("short", "v", ttl=10) == ("l1", "l2")
    assert m.smart_set("long", "v", ttl="2h") == ("l1", "l2", "l3")
    assert m.smart_set("cold", "v", ttl=10, priority="low") == ("l3",)
    assert m.smart_set("hot", "v", ttl=10, priority="high") == ("l1", "l2", "l3")
    assert m.smart_set("big", "x" * 1000, ttl=10) == ("l2",)
    assert l1.fast_get("big") is None and l2.distributed_get("big") == "x" * 1000
    assert m.smart_set("only-l3", "v", tiers=("l3",)) == ("l3",)
    small_l2 = DistributedCache(l2.nodes[next(iter(l2.nodes))].name, max_value_bytes=200, compress_threshold=None)
    m3 = TieredCache(l1=L1Cache(10_000, clock=clock), l2=small_l2, l3=l3, clock=clock, monotonic=clock)
    assert m3.smart_set("huge", "y" * 500, ttl=10) == ("l1", "l3")
    with pytest.raises(CacheValueTooLarge):
        m3.smart_set("huge2", "y" * 500, tiers=("l2",))
    with pytest.raises(ValueError, match="priority"):
        m.smart_set("x", 1, priority="urgent")  # type: ignore[arg-type]
    small_l2.close()


def test_promote_and_demote(tiers, clock) -> None:  # type: ignore[no-untyped-def]
    l1, l2, l3 = tiers
    m = _mgr(tiers, clock, l1_ttl=1000)
    l3.persistent_set("a", "va", ttl=500)
    assert m.promote("a", to="l2") and l2.get_entry("a")[1] == pytest.approx(clock.t + 500)  # type: ignore[index]
    assert l1.fast_get("a") is None
    assert m.promote("a") and l1.remaining_ttl("a") == pytest.approx(500)
    assert not m.promote("absent")
    m.smart_set("b", "vb", ttl=100, tiers=("l1", "l2"))
    clock.t += 40
    assert m.demote("b", to="l3")
    assert l1.fast_get("b") is None and l2.get_entry("b") is None
    assert l3.get_entry("b") == ("vb", pytest.approx(clock.t + 60, abs=0.01))
    assert not m.demote("nothing")


class Broken:
    def __getattr__(self, name: str) -> Any:
        def fail(*a: Any, **k: Any) -> Any:
            raise RuntimeError(f"{name} exploded")
        return fail


def test_tier_isolation(clock) -> None:  # type: ignore[no-untyped-def]
    m = TieredCache(l1=Broken(), l2=Broken(), l3=Broken(), clock=clock, monotonic=clock)
    m.l2.codec = type("C", (), {"max_value_bytes": 1 << 20})()
    before = REGISTRY.get("swfast_cache_tier_errors_total").labels("l2", "get").get()  # type: ignore[union-attr]
    assert m.smart_get("k", lambda: 42) == 42
    assert REGISTRY.get("swfast_cache_tier_errors_total").labels("l2", "get").get() == before + 1  # type: ignore[union-attr]
    with pytest.raises(KeyError, match="loader's own"):
        m.smart_get("k", lambda: (_ for _ in ()).throw(KeyError("loader's own")))
    report = m.invalidate("k")
    assert not report.ok and "l3" in report.failed and report.failed.get("l2") == ["k"]
    assert m.stats.snapshot()["errors"]["l3"] >= 2


def test_single_flight_threads(tiers, clock) -> None:  # type: ignore[no-untyped-def]
    m = _mgr(tiers, clock)
    calls = []
    arrived: list[int] = []

    def loader() -> object:
        calls.append(1)
        _wait_for(lambda: len(arrived) == 1000)
        time.sleep(0.1)  # the late arrivals reach the flight and wait on it
        return {"v": 1}

    def run() -> None:
        arrived.append(1)
        results.append(m.smart_get("sf", loader))

    results: list[Any] = []
    threads = [threading.Thread(target=run) for _ in range(1000)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and len(results) == 1000
    assert all(r is results[0] for r in results)


def test_loader_error_reaches_every_waiter_and_is_not_cached(tiers, clock) -> None:  # type: ignore[no-untyped-def]
    m = _mgr(tiers, clock)
    calls = []
    arrived: list[int] = []

    def loader() -> int:
        calls.append(1)
        _wait_for(lambda: len(arrived) == 50)
        time.sleep(0.1)
        raise LookupError("backend down")

    errors: list[BaseException] = []

    def run() -> None:
        arrived.append(1)
        try:
            m.smart_get("e", loader)
        except LookupError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and len(errors) == 50
    assert m.smart_get("e", lambda: "ok") == "ok"


async def test_single_flight_tasks_and_cancel_does_not_stop_load(tiers, clock) -> None:  # type: ignore[no-untyped-def]
    m = _mgr(tiers, clock)
    calls = []

    async def loader() -> str:
        calls.append(1)
        await asyncio.sleep(0.05)
        return "loaded"

    tasks = [asyncio.ensure_future(m.asmart_get("af", loader)) for _ in range(1000)]
    await asyncio.sleep(0.01)
    tasks[0].cancel()
    results = await asyncio.gather(*tasks[1:])
    assert calls == [1] and set(results) == {"loaded"}
    assert await m.asmart_get("af", loader) == "loaded" and calls == [1]
    assert m.l1.fast_get("af") == "loaded"


def test_invalidate_beats_in_flight_load(tiers, clock) -> None:  # type: ignore[no-untyped-def]
    l1, l2, l3 = tiers
    m = _mgr(tiers, clock, default_ttl=7200)
    started, release = threading.Event(), threading.Event()
    calls = []

    def slow_loader() -> str:
        calls.append(1)
        started.set()
        release.wait(5)
        return "stale"

    out: list[Any] = []
    t = threading.Thread(target=lambda: out.append(m.smart_get("r", slow_loader)))
    t.start()
    started.wait(5)
    assert m.invalidate("r").ok
    release.set()
    t.join()
    assert out == ["stale"]  # the caller gets what it loaded ...
    assert l1.fast_get("r") is None and l2.get_entry("r") is None and l3.get_entry("r") is None  # ... nothing stored
    assert m.smart_get("r", lambda: "fresh") == "fresh" and len(calls) == 1


def test_smart_set_beats_in_flight_load(tiers, clock) -> None:  # type: ignore[no-untyped-def]
    m = _mgr(tiers, clock)
    started, release = threading.Event(), threading.Event()

    def slow_loader() -> str:
        started.set()
        release.wait(5)
        return "old"

    t = threading.Thread(target=lambda: m.smart_get("s", slow_loader))
    t.start()
    started.wait(5)
    m.smart_set("s", "new")
    release.set()
    t.join()
    assert m.smart_get("s") == "new"
    assert m.l2.distributed_get("s", "MISS") in ("new", "MISS")  # never the old value


def test_stale_while_revalidate(tiers, clock) -> None:  # type: ignore[no-untyped-def]
    m = _mgr(tiers, clock, l1_ttl=100, soft_ttl=10)
    m.smart_set("w", "v1", ttl=100)
    clock.t += 11
    done = threading.Event()

    def refresh() -> str:
        done.set()
        return "v2"

    assert m.smart_get("w", refresh) == "v1"  # stale served, one refresh started
    assert done.wait(5)
    for _ in range(200):
        if m.smart_get("w") == "v2":
            break
        time.sleep(0.005)
    assert m.smart_get("w") == "v2"


async def test_stale_while_revalidate_async(tiers, clock) -> None:  # type: ignore[no-untyped-def]
    m = _mgr(tiers, clock, l1_ttl=100, soft_ttl=10)
    m.smart_set("w", "v1", ttl=100)
    clock.t += 11
    calls = []

    async def refresh() -> str:
        calls.append(1)
        return "v2"

    assert await m.asmart_get("w", refresh) == "v1"
    assert await m.asmart_get("w", refresh) == "v1"  # one refresh at a time
    for _ in range(200):
        if m.l1.fast_get("w") is not None and await m.asmart_get("w") == "v2":
            break
        await asyncio.sleep(0.005)
    assert await m.asmart_get("w") == "v2" and calls == [1]


def test_batch_invalidate_reports_down_node(redis_client, redis_url, tmp_path, clock) -> None:  # type: ignore[no-untyped-def]
    down = f"redis://127.0.0.1:{free_port()}/0"
    l2 = DistributedCache([redis_url, down], timeout=0.05, trip_after=1000, clock=clock)
    m = TieredCache(l1=L1Cache(10_000, clock=clock), l2=l2, l3=PersistentCache(tmp_path / "l3", clock=clock),
                    clock=clock, monotonic=clock)
    keys = [f"bk{i}" for i in range(10_000)]
    failed_set = l2.set_many({k: 1 for k in keys}, ttl=100)
    m.l3.persistent_set_many({k: 1 for k in keys})
    report = m.batch_invalidate(keys)
    assert sorted(report.failed[down]) == sorted(failed_set)
    assert 3000 < len(report.failed[down]) < 7000 and set(report.failed) == {down}
    assert dbsize(redis_client) == 0 and m.l3.stats()["entries"] == 0
    assert all(m.smart_get(k, default="MISS") == "MISS" for k in keys[:100])
    l2.close()


@pytest.fixture
def own_redis() -> Iterator[tuple[str, Any]]:
    """``(url, client)`` of a redis-server of this test's own, stopped afterwards.

    A million populated keys on the session server (even flushed asynchronously) keep it busy
    freeing memory while later tests run with 0.5 s socket timeouts; a throwaway server's
    memory goes back with its process, so no other test shares the load.
    """
    redis = pytest.importorskip("redis") if not REQUIRE_SERVICES else importlib.import_module("redis")
    try:
        server = start_redis()
    except ServerUnavailable as exc:
        if REQUIRE_SERVICES:
            pytest.fail(f"redis-server could not start and SWFAST_REQUIRE_SERVICES=1: {exc}")
        pytest.skip(f"redis-server unavailable: {exc}")
    client = redis.Redis(host=server.host, port=server.port, socket_timeout=30)
    try:
        yield f"redis://{server.address}/0", client
    finally:
        client.close()
        server.stop()


def test_pattern_invalidate_scan_escaping_at_a_million_keys(own_redis, tmp_path, clock) -> None:  # type: ignore[no-untyped-def]
    redis_url, redis_client = own_redis
    l2 = DistributedCache(redis_url, timeout=2.0, clock=clock)
    warm(l2)  # proven repaired first: the populated keys stand for this run's cache entries
    redis_client.execute_command("DEBUG", "POPULATE", 1_000_000, "swfast:bulk:")
    m = TieredCache(l1=L1Cache(10_000, clock=clock), l2=l2, l3=PersistentCache(tmp_path / "l3", clock=clock),
                    clock=clock, monotonic=clock)
    for k in ("user:[1]a", "user:[1]b", "user:1c", "user:[2]d", "user:[1"):
        m.smart_set(k, k, ttl=5000)
    m.l1.fast_set("user:[1]local", 1)
    other = DistributedCache(redis_url, namespace="other:")
    other.distributed_set("user:[1]a", "untouched")
    report = m.pattern_invalidate("user:[1]*")
    assert report.ok and report.removed == 4  # 2 in L2 + 2 in L3
    for k in ("user:[1]a", "user:[1]b", "user:[1]local"):
        assert m.smart_get(k, default="MISS") == "MISS"
    for k in ("user:1c", "user:[2]d", "user:[1"):
        assert m.smart_get(k) == k
    assert other.distributed_get("user:[1]a") == "untouched"
    assert dbsize(redis_client) == 1_000_000 + 4
    l2.close()
    other.close()


def test_cached_decorator_sync_and_async(tiers, clock) -> None:  # type: ignore[no-untyped-def]
    m = _mgr(tiers, clock)
    calls: list[Any] = []

    @m.cached(key="user:{user_id}", ttl="2h5m")
    def get_user(user_id: int, verbose: bool = False) -> dict[str, int]:
        calls.append(user_id)
        return {"id": user_id}

    @m.cached(ttl=timedelta(minutes=1))
    async def aget(x: int) -> int:
        calls.append(("a", x))
        return x * 2

    assert get_user(1) == {"id": 1} and get_user(1) == {"id": 1} and calls == [1]
    assert m.l2.get_entry("user:1")[1] == pytest.approx(clock.t + 7500)  # type: ignore[index]
    assert asyncio.run(aget(3)) == 6 and asyncio.run(aget(3)) == 6
    assert calls == [1, ("a", 3)]

    @m.cached(key="x:{missing}")
    def bad(a: int) -> int:
        return a

    with pytest.raises(ValueError, match="missing"):
        bad(1)


def test_parse_ttl() -> None:
    assert parse_ttl("2h5m") == 7500 and parse_ttl("250ms") == 0.25 and parse_ttl("1d") == 86400
    assert parse_ttl(timedelta(seconds=3)) == 3 and parse_ttl(5) == 5.0 and parse_ttl(None) is None
    for bad in ("2x", "", "h", "-5s"):
        with pytest.raises(ValueError, match="ttl"):
            parse_ttl(bad)
    with pytest.raises(ValueError):
        parse_ttl(-1)
    with pytest.raises(ConfigurationError):
        parse_ttl(True)


def test_sync_loader_returning_coroutine_is_refused(tiers, clock) -> None:  # type: ignore[no-untyped-def]
    m = _mgr(tiers, clock)

    async def coro() -> int:
        return 1

    with pytest.raises(TypeError, match="asmart_get"):
        m.smart_get("c", coro)
    assert m.l1.fast_get("c") is None


def test_smart_set_encodes_a_value_once_and_a_mutated_value_afresh(tiers, clock, redis_client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Placement (size), the pre-write checks and the writes of L2 and L3 share one JSON
    encoding of the value (it was encoded three times); the memo lasts one call only, so a
    dict changed between two ``smart_set`` calls is stored as changed in every tier."""
    from swfast.cache import envelope

    encoded: list[object] = []
    real = envelope._json_dumps_now

    def counting(value: object) -> bytes:
        encoded.append(value)
        return real(value)

    monkeypatch.setattr(envelope, "_json_dumps_now", counting)
    l1, l2, l3 = tiers
    cache = _mgr(tiers, clock)
    value = {"label": "positive", "scores": [0.25, 0.75]}
    assert cache.smart_set("k", value, priority="high") == ("l1", "l2", "l3")
    assert len(encoded) == 1
    value["label"] = "negative"  # the same object, changed
    cache.smart_set("k", value, priority="high")
    assert len(encoded) == 2
    l1.clear()
    assert cache.smart_get("k") == {"label": "negative", "scores": [0.25, 0.75]}
    assert l2.distributed_get("k") == l3.persistent_get("k") == {"label": "negative", "scores": [0.25, 0.75]}
    assert envelope._ONCE.memo is None  # nothing held after the call


def test_redis_url_variable_configures_the_default_l2(redis_url, redis_client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """``SWFAST_REDIS_URL`` (issue 11, item 1): ``TieredCache()`` without ``l2=`` writes through
    that Redis; ``l2=None`` still means no L2; unset means no L2; the constructor connects to
    nothing (a node that does not answer is an L2 error at first use, not a silent L1-only cache)."""
    from swfast.cache.tiers import RedisTier

    monkeypatch.delenv("SWFAST_REDIS_URL", raising=False)
    assert TieredCache().tiers == ()
    monkeypatch.setenv("SWFAST_REDIS_URL", redis_url)
    cache = TieredCache()
    assert len(cache.tiers) == 1 and isinstance(cache.tiers[0], RedisTier)
    assert cache.smart_set("env:k", {"v": 1}, priority="high") == ("l1", "l2")
    assert any(k.endswith(b"env:k") for k in redis_client.keys("*"))
    assert TieredCache(l2=None).tiers == ()
    dead = f"redis://127.0.0.1:{free_port()}/0"
    monkeypatch.setenv("SWFAST_REDIS_URL", dead)
    errors = REGISTRY.get("swfast_cache_l2_errors_total")
    down = TieredCache()  # nothing is contacted here
    assert down.smart_set("env:k2", 1, priority="high") == ("l1",)  # the L2 write failed, visibly
    assert errors is not None and errors.labels(dead.split("//")[1], "set").get() >= 1  # type: ignore[union-attr]

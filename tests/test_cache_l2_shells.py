"""L2 as one object: the asyncio shell's full API, one dirty set per node for both shells, and
per-node (per cluster master) breakers, over real redis-servers."""
from __future__ import annotations

import asyncio
from typing import Iterator

import pytest

from _cache_helpers import BlockingProxy, dbsize, start_cluster, warm
from _servers import Server, start_redis

from swfast.cache.l2 import DistributedCache
from swfast.cache.l2_async import AsyncDistributedCache
from swfast.cache.pattern import KeyPattern
from swfast.resilience.history import CircuitState


@pytest.fixture(scope="module")
def second_redis() -> Iterator[Server]:
    srv = start_redis()
    yield srv
    srv.stop()


def test_async_shell_has_every_sync_method() -> None:
    sync = {n for n in dir(DistributedCache) if not n.startswith("_")} - {"asyncio"}
    assert sync <= {n for n in dir(AsyncDistributedCache) if not n.startswith("_")}


async def test_async_membership_patterns_and_repair(redis_client, redis_server, second_redis) -> None:  # type: ignore[no-untyped-def]
    import redis

    other = redis.Redis(port=second_redis.port)
    other.flushall()
    u1, u2 = f"redis://127.0.0.1:{redis_server.port}/0", f"redis://127.0.0.1:{second_redis.port}/0"
    a = AsyncDistributedCache(u1, timeout=1.0)
    try:
        items = {f"m{i}": i for i in range(600)}
        assert await a.set_many(items, ttl=300) == []
        report = await a.add_node(u2)
        assert report is not None and report.failed == {} and 150 < report.moved < 450
        assert dbsize(other) == report.moved
        assert {k: v for k, (v, _) in (await a.get_many(list(items))).items()} == items
        clients = await a.clients()
        assert set(clients) == {u1, u2} and all(isinstance(c, redis.asyncio.Redis) for c in clients.values())

        assert await a.set_many({"p:[1]a": 1, "p:[1]b": 2, "p:1c": 3, "p:é": 4}) == []
        assert await a.delete_matching(KeyPattern("p:[1]*")) == (2, [])
        assert await a.delete_matching(KeyPattern("p:?")) == (1, [])  # one character, not one byte
        assert await a.distributed_get("p:1c") == 3 and await a.distributed_get("p:é") is None

        k2 = next(k for k in items if a.node_of(a.rkey(k)).name == u2)
        a.nodes[u2].dirty.add(a.rkey(k2))  # a write this node missed: its copy is never served
        assert await a.distributed_get(k2, "MISS") == "MISS" and other.exists(a.rkey(k2))
        assert await a.sync_nodes() == {u2: 1} and not a.nodes[u2].dirty and not other.exists(a.rkey(k2))
        items.pop(k2)

        on_first = dbsize(redis_client)
        report = await a.remove_node(u1)
        assert report is not None and report.moved == on_first and dbsize(redis_client) == 0
        assert {k: v for k, (v, _) in (await a.get_many(list(items))).items()} == items
        with pytest.raises(ValueError, match="last node"):
            await a.remove_node(u2)
    finally:
        await a.close()


@pytest.mark.parametrize("failing", ["sync", "asyncio"])
def test_a_write_failure_in_one_shell_hides_the_copy_from_the_other(redis_client, redis_server, failing) -> None:  # type: ignore[no-untyped-def]
    proxy = BlockingProxy(redis_server.port)
    url = f"redis://127.0.0.1:{proxy.port}/0"
    s = DistributedCache(url, timeout=0.5, trip_after=100)  # room for a loaded machine; the partition still times out
    a = s.asyncio()
    warm(s)
    node = s.nodes[url]
    assert a.nodes[url] is node  # one node state: breaker, dirty set, repair proof

    async def run() -> None:
        try:
            assert s.distributed_set("k", "old", ttl=60)
            proxy.blocked = True
            if failing == "sync":
                assert s.distributed_set("k", "new", ttl=60) is False
            else:
                assert await a.distributed_set("k", "new", ttl=60) is False
            proxy.unblock()
            assert node.dirty == {b"swfast:k"}
            assert redis_client.get(b"swfast:k") is not None  # the old copy is still on the node
            if failing == "sync":
                assert await a.distributed_get("k", "MISS") == "MISS"
                assert await a.get_many(["k"]) == {}
            else:
                assert s.distributed_get("k", "MISS") == "MISS"
                assert s.get_many(["k"]) == {}
            assert (await a.sync_nodes() if failing == "sync" else s.sync_nodes()) == {url: 1}
            assert s.distributed_get("k", "MISS") == "MISS" and await a.distributed_get("k", "MISS") == "MISS"
        finally:
            await a.close()

    try:
        asyncio.run(run())
    finally:
        s.close()
        proxy.close()


def test_one_dead_cluster_master_does_not_block_the_healthy_ones() -> None:
    import redis

    servers = start_cluster(3, full_coverage=False)
    try:
        entry = f"redis://127.0.0.1:{servers[0].port}/0"
        c = DistributedCache(entry, cluster=True, timeout=1.0, trip_after=2, reset_timeout=60.0)  # killed: refused at once
        items = {f"c{i}": i for i in range(300)}
        assert c.set_many(items, ttl=60) == []
        probe = redis.RedisCluster(host="127.0.0.1", port=servers[0].port)
        owner = {k: probe.get_node_from_key(c.rkey(k)).port for k in items}
        probe.close()
        dead = servers[2]
        healthy = {k: v for k, v in items.items() if owner[k] != dead.port}
        assert 150 < len(healthy) < 250
        dead.kill()

        for _ in range(4):  # failures on the dead master: its breaker opens; the others serve
            got = c.get_many(list(items))
            assert {k: v for k, (v, _) in got.items()} == healthy
        masters = {n.name: n for n in c.nodes.values() if n.name != entry}
        assert len(masters) == 3
        for name, node in masters.items():
            expected = CircuitState.OPEN if name.endswith(f":{dead.port}") else CircuitState.CLOSED
            assert node.breaker.state is expected, name
        assert c.distributed_get(next(iter(healthy))) == healthy[next(iter(healthy))]
        unwritten = c.set_many({k: -v for k, v in items.items()}, ttl=60)
        assert sorted(unwritten) == sorted(k for k in items if k not in healthy)
        assert {k: v for k, (v, _) in c.get_many(list(healthy)).items()} == {k: -v for k, v in healthy.items()}
        deleted, failed = c.delete_matching(KeyPattern("c1*"))
        assert deleted == sum(1 for k in healthy if k.startswith("c1")) and failed == [f"127.0.0.1:{dead.port}"]

        async def async_side() -> None:
            a = c.asyncio()  # the same per-master breakers: the dead one is skipped at once
            got = await a.get_many(list(healthy))
            assert {k: v for k, (v, _) in got.items()} == {k: -v for k, v in healthy.items() if not k.startswith("c1")}
            assert await a.set_many({k: 0 for k in items}) == sorted(unwritten, key=list(items).index)
            deleted, failed = await a.delete_matching(KeyPattern("c2*"))
            assert deleted == sum(1 for k in healthy if k.startswith("c2")) and failed == [f"127.0.0.1:{dead.port}"]
            await a.close()

        asyncio.run(async_side())
        c.close()
    finally:
        for s in servers:
            s.stop()


def test_unreachable_cluster_costs_nothing_at_construction_then_misses_then_skips() -> None:
    from _servers import free_port

    url = f"redis://127.0.0.1:{free_port()}/0"
    c = DistributedCache(url, cluster=True, timeout=0.05, trip_after=2, reset_timeout=60.0)  # no discovery yet
    entry = c.nodes[url]
    assert entry.client is None
    for _ in range(2):
        assert c.distributed_get("k", "MISS") == "MISS"
        assert c.set_many({"k": 1, "j": 2}) in (["k", "j"], ["j", "k"])
    assert entry.breaker.state is CircuitState.OPEN  # discovery failures count on the entry's breaker
    assert c.get_many(["k"]) == {} and c.delete_matching(KeyPattern("*")) == (0, [url])
    c.close()

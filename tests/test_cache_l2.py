"""L2 over real Redis: envelope, two nodes through the ring, limits, faults, cancellation."""
from __future__ import annotations

import asyncio
import pickle
import time
from typing import Iterator

import pytest

from _cache_helpers import BlockingProxy, HungServer, dbsize, warm
from _servers import Server, free_port, start_redis

from swfast.cache.l2 import DistributedCache
from swfast.cache.l2_async import AsyncDistributedCache
from swfast.cache.pattern import KeyPattern
from swfast.errors import CacheValueTooLarge, CircuitOpenError
from swfast.monitoring.metrics import REGISTRY
from swfast.resilience.history import CircuitState


@pytest.fixture(scope="module")
def second_redis() -> Iterator[Server]:
    srv = start_redis()
    yield srv
    srv.stop()


@pytest.fixture
def l2(redis_client, redis_url) -> Iterator[DistributedCache]:  # type: ignore[no-untyped-def]
    c = DistributedCache(redis_url, timeout=0.5)
    warm(c)
    yield c
    c.close()


@pytest.fixture
def two(redis_client, redis_server, second_redis) -> Iterator[DistributedCache]:  # type: ignore[no-untyped-def]
    import redis

    redis.Redis(port=second_redis.port).flushall()
    c = DistributedCache([f"redis://127.0.0.1:{redis_server.port}/0", f"redis://127.0.0.1:{second_redis.port}/0"],
                         timeout=0.5)
    yield c
    c.close()


class FakeClock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_get_many_mixed_replies(l2, redis_client) -> None:  # type: ignore[no-untyped-def]
    l2.set_many({"a": "A", "z": "z" * 10_000, "n": None})
    redis_client.set(b"swfast:bad", b"not ours")
    got = l2.get_many(["a", "z", "n", "bad", "absent"])
    assert {k: v for k, (v, _) in got.items()} == {"a": "A", "z": "z" * 10_000, "n": None}


def test_roundtrip_envelope_and_none(l2, redis_client) -> None:  # type: ignore[no-untyped-def]
    for k, v in {"a": "x", "b": b"\x00", "n": None, "j": {"l": [1, 2]}, "big": "z" * 10000, "f": False}.items():
        assert l2.distributed_set(k, v, ttl=60)
        assert l2.distributed_get(k, "MISS") == v
    assert l2.distributed_get("nope", "MISS") == "MISS"
    raw = redis_client.get(b"swfast:a")
    assert raw[0] == 0xA5
    assert 59_000 < redis_client.pttl(b"swfast:a") <= 60_000
    assert len(redis_client.get(b"swfast:big")) < 1000  # lz4 above the threshold
    entry = l2.get_entry("a")
    assert entry is not None and entry[1] == pytest.approx(time.time() + 60, abs=2)
    assert l2.distributed_set("a", "y", ttl=0) and l2.distributed_get("a") is None


def test_planted_pickle_is_a_logged_miss(l2, redis_client, caplog) -> None:  # type: ignore[no-untyped-def]
    class Boom:
        def __reduce__(self):  # type: ignore[no-untyped-def]
            raise AssertionError("never unpickled")

    redis_client.set(b"swfast:p", pickle.dumps("hello"))
    redis_client.set(b"swfast:q", b"\xa5\x09garbage-serializer-id")
    before = REGISTRY.get("swfast_cache_l2_rejected_total").get()  # type: ignore[union-attr]
    with caplog.at_level("WARNING", logger="swfast.cache.l2"):
        assert l2.distributed_get("p", "MISS") == "MISS"
        assert l2.distributed_get("q", "MISS") == "MISS"
    assert "no valid swfast envelope" in caplog.text
    assert REGISTRY.get("swfast_cache_l2_rejected_total").get() == before + 2  # type: ignore[union-attr]


def test_mac_binds_key_and_secret(redis_client, redis_url) -> None:  # type: ignore[no-untyped-def]
    a = DistributedCache(redis_url, mac_key=b"k" * 32)
    b = DistributedCache(redis_url, mac_key=b"j" * 32)
    a.distributed_set("x", "secret-bound")
    a.set_many({"big": "z" * 10_000, "small": [1]})
    assert a.distributed_get("x") == "secret-bound"
    got = a.get_many(["x", "big", "small", "absent"])
    assert {k: v for k, (v, _) in got.items()} == {"x": "secret-bound", "big": "z" * 10_000, "small": [1]}
    assert b.get_many(["x", "big"]) == {}
    assert b.distributed_get("x", "MISS") == "MISS"
    redis_client.copy(b"swfast:x", b"swfast:y")
    assert a.distributed_get("y", "MISS") == "MISS"


def test_limits_write_nothing(redis_client, redis_url) -> None:  # type: ignore[no-untyped-def]
    c = DistributedCache(redis_url, max_value_bytes=1 << 20, compress_threshold=None)
    with pytest.raises(CacheValueTooLarge) as info:
        c.distributed_set("k", b"x" * (1 << 20))
    assert info.value.limit == 1 << 20
    with pytest.raises(CacheValueTooLarge, match="key"):
        c.distributed_set("k" * 2000, "v")
    with pytest.raises(CacheValueTooLarge):
        c.set_many({"ok": 1, "bad": b"x" * (2 << 20)})
    with pytest.raises(TypeError, match="never pickles"):
        c.distributed_set("k", {1, 2})
    assert dbsize(redis_client) == 0


def test_two_nodes_spread_batch_and_pattern(two, redis_client, second_redis) -> None:  # type: ignore[no-untyped-def]
    import redis

    other = redis.Redis(port=second_redis.port)
    items = {f"user:{i}": i for i in range(2000)}
    assert two.set_many(items, ttl=100) == []
    n1, n2 = dbsize(redis_client), dbsize(other)
    assert n1 + n2 == 2000 and 800 < n1 < 1200
    got = two.get_many(list(items) + ["absent"])
    assert {k: v for k, (v, _) in got.items()} == items
    for k in list(items)[:50]:
        owner = two.distribution.node_for(two.rkey(k))
        client = redis_client if owner.endswith(f":{redis_client.connection_pool.connection_kwargs['port']}/0") else other
        assert client.exists(two.rkey(k))
    two.set_many({"user:[1]a": 1, "user:[1]b": 2, "user:1c": 3, "user:[2]": 4})
    deleted, failed = two.delete_matching(KeyPattern("user:[1]*"))
    assert (deleted, failed) == (2, [])
    assert two.distributed_get("user:1c") == 3 and two.distributed_get("user:[2]") == 4
    assert two.delete([f"user:{i}" for i in range(2000)]) == {}
    assert two.get_many(list(items)) == {}


def test_rebalance_moves_keys_to_new_owner(redis_client, redis_server, second_redis) -> None:  # type: ignore[no-untyped-def]
    import redis

    redis.Redis(port=second_redis.port).flushall()
    u1, u2 = f"redis://127.0.0.1:{redis_server.port}/0", f"redis://127.0.0.1:{second_redis.port}/0"
    one = DistributedCache(u1)
    one.set_many({f"k{i}": i for i in range(3000)}, ttl=500)
    both = DistributedCache([u1, u2])
    report = both.distribution.rebalance(both.clients(), match="swfast:*")
    assert report.failed == {} and report.scanned >= 3000
    assert 1200 < report.moved < 1800
    assert dbsize(redis.Redis(port=second_redis.port)) == report.moved
    got = both.get_many([f"k{i}" for i in range(3000)])
    assert len(got) == 3000 and all(got[f"k{i}"][0] == i for i in range(3000))
    assert 0 < redis.Redis(port=second_redis.port).pttl(next(iter(redis.Redis(port=second_redis.port).scan_iter()))) <= 500_000


def test_add_and_remove_node_migrate_keys(redis_client, redis_server, second_redis) -> None:  # type: ignore[no-untyped-def]
    import redis

    other = redis.Redis(port=second_redis.port)
    other.flushall()
    u1, u2 = f"redis://127.0.0.1:{redis_server.port}/0", f"redis://127.0.0.1:{second_redis.port}/0"
    c = DistributedCache(u1)
    items = {f"m{i}": i for i in range(2000)}
    c.set_many(items, ttl=300)
    report = c.add_node(u2)
    assert report is not None and report.failed == {} and 700 < report.moved < 1300
    assert dbsize(other) == report.moved
    assert {k: v for k, (v, _) in c.get_many(list(items)).items()} == items
    on_second = dbsize(other)
    report = c.remove_node(u1)
    assert report is not None and report.moved == 2000 - on_second and dbsize(redis_client) == 0
    assert dbsize(other) == 2000
    assert {k: v for k, (v, _) in c.get_many(list(items)).items()} == items
    with pytest.raises(ValueError, match="last node"):
        c.remove_node(u2)
    c.close()


def _bounded(fn, *a):  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    out = fn(*a)
    return out, time.perf_counter() - t


@pytest.mark.parametrize("fault", ["refused", "hung"])
def test_fault_bounded_then_gate_skips_then_probe(fault) -> None:  # type: ignore[no-untyped-def]
    hung = HungServer() if fault == "hung" else None
    port = hung.port if hung else free_port()
    mono = FakeClock()
    c = DistributedCache(f"redis://127.0.0.1:{port}/0", timeout=0.05, trip_after=5, reset_timeout=1.0, monotonic=mono)
    try:
        for _ in range(5):
            out, dt = _bounded(c.distributed_get, "k", "MISS")
            assert out == "MISS"
            assert dt < 0.5  # redis-py defaults: 3.8 s refused, 60 s hung
        node = next(iter(c.nodes.values()))
        assert node.breaker.state is CircuitState.OPEN
        assert c.distributed_set("k", 1) is False  # skipped: remembered as dirty
        assert node.dirty == {b"swfast:k"}
        calls = []
        node.client.get = lambda *a: calls.append(a)  # an open breaker never reaches the client
        node.verified = True  # (a node proven repaired: the probe is the read itself)
        skipped = REGISTRY.get("swfast_cache_l2_skipped_total").labels(node.label).get()  # type: ignore[union-attr]
        assert c.distributed_get("k", "MISS") == "MISS" and calls == []
        assert REGISTRY.get("swfast_cache_l2_skipped_total").labels(node.label).get() == skipped + 1  # type: ignore[union-attr]
        assert REGISTRY.get("swfast_cache_l2_gate_open").labels(node.label).get() == 1  # type: ignore[union-attr]
        mono.t += 1.0
        assert c.distributed_get("k", "MISS") == "MISS" and len(calls) == 1  # the probe
        assert node.breaker.state is CircuitState.CLOSED
        assert REGISTRY.get("swfast_cache_l2_gate_open").labels(node.label).get() == 0  # type: ignore[union-attr]
    finally:
        c.close()
        if hung:
            hung.close()


def test_node_breaker_probe_failure_reopens() -> None:
    mono = FakeClock()
    c = DistributedCache(f"redis://127.0.0.1:{free_port()}/0", trip_after=2, reset_timeout=5, monotonic=mono)
    b = next(iter(c.nodes.values())).breaker

    def boom() -> None:
        raise ConnectionError("down")

    for _ in range(2):
        with pytest.raises(ConnectionError):
            b.call(boom)
    with pytest.raises(CircuitOpenError):
        b.call(lambda: None)
    mono.t += 5
    with pytest.raises(ConnectionError):
        b.call(boom)  # the one probe fails: open for another period
    assert b.state is CircuitState.OPEN
    with pytest.raises(CircuitOpenError):
        b.call(lambda: None)
    mono.t += 5
    assert b.call(lambda: 1) == 1 and b.state is CircuitState.CLOSED
    c.close()


def test_outage_then_recovery_never_serves_stale(redis_client, redis_server) -> None:  # type: ignore[no-untyped-def]
    proxy = BlockingProxy(redis_server.port)
    c = DistributedCache(f"redis://127.0.0.1:{proxy.port}/0", timeout=0.05, trip_after=1, reset_timeout=0.0)
    try:
        assert c.distributed_set("k", "v1")
        proxy.blocked = True
        assert c.distributed_set("k", "v2") is False  # newer value could not reach the node
        assert c.delete(["gone"]) == {next(iter(c.nodes)): ["gone"]}  # partial failure reported with its keys
        proxy.unblock()
        c.close()
        assert c.distributed_get("k", "MISS") == "MISS"  # v1 is stale: never served
        assert c.sync_nodes() == {next(iter(c.nodes)): 2}
        assert redis_client.get(b"swfast:k") is None
        assert c.distributed_set("k", "v3") and c.distributed_get("k") == "v3"
    finally:
        c.close()
        proxy.close()


def test_packed_mget_timeout_never_leaks_a_late_reply(redis_client, redis_server) -> None:  # type: ignore[no-untyped-def]
    proxy = BlockingProxy(redis_server.port)
    c = DistributedCache(f"redis://127.0.0.1:{proxy.port}/0", timeout=0.05, trip_after=100)
    try:
        node = next(iter(c.nodes.values()))
        assert c.set_many({f"a{i}": f"A{i}" for i in range(50)} | {f"b{i}": f"B{i}" for i in range(50)}) == []
        assert node.packed  # the kernel-packed MGET path is the one under test (client opened by the write)
        before = REGISTRY.get("swfast_cache_l2_errors_total").labels(node.label, "get").get()  # type: ignore[union-attr]
        proxy.blocked = True
        t = time.perf_counter()
        assert c.get_many([f"a{i}" for i in range(50)]) == {}  # timed out: a counted miss
        assert time.perf_counter() - t < 0.5
        assert REGISTRY.get("swfast_cache_l2_errors_total").labels(node.label, "get").get() == before + 1  # type: ignore[union-attr]
        proxy.blocked = False  # the late reply to the a-keys now arrives on the dropped connection
        for _ in range(20):
            got = c.get_many([f"b{i}" for i in range(50)])
            assert {k: v[0] for k, v in got.items()} == {f"b{i}": f"B{i}" for i in range(50)}
    finally:
        c.close()
        proxy.close()


def test_unpackable_clients_keep_redis_py_mget(l2, redis_server) -> None:  # type: ignore[no-untyped-def]
    import redis

    from swfast.cache import wire

    node = next(iter(l2.nodes.values()))
    assert l2.set_many({"x": "X", "y": b"Y"}) == []
    node.client = redis.Redis(port=redis_server.port, single_connection_client=True, socket_timeout=1.0)
    node.packed = wire.can_pack(node.client)
    assert node.packed is False  # one shared connection: redis-py's mget and its lock
    assert {k: v[0] for k, v in l2.get_many(["x", "y", "z"]).items()} == {"x": "X", "y": b"Y"}
    node.client.close()


class DelayProxy:
    """asyncio TCP relay that delays Redis' replies (redis-py's test_cwe_404 pattern)."""

    def __init__(self, port: int, delay: float) -> None:
        self.port, self.delay = port, delay
        self.server: asyncio.base_events.Server | None = None

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return self.server.sockets[0].getsockname()[1]

    async def _handle(self, reader, writer) -> None:  # type: ignore[no-untyped-def]
        ur, uw = await asyncio.open_connection("127.0.0.1", self.port)

        async def pipe(r, w, delay):  # type: ignore[no-untyped-def]
            try:
                while data := await r.read(65536):
                    if delay:
                        await asyncio.sleep(delay)
                    w.write(data)
                    await w.drain()
            except (ConnectionError, asyncio.CancelledError):
                pass
            finally:
                w.close()

        await asyncio.gather(pipe(reader, uw, 0), pipe(ur, writer, self.delay))

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()


@pytest.mark.parametrize("single", [False, True], ids=["pool", "single-connection"])
async def test_cancelled_read_never_crosses_talk(redis_client, redis_server, single) -> None:  # type: ignore[no-untyped-def]
    import redis.asyncio as aredis

    setup = DistributedCache(f"redis://127.0.0.1:{redis_server.port}/0")
    setup.set_many({"foo": "foo-value", "bar": "bar-value", "baz": "baz-value"})
    proxy = DelayProxy(redis_server.port, 0.0015)
    port = await proxy.start()
    c = AsyncDistributedCache(f"redis://127.0.0.1:{port}/0", timeout=1.0)
    node = next(iter(c.nodes.values()))
    if single:
        node.aclient = aredis.Redis(port=port, single_connection_client=True, socket_timeout=1.0)
    crosstalk = 0
    try:
        for i in range(1000):
            op = i % 4
            task = asyncio.ensure_future(
                c.get_many(["foo", "baz"]) if op == 3
                else c.set_many({"tmp": "x", "tmp2": "y"}) if op == 2  # a pipeline
                else c.distributed_get("foo")
            )
            await asyncio.sleep(0.001 if i % 2 else 0)
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
            if await c.distributed_get("bar") != "bar-value":
                crosstalk += 1
        assert crosstalk == 0
        assert (await c.get_many(["foo", "bar"]))["foo"][0] == "foo-value"
        assert await c.distributed_set("x", [1]) and await c.distributed_get("x") == [1]
        assert await c.delete(["x"]) == {} and await c.distributed_get("x") is None
    finally:
        await c.close()
        await proxy.stop()
        setup.close()


async def test_async_refused_is_bounded() -> None:
    c = AsyncDistributedCache(f"redis://127.0.0.1:{free_port()}/0", timeout=0.05)
    t = time.perf_counter()
    assert await c.distributed_get("k", "MISS") == "MISS"
    assert await c.set_many({"a": 1}) == ["a"]
    assert time.perf_counter() - t < 0.5
    await c.close()


def test_redis_cluster_url_shards_by_slot() -> None:
    import redis

    from _cache_helpers import start_cluster

    servers = start_cluster(3)
    try:
        c = DistributedCache(f"redis://127.0.0.1:{servers[0].port}/0", cluster=True, timeout=1.0)
        items = {f"c{i}": {"i": i} for i in range(300)}
        assert c.set_many(items, ttl=60) == []
        sizes = [dbsize(redis.Redis(port=s.port)) for s in servers]
        assert sum(sizes) == 300 and min(sizes) > 50  # the cluster sharded them
        assert {k: v for k, (v, _) in c.get_many(list(items)).items()} == items
        assert c.distributed_get("c7") == {"i": 7}
        c.set_many({"user:[1]a": 1, "user:[1]b": 2, "user:1c": 3})
        assert c.delete_matching(KeyPattern("user:[1]*")) == (2, [])
        assert c.delete([f"c{i}" for i in range(300)]) == {}
        assert sum(dbsize(redis.Redis(port=s.port)) for s in servers) == 1
        with pytest.raises(ValueError, match="Cluster"):
            c.add_node("redis://127.0.0.1:1/0")
        c.close()

        async def async_side() -> None:
            a = AsyncDistributedCache(f"redis://127.0.0.1:{servers[1].port}/0", cluster=True, timeout=1.0)
            assert await a.set_many({f"a{i}": i for i in range(100)}) == []
            got = await a.get_many([f"a{i}" for i in range(100)])
            assert {k: v for k, (v, _) in got.items()} == {f"a{i}": i for i in range(100)}
            assert await a.delete([f"a{i}" for i in range(100)]) == {}
            await a.close()

        asyncio.run(async_side())
        with pytest.raises(ValueError, match="one URL"):
            DistributedCache(["redis://a:1", "redis://b:2"], cluster=True)
    finally:
        for s in servers:
            s.stop()

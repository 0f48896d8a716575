"""Quick benchmarks for the tiered cache: ring, L2, L3, manager, W-TinyLFU (ratios vs peers).

Groups: ``ring.lookup``, ``l2.get``, ``l2.mget100``, ``l3.get``, ``l3.set``, ``l3.set_batch100``,
``manager.l1_hit``, ``tinylfu.get_hit``. Goals (issue 5) are in the final report, never asserted.
"""
from __future__ import annotations

import itertools
import os
import sqlite3
import tempfile
from bisect import bisect_left
from pathlib import Path
from typing import Any, Iterator

import mmh3
import pytest

from swfast._native import _ring_c, _ring_py
from swfast.cache.l2 import DistributedCache
from swfast.cache.l3 import PersistentCache
from swfast.cache.manager import TieredCache
from swfast.cache.tinylfu import TinyLFUCache

NODES = [f"node{i}" for i in range(10)]
KEYS = [f"user:{i}" for i in range(1000)]


def _cycle() -> Iterator[str]:
    return itertools.cycle(KEYS)


# -- ring --------------------------------------------------------------------------------------
def _bisect_ring() -> Any:
    pts = sorted((mmh3.hash(f"{n}#{i}", signed=False), n) for n in NODES for i in range(160))
    keys_, names = [p[0] for p in pts], [p[1] for p in pts]

    def lookup(key: str) -> str:
        i = bisect_left(keys_, mmh3.hash(key, signed=False))
        return names[i if i < len(names) else 0]

    return lookup


def _uhashring(md5: bool) -> Any:
    import uhashring

    kw = {} if md5 else {"hash_fn": lambda k: mmh3.hash(k, signed=False)}
    return uhashring.HashRing(nodes=NODES, **kw).get_node


def _ring(mod: Any) -> Any:
    r = mod.HashRing()
    for n in NODES:
        r.add(n)
    return r.lookup


@pytest.mark.parametrize("impl", ["swfast", "swfast-py", "uhashring-md5", "uhashring-mmh3", "mmh3+bisect", "mmh3.hash-floor"])
def test_ring_lookup(benchmark, impl: str) -> None:  # type: ignore[no-untyped-def]
    fn = {
        "swfast": lambda: _ring(_ring_c),
        "swfast-py": lambda: _ring(_ring_py),
        "uhashring-md5": lambda: _uhashring(True),
        "uhashring-mmh3": lambda: _uhashring(False),
        "mmh3+bisect": _bisect_ring,
        "mmh3.hash-floor": lambda: mmh3.hash,
    }[impl]()
    keys = KEYS

    def run() -> None:
        for k in keys:
            fn(k)

    benchmark.group = "ring.lookup (x1000 keys)"
    benchmark.extra_info["impl"] = impl
    benchmark(run)


# -- L2 ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def redis_port() -> Iterator[int]:
    from _servers import start_redis

    srv = start_redis()
    yield srv.port
    srv.stop()


@pytest.mark.parametrize("impl", ["swfast", "redis-py"])
def test_l2_get(benchmark, redis_port: int, impl: str) -> None:  # type: ignore[no-untyped-def]
    import redis

    l2 = DistributedCache(f"redis://127.0.0.1:{redis_port}/0", timeout=1.0)
    l2.distributed_set("k", "v" * 100)
    raw = redis.Redis(port=redis_port)
    raw.set("rawk", "v" * 100)
    fn = (lambda: l2.distributed_get("k")) if impl == "swfast" else (lambda: raw.get("rawk"))
    benchmark.group = "l2.get"
    benchmark.extra_info["impl"] = impl
    benchmark(fn)
    l2.close()


@pytest.mark.parametrize("impl", ["swfast", "redis-py"])
def test_l2_mget100(benchmark, redis_port: int, impl: str) -> None:  # type: ignore[no-untyped-def]
    import redis

    l2 = DistributedCache(f"redis://127.0.0.1:{redis_port}/0", timeout=1.0)
    keys = KEYS[:100]
    l2.set_many({k: "v" * 100 for k in keys})
    raw = redis.Redis(port=redis_port)
    raw.mset({f"raw:{k}": "v" * 100 for k in keys})
    rkeys = [f"raw:{k}" for k in keys]
    fn = (lambda: l2.get_many(keys)) if impl == "swfast" else (lambda: raw.mget(rkeys))
    benchmark.group = "l2.mget100"
    benchmark.extra_info["impl"] = impl
    benchmark(fn)
    l2.close()


# -- L3 ----------------------------------------------------------------------------------------
class _RawSqlite:
    def __init__(self, path: str) -> None:
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("CREATE TABLE IF NOT EXISTS t (k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID")

    def get(self, k: str) -> Any:
        row = self.db.execute("SELECT v FROM t WHERE k = ?", (k,)).fetchone()
        return row and row[0]

    def set(self, k: str, v: bytes) -> None:
        self.db.execute("INSERT OR REPLACE INTO t VALUES (?, ?)", (k, v))

    def set_many(self, items: dict[str, bytes]) -> None:
        self.db.execute("BEGIN")
        self.db.executemany("INSERT OR REPLACE INTO t VALUES (?, ?)", items.items())
        self.db.execute("COMMIT")


def _l3_adapter(impl: str, d: str) -> Any:
    if impl == "swfast":
        c = PersistentCache(Path(d) / "sw")
        return c.persistent_get, c.persistent_set, c.persistent_set_many
    if impl == "diskcache":
        import diskcache

        dc = diskcache.Cache(str(Path(d) / "dc"))

        def many(items: dict[str, Any]) -> None:
            with dc.transact():
                for k, v in items.items():
                    dc.set(k, v)

        return dc.get, dc.set, many
    raw = _RawSqlite(str(Path(d) / "raw.sqlite3"))
    return raw.get, raw.set, raw.set_many


L3_IMPLS = ["swfast", "diskcache", "sqlite3-raw"]


@pytest.mark.parametrize("impl", L3_IMPLS)
def test_l3_get(benchmark, impl: str) -> None:  # type: ignore[no-untyped-def]
    with tempfile.TemporaryDirectory() as d:
        get, put, many = _l3_adapter(impl, d)
        many({k: b"v" * 100 for k in KEYS})
        it = _cycle()
        benchmark.group = "l3.get_hit"
        benchmark.extra_info["impl"] = impl
        benchmark(lambda: get(next(it)))


@pytest.mark.parametrize("impl", L3_IMPLS)
def test_l3_set(benchmark, impl: str) -> None:  # type: ignore[no-untyped-def]
    with tempfile.TemporaryDirectory() as d:
        get, put, many = _l3_adapter(impl, d)
        it = _cycle()
        benchmark.group = "l3.set"
        benchmark.extra_info["impl"] = impl
        benchmark(lambda: put(next(it), b"v" * 100))


@pytest.mark.parametrize("impl", L3_IMPLS)
def test_l3_set_batch100(benchmark, impl: str) -> None:  # type: ignore[no-untyped-def]
    with tempfile.TemporaryDirectory() as d:
        get, put, many = _l3_adapter(impl, d)
        batch = {k: b"v" * 100 for k in KEYS[:100]}
        benchmark.group = "l3.set_batch100"
        benchmark.extra_info["impl"] = impl
        benchmark(lambda: many(batch))


# -- manager and L1 admission --------------------------------------------------------------------
def _l1(maxsize: int) -> tuple[Any, str]:
    from swfast.cache.l1 import L1Cache

    return L1Cache(maxsize), "L1Cache"


@pytest.mark.parametrize("impl", ["swfast", "raw-l1"])
def test_manager_l1_hit(benchmark, impl: str) -> None:  # type: ignore[no-untyped-def]
    l1, _ = _l1(10_000)
    m = TieredCache(l1=l1)
    for k in KEYS:
        m.smart_set(k, k)
    it = _cycle()
    fn = (lambda: m.smart_get(next(it))) if impl == "swfast" else (lambda: l1.fast_get(next(it)))
    benchmark.group = "manager.l1_hit"
    benchmark.extra_info["impl"] = impl
    benchmark(fn)


@pytest.mark.parametrize("impl", ["swfast", "swfast-lru", "cachebox"])
def test_tinylfu_get_hit(benchmark, impl: str) -> None:  # type: ignore[no-untyped-def]
    if impl == "swfast":
        c: Any = TinyLFUCache(10_000)
        get, put = c.fast_get, c.fast_set
    elif impl == "swfast-lru":
        c, _ = _l1(10_000)
        get, put = c.fast_get, c.fast_set
    else:
        import cachebox

        c = cachebox.LRUCache(10_000)
        get, put = c.get, c.insert
    for k in KEYS:
        put(k, k)
    it = _cycle()
    benchmark.group = "tinylfu.get_hit"
    benchmark.extra_info["impl"] = impl
    benchmark(lambda: get(next(it)))


if os.environ.get("SWFAST_NO_EXTENSIONS"):
    pytestmark = pytest.mark.skip("quick benchmarks time the compiled kernels")

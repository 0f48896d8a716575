"""asv benchmarks for the tiered cache, each beside a named peer measured in the same run.

* ``Ring``: lookups (swfast's compiled ring vs uhashring with md5 and with mmh3, and a
  pure-Python mmh3 + bisect ring), plus movement and balance as tracked values.
* ``L2``: single GET and 100-key MGET vs raw redis-py on the same server.
* ``L3``: get hit, single set and 100-row batch vs raw sqlite3 (WAL) and diskcache.
* ``Manager``: ``smart_get`` on an L1 hit vs the raw L1 get.
* ``Admission``: W-TinyLFU vs LRU hit ratio on a Zipf(0.99) trace (tracked value).
"""
from __future__ import annotations

import itertools
import sqlite3
import sys
import tempfile
from bisect import bisect_left
from collections import Counter, OrderedDict
from pathlib import Path
from typing import Any

import mmh3

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

NODES = [f"node{i}" for i in range(10)]
KEYS = [f"user:{i}" for i in range(1000)]


class _BisectRing:
    def __init__(self) -> None:
        pts = sorted((mmh3.hash(f"{n}#{i}", signed=False), n) for n in NODES for i in range(160))
        self.keys, self.names = [p[0] for p in pts], [p[1] for p in pts]

    def get_node(self, key: str) -> str:
        i = bisect_left(self.keys, mmh3.hash(key, signed=False))
        return self.names[i if i < len(self.names) else 0]


def _ring(impl: str) -> Any:
    if impl.startswith("uhashring"):
        import uhashring

        kw = {"hash_fn": lambda k: mmh3.hash(k, signed=False)} if impl.endswith("mmh3") else {}
        return uhashring.HashRing(nodes=NODES, **kw).get_node
    if impl == "mmh3+bisect":
        return _BisectRing().get_node
    from swfast._native.ring import HashRing

    r = HashRing()
    for n in NODES:
        r.add(n)
    return r.lookup


class Ring:
    params = ["swfast", "uhashring-md5", "uhashring-mmh3", "mmh3+bisect"]
    param_names = ["impl"]

    def setup(self, impl: str) -> None:
        self.lookup = _ring(impl)

    def time_lookup_1000(self, impl: str) -> None:
        f = self.lookup
        for k in KEYS:
            f(k)


class RingQuality:
    """Keys moved going 10 -> 11 nodes (relative to the ideal 1/11) and max/mean load, 10^5 keys."""

    params = ["swfast", "uhashring-md5"]
    param_names = ["impl"]
    keys = [f"key:{i}" for i in range(100_000)]

    def _assign(self, impl: str, n: int) -> list[str]:
        nodes = [f"node{i}" for i in range(n)]
        if impl == "swfast":
            from swfast._native.ring import HashRing

            r = HashRing()
            for x in nodes:
                r.add(x)
            return list(r.lookup_many(self.keys))
        import uhashring

        ring = uhashring.HashRing(nodes=nodes)
        return [ring.get_node(k) for k in self.keys]

    def track_moved_vs_ideal(self, impl: str) -> float:
        a, b = self._assign(impl, 10), self._assign(impl, 11)
        return sum(x != y for x, y in zip(a, b)) / len(a) * 11

    def track_max_over_mean(self, impl: str) -> float:
        return max(Counter(self._assign(impl, 10)).values()) / (len(self.keys) / 10)


class L2:
    params = ["swfast", "redis-py"]
    param_names = ["impl"]

    def setup(self, impl: str) -> None:
        import redis
        from _servers import start_redis

        from swfast.cache.l2 import DistributedCache

        self.srv = start_redis()
        self.raw = redis.Redis(port=self.srv.port)
        self.l2 = DistributedCache(f"redis://127.0.0.1:{self.srv.port}/0", timeout=1.0)
        self.keys = KEYS[:100]
        self.l2.set_many({k: "v" * 100 for k in self.keys})
        self.raw.mset({f"raw:{k}": "v" * 100 for k in self.keys})
        self.rkeys = [f"raw:{k}" for k in self.keys]

    def teardown(self, impl: str) -> None:
        self.l2.close()
        self.raw.close()
        self.srv.stop()

    def time_get(self, impl: str) -> None:
        self.l2.distributed_get("user:1") if impl == "swfast" else self.raw.get("raw:user:1")

    def time_mget100(self, impl: str) -> None:
        self.l2.get_many(self.keys) if impl == "swfast" else self.raw.mget(self.rkeys)


class L3:
    params = ["swfast", "diskcache", "sqlite3-raw"]
    param_names = ["impl"]

    def setup(self, impl: str) -> None:
        self.tmp = tempfile.TemporaryDirectory()
        d = Path(self.tmp.name)
        if impl == "swfast":
            from swfast.cache.l3 import PersistentCache

            c = PersistentCache(d / "sw")
            self.get, self.put, self.many = c.persistent_get, c.persistent_set, c.persistent_set_many
        elif impl == "diskcache":
            import diskcache

            dc = diskcache.Cache(str(d / "dc"))

            def many(items: dict[str, Any]) -> None:
                with dc.transact():
                    for k, v in items.items():
                        dc.set(k, v)

            self.get, self.put, self.many = dc.get, dc.set, many
        else:
            db = sqlite3.connect(str(d / "raw.sqlite3"), isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("CREATE TABLE t (k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID")

            def many_raw(items: dict[str, Any]) -> None:
                db.execute("BEGIN")
                db.executemany("INSERT OR REPLACE INTO t VALUES (?, ?)", items.items())
                db.execute("COMMIT")

            self.get = lambda k: db.execute("SELECT v FROM t WHERE k = ?", (k,)).fetchone()
            self.put = lambda k, v: db.execute("INSERT OR REPLACE INTO t VALUES (?, ?)", (k, v))
            self.many = many_raw
        self.batch = {k: b"v" * 100 for k in KEYS[:100]}
        self.many({k: b"v" * 100 for k in KEYS})
        self.it = itertools.cycle(KEYS)

    def teardown(self, impl: str) -> None:
        self.tmp.cleanup()

    def time_get_hit(self, impl: str) -> None:
        self.get(next(self.it))

    def time_set(self, impl: str) -> None:
        self.put(next(self.it), b"v" * 100)

    def time_set_batch100(self, impl: str) -> None:
        self.many(self.batch)


class Manager:
    params = ["smart_get", "raw-l1"]
    param_names = ["impl"]

    def setup(self, impl: str) -> None:
        from swfast.cache.manager import TieredCache

        try:
            from swfast.cache.l1 import L1Cache

            self.l1: Any = L1Cache(10_000)
        except ImportError:
            from swfast.cache.tinylfu import TinyLFUCache

            self.l1 = TinyLFUCache(10_000)
        self.m = TieredCache(l1=self.l1)
        for k in KEYS:
            self.m.smart_set(k, k)
        self.get = self.m.smart_get if impl == "smart_get" else self.l1.fast_get

    def time_l1_hit_1000(self, impl: str) -> None:
        g = self.get
        for k in KEYS:
            g(k)


class Admission:
    """Hit ratio on Zipf(0.99), 2*10^5 requests over 10^6 keys, capacity 10^4."""

    params = ["w-tinylfu", "lru"]
    param_names = ["policy"]
    timeout = 120

    def setup(self, policy: str) -> None:
        import numpy as np

        p = 1.0 / np.arange(1, 10**6 + 1) ** 0.99
        cdf = np.cumsum(p)
        cdf /= cdf[-1]
        self.trace = np.searchsorted(cdf, np.random.default_rng(42).random(200_000)).tolist()

    def track_hit_ratio(self, policy: str) -> float:
        if policy == "lru":
            o: OrderedDict[int, None] = OrderedDict()
            hits = 0
            for k in self.trace:
                if k in o:
                    o.move_to_end(k)
                    hits += 1
                else:
                    o[k] = None
                    if len(o) > 10**4:
                        o.popitem(last=False)
            return hits / len(self.trace)
        from swfast.cache.tinylfu import TinyLFUCache

        c, miss, hits = TinyLFUCache(10**4), object(), 0
        for k in self.trace:
            if c.fast_get(k, miss) is miss:
                c.fast_set(k, k)
            else:
                hits += 1
        return hits / len(self.trace)

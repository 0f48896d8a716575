"""asv: L1 against dict (floor), functools.lru_cache, cachetools, lru-dict and cachebox.

Random access over 100k string keys; each timed call runs 100k operations, so figures are
per 100k operations (divide by 1e5 for per-operation times). The SWFAST_NO_EXTENSIONS matrix in
asv.conf.json times the compiled kernel and its pure-Python twin.
"""
import random

from .peers.caches import PEERS, lru_cache_peer

N = 100_000


class L1Cache:
    params = sorted(PEERS)
    param_names = ["impl"]

    def setup(self, impl):
        self.keys = [f"key:{i}" for i in range(2 * N)]
        rnd = random.Random(42)
        self.hit_keys = [self.keys[rnd.randrange(N)] for _ in range(N)]
        self.miss_keys = [f"absent:{i}" for i in range(N)]
        self.get, self.put = PEERS[impl](N)
        for k in self.keys[:N]:
            self.put(k, k)
        self.cursor = N

    def time_get_hit(self, impl):
        get = self.get
        for k in self.hit_keys:
            get(k)

    def time_get_miss(self, impl):
        get = self.get
        for k in self.miss_keys:
            get(k)

    def time_set_with_eviction(self, impl):
        # cycling through 2N keys at capacity N: every set inserts and evicts
        put, keys, i = self.put, self.keys, self.cursor
        for k in keys[i:] + keys[:i - N] if i > N else keys[N:]:
            put(k, k)
        self.cursor = N if i != N else 2 * N

    def peakmem_filled(self, impl):
        get, put = PEERS[impl](N)
        for k in self.keys[:N]:
            put(k, k)


class FunctoolsLRU:
    def setup(self):
        self.f = lru_cache_peer(N)
        rnd = random.Random(42)
        keys = [f"key:{i}" for i in range(N)]
        for k in keys:
            self.f(k)
        self.hit_keys = [keys[rnd.randrange(N)] for _ in range(N)]

    def time_get_hit(self):
        f = self.f
        for k in self.hit_keys:
            f(k)


class Cached:
    """The single-flight decorator's hit path against functools.lru_cache."""

    def setup(self):
        import functools

        from swfast.cache import cached

        @cached(maxsize=1024)
        def sw(x):
            return x

        @functools.lru_cache(maxsize=1024)
        def ft(x):
            return x

        self.sw, self.ft = sw, ft
        for i in range(1000):
            sw(i), ft(i)

    def time_swfast_cached_hit(self):
        f = self.sw
        for i in range(1000):
            f(i)

    def time_functools_lru_cache_hit(self):
        f = self.ft
        for i in range(1000):
            f(i)

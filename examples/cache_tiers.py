"""Tiered cache on embedded defaults: an in-process L1 in front of a persistent SQLite L3.

No server needed (add ``l2=DistributedCache("redis://...")`` for a shared Redis tier).
Run: ``python examples/cache_tiers.py``
"""
from __future__ import annotations

import tempfile

from swfast.cache import L1Cache, PersistentCache, TieredCache, cached


def main() -> None:
    # L1 alone: LRU + TTL, compiled, O(1).
    l1 = L1Cache(10_000, ttl=30.0)
    l1.fast_set("user:1", {"name": "Ali"})
    assert l1.fast_get("user:1") == {"name": "Ali"}
    print("L1 vitality:", l1.check_vitality("user:1"))

    # L1 -> L3: a miss in L1 is read through from disk and promoted.
    with tempfile.TemporaryDirectory() as directory:
        cache = TieredCache(l3=PersistentCache(directory), l1_maxsize=1_000, default_ttl=600.0)
        try:
            cache.smart_set("model:config", {"layers": 12, "heads": 8})
            cache.clear_local()  # forget the L1 copy: the next read comes from L3
            print("from L3:", cache.smart_get("model:config"))
            loads: list[str] = []

            def load_embedding() -> list[float]:
                loads.append("embedding:42")
                return [0.1, 0.2, 0.3]

            first = cache.smart_get("embedding:42", load_embedding)  # miss: the loader runs once
            again = cache.smart_get("embedding:42", load_embedding)  # L1 hit
            assert first == again and loads == ["embedding:42"]
            print("loader calls:", len(loads))
        finally:
            cache.close()

    # The decorator: one call per key on a miss, for sync and async functions.
    calls: list[str] = []

    @cached(ttl=60.0)
    def tokenize(text: str) -> list[str]:
        calls.append(text)
        return text.split()

    assert tokenize("a b c") == tokenize("a b c") == ["a", "b", "c"]
    print("tokenize ran", len(calls), "time(s) for 2 calls")


if __name__ == "__main__":
    main()

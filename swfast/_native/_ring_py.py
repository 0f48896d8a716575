"""Pure-Python twin of the consistent-hash ring kernel (``_ring_c.pyx``).

Same names, signatures and results as the compiled kernel: MurmurHash3 x86_32 (``mmh3``) with
a fixed seed, ``round(vnodes * weight)`` points per node labelled ``f"{name}#{i}"``, a key owned
by the first point at or after its hash (wrapping), ties to the node whose name sorts first.
Lookups use ``bisect`` on the sorted points.

Thread safety: membership changes build a new table and swap it in one assignment, so
concurrent lookups see the old ring or the new one.
"""
from __future__ import annotations

import math
from bisect import bisect_left
from typing import Iterable, NamedTuple

import mmh3

DEFAULT_SEED = 0x5357_4641  # "SWFA"
DEFAULT_VNODES = 1000


def _bytes(key: object) -> bytes | str:
    if isinstance(key, (str, bytes)):
        return key
    raise TypeError(f"key: ring keys must be str or bytes, got {type(key).__name__}; convert it with str()")


def hash32(key: str | bytes, seed: int = DEFAULT_SEED) -> int:
    """MurmurHash3 x86_32 of ``key`` (str as UTF-8, or bytes), unsigned."""
    return mmh3.hash(_bytes(key), seed & 0xFFFFFFFF, signed=False)


class _Table(NamedTuple):
    points: list[int]
    owners: list[int]
    names: tuple[str, ...]


class HashRing:
    """Consistent-hash ring with virtual nodes and weights.

    Args:
        seed: MurmurHash3 seed; every process must use the same one.
        vnodes: virtual nodes per unit of weight (>= 1).
    """

    def __init__(self, seed: int = DEFAULT_SEED, vnodes: int = DEFAULT_VNODES) -> None:
        if vnodes < 1:
            raise ValueError(f"vnodes: must be >= 1, got {vnodes}")
        self.seed = seed & 0xFFFFFFFF
        self.vnodes = vnodes
        self._weights: dict[str, float] = {}
        self._t = _Table([], [], ())

    def add(self, name: str, weight: float = 1.0) -> None:
        """Add node ``name`` (or change its weight) and rebuild the ring."""
        if not isinstance(name, str) or not name:
            raise TypeError(f"name: node names must be non-empty str, got {name!r}")
        weight = float(weight)
        if not weight > 0 or math.isnan(weight) or math.isinf(weight):
            raise ValueError(f"weight: must be a finite number > 0, got {weight!r}")
        self._weights[name] = weight
        self._rebuild()

    def remove(self, name: str) -> None:
        """Remove node ``name``; raises ``KeyError`` if absent."""
        del self._weights[name]
        self._rebuild()

    def nodes(self) -> tuple[str, ...]:
        """Node names in sorted order."""
        return self._t.names

    def weight(self, name: str) -> float:
        """The weight of node ``name``."""
        return self._weights[name]

    def __len__(self) -> int:
        return len(self._weights)

    def __contains__(self, name: object) -> bool:
        return name in self._weights

    def point_count(self) -> int:
        """Total number of virtual-node points on the ring."""
        return len(self._t.points)

    def _rebuild(self) -> None:
        names = tuple(sorted(self._weights))
        seed = self.seed
        tmp = []
        for i, nm in enumerate(names):
            for j in range(max(1, int(round(self.vnodes * self._weights[nm])))):
                tmp.append((mmh3.hash(f"{nm}#{j}".encode(), seed, signed=False) << 32) | i)
        tmp.sort()
        self._t = _Table([v >> 32 for v in tmp], [v & 0xFFFFFFFF for v in tmp], names)

    def lookup(self, key: str | bytes) -> str:
        """Name of the node owning ``key`` (str or bytes); ``LookupError`` on an empty ring."""
        t = self._t
        if not t.points:
            raise LookupError("ring: no nodes; add one with add(name)")
        i = bisect_left(t.points, mmh3.hash(_bytes(key), self.seed, signed=False))
        return t.names[t.owners[i if i < len(t.points) else 0]]

    def lookup_many(self, keys: Iterable[str | bytes]) -> list[str]:
        """Owner names for every key, in order (one call for a batch)."""
        t = self._t
        if not t.points:
            raise LookupError("ring: no nodes; add one with add(name)")
        points, owners, names, seed, n = t.points, t.owners, t.names, self.seed, len(t.points)
        out = []
        for key in keys:
            i = bisect_left(points, mmh3.hash(_bytes(key), seed, signed=False))
            out.append(names[owners[i if i < n else 0]])
        return out

    def _slot(self, key: str | bytes) -> int:
        t = self._t
        i = bisect_left(t.points, mmh3.hash(_bytes(key), self.seed, signed=False))
        return i if i < len(t.points) else 0

    def preference(self, key: str | bytes, count: int) -> list[str]:
        """Up to ``count`` distinct node names in ring order from ``key``'s position."""
        t = self._t
        out: list[str] = []
        if not t.points:
            return out
        i, n = self._slot(key), len(t.points)
        for _ in range(n):
            if len(out) >= count:
                break
            nm = t.names[t.owners[i]]
            if nm not in out:
                out.append(nm)
            i = i + 1 if i + 1 < n else 0
        return out

    def assign_bounded(self, keys: Iterable[str | bytes], factor: float) -> list[str]:
        """Place ``keys`` with bounded loads (Mirrokni, Thorup, Zadimoghaddam 2018).

        Each node takes at most ``ceil(factor * len(keys) * weight / total_weight)`` keys; a key
        whose ring owner is full walks forward to the next node with room. Deterministic for a
        given key order. Returns the owner names in order.
        """
        t = self._t
        ks = list(keys)
        if not t.points:
            raise LookupError("ring: no nodes; add one with add(name)")
        f = float(factor)
        if not f >= 1.0:
            raise ValueError(f"factor: must be >= 1.0, got {factor!r}")
        total_w = sum(self._weights.values())
        caps = [math.ceil(f * len(ks) * self._weights[nm] / total_w) for nm in t.names]
        loads = [0] * len(t.names)
        n, out = len(t.points), []
        for key in ks:
            i = self._slot(key)
            while True:
                o = t.owners[i]
                if loads[o] < caps[o]:
                    loads[o] += 1
                    out.append(t.names[o])
                    break
                i = i + 1 if i + 1 < n else 0
        return out


__all__ = ["DEFAULT_SEED", "DEFAULT_VNODES", "HashRing", "hash32"]

"""The :class:`Tier` protocol: what :class:`~swfast.cache.manager.TieredCache` needs of a lower
tier, and the two adapters over L2 (Redis, sync and asyncio shells of one object) and L3 (SQLite).

The manager keeps its lower tiers as a tuple, top first, and loops over it; nothing in it is
picked per tier by name except the placement policy's tier names.
"""
from __future__ import annotations

import asyncio
from typing import Any, Mapping, Protocol, Sequence

from .pattern import KeyPattern


class Tier(Protocol):
    """A lower tier of the tiered cache (a failing call raises; the manager counts it)."""

    name: str  # the placement policy's name for it: "l2", "l3"

    @property
    def max_value_bytes(self) -> int:
        """The largest encoded value it stores."""

    def get_entry(self, key: str) -> tuple[Any, float | None] | None:
        """``(value, expires_at)`` or ``None``."""

    async def aget_entry(self, key: str) -> tuple[Any, float | None] | None:
        """:meth:`get_entry` without blocking the event loop."""

    def check(self, key: str, value: Any, ttl: float | None) -> None:
        """Raise what a write of ``value`` would raise (size, serialisability), with no I/O."""

    def set_many(self, items: Mapping[str, Any], ttl: float | None) -> list[str]:
        """Store ``items``; returns the keys not written."""

    def delete(self, keys: Sequence[str]) -> tuple[int, dict[str, list[str]]]:
        """Remove ``keys``: (how many existed, if known; the keys not removed per node)."""

    def delete_matching(self, pattern: KeyPattern) -> tuple[int, list[str]]:
        """Remove the keys matching ``pattern``: (how many, the nodes that failed)."""

    async def aclose(self) -> None:
        """Close what the adapter opened itself (never the tier the application gave)."""


class RedisTier:
    """L2 as a :class:`Tier`: its sync shell for sync calls, its asyncio shell for async reads.

    ``l2`` may be either shell of one L2 (the other is made over the same nodes); any other
    object with the sync methods is read in a worker thread by the async methods.
    """

    name = "l2"

    def __init__(self, l2: Any, al2: Any = None) -> None:
        from .l2 import DistributedCache
        from .l2_async import AsyncDistributedCache

        self.owned = False  # whether the asyncio shell is ours (made here) to close
        if isinstance(l2, AsyncDistributedCache):
            self.sync: Any = l2.shell(DistributedCache)
            self.aio: Any = l2
        else:
            self.sync = l2
            self.owned = al2 is None and isinstance(l2, DistributedCache)
            self.aio = al2 if al2 is not None else l2.asyncio() if self.owned else None

    @property
    def max_value_bytes(self) -> int:
        return int(self.sync.codec.max_value_bytes)

    def get_entry(self, key: str) -> tuple[Any, float | None] | None:
        return self.sync.get_entry(key)  # type: ignore[no-any-return]

    async def aget_entry(self, key: str) -> tuple[Any, float | None] | None:
        if self.aio is None:
            return await asyncio.to_thread(self.sync.get_entry, key)
        return await self.aio.get_entry(key)  # type: ignore[no-any-return]

    def check(self, key: str, value: Any, ttl: float | None) -> None:
        self.sync.encode(key, value, ttl)

    def set_many(self, items: Mapping[str, Any], ttl: float | None) -> list[str]:
        return self.sync.set_many(items, ttl)  # type: ignore[no-any-return]

    def delete(self, keys: Sequence[str]) -> tuple[int, dict[str, list[str]]]:
        return 0, self.sync.delete(keys)

    def delete_matching(self, pattern: KeyPattern) -> tuple[int, list[str]]:
        return self.sync.delete_matching(pattern)  # type: ignore[no-any-return]

    async def aclose(self) -> None:
        if self.owned:
            await self.aio.close()


class SQLiteTier:
    """L3 as a :class:`Tier` (async reads run in a worker thread: SQLite blocks)."""

    name = "l3"

    def __init__(self, l3: Any) -> None:
        self.l3 = l3

    @property
    def max_value_bytes(self) -> int:
        return int(self.l3.codec.max_value_bytes)

    def get_entry(self, key: str) -> tuple[Any, float | None] | None:
        return self.l3.get_entry(key)  # type: ignore[no-any-return]

    async def aget_entry(self, key: str) -> tuple[Any, float | None] | None:
        return await asyncio.to_thread(self.l3.get_entry, key)

    def check(self, key: str, value: Any, ttl: float | None) -> None:
        self.l3.encode(key, value, ttl)

    def set_many(self, items: Mapping[str, Any], ttl: float | None) -> list[str]:
        if len(items) == 1:
            ok = self.l3.persistent_set(*next(iter(items.items())), ttl)
        else:
            ok = self.l3.persistent_set_many(items, ttl)
        return [] if ok else list(items)

    def delete(self, keys: Sequence[str]) -> tuple[int, dict[str, list[str]]]:
        return int(self.l3.persistent_delete(keys)), {}

    def delete_matching(self, pattern: KeyPattern) -> tuple[int, list[str]]:
        return int(self.l3.delete_matching(pattern)), []

    async def aclose(self) -> None:
        return None


__all__ = ["RedisTier", "SQLiteTier", "Tier"]

"""L2 for asyncio: the asyncio shell of :class:`swfast.cache.l2.DistributedCache`.

The operations are the sync shell's, written once in :class:`~swfast.cache.l2.L2Base` and
driven here on ``redis.asyncio`` clients; ``l2.asyncio()`` gives this shell over the same
nodes (one breaker, dirty set and repair proof per node). Membership changes migrate keys on
the sync clients in a worker thread. Cancellation safety: a read cancelled while its reply is
in flight makes redis-py drop that connection (the CVE-2023-28858/28859 fix), so the late reply
can never be read by another caller; ``tests/test_cache_l2.py`` checks it through a delay proxy.
"""
from __future__ import annotations

import asyncio
from typing import Any, Mapping, Sequence

from ._effects import arun
from .l2 import L2Base, _Node
from .pattern import KeyPattern
from .ring import RebalanceReport


class AsyncDistributedCache(L2Base):
    """L2 over Redis nodes, asyncio shell; every method of the sync shell, as a coroutine.

    Takes the arguments of :class:`swfast.cache.l2.L2Base`.
    """

    async def get_entry(self, key: str) -> tuple[Any, float | None] | None:
        """``(value, expires_at)`` or ``None`` (absent, foreign, expired, or node failing)."""
        return await arun(self._get_entry(key))

    async def distributed_get(self, key: str, default: Any = None) -> Any:
        """The value of ``key`` from its node, or ``default``; never raises for Redis faults."""
        entry = await arun(self._get_entry(key))
        return default if entry is None else entry[0]

    async def get_many(self, keys: Sequence[str]) -> dict[str, tuple[Any, float | None]]:
        """Entries found for ``keys``: one ``MGET`` per node; failing nodes give misses."""
        return await arun(self._get_many(keys))

    async def distributed_set(self, key: str, value: Any, ttl: float | None = None) -> bool:
        """Store ``value`` for ``ttl`` seconds; ``False`` if the node failed (see the sync shell)."""
        return not await arun(self._set_many({key: value}, ttl))

    async def set_many(self, items: Mapping[str, Any], ttl: float | None = None) -> list[str]:
        """Store many entries, one pipeline per node; returns the keys that were not written."""
        return await arun(self._set_many(items, ttl))

    async def delete(self, keys: Sequence[str]) -> dict[str, list[str]]:
        """Delete ``keys`` on their nodes; returns, per failing node, its keys."""
        return await arun(self._delete(keys))

    async def delete_matching(self, pattern: KeyPattern) -> tuple[int, list[str]]:
        """``SCAN MATCH`` + ``UNLINK`` on every node; returns (deleted, failed node names)."""
        return await arun(self._delete_matching(pattern))

    async def sync_nodes(self) -> dict[str, int]:
        """Delete the keys whose writes or deletes a node missed (see the sync shell)."""
        return await arun(self._sync_nodes())

    async def _verify(self, node: _Node, op: str = "get") -> bool:
        return await arun(self._prove(node, op))

    async def add_node(self, url: str, weight: float = 1.0, *, migrate: bool = True) -> RebalanceReport | None:
        """Add a Redis node to the ring; with ``migrate`` move the keys it now owns (in a thread)."""
        self._add(url, weight)
        return await asyncio.to_thread(self._migrate) if migrate else None

    async def remove_node(self, url: str, *, migrate: bool = True) -> RebalanceReport | None:
        """Take a node off the ring; with ``migrate`` move its keys to their new owners (in a thread)."""
        node = self._remove(url)
        try:
            return await asyncio.to_thread(self._migrate, node) if migrate else None
        finally:
            if node.client is not None:
                node.client.close()
            if node.aclient is not None:
                await node.aclient.aclose()

    async def clients(self) -> dict[str, Any]:
        """Node name to ``redis.asyncio`` client, each node proven repaired first."""
        await arun(self._prove_all())
        return {n.name: n.aclient if n.aclient is not None else n.open(True) for n in self.nodes.values()}

    async def close(self) -> None:
        """Close this shell's connection pools (the sync shell closes its own)."""
        topo = self._topo
        for node in topo.nodes.values():
            if node.aclient is not None and node.cluster is None:
                await node.aclient.aclose()
        if topo.cluster is not None and topo.cluster.aclient is not None:
            await topo.cluster.aclient.aclose()


__all__ = ["AsyncDistributedCache"]

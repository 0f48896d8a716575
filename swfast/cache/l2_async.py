"""L2 for asyncio: the same tier as :class:`swfast.cache.l2.DistributedCache` over ``redis.asyncio``.

Same envelope, ring, limits, timeouts and fault gates; every method is a coroutine.
Cancellation safety: a read cancelled while its reply is in flight makes redis-py drop that
connection (the CVE-2023-28858/28859 fix), so the late reply can never be read by another
caller; ``tests/test_cache_l2.py`` checks it through a delay proxy (1000 trials, no cross-talk).
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from . import _effects as _fx
from .l2 import L2Base, _Node


class AsyncDistributedCache(L2Base):
    """L2 over Redis nodes, asyncio API. Takes the arguments of :class:`swfast.cache.l2.L2Base`."""

    _asyncio = True

    async def get_entry(self, key: str) -> tuple[Any, float | None] | None:
        """``(value, expires_at)`` or ``None`` (absent, foreign, expired, or node failing)."""
        raw = self.rkey(key)
        node = self.node_of(raw)
        if not node.gate.allow() or (not node.verified and not await self._verify(node)):
            return None
        seen = node.connects
        try:
            data = await node.client.get(raw)
        except Exception as exc:
            self.failed(node, "get", exc)
            return None
        node.gate.success()
        if (node.dirty and raw in node.dirty) or not await self._same_run(node, seen):
            return None  # see DistributedCache.get_entry
        return self.decode(key, data)

    async def _verify(self, node: _Node, op: str = "get") -> bool:
        try:
            ok: bool | BaseException = await _fx.arun(node.client, self._repair(node))
        except Exception as exc:
            ok = exc
        return self._verified(node, ok, op)

    async def _same_run(self, node: _Node, seen: int) -> bool:
        """See :meth:`DistributedCache._same_run`."""
        if node.connects == seen:
            return True
        before = node.run_id
        return await self._verify(node) and node.run_id == before

    async def distributed_get(self, key: str, default: Any = None) -> Any:
        """The value of ``key`` from its node, or ``default``; never raises for Redis faults."""
        entry = await self.get_entry(key)
        return default if entry is None else entry[0]

    async def get_many(self, keys: Sequence[str]) -> dict[str, tuple[Any, float | None]]:
        """Entries found for ``keys``: one ``MGET`` per node; failing nodes give misses."""
        out: dict[str, tuple[Any, float | None]] = {}
        for node, ks, rs in self.plan_get(keys):
            if not node.gate.allow() or (not node.verified and not await self._verify(node)):
                continue
            seen = node.connects
            try:
                replies = await (node.client.mget_nonatomic(rs) if self.cluster else node.client.mget(rs))
            except Exception as exc:
                self.failed(node, "get", exc)
                continue
            node.gate.success()
            if await self._same_run(node, seen):
                self.collect(node, ks, rs, replies, out)
        return out

    async def distributed_set(self, key: str, value: Any, ttl: float | None = None) -> bool:
        """Store ``value`` for ``ttl`` seconds; ``False`` if the node failed (see the sync tier)."""
        return not await self.set_many({key: value}, ttl)

    async def set_many(self, items: Mapping[str, Any], ttl: float | None = None) -> list[str]:
        """Store many entries, one pipeline per node; returns the keys that were not written."""
        if ttl == 0:
            return [k for ks in (await self.delete(list(items))).values() for k in ks]
        encoded = {k: self.encode(k, v, ttl) for k, v in items.items()}
        failed: list[str] = []
        for name, pairs in self.group(items).items():
            node = self.nodes[name]
            raws = [encoded[k][0] for k, _ in pairs]
            if not node.gate.allow() or (not node.verified and not await self._verify(node, "set")):
                node.dirty.update(raws)
                failed.extend(k for k, _ in pairs)
                continue
            try:
                pipe = node.client.pipeline(transaction=False)
                for k, _ in pairs:
                    raw, blob, px = encoded[k]
                    pipe.set(raw, blob, px=px)
                await pipe.execute()
            except Exception as exc:
                self.failed(node, "set", exc, raws)
                failed.extend(k for k, _ in pairs)
                continue
            node.gate.success()
            if node.dirty:
                node.dirty.difference_update(raws)
        return failed

    async def delete(self, keys: Sequence[str]) -> dict[str, list[str]]:
        """Delete ``keys`` on their nodes; returns, per failing node, its keys."""
        failed: dict[str, list[str]] = {}
        for name, pairs in self.group(keys).items():
            node = self.nodes[name]
            raws = [p[1] for p in pairs]
            if not node.gate.allow() or (not node.verified and not await self._verify(node, "delete")):
                node.dirty.update(raws)
                failed[name] = [k for k, _ in pairs]
                continue
            try:
                for i in range(0, len(raws), 1000):
                    await node.client.unlink(*raws[i : i + 1000])
            except Exception as exc:
                self.failed(node, "delete", exc, raws)
                failed[name] = [k for k, _ in pairs]
                continue
            node.gate.success()
            if node.dirty:
                node.dirty.difference_update(raws)
        return failed

    async def close(self) -> None:
        """Close every node's connection pool."""
        for node in self.nodes.values():
            await node.client.aclose()


__all__ = ["AsyncDistributedCache"]

"""Distribution: which Redis node holds a key, and moving keys when membership changes.

The arithmetic lives in the compiled ring kernel (:mod:`swfast._native.ring`: MurmurHash3 with a
fixed seed, 1000 virtual nodes per unit of weight, optional bounded loads). This module adds the
policy: :meth:`Distribution.distribute` groups keys per node for pipelined batches,
:meth:`Distribution.rebalance` migrates the keys whose owner changed after nodes were added or
removed, and :meth:`Distribution.sync` repairs a node that came back after an outage.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from .._native.ring import DEFAULT_SEED, DEFAULT_VNODES, HashRing

log = logging.getLogger("swfast.cache.ring")


@dataclass
class RebalanceReport:
    """What :meth:`Distribution.rebalance` or :meth:`Distribution.sync` did.

    Attributes:
        scanned: keys examined.
        moved: keys copied to their new owner and removed from the old one.
        dropped: stale keys deleted (by ``sync``).
        failed: keys that could not be moved, per node name (never swallowed).
    """

    scanned: int = 0
    moved: int = 0
    dropped: int = 0
    failed: dict[str, list[str]] = field(default_factory=dict)


class Distribution:
    """Key placement over named nodes.

    Args:
        nodes: node names, or a mapping of names to weights.
        seed: ring seed; every process sharing the nodes must use the same one.
        vnodes: virtual nodes per unit of weight.
    """

    def __init__(
        self,
        nodes: Iterable[str] | Mapping[str, float] = (),
        *,
        seed: int = DEFAULT_SEED,
        vnodes: int = DEFAULT_VNODES,
    ) -> None:
        self.ring = HashRing(seed, vnodes)
        items = nodes.items() if isinstance(nodes, Mapping) else ((n, 1.0) for n in nodes)
        for name, weight in items:
            self.ring.add(name, weight)

    def node_for(self, key: str) -> str:
        """The node owning ``key``."""
        return self.ring.lookup(key)

    def distribute(self, keys: Sequence[str], *, bounded: float | None = None) -> dict[str, list[str]]:
        """Group ``keys`` by owning node (order kept within a node).

        Args:
            keys: the keys.
            bounded: a load factor ≥ 1 (e.g. 1.25) to cap every node at that multiple of its
                fair share for this batch (consistent hashing with bounded loads); ``None`` for
                plain consistent hashing.
        """
        owners = self.ring.lookup_many(keys) if bounded is None else self.ring.assign_bounded(keys, bounded)
        out: dict[str, list[str]] = {}
        for key, node in zip(keys, owners):
            out.setdefault(node, []).append(key)
        return out

    def rebalance(
        self,
        clients: Mapping[str, Any],
        *,
        match: str = "*",
        batch: int = 500,
    ) -> RebalanceReport:
        """Move every key under ``match`` that sits on a node the ring no longer maps it to.

        Call after :meth:`HashRing.add`/``remove`` on :attr:`ring`. ``clients`` maps node names
        (live ones, old and new) to redis-py clients; each key is copied with its remaining TTL
        (``PTTL``) to its owner, then deleted from the old node. Keys of nodes missing from
        ``clients`` cannot be moved and stay where they are (a cache miss later, never a wrong
        value). Bytes are moved as they are, so envelopes and MACs stay intact.
        """
        report = RebalanceReport()
        for src, client in clients.items():
            pending: list[bytes] = []
            try:
                for raw in client.scan_iter(match=match, count=batch):
                    report.scanned += 1
                    pending.append(raw)
                    if len(pending) >= batch:
                        self._move(src, pending, clients, report)
                        pending = []
                if pending:
                    self._move(src, pending, clients, report)
            except Exception as exc:  # a node failing mid-scan: report, keep going
                log.error("rebalance: scanning %s failed: %s", src, exc)
                report.failed.setdefault(src, []).append(f"<scan {match}>")
        return report

    def _move(self, src: str, raws: list[bytes], clients: Mapping[str, Any], report: RebalanceReport) -> None:
        keys = [r.decode() for r in raws]
        owners = self.ring.lookup_many(keys)
        moving = [(r, k, o) for r, k, o in zip(raws, keys, owners) if o != src]
        if not moving:
            return
        pipe = clients[src].pipeline(transaction=False)
        for raw, _, _ in moving:
            pipe.get(raw)
            pipe.pttl(raw)
        res = pipe.execute()
        by_dst: dict[str, list[tuple[bytes, bytes, int]]] = {}
        for i, (raw, key, dst) in enumerate(moving):
            val, ttl = res[2 * i], res[2 * i + 1]
            if val is None or ttl == -2:
                continue
            if dst not in clients:
                report.failed.setdefault(dst, []).append(key)
                continue
            by_dst.setdefault(dst, []).append((raw, val, ttl))
        for dst, rows in by_dst.items():
            try:
                p = clients[dst].pipeline(transaction=False)
                for raw, val, ttl in rows:
                    p.set(raw, val, px=ttl if ttl > 0 else None)
                p.execute()
                clients[src].delete(*[raw for raw, _, _ in rows])
                report.moved += len(rows)
            except Exception as exc:
                log.error("rebalance: moving %d keys %s -> %s failed: %s", len(rows), src, dst, exc)
                report.failed.setdefault(dst, []).extend(r.decode() for r, _, _ in rows)

    def sync(self, node: str, client: Any, *, dirty: Iterable[str] = (), match: str = "*") -> RebalanceReport:
        """Repair ``node`` after it came back: delete keys written or invalidated while it was away.

        ``dirty`` lists the full Redis keys whose writes or deletes failed on this node during
        the outage (the L2 tier records them); they may hold values older than the truth, so
        they are deleted. Keys that the ring no longer maps to ``node`` (under ``match``) are
        deleted too, so a node never serves keys it does not own.
        """
        report = RebalanceReport()
        dirty = list(dirty)
        if dirty:
            for i in range(0, len(dirty), 1000):
                report.dropped += int(client.delete(*dirty[i : i + 1000]))
        stray: list[bytes] = []
        for raw in client.scan_iter(match=match, count=1000):
            report.scanned += 1
            if self.ring.lookup(raw) != node:
                stray.append(raw)
        for i in range(0, len(stray), 1000):
            report.dropped += int(client.delete(*stray[i : i + 1000]))
        return report


__all__ = ["Distribution", "RebalanceReport"]

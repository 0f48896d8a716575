"""L2: a shared cache over one or many Redis nodes placed by the consistent-hash ring.

* Values travel in the versioned envelope (:mod:`swfast.cache.envelope`); bytes without it (a
  pickle someone planted, another program's value) are a logged miss, never deserialised.
* Multi-key reads and writes go to each node in one round trip (``MGET``, or a pipeline of
  ``SET ... PX``).
* Every socket operation is bounded by ``timeout`` (default 50 ms) with no retries, so a
  refused or hung Redis costs at most that per call. Each node has a fault gate: after
  ``trip_after`` consecutive failures the node is skipped (in well under 1 ms) until
  ``reset_timeout`` has passed and a single probe succeeds. Read failures are misses, write
  failures return ``False``; both are counted in ``swfast_cache_l2_errors_total`` and logged.
  Keys whose write or delete failed are remembered per node and deleted by :meth:`sync_nodes`
  once the node answers again, so a value from before an outage is not served after a newer
  one was written elsewhere.

redis-py is imported when the tier is built, never at ``import swfast.cache``.
Thread safety: the clients are thread-safe connection pools; the gate's counters are plain
attributes updated under the GIL (a race can only delay a trip by one call).
"""
from __future__ import annotations

import logging
import time
from typing import Any, Callable, Iterable, Mapping, Sequence

from .._native import cacheval as _k
from ..errors import CacheValueTooLarge, ConfigurationError
from ..monitoring.metrics import REGISTRY
from .envelope import REJECT, Codec
from .serializer import Serializer
from .gate import FaultGate
from . import _effects as _fx, wire
from .pattern import KeyPattern
from .ring import Distribution, RebalanceReport

log = logging.getLogger("swfast.cache.l2")
ERRORS = REGISTRY.counter("swfast_cache_l2_errors_total", "L2 (Redis) calls that failed", ("node", "op"))
REJECTED = REGISTRY.counter("swfast_cache_l2_rejected_total", "L2 values without a valid swfast envelope")


_REPAIR = b"\x00swfast-repaired:"  # outside every printable namespace, so never scanned as a cache key


class _Node:
    """One Redis node: its client, fault gate, dirty keys and whether it is proven repaired.

    ``verified`` turns False whenever a connection to the node is (re)established, since a
    node that restarted from its RDB file may hold values overwritten while it was down;
    reads then first prove it repaired (see :meth:`L2Base._repair`).
    """

    __slots__ = ("name", "client", "gate", "dirty", "packed", "verified", "connects", "run_id")

    def __init__(self, name: str, gate: FaultGate) -> None:
        self.name, self.gate = name, gate
        self.client: Any = None
        self.dirty: set[bytes] = set()
        self.packed = False
        self.verified = False
        self.connects = 0
        self.run_id = b""  # the Redis run last proven repaired

    def attach(self, client: Any) -> None:
        self.client = client
        self.packed = wire.can_pack(client)  # MGET packed in the kernel (sync, pooled clients)

    def reconnected(self) -> None:
        self.connects += 1
        self.verified = False


def _connect_hook(node: _Node, asyncio: bool) -> Callable[[Any], Any]:
    """redis-py ``redis_connect_func``: the usual handshake, then mark the node unproven."""
    if asyncio:
        async def ahook(conn: Any) -> None:
            await conn.on_connect()
            node.reconnected()
        return ahook

    def hook(conn: Any) -> None:
        conn.on_connect()
        node.reconnected()
    return hook


def _client(url: str, timeout: float, asyncio: bool = False, cluster: bool = False,
            on_connect: Callable[[Any], Any] | None = None) -> Any:
    import redis
    from redis.backoff import NoBackoff

    kw: dict[str, Any] = {"socket_timeout": timeout, "socket_connect_timeout": timeout}
    if on_connect is not None:
        kw["redis_connect_func"] = on_connect
    if asyncio:
        import redis.asyncio as aredis
        from redis.asyncio.retry import Retry as ARetry

        if cluster:
            from redis.asyncio.cluster import RedisCluster as ACluster

            return ACluster.from_url(url, retry=ARetry(NoBackoff(), 0), **kw)
        return aredis.Redis.from_url(url, retry=ARetry(NoBackoff(), 0), **kw)
    from redis.retry import Retry

    if cluster:
        return redis.RedisCluster.from_url(url, retry=Retry(NoBackoff(), 0), **kw)
    return redis.Redis.from_url(url, retry=Retry(NoBackoff(), 0), **kw)


class L2Base:
    """Configuration and the I/O-free halves of L2 operations, shared by the sync and asyncio tiers.

    Args:
        urls: Redis URLs (``redis://host:port/db``); each is a node on the ring, named by its URL.
            With ``cluster=True``, one URL of a Redis Cluster: the cluster shards by hash slot
            (redis-py's ``RedisCluster``) and the ring is not used.
        namespace: prefix of every Redis key this cache writes (keeps other data untouched).
        timeout: bound in seconds on connecting and on each reply.
        mac_key: optional shared secret; values then carry a MAC every process checks.
        max_key_bytes: longer keys raise :class:`CacheValueTooLarge`.
        max_value_bytes: larger encoded values raise :class:`CacheValueTooLarge`.
        compress_threshold: values at least this long are lz4-compressed.
        trip_after: consecutive failures that open a node's gate.
        reset_timeout: seconds before an open gate lets a probe through.
        clock: wall clock in Unix seconds, for expiry stamps in envelopes.
        monotonic: clock for the fault gates.
        cluster: treat ``urls`` as one Redis Cluster entry point.
        serializer: stores values other than bytes/str/exact JSON data (see
            :mod:`swfast.cache.serializer`; e.g. :class:`~swfast.cache.TaggedSerializer`).
            Every process sharing these nodes must use the same one.
    """

    _asyncio = False

    def __init__(
        self,
        urls: str | Sequence[str],
        *,
        namespace: str = "swfast:",
        timeout: float = 0.05,
        mac_key: bytes | None = None,
        max_key_bytes: int = 1024,
        max_value_bytes: int = 1 << 20,
        compress_threshold: int | None = 4096,
        trip_after: int = 5,
        reset_timeout: float = 1.0,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        cluster: bool = False,
        serializer: Serializer | None = None,
    ) -> None:
        self._options = dict(namespace=namespace, timeout=timeout, mac_key=mac_key, max_key_bytes=max_key_bytes,
                             max_value_bytes=max_value_bytes, compress_threshold=compress_threshold,
                             trip_after=trip_after, reset_timeout=reset_timeout, clock=clock,
                             monotonic=monotonic, cluster=cluster, serializer=serializer)
        urls = [urls] if isinstance(urls, str) else list(urls)
        if cluster and len(urls) != 1:
            raise ConfigurationError("urls", "with cluster=True give one URL of the cluster")
        if not urls:
            raise ConfigurationError("urls", "give at least one redis:// URL")
        if not timeout > 0:
            raise ConfigurationError("timeout", "must be > 0 seconds")
        self.namespace = namespace
        self.timeout = timeout
        self.codec = Codec(mac_key=mac_key, compress_threshold=compress_threshold, max_value_bytes=max_value_bytes,
                           serializer=serializer)
        self.max_key_bytes = max_key_bytes
        self.clock = clock
        self.distribution = Distribution(urls)
        self.cluster = cluster
        self._gate_args = (trip_after, reset_timeout, monotonic)
        self.nodes = {u: self._node(u) for u in urls}
        self._single = self.nodes[urls[0]] if len(urls) == 1 else None

    def _node(self, url: str) -> _Node:
        node = _Node(url, FaultGate(url, *self._gate_args))
        if self.cluster:  # redis-py's cluster client owns its connect hook: not proven per node
            node.verified = True
            node.attach(_client(url, self.timeout, self._asyncio, True))
        else:
            node.attach(_client(url, self.timeout, self._asyncio, False, _connect_hook(node, self._asyncio)))
        return node

    def _repair(self, node: _Node) -> _fx.Step[bool]:
        """Prove ``node`` repaired for its current run before it serves reads (sans-I/O).

        Each Redis run (``run_id``) is repaired once: the first swfast process to talk to it
        removes this namespace's keys (a node restarted from its RDB file holds values that
        were overwritten or deleted while it was down, and the processes that know which are
        elsewhere), then sets a marker for the run. Processes that find the marker serve at
        once; while another process repairs, the node serves nothing (returns False).
        """
        ns = self.namespace.encode()
        info = yield _fx.call("info", "server")
        run_id = str(info.get("run_id", "")).encode()
        if run_id and run_id == node.run_id:
            return True  # same run as last proven: a reconnect, not a restart
        tag = _REPAIR + ns + b":"
        marker, lock = tag + run_id, tag + b"lock"
        if (yield _fx.call("exists", marker)):
            node.run_id = run_id
            return True
        if not (yield _fx.call("set", lock, run_id, nx=True, px=60_000)):
            return False
        removed = 0
        for match in (KeyPattern("*").redis(self.namespace), KeyPattern("*").redis(tag.decode("latin-1"))):
            cursor = 0
            while True:
                cursor, keys = yield _fx.call("scan", cursor, match=match, count=1000)
                keys = [k for k in keys if k != lock]
                if keys:
                    removed += int((yield _fx.call("unlink", *keys)))
                if not int(cursor):
                    break
        yield _fx.call("set", marker, b"1")
        yield _fx.call("delete", lock)
        node.dirty.clear()  # every key of the namespace is gone from this node
        node.run_id = run_id
        if removed:
            log.warning("L2 node %s: new Redis run %s; removed %d keys it may hold stale before serving",
                        node.name, run_id.decode(), removed)
        return True

    def _verified(self, node: _Node, ok: bool | BaseException, op: str) -> bool:
        if isinstance(ok, BaseException):
            self.failed(node, op, ok)
            return False
        node.verified = ok
        return ok

    def share_state(self, other: "L2Base") -> None:
        """Use ``other``'s per-node state (dirty keys, fault gates): two shells, one L2.

        A write that failed through one shell then hides the node's copy from both, so the
        sync and the asyncio tier never disagree about which keys a node may serve.

        Raises:
            ConfigurationError: ``other`` is over other nodes or another namespace.
        """
        if set(other.nodes) != set(self.nodes) or other.namespace != self.namespace:
            raise ConfigurationError("al2", "must be over the same Redis nodes and namespace as l2")
        for name, node in self.nodes.items():
            node.dirty, node.gate = other.nodes[name].dirty, other.nodes[name].gate

    # -- helpers shared with the asyncio tier ---------------------------------------------
    def rkey(self, key: str) -> bytes:
        """The Redis key for ``key`` (namespace + key, UTF-8), size-checked."""
        if not isinstance(key, str):
            raise TypeError(f"key: L2 keys must be str, got {type(key).__name__}")
        raw = (self.namespace + key).encode()
        if len(raw) > self.max_key_bytes:
            raise CacheValueTooLarge(
                f"key: {len(raw)} bytes exceeds max_key_bytes={self.max_key_bytes}; hash long keys first",
                size=len(raw), limit=self.max_key_bytes,
            )
        return raw

    def node_of(self, rkey: bytes) -> _Node:
        """The node owning a Redis key."""
        return self._single or self.nodes[self.distribution.ring.lookup(rkey)]

    def group(self, keys: Iterable[str]) -> dict[str, list[tuple[str, bytes]]]:
        """Keys grouped by node name, with their Redis keys."""
        pairs = [(k, self.rkey(k)) for k in keys]
        if self._single is not None:
            return {self._single.name: pairs}
        out: dict[str, list[tuple[str, bytes]]] = {}
        for pair, node in zip(pairs, self.distribution.ring.lookup_many([p[1] for p in pairs])):
            out.setdefault(node, []).append(pair)
        return out

    def plan_get(self, keys: Sequence[str]) -> list[tuple[_Node, list[str], list[bytes]]]:
        """Per node: the keys it owns and their Redis keys (prefixing runs in the kernel)."""
        keys = list(keys)
        raws, bad = _k.prefix_keys(self.namespace, keys, self.max_key_bytes)
        if bad >= 0:
            self.rkey(keys[bad])  # raises the precise error
        if self._single is not None:
            return [(self._single, keys, raws)]
        groups: dict[str, tuple[list[str], list[bytes]]] = {}
        for k, r, n in zip(keys, raws, self.distribution.ring.lookup_many(raws)):
            g = groups.get(n)
            if g is None:
                g = groups[n] = ([], [])
            g[0].append(k)
            g[1].append(r)
        return [(self.nodes[n], ks, rs) for n, (ks, rs) in groups.items()]

    def collect(self, node: _Node, keys: list[str], raws: list[bytes], replies: list[Any],
                out: dict[str, tuple[Any, float | None]]) -> None:
        """Decode one node's ``MGET`` replies into ``out`` (batch decode in the kernel)."""
        for key in self.codec.decode_into(keys, raws, replies, self.clock(), out, node.dirty):
            self.reject(key)

    def reject(self, key: str) -> None:
        """Count and log a value without a valid envelope."""
        REJECTED.inc()
        log.warning("L2 value for %r has no valid swfast envelope; treated as a miss", key)

    def decode(self, key: str, data: bytes | None) -> tuple[Any, float | None] | None:
        """Decode a reply: ``None`` for absent, foreign (logged) or expired values."""
        if data is None:
            return None
        entry = self.codec.decode(data, key.encode() if self.codec.mac_key is not None else b"", self.clock())
        if entry is REJECT:
            self.reject(key)
            return None
        return entry  # type: ignore[no-any-return]

    def encode(self, key: str, value: Any, ttl: float | None) -> tuple[bytes, bytes, int | None]:
        """``(rkey, blob, px)`` for a write; raises before anything is sent."""
        if ttl is not None and ttl < 0:
            raise ValueError(f"ttl: must be >= 0 seconds, got {ttl!r}")
        raw = self.rkey(key)
        exp = None if ttl is None else self.clock() + ttl
        return raw, self.codec.encode(value, exp, key.encode()), (None if ttl is None else max(1, int(ttl * 1000)))

    def _matcher(self, pattern: KeyPattern) -> Callable[[bytes], bool]:
        """Exact filter for scanned Redis keys (``?`` is one character, not one byte)."""
        skip = len(self.namespace.encode())

        def keep(raw: bytes) -> bool:
            return pattern.matches(raw[skip:].decode("utf-8", "surrogateescape"))

        return keep

    def failed(self, node: _Node, op: str, exc: BaseException, keys: Iterable[bytes] = ()) -> None:
        """Count, log and remember a failure on ``node``."""
        node.gate.failure()
        ERRORS.labels(node.name, op).inc()
        log.warning("L2 %s on %s failed: %s: %s", op, node.name, type(exc).__name__, exc)
        if op in ("set", "delete"):
            node.dirty.update(keys)



class DistributedCache(L2Base):
    """L2 over Redis nodes, sync API (:class:`swfast.cache.l2_async.AsyncDistributedCache` for asyncio).

    Takes the arguments of :class:`L2Base`.
    """

    def get_entry(self, key: str) -> tuple[Any, float | None] | None:
        """``(value, expires_at)`` or ``None`` (absent, foreign, expired, or node failing)."""
        raw = self.rkey(key)
        node = self.node_of(raw)
        if not node.gate.allow() or (not node.verified and not self._verify(node)):
            return None
        seen = node.connects
        try:
            data = node.client.get(raw)
        except Exception as exc:
            self.failed(node, "get", exc)
            return None
        node.gate.success()
        if (node.dirty and raw in node.dirty) or not self._same_run(node, seen):
            # this node missed a newer write or a delete, or the reply came over a new
            # connection to a restarted node: never serve its copy
            return None
        return self.decode(key, data)

    def _verify(self, node: _Node, op: str = "get") -> bool:
        try:
            ok: bool | BaseException = _fx.run(node.client, self._repair(node))
        except Exception as exc:
            ok = exc
        return self._verified(node, ok, op)

    def _same_run(self, node: _Node, seen: int) -> bool:
        """After a reply: True unless a connection opened meanwhile reached a new Redis run."""
        if node.connects == seen:
            return True
        before = node.run_id
        return self._verify(node) and node.run_id == before

    def distributed_get(self, key: str, default: Any = None) -> Any:
        """The value of ``key`` from its node, or ``default``; never raises for Redis faults."""
        entry = self.get_entry(key)
        return default if entry is None else entry[0]

    def get_many(self, keys: Sequence[str]) -> dict[str, tuple[Any, float | None]]:
        """Entries found for ``keys``: one ``MGET`` per node; failing nodes give misses."""
        out: dict[str, tuple[Any, float | None]] = {}
        for node, ks, rs in self.plan_get(keys):
            if not node.gate.allow() or (not node.verified and not self._verify(node)):
                continue
            seen = node.connects
            try:
                if node.packed:
                    replies = wire.mget(node.client, rs)
                else:
                    replies = node.client.mget_nonatomic(rs) if self.cluster else node.client.mget(rs)
            except Exception as exc:
                self.failed(node, "get", exc)
                continue
            node.gate.success()
            if self._same_run(node, seen):
                self.collect(node, ks, rs, replies, out)
        return out

    def distributed_set(self, key: str, value: Any, ttl: float | None = None) -> bool:
        """Store ``value`` for ``ttl`` seconds (``None`` = no expiry); ``False`` if the node failed.

        Raises:
            CacheValueTooLarge: key or value over the limit; nothing is written.
            CacheSerializationError: (a ``TypeError``) the value would not read back unchanged
                (see :mod:`swfast.cache.serializer`).
        """
        return not self.set_many({key: value}, ttl)

    def set_many(self, items: Mapping[str, Any], ttl: float | None = None) -> list[str]:
        """Store many entries, one pipeline per node; returns the keys that were not written."""
        if ttl == 0:
            return [k for ks in self.delete(list(items)).values() for k in ks]
        encoded = {k: self.encode(k, v, ttl) for k, v in items.items()}  # all checks before any I/O
        failed: list[str] = []
        for name, pairs in self.group(items).items():
            node = self.nodes[name]
            raws = [encoded[k][0] for k, _ in pairs]
            if not node.gate.allow() or (not node.verified and not self._verify(node, "set")):
                node.dirty.update(raws)
                failed.extend(k for k, _ in pairs)
                continue
            try:
                if len(pairs) == 1:
                    raw, blob, px = encoded[pairs[0][0]]
                    node.client.set(raw, blob, px=px)
                else:
                    pipe = node.client.pipeline(transaction=False)
                    for k, _ in pairs:
                        raw, blob, px = encoded[k]
                        pipe.set(raw, blob, px=px)
                    pipe.execute()
            except Exception as exc:
                self.failed(node, "set", exc, raws)
                failed.extend(k for k, _ in pairs)
                continue
            node.gate.success()
            if node.dirty:
                node.dirty.difference_update(raws)
        return failed

    def delete(self, keys: Sequence[str]) -> dict[str, list[str]]:
        """Delete ``keys`` on their nodes; returns, per failing node, its keys (never swallowed)."""
        failed: dict[str, list[str]] = {}
        for name, pairs in self.group(keys).items():
            node = self.nodes[name]
            raws = [p[1] for p in pairs]
            if not node.gate.allow() or (not node.verified and not self._verify(node, "delete")):
                node.dirty.update(raws)
                failed[name] = [k for k, _ in pairs]
                continue
            try:
                for i in range(0, len(raws), 1000):
                    node.client.unlink(*raws[i : i + 1000])
            except Exception as exc:
                self.failed(node, "delete", exc, raws)
                failed[name] = [k for k, _ in pairs]
                continue
            node.gate.success()
            if node.dirty:
                node.dirty.difference_update(raws)
        return failed

    def delete_matching(self, pattern: KeyPattern) -> tuple[int, list[str]]:
        """``SCAN MATCH`` + ``UNLINK`` on every node; returns (deleted, failed node names)."""
        match, deleted, failed = pattern.redis(self.namespace), 0, []
        keep = None if pattern.exact_in_redis else self._matcher(pattern)
        for node in self.nodes.values():
            try:
                batch: list[bytes] = []
                for raw in node.client.scan_iter(match=match, count=1000):
                    if keep is not None and not keep(raw):
                        continue
                    batch.append(raw)
                    if len(batch) >= 1000:
                        deleted += int(node.client.unlink(*batch))
                        batch = []
                if batch:
                    deleted += int(node.client.unlink(*batch))
            except Exception as exc:
                self.failed(node, "scan", exc)
                failed.append(node.name)
        return deleted, failed

    def sync_nodes(self) -> dict[str, int]:
        """Repair nodes that answer again: delete the keys whose writes or deletes they missed.

        Returns:
            Per node name with pending repairs, how many keys were dropped (``-1`` while the
            node still fails; the keys stay pending).
        """
        out: dict[str, int] = {}
        for node in self.nodes.values():
            if not node.dirty:
                continue
            dirty = list(node.dirty)
            try:
                for i in range(0, len(dirty), 1000):
                    node.client.unlink(*dirty[i : i + 1000])
            except Exception as exc:
                self.failed(node, "sync", exc)
                out[node.name] = -1
                continue
            node.gate.success()
            node.dirty.difference_update(dirty)
            out[node.name] = len(dirty)
        return out

    def add_node(self, url: str, weight: float = 1.0, *, migrate: bool = True) -> RebalanceReport | None:
        """Add a Redis node to the ring; with ``migrate`` move the keys it now owns onto it."""
        if url in self.nodes or self.cluster:
            raise ConfigurationError("url", f"{url} is already a node (or this is a Redis Cluster: it reshards itself)")
        self.nodes[url] = self._node(url)
        self.distribution.ring.add(url, weight)
        self._single = None
        return self._migrate(self.clients()) if migrate else None

    def remove_node(self, url: str, *, migrate: bool = True) -> RebalanceReport | None:
        """Take a node off the ring; with ``migrate`` (and the node alive) move its keys to their new owners."""
        if url not in self.nodes or len(self.nodes) == 1:
            raise ConfigurationError("url", f"{url} is not a removable node (the last node stays)")
        self.distribution.ring.remove(url)
        node = self.nodes.pop(url)
        if len(self.nodes) == 1:
            self._single = next(iter(self.nodes.values()))
        try:
            return self._migrate({**self.clients(), url: node.client}) if migrate else None
        finally:
            node.client.close()

    def _migrate(self, clients: dict[str, Any]) -> RebalanceReport:
        report = self.distribution.rebalance(clients, match=KeyPattern("*").redis(self.namespace))
        if report.failed:
            log.error("rebalance left keys in place (served as misses): %s",
                      {k: len(v) for k, v in report.failed.items()})
        return report

    def asyncio(self) -> Any:
        """The asyncio shell of this L2: same nodes and options, shared per-node state."""
        from .l2_async import AsyncDistributedCache

        shell = AsyncDistributedCache(list(self.nodes), **self._options)  # type: ignore[arg-type]
        shell.share_state(self)
        return shell

    def clients(self) -> dict[str, Any]:
        """Node name to redis-py client, for :meth:`Distribution.rebalance`.

        Each node is proven repaired for its Redis run first (see :meth:`L2Base._repair`), so
        keys migrated onto it are not swept by its first reader.
        """
        for node in self.nodes.values():
            if not node.verified:
                self._verify(node, "add")
        return {n.name: n.client for n in self.nodes.values()}

    def close(self) -> None:
        """Close every node's connection pool."""
        for node in self.nodes.values():
            node.client.close()


__all__ = ["DistributedCache", "FaultGate", "L2Base"]

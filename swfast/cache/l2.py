"""L2: a shared cache over one or many Redis nodes placed by the consistent-hash ring.

* Values travel in the versioned envelope (:mod:`swfast.cache.envelope`); bytes without it (a
  pickle someone planted, another program's value) are a logged miss, never deserialised.
* Multi-key reads and writes go to each node in one round trip (``MGET``, or a pipeline of
  ``SET ... PX``).
* Every socket operation is bounded by ``timeout`` (default
  :data:`swfast.config.L2_CALL_TIMEOUT`, 50 ms) with no retries, so a refused or hung
  Redis costs at most that per call. Each node (each master of a Redis Cluster) is guarded by
  its own count-window :class:`swfast.resilience.CircuitBreaker`: after ``trip_after``
  consecutive failures the node is skipped (in well under 1 ms) until ``reset_timeout`` has
  passed and a single probe succeeds; the other nodes keep serving. Read failures are misses,
  write failures return ``False``; both are counted in ``swfast_cache_l2_errors_total`` and
  logged, skips in ``swfast_cache_l2_skipped_total``, open nodes in ``swfast_cache_l2_gate_open``.
  Keys whose write or delete failed are remembered per node and deleted by :meth:`sync_nodes`
  once the node answers again, so a value from before an outage is not served after a newer
  one was written elsewhere.

One object, two shells: every operation is written once as a sans-I/O generator on
:class:`L2Base` (see :mod:`swfast.cache._effects`) and driven by :class:`DistributedCache`
(sync) or :class:`~swfast.cache.l2_async.AsyncDistributedCache` (asyncio). ``l2.asyncio()``
gives the asyncio shell over the *same* nodes: one breaker, one dirty set, one repair proof and
one ring per node, whichever shell wrote or failed.

redis-py is imported when a node's client is first used, never at ``import swfast.cache`` nor in
a constructor (no client, socket or cluster discovery before the first call).
Thread safety: the clients are thread-safe connection pools; the breakers are atomic; the
dirty sets are plain sets updated under the GIL.
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Callable, Iterable, Mapping, Sequence, TypeVar

from .._native import cacheval as _k
from .._redact import node_name, redact_text
from ..config import L2_CALL_TIMEOUT
from ..errors import CacheValueTooLarge, CircuitOpenError, ConfigurationError
from ..monitoring.metrics import REGISTRY
from ..resilience.breaker import CircuitBreaker
from ..resilience.history import CircuitState, Transition
from . import _effects as _fx, wire
from ._effects import NOKW, Op
from .envelope import REJECT, Codec, recall_row, remember_row
from .pattern import KeyPattern
from .ring import Distribution, RebalanceReport
from .serializer import Serializer

log = logging.getLogger("swfast.cache.l2")
ERRORS = REGISTRY.counter("swfast_cache_l2_errors_total", "L2 (Redis) calls that failed", ("node", "op"))
REJECTED = REGISTRY.counter("swfast_cache_l2_rejected_total", "L2 values without a valid swfast envelope")
SKIPPED = REGISTRY.counter("swfast_cache_l2_skipped_total", "L2 calls skipped by an open node breaker", ("node",))
GATE_OPEN = REGISTRY.gauge("swfast_cache_l2_gate_open", "1 while a node's breaker is not closed", ("node",))

_S = TypeVar("_S", bound="L2Base")
_REPAIR = b"\x00swfast-repaired:"  # outside every printable namespace, so never scanned as a cache key
_OPEN = (CircuitState.OPEN, CircuitState.FORCED_OPEN, CircuitState.HALF_OPEN)


# -- client operations beyond one redis-py method (each returns an awaitable on asyncio clients)
def _mget(node: "_Node", c: Any, raws: list[bytes]) -> Any:
    if node.packed and c is node.client:
        return wire.mget(c, raws)
    return c.mget_nonatomic(raws) if node.cluster is not None else c.mget(raws)


def _sets(node: "_Node", c: Any, rows: list[tuple[bytes, bytes, int | None]]) -> Any:
    if len(rows) == 1:
        raw, blob, px = rows[0]
        return c.set(raw, blob, px=px)
    pipe = c.pipeline(transaction=False)
    for raw, blob, px in rows:
        pipe.set(raw, blob, px=px)
    return pipe.execute()


def _scan(node: "_Node", c: Any, cursor: int, match: str, count: int) -> Any:
    """One ``SCAN`` page; on a cluster, of this master only (the cursor comes back in a dict)."""
    kw = {} if node.cluster is None else {"target_nodes": c.get_node(node_name=node.name)}
    return c.scan(cursor, match=match, count=count, **kw)


def _route(node: "_Node", c: Any, raws: list[bytes]) -> list[str]:
    return [c.get_node_from_key(r).name for r in raws]


def _primaries(node: "_Node", c: Any) -> list[str]:
    return [n.name for n in c.get_primaries()]


def _loaded(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` on an asyncio cluster client, which loads its slot map on first use."""
    async def afn(node: "_Node", c: Any, *args: Any) -> Any:
        if c._initialize:
            await c.initialize()
        return fn(node, c, *args)
    return afn


MGET, SETS, SCAN = Op("mget", _mget), Op("sets", _sets), Op("scan", _scan)
ROUTE, PRIMARIES = Op("route", _route, _loaded(_route)), Op("primaries", _primaries, _loaded(_primaries))


def _client(url: str, timeout: float, aio: bool, cluster: bool, on_connect: Callable[[Any], Any] | None = None) -> Any:
    import redis
    from redis.backoff import NoBackoff

    kw: dict[str, Any] = {"socket_timeout": timeout, "socket_connect_timeout": timeout}
    if on_connect is not None:
        kw["redis_connect_func"] = on_connect
    mod: Any = redis
    if aio:
        import redis.asyncio as mod
        from redis.asyncio.retry import Retry
    else:
        from redis.retry import Retry  # type: ignore[assignment]
    return (mod.RedisCluster if cluster else mod.Redis).from_url(url, retry=Retry(NoBackoff(), 0), **kw)


class _Cluster:
    """The two redis-py cluster clients of a Redis Cluster entry URL (one per shell, lazily)."""

    __slots__ = ("url", "timeout", "client", "aclient", "aloop")

    def __init__(self, url: str, timeout: float) -> None:
        self.url, self.timeout = url, timeout
        self.client: Any = None
        self.aclient: Any = None
        self.aloop: Any = None

    def open(self, aio: bool) -> Any:
        if aio:
            loop = asyncio.get_running_loop()
            if self.aclient is None or self.aloop is not loop:
                self.aclient, self.aloop = _client(self.url, self.timeout, True, True), loop
            return self.aclient
        if self.client is None:
            self.client = _client(self.url, self.timeout, False, True)
        return self.client


def _label(name: str, url: str) -> str:
    """What logs and metric labels call a node: ``host:port/db``, never the URL's credentials."""
    return node_name(url) if name == url or "@" in name else name


class _Node:
    """One Redis node (or one master of a Redis Cluster): its breaker, dirty keys, repair proof
    and clients, shared by the sync and the asyncio shell.

    ``verified`` turns False whenever a connection to the node is (re)established, since a
    node that restarted from its RDB file may hold values overwritten while it was down;
    reads then first prove it repaired (see :meth:`L2Base._repair`). Cluster masters are
    not proven per node (redis-py's cluster client owns their connections).
    """

    __slots__ = ("name", "label", "url", "timeout", "cluster", "breaker", "dirty", "packed", "verified", "connects",
                 "run_id", "client", "aclient", "aloop")

    def __init__(self, name: str, url: str, timeout: float, breaker: CircuitBreaker,
                 cluster: _Cluster | None = None) -> None:
        self.name, self.url, self.timeout, self.cluster, self.breaker = name, url, timeout, cluster, breaker
        # what logs and metric labels show: host:port/db, never the URL's credentials
        self.label = _label(name, url)
        self.client: Any = None   # sync redis-py client, opened on first use
        self.aclient: Any = None  # redis.asyncio client, opened on first use in each event loop
        self.aloop: Any = None    # the loop that opened it (asyncio connections are loop-bound)
        self.dirty: set[bytes] = set()
        self.packed = False
        self.verified = cluster is not None
        self.connects = 0
        self.run_id = b""  # the Redis run last proven repaired

    def open(self, aio: bool) -> Any:
        """This node's client for one shell, created on first use (no socket until a command)."""
        if self.cluster is not None:  # the sync cluster client discovers the cluster: a guarded call
            client = self.breaker.call(self.cluster.open, aio)
        else:
            client = _client(self.url, self.timeout, aio, False, self._hook(aio))
        if aio:
            self.aclient, self.aloop = client, asyncio.get_running_loop()
        else:
            self.client = client
            self.packed = wire.can_pack(client)  # MGET packed in the kernel (sync, pooled clients)
        return client

    def _hook(self, aio: bool) -> Callable[[Any], Any]:
        """redis-py ``redis_connect_func``: the usual handshake, then mark the node unproven."""
        if aio:
            async def ahook(conn: Any) -> None:
                await conn.on_connect()
                self.reconnected()
            return ahook

        def hook(conn: Any) -> None:
            conn.on_connect()
            self.reconnected()
        return hook

    def reconnected(self) -> None:
        self.connects += 1
        self.verified = self.cluster is not None


class _Topology:
    """The nodes and the ring: the state every shell of one L2 shares."""

    __slots__ = ("nodes", "distribution", "single", "cluster", "entry")

    def __init__(self, urls: list[str], cluster: _Cluster | None) -> None:
        self.nodes: dict[str, _Node] = {}
        self.distribution = Distribution(urls)
        self.single: _Node | None = None
        self.cluster = cluster
        self.entry: _Node | None = None  # a cluster's entry URL: routing and discovery


class L2Base:
    """Configuration, per-node state and the sans-I/O operations shared by both L2 shells.

    Args:
        urls: Redis URLs (``redis://host:port/db``); each is a node on the ring, named by its URL.
            With ``cluster=True``, one URL of a Redis Cluster: the cluster shards by hash slot
            (redis-py's ``RedisCluster``), the ring is not used, and each master (named
            ``host:port``) gets its own breaker and dirty set when first routed to.
        namespace: prefix of every Redis key this cache writes (keeps other data untouched).
        timeout: bound in seconds on connecting and on each reply (default
            :data:`swfast.config.L2_CALL_TIMEOUT`).
        mac_key: optional shared secret; values then carry a MAC every process checks.
        max_key_bytes: longer keys raise :class:`CacheValueTooLarge`.
        max_value_bytes: larger encoded values raise :class:`CacheValueTooLarge`.
        compress_threshold: values at least this long are lz4-compressed.
        trip_after: consecutive failures that open a node's breaker (its count window).
        reset_timeout: seconds an open breaker waits before it lets one probe through.
        clock: wall clock in Unix seconds, for expiry stamps in envelopes.
        monotonic: clock for the breakers.
        cluster: treat ``urls`` as one Redis Cluster entry point.
        serializer: stores values other than bytes/str/exact JSON data (see
            :mod:`swfast.cache.serializer`; e.g. :class:`~swfast.cache.TaggedSerializer`).
            Every process sharing these nodes must use the same one.
    """

    def __init__(
        self,
        urls: str | Sequence[str],
        *,
        namespace: str = "swfast:",
        timeout: float = L2_CALL_TIMEOUT,
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
        urls = [urls] if isinstance(urls, str) else list(urls)
        if cluster and len(urls) != 1:
            raise ConfigurationError("urls", "with cluster=True give one URL of the cluster")
        if not urls:
            raise ConfigurationError("urls", "give at least one redis:// URL")
        if not timeout > 0:
            raise ConfigurationError("timeout", "must be > 0 seconds")
        if isinstance(trip_after, bool) or not isinstance(trip_after, int) or trip_after < 1:
            raise ConfigurationError("trip_after", f"must be an int >= 1, got {trip_after!r}")
        if not reset_timeout >= 0:
            raise ConfigurationError("reset_timeout", f"must be >= 0 seconds, got {reset_timeout!r}")
        self.namespace = namespace
        self.timeout = timeout
        self.codec = Codec(mac_key=mac_key, compress_threshold=compress_threshold, max_value_bytes=max_value_bytes,
                           serializer=serializer)
        self.max_key_bytes = max_key_bytes
        self.clock = clock
        self.cluster = cluster
        self._breaker_args = (trip_after, reset_timeout, None if monotonic is time.monotonic else monotonic)
        topo = self._topo = _Topology(urls, _Cluster(urls[0], timeout) if cluster else None)
        for u in urls:
            topo.nodes[u] = self._node(u, u)
        if cluster:
            topo.entry = topo.nodes[urls[0]]
        elif len(urls) == 1:
            topo.single = topo.nodes[urls[0]]

    # -- per-node state --------------------------------------------------------------------
    @property
    def nodes(self) -> dict[str, _Node]:
        """Node name to its shared state (URLs; a cluster's masters as ``host:port`` once routed to)."""
        return self._topo.nodes

    @property
    def distribution(self) -> Distribution:
        """The consistent-hash ring over the nodes (unused for a Redis Cluster)."""
        return self._topo.distribution

    def _node(self, name: str, url: str) -> _Node:
        trip_after, reset_timeout, monotonic = self._breaker_args
        label = _label(name, url)

        def visible(t: Transition) -> None:  # node failures stay in the cache's metrics and log
            if t.to_state in _OPEN:
                GATE_OPEN.labels(label).set(1)
                if t.to_state is not CircuitState.HALF_OPEN:
                    log.warning("L2 node %s failing (%d in a row); skipping it for %.3fs",
                                label, trip_after, reset_timeout)
            else:
                GATE_OPEN.labels(label).set(0)
                log.info("L2 node %s answered again; breaker closed", label)

        breaker = CircuitBreaker(
            f"cache.l2 {self.namespace} {label}", failure_rate_threshold=100.0,
            slow_call_duration=float("inf"), window_size=trip_after, minimum_calls=trip_after,
            wait_duration_open=reset_timeout or 1e-9, half_open_calls=1, clock=monotonic, listeners=(visible,),
        )
        return _Node(name, url, self.timeout, breaker, self._topo.cluster if self.cluster else None)

    def share_state(self, other: "L2Base") -> None:
        """Use ``other``'s per-node state (breakers, dirty keys, repair proofs, ring): two shells, one L2.

        A write that failed through one shell then hides the node's copy from both, so the
        sync and the asyncio tier never disagree about which keys a node may serve.

        Raises:
            ConfigurationError: ``other`` is over other nodes or another namespace.
        """
        mine, theirs = self._topo, other._topo
        if mine is theirs:
            return
        if set(self._urls()) != set(other._urls()) or other.namespace != self.namespace:
            raise ConfigurationError("al2", "must be over the same Redis nodes and namespace as l2")
        for name, node in mine.nodes.items():  # keep clients this shell already opened
            twin = theirs.nodes.get(name)
            if twin is not None and twin.client is None and node.client is not None:
                twin.client, twin.packed = node.client, node.packed
            if twin is not None and twin.aclient is None and node.aclient is not None:
                twin.aclient, twin.aloop = node.aclient, node.aloop
        if mine.cluster is not None and theirs.cluster is not None:
            theirs.cluster.client = theirs.cluster.client or mine.cluster.client
            theirs.cluster.aclient = theirs.cluster.aclient or mine.cluster.aclient
        self._topo = theirs

    def shell(self, cls: type[_S]) -> _S:
        """This L2 seen through another shell class (``DistributedCache`` or
        ``AsyncDistributedCache``): the same codec, options and per-node state."""
        shell = cls.__new__(cls)
        shell.__dict__.update(self.__dict__)
        return shell

    def _urls(self) -> list[str]:
        """The URLs this L2 is over (a cluster: its entry URL)."""
        topo = self._topo
        return [topo.cluster.url] if topo.cluster is not None else list(topo.nodes)

    # -- I/O-free helpers ------------------------------------------------------------------
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
        """The node owning a Redis key on the ring (not for a Redis Cluster: see ``cluster``)."""
        topo = self._topo
        return topo.single or topo.nodes[topo.distribution.ring.lookup(rkey)]

    def plan_get(self, keys: Sequence[str]) -> list[tuple[_Node, list[str], list[bytes]]]:
        """Per ring node: the keys it owns and their Redis keys (prefixing runs in the kernel)."""
        keys, raws = self._raws(keys)
        topo = self._topo
        if topo.single is not None:
            return [(topo.single, keys, raws)]
        return self._grouped(keys, raws, topo.distribution.ring.lookup_many(raws))

    def _raws(self, keys: Sequence[str]) -> tuple[list[str], list[bytes]]:
        keys = list(keys)
        raws, bad = _k.prefix_keys(self.namespace, keys, self.max_key_bytes)
        if bad >= 0:
            self.rkey(keys[bad])  # raises the precise error
        return keys, raws

    def _grouped(self, keys: list[str], raws: list[bytes],
                 owners: Iterable[str]) -> list[tuple[_Node, list[str], list[bytes]]]:
        groups: dict[str, tuple[list[str], list[bytes]]] = {}
        for k, r, n in zip(keys, raws, owners):
            g = groups.get(n)
            if g is None:
                g = groups[n] = ([], [])
            g[0].append(k)
            g[1].append(r)
        nodes = self._topo.nodes
        out = []
        for n, (ks, rs) in groups.items():
            node = nodes.get(n)
            if node is None:  # a cluster master routed to for the first time (one winner across threads)
                node = nodes.setdefault(n, self._node(n, self._topo.cluster.url))  # type: ignore[union-attr]
            out.append((node, ks, rs))
        return out

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
        row = recall_row(self, key, value, ttl)  # encoded by the size check just before (smart_set)
        if row is not None:
            return row  # type: ignore[no-any-return]
        raw = self.rkey(key)
        exp = None if ttl is None else self.clock() + ttl
        row = raw, self.codec.encode(value, exp, key.encode()), (None if ttl is None else max(1, int(ttl * 1000)))
        remember_row(self, key, value, ttl, row)
        return row

    def _matcher(self, pattern: KeyPattern) -> Callable[[bytes], bool]:
        """Exact filter for scanned Redis keys (``?`` is one character, not one byte)."""
        skip = len(self.namespace.encode())

        def keep(raw: bytes) -> bool:
            return pattern.matches(raw[skip:].decode("utf-8", "surrogateescape"))

        return keep

    # -- failure policy (written once) -----------------------------------------------------
    def failed(self, node: _Node, op: str, exc: BaseException, keys: Iterable[bytes] = ()) -> None:
        """Count, log and remember a failure on ``node`` (an open breaker counts as a skip)."""
        if isinstance(exc, CircuitOpenError):
            SKIPPED.labels(node.label).inc()
        else:
            ERRORS.labels(node.label, op).inc()
            log.warning("L2 %s on %s failed: %s: %s", op, node.label, type(exc).__name__, redact_text(str(exc)))
        if op in ("set", "delete"):
            node.dirty.update(keys)

    # -- the operations, sans I/O ----------------------------------------------------------
    def _repair(self, node: _Node) -> _fx.Step[bool]:
        """Prove ``node`` repaired for its current run before it serves reads.

        Each Redis run (``run_id``) is repaired once: the first swfast process to talk to it
        removes this namespace's keys (a node restarted from its RDB file holds values that
        were overwritten or deleted while it was down, and the processes that know which are
        elsewhere), then sets a marker for the run. Processes that find the marker serve at
        once; while another process repairs, the node serves nothing (returns False).
        """
        ns = self.namespace.encode()
        info = yield node, "info", ("server",), NOKW
        run_id = str(info.get("run_id", "")).encode()
        if run_id and run_id == node.run_id:
            return True  # same run as last proven: a reconnect, not a restart
        tag = _REPAIR + ns + b":"
        marker, lock = tag + run_id, tag + b"lock"
        if (yield node, "exists", (marker,), NOKW):
            node.run_id = run_id
            return True
        if not (yield node, "set", (lock, run_id), {"nx": True, "px": 60_000}):
            return False
        removed = 0
        for match in (KeyPattern("*").redis(self.namespace), KeyPattern("*").redis(tag.decode("latin-1"))):
            cursor = 0
            while True:
                cursor, keys = yield node, SCAN, (cursor, match, 1000), NOKW
                keys = [k for k in keys if k != lock]
                if keys:
                    removed += int((yield node, "unlink", tuple(keys), NOKW))
                if not int(cursor):
                    break
        yield node, "set", (marker, b"1"), NOKW
        yield node, "delete", (lock,), NOKW
        node.dirty.clear()  # every key of the namespace is gone from this node
        node.run_id = run_id
        if removed:
            log.warning("L2 node %s: new Redis run %s; removed %d keys it may hold stale before serving",
                        node.label, run_id.decode(), removed)
        return True

    def _prove(self, node: _Node, op: str = "get") -> _fx.Step[bool]:
        """``_repair`` with the failure policy: a failing or skipped node is not proven."""
        try:
            ok = yield from self._repair(node)
        except Exception as exc:
            self.failed(node, op, exc)
            return False
        node.verified = ok
        return ok

    def _same_run(self, node: _Node, seen: int) -> _fx.Step[bool]:
        """After a reply: True unless a connection opened meanwhile reached a new Redis run."""
        if node.connects == seen:
            return True
        before = node.run_id
        return (yield from self._prove(node)) and node.run_id == before

    def _plan(self, keys: Sequence[str]) -> _fx.Step[list[tuple[_Node, list[str], list[bytes]]]]:
        """:meth:`plan_get`, or for a Redis Cluster the keys grouped by their master."""
        topo = self._topo
        if topo.cluster is None:
            return self.plan_get(keys)
        keys, raws = self._raws(keys)
        if not raws:
            return []
        entry = topo.entry
        assert entry is not None
        try:
            owners = yield entry, ROUTE, (raws,), NOKW
        except Exception as exc:  # no slot map: the entry node stands for the whole cluster
            self.failed(entry, "route", exc)
            owners = [entry.name] * len(raws)
        return self._grouped(keys, raws, owners)

    def _get_entry(self, key: str) -> _fx.Step[tuple[Any, float | None] | None]:
        raw = self.rkey(key)
        topo = self._topo
        node = topo.single
        if node is None:
            if topo.cluster is None:
                node = topo.nodes[topo.distribution.ring.lookup(raw)]
            else:
                node = (yield from self._plan([key]))[0][0]
        if not node.verified and not (yield from self._prove(node)):
            return None
        seen = node.connects
        try:
            data = yield node, "get", (raw,), NOKW
        except Exception as exc:
            self.failed(node, "get", exc)
            return None
        if (node.dirty and raw in node.dirty) or (node.connects != seen and not (yield from self._same_run(node, seen))):
            # this node missed a newer write or a delete, or the reply came over a new
            # connection to a restarted node: never serve its copy
            return None
        return self.decode(key, data)

    def _get_many(self, keys: Sequence[str]) -> _fx.Step[dict[str, tuple[Any, float | None]]]:
        out: dict[str, tuple[Any, float | None]] = {}
        for node, ks, rs in (yield from self._plan(keys)):
            if not node.verified and not (yield from self._prove(node)):
                continue
            seen = node.connects
            try:
                replies = yield node, MGET, (rs,), NOKW
            except Exception as exc:
                self.failed(node, "get", exc)
                continue
            if node.connects == seen or (yield from self._same_run(node, seen)):
                self.collect(node, ks, rs, replies, out)
        return out

    def _set_many(self, items: Mapping[str, Any], ttl: float | None) -> _fx.Step[list[str]]:
        if ttl == 0:
            return [k for ks in (yield from self._delete(list(items))).values() for k in ks]
        encoded = {k: self.encode(k, v, ttl) for k, v in items.items()}  # all checks before any I/O
        failed: list[str] = []
        for node, ks, raws in (yield from self._plan(list(items))):
            if not (yield from self._write(node, "set", raws, [(node, SETS, ([encoded[k] for k in ks],), NOKW)])):
                failed.extend(ks)
        return failed

    def _delete(self, keys: Sequence[str]) -> _fx.Step[dict[str, list[str]]]:
        failed: dict[str, list[str]] = {}
        for node, ks, raws in (yield from self._plan(keys)):
            chunks = [(node, "unlink", tuple(raws[i : i + 1000]), NOKW) for i in range(0, len(raws), 1000)]
            if not (yield from self._write(node, "delete", raws, chunks)):
                failed[node.name] = ks
        return failed

    def _write(self, node: _Node, op: str, raws: list[bytes], effects: list[_fx.Effect]) -> _fx.Step[bool]:
        """Run a write's effects on ``node``; False, with the keys remembered as dirty, if the
        node is not proven repaired, skipped by its breaker or failing."""
        if not node.verified and not (yield from self._prove(node, op)):
            node.dirty.update(raws)
            return False
        try:
            for effect in effects:
                yield effect
        except Exception as exc:
            self.failed(node, op, exc, raws)
            return False
        if node.dirty:
            node.dirty.difference_update(raws)
        return True

    def _targets(self) -> _fx.Step[list[_Node]]:
        """Every node to scan: the ring's nodes, or a cluster's masters."""
        topo = self._topo
        if topo.cluster is None:
            return list(topo.nodes.values())
        assert topo.entry is not None
        names = yield topo.entry, PRIMARIES, (), NOKW
        return [node for node, _, _ in self._grouped(names, [b""] * len(names), names)]

    def _delete_matching(self, pattern: KeyPattern) -> _fx.Step[tuple[int, list[str]]]:
        match, deleted, failed = pattern.redis(self.namespace), 0, []
        keep = None if pattern.exact_in_redis else self._matcher(pattern)
        try:
            targets = yield from self._targets()
        except Exception as exc:
            assert self._topo.entry is not None
            self.failed(self._topo.entry, "scan", exc)
            return 0, [self._topo.entry.name]
        for node in targets:
            try:
                cursor = 0
                while True:
                    cursor, raws = yield node, SCAN, (cursor, match, 1000), NOKW
                    if type(cursor) is dict:
                        cursor = cursor[node.name]
                    if keep is not None:
                        raws = [r for r in raws if keep(r)]
                    if raws:
                        deleted += int((yield node, "unlink", tuple(raws), NOKW))
                    if not int(cursor):
                        break
            except Exception as exc:
                self.failed(node, "scan", exc)
                failed.append(node.name)
        return deleted, failed

    def _sync_nodes(self) -> _fx.Step[dict[str, int]]:
        out: dict[str, int] = {}
        for node in list(self._topo.nodes.values()):
            if not node.dirty:
                continue
            dirty = list(node.dirty)
            try:
                for i in range(0, len(dirty), 1000):
                    yield node, "unlink", tuple(dirty[i : i + 1000]), NOKW
            except Exception as exc:
                self.failed(node, "sync", exc)
                out[node.name] = -1
                continue
            node.dirty.difference_update(dirty)
            out[node.name] = len(dirty)
        return out

    def _prove_all(self) -> _fx.Step[None]:
        for node in list(self._topo.nodes.values()):
            if not node.verified:
                yield from self._prove(node, "add")

    # -- membership (ring only; migration runs on the sync clients) ------------------------
    def _add(self, url: str, weight: float) -> None:
        topo = self._topo
        if url in topo.nodes or self.cluster:
            raise ConfigurationError("url", f"{url} is already a node (or this is a Redis Cluster: it reshards itself)")
        topo.nodes[url] = self._node(url, url)
        topo.distribution.ring.add(url, weight)
        topo.single = None

    def _remove(self, url: str) -> _Node:
        topo = self._topo
        if url not in topo.nodes or len(topo.nodes) == 1 or self.cluster:
            raise ConfigurationError("url", f"{url} is not a removable node (the last node stays)")
        topo.distribution.ring.remove(url)
        node = topo.nodes.pop(url)
        if len(topo.nodes) == 1:
            topo.single = next(iter(topo.nodes.values()))
        return node

    def _sync_clients(self) -> dict[str, Any]:
        _fx.run(self._prove_all())
        return {n.name: n.client if n.client is not None else n.open(False) for n in self._topo.nodes.values()}

    def _migrate(self, gone: _Node | None = None) -> RebalanceReport:
        """Move keys to their owners on the ring (sync clients; ``gone``: a node just removed)."""
        clients = self._sync_clients()
        if gone is not None:
            clients[gone.name] = gone.client if gone.client is not None else gone.open(False)
        report = self.distribution.rebalance(clients, match=KeyPattern("*").redis(self.namespace))
        if report.failed:
            log.error("rebalance left keys in place (served as misses): %s",
                      {k: len(v) for k, v in report.failed.items()})
        return report


class DistributedCache(L2Base):
    """L2 over Redis nodes, sync shell (:meth:`asyncio` gives the asyncio shell over the same nodes).

    Takes the arguments of :class:`L2Base`.
    """

    def get_entry(self, key: str) -> tuple[Any, float | None] | None:
        """``(value, expires_at)`` or ``None`` (absent, foreign, expired, or node failing)."""
        return _fx.run(self._get_entry(key))

    def distributed_get(self, key: str, default: Any = None) -> Any:
        """The value of ``key`` from its node, or ``default``; never raises for Redis faults."""
        entry = _fx.run(self._get_entry(key))
        return default if entry is None else entry[0]

    def get_many(self, keys: Sequence[str]) -> dict[str, tuple[Any, float | None]]:
        """Entries found for ``keys``: one ``MGET`` per node; failing nodes give misses."""
        return _fx.run(self._get_many(keys))

    def distributed_set(self, key: str, value: Any, ttl: float | None = None) -> bool:
        """Store ``value`` for ``ttl`` seconds (``None`` = no expiry); ``False`` if the node failed.

        Raises:
            CacheValueTooLarge: key or value over the limit; nothing is written.
            CacheSerializationError: (a ``TypeError``) the value would not read back unchanged
                (see :mod:`swfast.cache.serializer`).
        """
        return not _fx.run(self._set_many({key: value}, ttl))

    def set_many(self, items: Mapping[str, Any], ttl: float | None = None) -> list[str]:
        """Store many entries, one pipeline per node; returns the keys that were not written."""
        return _fx.run(self._set_many(items, ttl))

    def delete(self, keys: Sequence[str]) -> dict[str, list[str]]:
        """Delete ``keys`` on their nodes; returns, per failing node, its keys (never swallowed)."""
        return _fx.run(self._delete(keys))

    def delete_matching(self, pattern: KeyPattern) -> tuple[int, list[str]]:
        """``SCAN MATCH`` + ``UNLINK`` on every node; returns (deleted, failed node names)."""
        return _fx.run(self._delete_matching(pattern))

    def sync_nodes(self) -> dict[str, int]:
        """Repair nodes that answer again: delete the keys whose writes or deletes they missed.

        Returns:
            Per node name with pending repairs, how many keys were dropped (``-1`` while the
            node still fails or its breaker is open; the keys stay pending).
        """
        return _fx.run(self._sync_nodes())

    def _verify(self, node: _Node, op: str = "get") -> bool:
        """Prove ``node`` repaired for its Redis run now (see :meth:`L2Base._repair`)."""
        return _fx.run(self._prove(node, op))

    def add_node(self, url: str, weight: float = 1.0, *, migrate: bool = True) -> RebalanceReport | None:
        """Add a Redis node to the ring; with ``migrate`` move the keys it now owns onto it."""
        self._add(url, weight)
        return self._migrate() if migrate else None

    def remove_node(self, url: str, *, migrate: bool = True) -> RebalanceReport | None:
        """Take a node off the ring; with ``migrate`` (and the node alive) move its keys to their new owners."""
        node = self._remove(url)
        try:
            return self._migrate(node) if migrate else None
        finally:
            if node.client is not None:
                node.client.close()

    def clients(self) -> dict[str, Any]:
        """Node name to redis-py client, for :meth:`Distribution.rebalance`.

        Each node is proven repaired for its Redis run first (see :meth:`L2Base._repair`), so
        keys migrated onto it are not swept by its first reader.
        """
        return self._sync_clients()

    def asyncio(self) -> Any:
        """The asyncio shell of this L2: same nodes and options, shared per-node state."""
        from .l2_async import AsyncDistributedCache

        return self.shell(AsyncDistributedCache)

    def close(self) -> None:
        """Close this shell's connection pools (the asyncio shell closes its own)."""
        topo = self._topo
        for node in topo.nodes.values():
            if node.client is not None and node.cluster is None:
                node.client.close()
        if topo.cluster is not None and topo.cluster.client is not None:
            topo.cluster.client.close()


__all__ = ["DistributedCache", "L2Base"]

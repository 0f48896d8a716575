"""The tiered cache: one front over L1 (memory), L2 (Redis) and L3 (disk).

``smart_get`` reads L1 → L2 → L3 → loader. A hit in a lower tier is copied upward with its
*remaining* lifetime (never extended; L1 also caps it at ``l1_ttl``, the maximum local TTL that
keeps a missed cross-process invalidation from living forever). A stored ``None`` is a hit.

Guarantees:

* Single flight: concurrent misses on one key run one lower-tier read and at most one loader
  call, in threads (:meth:`TieredCache.smart_get`) and in asyncio tasks
  (:meth:`TieredCache.asmart_get`); cancelling one waiting task never cancels the load.
* Invalidation wins races: ``invalidate`` bumps the key's generation; a load that started
  before it does not store its result (and removes what it wrote to L2/L3 if the bump came
  during the write). After ``invalidate`` returns, no tier in this process returns the old value.
* Tier isolation: a tier that raises is a miss, counted in ``swfast_cache_tier_errors_total``;
  ``smart_get`` raises only the loader's own error.
* Other processes drop their L1 copies through :mod:`swfast.cache.invalidation`.

Thread safety: safe from many threads; one internal lock guards the flight table and the
generation check-and-store, never held during I/O or a loader call.
"""
from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import threading
import time
import warnings
from datetime import timedelta
from typing import Any, Awaitable, Callable, Generator, Iterable, ParamSpec, Sequence, TypeVar

from .._native.front import TierFront
from .._durations import seconds
from ..errors import CacheValueTooLarge, ConfigurationError
from ..monitoring.metrics import REGISTRY
from .._redact import redact_text
from .envelope import _json_dumps, encode_once
from .pattern import KeyPattern
from .serializer import Serializer, check_serializer
from .policy import MAX_TTL, InvalidationReport, PlacementPolicy, Priority, parse_ttl
from .analytics import TierStats
from .tiers import RedisTier, SQLiteTier, Tier

P = ParamSpec("P")
R = TypeVar("R")
log = logging.getLogger("swfast.cache.manager")
_INF = float("inf")
TIER_ERRORS = REGISTRY.counter("swfast_cache_tier_errors_total", "tier operations that failed (served as misses)",
                               ("tier", "op"))


_MISS: Any = object()
_GET, _LOAD, _STORE = "get", "load", "store"  # the effects of TieredCache._fill


class _Soft:
    """An L1 value with a soft deadline (stale-while-revalidate)."""

    __slots__ = ("value", "soft")

    def __init__(self, value: Any, soft: float) -> None:
        self.value, self.soft = value, soft


class _Flight:
    """One in-flight miss. ``event`` is made (under the manager's lock) only when a second caller
    joins, so a miss nobody waits for creates no ``threading.Event``."""

    __slots__ = ("event", "value", "exc")

    def __init__(self) -> None:
        self.event: threading.Event | None = None
        self.value: Any = _MISS
        self.exc: BaseException | None = None


def _size(value: Any) -> int:
    if isinstance(value, (bytes, bytearray, str)):
        return len(value)
    try:
        return len(_json_dumps(value))
    except TypeError:
        return 0


def _apply_serializer(serializer: Serializer | None, tiers: dict[str, Any]) -> None:
    """Give each lower tier ``serializer``; a tier with a different one is a configuration error."""
    if serializer is None:
        return
    for name, tier in tiers.items():
        codec = getattr(tier, "codec", None)
        if codec is None:
            continue
        if codec.serializer is not None and codec.serializer != serializer:
            raise ConfigurationError("serializer", f"{name} already has serializer {codec.serializer!r}; "
                                                   "give the same one or leave one of them unset")
    for tier in tiers.values():
        codec = getattr(tier, "codec", None)
        if codec is not None:
            codec.serializer = serializer


_FROM_ENV: Any = object()  # TieredCache(l2=...) not given: the L2 of SWFAST_REDIS_URL, if set


class TieredCache(TierFront):
    """L1 → L2 → L3 cache with promotion, single flight and invalidation.

    Args:
        l1: an ``L1Cache``-compatible object; ``None`` builds ``L1Cache(l1_maxsize)``.
        l2: the shared tier, or ``None`` (no L2). Not given: a
            :class:`~swfast.cache.l2.DistributedCache` over the comma-separated node URLs of
            ``SWFAST_REDIS_URL`` when it is set (clients connect on first use; a node that does
            not answer is counted and logged as an L2 error, never replaced by another store),
            else no L2. A Redis Cluster is given explicitly (``DistributedCache(url,
            cluster=True)``). Given: a :class:`~swfast.cache.l2.DistributedCache` or its
            :class:`~swfast.cache.l2_async.AsyncDistributedCache` shell, either way one L2
            serving both the sync methods and the async ones (async reads use its asyncio
            shell over the same nodes; writes run in a worker thread).
        l3: a :class:`~swfast.cache.l3.PersistentCache`, or ``None``.
        al2: deprecated (a :class:`DeprecationWarning`): an asyncio shell for async reads,
            now made from ``l2`` itself; one given is made to share ``l2``'s per-node state.
        l1_maxsize: entries of the default L1.
        l1_ttl: maximum lifetime of an L1 copy (seconds, timedelta or ``"1m"``; ``> 0``)
            while a lower tier exists: it bounds how long a copy can outlive a missed
            cross-process invalidation. Default: the given ``l1``'s own ``ttl``, else 60 s.
            An L1-only cache has no shared copy to go stale, so there it caps nothing and
            values live for their own ``ttl``.
        default_ttl: lifetime when ``smart_set``/a loader gives none (``None`` = no expiry).

    Lifetimes (``ttl``, ``default_ttl``, ``soft_ttl``) are finite and at most 100 years;
    ``inf``/NaN/negative values raise :class:`~swfast.errors.ConfigurationError` (write
    ``None`` for "no expiry").
        soft_ttl: seconds after which an L1 hit is served stale while one refresh runs
            (needs a loader at the call); ``None`` disables it.
        policy: where ``smart_set`` places values.
        tracker: a :class:`~swfast.cache.usage.UsageTracker` fed every ``smart_get`` key.
        clock: wall clock (Unix seconds), matching the tiers' expiry stamps.
        monotonic: clock for soft deadlines.
        serializer: how ``l2``/``l3`` store values other than bytes/str/exact JSON data
            (e.g. :class:`~swfast.cache.serializer.TaggedSerializer` for tuples, non-str
            dict keys, sets, datetimes, Decimals, numpy arrays); set on each given lower tier
            that has none. Without one such values raise
            :class:`~swfast.errors.CacheSerializationError` at ``smart_set``.
    """

    def __init__(
        self,
        *,
        l1: Any = None,
        l2: Any = _FROM_ENV,
        l3: Any = None,
        al2: Any = None,
        l1_maxsize: int = 10_000,
        l1_ttl: float | str | None = None,
        default_ttl: float | str | None = 3600.0,
        soft_ttl: float | str | None = None,
        policy: PlacementPolicy | None = None,
        tracker: Any = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        serializer: Serializer | None = None,
    ) -> None:
        if l2 is _FROM_ENV:
            from .. import config as _config

            env_urls = _config.redis_url()
            if env_urls and al2 is None:
                from .l2 import DistributedCache

                l2 = DistributedCache([u.strip() for u in env_urls.split(",") if u.strip()])
            else:
                l2 = None
        if al2 is not None:
            warnings.warn("TieredCache(al2=...) is deprecated: give the L2 once as l2= (it serves the "
                          "async methods through its asyncio shell)", DeprecationWarning, stacklevel=2)
            if l2 is not None:
                al2.share_state(l2)  # one breaker and one dirty set per node for both shells
            else:
                l2 = al2
        _apply_serializer(check_serializer(serializer), {"l2": l2, "l3": l3, "al2": al2})
        if l1 is None:
            from .l1 import L1Cache  # type: ignore[import-not-found, unused-ignore]

            l1 = L1Cache(l1_maxsize)
        l2_tier = RedisTier(l2, al2) if l2 is not None else None
        #: the lower tiers, top first: every lower-tier operation is a loop over them
        self.tiers: tuple[Tier, ...] = tuple(t for t in (l2_tier, SQLiteTier(l3) if l3 is not None else None)
                                             if t is not None)
        self.l1, self.l3 = l1, l3
        self.l2 = l2_tier.sync if l2_tier is not None else None
        self.al2 = l2_tier.aio if l2_tier is not None else None
        if l1_ttl is None:
            own = getattr(l1, "ttl", None)  # an L1Cache(ttl=...) passed in keeps its lifetime
            l1_ttl = own if isinstance(own, (int, float)) and not isinstance(own, bool) and own > 0 else 60.0
        self.l1_ttl = float(seconds(l1_ttl, param="l1_ttl", allow_zero=False))  # type: ignore[arg-type]
        if self.l1_ttl > MAX_TTL:
            raise ConfigurationError("l1_ttl", "must be at most 100 years")
        self._capped = bool(self.tiers)
        self._l2_tier = next((t for t in self.tiers if t.name == "l2"), None)  # for the placement policy
        self._has_l3 = any(t.name == "l3" for t in self.tiers)
        self.default_ttl = parse_ttl(default_ttl, param="default_ttl")
        self.soft_ttl = parse_ttl(soft_ttl, param="soft_ttl")
        self.policy = policy or PlacementPolicy()
        self.clock, self.monotonic = clock, monotonic
        self.stats = TierStats(lambda: self.l1_hits)
        self.tracker = tracker
        self.l1_hits = 0
        self._soft_type = _Soft
        self.bus: Any = None
        self._lock = threading.Lock()
        self._flights: dict[Any, _Flight] = {}
        self._aflights: dict[Any, asyncio.Future[Any]] = {}
        self._gens: dict[Any, int] = {}
        self._epoch = 0
        self._refreshing: set[Any] = set()
        self._tasks: set[asyncio.Future[Any]] = set()
        self._l1_get = l1.fast_get
        self._on_soft, self._on_miss = self._soft_hit, self._miss_path  # the compiled front's slow paths

    # -- tier helpers (every tier failure is a counted miss) -------------------------------
    def _err(self, tier: str, op: str, exc: BaseException) -> None:
        TIER_ERRORS.labels(tier, op).inc()
        self.stats.error(tier)
        log.warning("cache tier %s %s failed: %s: %s", tier, op, type(exc).__name__, redact_text(str(exc)))

    def _remaining(self, expires_at: float | None) -> float | None:
        return None if expires_at is None else expires_at - self.clock()

    def _l1_put(self, key: Any, value: Any, remaining: float | None) -> None:
        if self._capped:
            ttl = self.l1_ttl if remaining is None else min(remaining, self.l1_ttl)
        else:  # L1 only: the value's own lifetime (inf = no expiry)
            ttl = _INF if remaining is None else remaining
        if ttl <= 0:
            return
        if self.soft_ttl is not None and self.soft_ttl < ttl:
            value = _Soft(value, self.monotonic() + self.soft_ttl)
        try:
            self.l1.fast_set(key, value, ttl)
        except Exception as exc:
            self._err("l1", "set", exc)

    def _l1_read(self, key: Any) -> Any:
        """The L1 copy of ``key`` or ``_MISS``; an L1 that raises is a counted miss."""
        try:
            return self._l1_get(key, _MISS)
        except Exception as exc:
            self._err("l1", "get", exc)
            return _MISS

    def _l1_drop(self, keys: Iterable[Any]) -> None:
        pop = self.l1.pop
        for k in keys:
            try:
                pop(k, None)
            except Exception as exc:
                self._err("l1", "delete", exc)

    def _token(self, key: Any) -> tuple[int, int]:
        self._gens.setdefault(key, 0)
        return self._epoch, self._gens[key]

    def _current(self, key: Any, token: tuple[int, int]) -> bool:
        return token == (self._epoch, self._gens.get(key, -1))

    def _release(self, key: Any) -> None:
        if key not in self._flights and key not in self._aflights and key not in self._refreshing:
            self._gens.pop(key, None)

    def _lower(self, key: Any) -> tuple[Any, float | None, str] | None:
        """Read the lower tiers top first (sync); ``(value, expires_at, tier)`` or ``None``."""
        return self._run_fill(self._read_lower(key))  # type: ignore[no-any-return]

    def _read_lower(self, key: Any) -> Generator[tuple[str, Any], Any, tuple[Any, float | None, str] | None]:
        """The lower-tier read, sans I/O: a tier that raises is a counted miss."""
        for tier in self.tiers:
            try:
                entry = yield _GET, (tier, key)
            except Exception as exc:
                self._err(tier.name, "get", exc)
                continue
            if self._fresh(tier, entry):
                return entry[0], entry[1], tier.name
        return None

    def _fresh(self, tier: Tier, entry: tuple[Any, float | None] | None) -> bool:
        if entry is not None and (entry[1] is None or entry[1] > self.clock()):
            return True
        self.stats.miss(tier.name)  # absent, or expired since the tier checked it
        return False

    def _store_loaded(self, key: Any, value: Any, ttl: float | None, token: tuple[int, int],
                      found: tuple[Any, float | None, str] | None) -> None:
        """Store a loaded (``found is None``) or promoted value, unless invalidated meanwhile."""
        wrote: list[str] = []
        if found is not None:
            value, expires_at, tier = found
            remaining = self._remaining(expires_at)
            if remaining is not None and remaining <= 0:
                return  # expired since it was read: a miss, nothing to promote
            if self._current(key, token):  # copied up into the lower tiers above the one that had it
                wrote = self._write(self._above(tier), key, value, remaining, promote=True)
        else:
            remaining = ttl
            with encode_once(value):  # sized by the policy and written: one JSON encoding
                tiers = self._placement("normal", ttl, value)
                if self._current(key, token):
                    wrote = self._write(tuple(t for t in tiers if t != "l1"), key, value, ttl)
        with self._lock:
            if self._current(key, token):
                self._l1_put(key, value, remaining)
                return
        if wrote:
            # Invalidated or overwritten while we wrote: our write may have landed after the
            # newer one, so remove it (a later read misses rather than sees a stale value).
            self._wipe_lower(key)

    def _placement(self, priority: Priority, ttl: float | None, value: Any) -> tuple[str, ...]:
        l2 = self._l2_tier
        return self.policy.tiers(priority, ttl, _size(value), has_l2=l2 is not None, has_l3=self._has_l3,
                                 l2_max=l2.max_value_bytes if l2 is not None else 1 << 62)

    def _above(self, name: str) -> tuple[str, ...]:
        """The lower tiers above tier ``name``."""
        names = [t.name for t in self.tiers]
        return tuple(names[: names.index(name)]) if name in names else ()

    def _write(self, tiers: Sequence[str], key: Any, value: Any, ttl: float | None,
               promote: bool = False) -> list[str]:
        written = []
        for tier in self.tiers:
            if tier.name not in tiers:
                continue
            try:
                ok = not tier.set_many({key: value}, ttl)
            except (CacheValueTooLarge, TypeError, ValueError):
                if promote:  # the value lives in a lower tier it fits; this one is skipped
                    continue
                raise
            except Exception as exc:
                self._err(tier.name, "set", exc)
                continue
            if ok:
                written.append(tier.name)
        return written

    def _wipe_lower(self, key: Any, tiers: Sequence[str] | None = None) -> InvalidationReport:
        return self._remove([key], tiers)

    def _remove(self, keys: list[Any], tiers: Sequence[str] | None = None) -> InvalidationReport:
        """Delete ``keys`` from the lower tiers (all, or those named); failures in the report."""
        report = InvalidationReport(requested=len(keys))
        for tier in self.tiers:
            if tiers is not None and tier.name not in tiers:
                continue
            try:
                removed, failures = tier.delete(keys)
            except Exception as exc:
                self._err(tier.name, "delete", exc)
                report.add_failure(tier.name, keys)
                continue
            report.removed += removed
            for node, failed in failures.items():
                report.add_failure(node, failed)
        return report

    # -- reads -----------------------------------------------------------------------------
    # smart_get itself is TierFront.smart_get (compiled): it serves L1 hits and calls these two
    # through the callbacks set in __init__.
    def _soft_hit(self, key: Any, v: _Soft, loader: Callable[[], Any] | None, ttl: Any) -> Any:
        if loader is not None and v.soft <= self.monotonic():
            self._refresh(key, loader, ttl)
        self.l1_hits += 1
        return v.value

    def _miss_path(self, key: Any, loader: Callable[[], Any] | None, ttl: Any, default: Any,
                   l1_failed: bool) -> Any:
        if l1_failed:
            TIER_ERRORS.labels("l1", "get").inc()
            self.stats.error("l1")
            log.warning("cache tier l1 get raised for %r; served as a miss", key)
        elif self.tracker is not None:
            self.tracker.track_usage(key)
            v = self._l1_read(key)
            if v is not _MISS:
                if type(v) is _Soft:
                    return self._soft_hit(key, v, loader, ttl)
                self.l1_hits += 1
                return v
        self.stats.miss("l1")
        return self._miss(key, loader, parse_ttl(ttl) if ttl is not None else self.default_ttl, default)

    def _miss(self, key: Any, loader: Callable[[], Any] | None, ttl: float | None, default: Any) -> Any:
        with self._lock:
            joined = self._flights.get(key)
            leader = joined is None
            if joined is None:
                flight = self._flights[key] = _Flight()
                token = self._token(key)
            else:
                flight = joined
                if flight.event is None:
                    flight.event = threading.Event()
            event = flight.event
        if not leader:
            assert event is not None
            event.wait()
            if flight.exc is not None:
                raise flight.exc
            return default if flight.value is _MISS else flight.value
        try:
            flight.value = self._run_fill(self._fill(key, loader, ttl, token))
        except BaseException as exc:
            flight.exc = exc
            raise
        finally:
            with self._lock:
                del self._flights[key]
                self._release(key)
                event = flight.event  # no follower can join once the flight is gone
            if event is not None:
                event.set()
        return default if flight.value is _MISS else flight.value

    # -- one fill for both shells: lower-tier read, else the loader, then the store (sans I/O)
    def _fill(self, key: Any, loader: Callable[[], Any] | None, ttl: float | None, token: tuple[int, int],
              read_lower: bool = True) -> Generator[tuple[str, Any], Any, Any]:
        """Yields ``(_GET, (tier, key))``, ``(_LOAD, loader)`` and ``(_STORE, args of _store_loaded)``;
        :meth:`_run_fill` runs them in the calling thread, :meth:`_arun_fill` keeps the event loop
        free. Returns the value found or loaded, or ``_MISS``."""
        if read_lower:
            found = yield from self._read_lower(key)
            if found is not None:
                self.stats.hit(found[2])
                yield _STORE, (key, None, None, token, found)
                return found[0]
        if loader is None:
            return _MISS
        value = yield _LOAD, loader
        self.stats.loads += 1
        yield _STORE, (key, value, ttl, token, None)
        return value

    def _run_fill(self, step: Generator[tuple[str, Any], Any, Any]) -> Any:
        try:
            what, arg = next(step)
            while True:
                if what is _GET:
                    try:
                        out = arg[0].get_entry(arg[1])
                    except Exception as exc:
                        what, arg = step.throw(exc)
                        continue
                elif what is _LOAD:
                    out = arg()
                    if inspect.isawaitable(out):
                        close = getattr(out, "close", None)
                        if close:
                            close()
                        raise TypeError("loader: returned an awaitable; use asmart_get for async loaders")
                else:
                    out = None
                    self._store_loaded(*arg)
                what, arg = step.send(out)
        except StopIteration as stop:
            return stop.value

    async def _arun_fill(self, step: Generator[tuple[str, Any], Any, Any]) -> Any:
        try:
            what, arg = next(step)
            while True:
                if what is _GET:  # L2 on its asyncio shell, L3 in a worker thread
                    try:
                        out = await arg[0].aget_entry(arg[1])
                    except Exception as exc:
                        what, arg = step.throw(exc)
                        continue
                elif what is _LOAD:
                    out = arg()
                    if inspect.isawaitable(out):
                        out = await out
                else:
                    out = None
                    if arg[4] is not None and not self._above(arg[4][2]):
                        self._store_loaded(*arg)  # a top-tier hit is copied to L1 only: no I/O
                    else:
                        await asyncio.to_thread(self._store_loaded, *arg)  # tier writes: off the loop
                what, arg = step.send(out)
        except StopIteration as stop:
            return stop.value

    def _refresh(self, key: Any, loader: Callable[[], Any], ttl: Any, aio: bool = False) -> None:
        """Start one background refresh of a soft-expired key (stale-while-revalidate): in a
        thread, or (``aio``) in a task on the running loop."""
        with self._lock:
            if key in self._refreshing:
                return
            self._refreshing.add(key)
            token = self._token(key)

        def step() -> Generator[tuple[str, Any], Any, Any]:
            return self._fill(key, loader, parse_ttl(ttl) if ttl is not None else self.default_ttl, token, False)

        def done(exc: BaseException | None) -> None:
            if exc is not None:
                log.warning("background refresh of %r failed; the stale value stays until its TTL: %s", key, exc)
            with self._lock:
                self._refreshing.discard(key)
                self._release(key)

        if aio:
            async def arun() -> None:
                try:
                    await self._arun_fill(step())
                except Exception as exc:
                    return done(exc)
                done(None)

            task = asyncio.ensure_future(arun())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return

        def run() -> None:
            try:
                self._run_fill(step())
            except Exception as exc:
                return done(exc)
            done(None)

        threading.Thread(target=run, name=f"swfast-refresh-{key}", daemon=True).start()

    # -- writes and movement -----------------------------------------------------------------
    def smart_set(self, key: Any, value: Any, ttl: Any = None, *, priority: Priority = "normal",
                  tiers: Sequence[str] | None = None) -> tuple[str, ...]:
        """Store ``value`` in the tiers the policy picks (or ``tiers``); returns those written.

        Every configured tier not written (skipped by the policy, or failing) no longer holds
        ``key`` afterwards, so no older copy is served. Other processes drop their L1 copy of
        ``key``; an in-flight load of ``key`` here does not overwrite this value. Every check
        (serialisability, sizes, the key) runs before anything changes: after an error the
        cache is as it was.

        Raises:
            CacheValueTooLarge: the value is too large for a chosen tier (``tiers`` given) or
                for every tier the policy picked; nothing changed.
            CacheSerializationError: (a ``TypeError``) a lower tier cannot store the value so
                that it reads back unchanged (see :mod:`swfast.cache.serializer`); nothing changed.
        """
        seconds = parse_ttl(ttl) if ttl is not None else self.default_ttl
        with encode_once(value):  # sized, checked and written: one JSON encoding of the value
            chosen = list(tiers) if tiers is not None else list(self._placement(priority, seconds, value))
            self._check_lower(chosen, key, value, seconds, explicit=tiers is not None)
            with self._lock:
                self._bump(key)
                self._l1_drop([key])
            lower = tuple(t for t in chosen if t != "l1")
            written = self._write(lower, key, value, seconds)
        stale = [t.name for t in self.tiers if t.name not in written]
        if stale:
            self._wipe_lower(key, stale)  # an older copy there must not be served
        if "l1" in chosen:
            with self._lock:
                self._l1_put(key, value, seconds)
            written.insert(0, "l1")
        if self.bus is not None:
            self.bus.publish_keys([key])
        return tuple(written)

    def _check_lower(self, chosen: list[str], key: Any, value: Any, ttl: float | None, *, explicit: bool) -> None:
        """I/O-free checks of the lower-tier writes; edits ``chosen`` (policy) or raises."""
        for i, tier in enumerate(self.tiers):
            if tier.name not in chosen:
                continue
            try:
                tier.check(key, value, ttl)
            except CacheValueTooLarge:
                if explicit:
                    raise
                chosen.remove(tier.name)  # the policy's rule: too large for a tier goes one lower
                below = self.tiers[i + 1 : i + 2]
                if below and below[0].name not in chosen:
                    chosen.append(below[0].name)
        if not explicit and not chosen:
            raise CacheValueTooLarge(f"value: too large for every tier of this cache (key {key!r})")

    def _bump(self, key: Any) -> None:
        if key in self._gens:
            self._gens[key] += 1

    def promote(self, key: Any, to: str = "l1") -> bool:
        """Copy ``key`` from the highest lower tier holding it up to ``to``, keeping its expiry."""
        found = self._lower(key) if to in ("l1", "l2") else None
        if found is None:
            return False
        value, expires_at, tier = found
        remaining = self._remaining(expires_at)
        if remaining is not None and remaining <= 0:
            return False  # expired since it was read
        if self._above(tier):  # copied into every lower tier above the one that had it
            self._write(self._above(tier), key, value, remaining, promote=True)
        if to == "l1":
            with self._lock:
                self._l1_put(key, value, remaining)
        return True

    def demote(self, key: Any, to: str = "l3") -> bool:
        """Move ``key`` down to ``to`` (``"l2"`` or ``"l3"``), removing it from the tiers above."""
        value: Any = _MISS
        remaining: float | None = None
        found = self._lower(key)  # the entry's own expiry lives in the lower tiers
        if found is not None:
            value, remaining = found[0], self._remaining(found[1])
        else:  # only in L1: its copy's lifetime is all there is (uncapped in an L1-only cache)
            try:
                v = self.l1.fast_get(key, _MISS)
                if v is not _MISS:
                    value = v.value if type(v) is _Soft else v
                    remaining = self.l1.remaining_ttl(key)
            except Exception as exc:
                self._err("l1", "get", exc)
        if value is _MISS or (remaining is not None and remaining <= 0):
            return False
        if not self._write((to,), key, value, remaining):
            return False
        with self._lock:
            self._bump(key)
            self._l1_drop([key])
        if self._above(to):
            self._remove([key], self._above(to))
        return True

    # -- invalidation ----------------------------------------------------------------------
    def invalidate(self, key: Any) -> InvalidationReport:
        """Remove ``key`` from every tier and node, here and in other processes' L1."""
        return self.batch_invalidate([key])

    def batch_invalidate(self, keys: Sequence[Any]) -> InvalidationReport:
        """Remove ``keys`` everywhere; the report lists keys a tier or node could not remove."""
        keys = list(keys)
        self.drop_local(keys)
        report = self._remove(keys)
        if self.bus is not None and not self.bus.publish_keys(keys):
            report.add_failure("bus", keys)
        if not report.ok:
            log.error("invalidation incomplete: %s", {redact_text(k): len(v) for k, v in report.failed.items()})
        return report

    def pattern_invalidate(self, pattern: str | KeyPattern) -> InvalidationReport:
        """Remove every key matching ``pattern`` (``*``/``?`` wildcards, all else literal)."""
        pat = pattern if isinstance(pattern, KeyPattern) else KeyPattern(pattern)
        self.drop_matching(pat)
        report = InvalidationReport(requested=1)
        for tier in self.tiers:
            try:
                n, failed = tier.delete_matching(pat)
            except Exception as exc:
                self._err(tier.name, "scan", exc)
                report.add_failure(tier.name, [pat.text])
                continue
            report.removed += n
            for node in failed:
                report.add_failure(node, [pat.text])
        if self.bus is not None and not self.bus.publish_pattern(pat.text):
            report.add_failure("bus", [pat.text])
        return report

    def drop_local(self, keys: Iterable[Any]) -> None:
        """Drop ``keys`` from this process's L1 and make in-flight loads of them not store."""
        with self._lock:
            for k in keys:
                self._bump(k)
                self._l1_drop([k])

    def drop_matching(self, pattern: KeyPattern) -> None:
        """Drop L1 keys matching ``pattern``; in-flight loads of any key will not store."""
        with self._lock:
            self._epoch += 1
            try:
                doomed = [k for k in list(self.l1) if isinstance(k, str) and pattern.matches(k)]
            except Exception as exc:
                self._err("l1", "scan", exc)
                doomed = []
                self.l1.clear()
            self._l1_drop(doomed)

    def clear_local(self) -> None:
        """Empty this process's L1 (the rule when the invalidation connection is lost)."""
        with self._lock:
            self._epoch += 1
            try:
                self.l1.clear()
            except Exception as exc:
                self._err("l1", "clear", exc)

    # -- asyncio ---------------------------------------------------------------------------
    async def asmart_get(self, key: Any, loader: Callable[[], Any] | None = None, *, ttl: Any = None,
                         default: Any = None) -> Any:
        """Async :meth:`smart_get`: ``loader`` may be sync or async; one load per key per loop."""
        if self.tracker is not None:
            self.tracker.track_usage(key)
        v = self._l1_read(key)
        if v is not _MISS:
            self.l1_hits += 1
            if type(v) is _Soft:
                if loader is not None and v.soft <= self.monotonic():
                    self._refresh(key, loader, ttl, aio=True)
                return v.value
            return v
        self.stats.miss("l1")
        fut = self._aflights.get(key)
        if fut is None or fut.get_loop() is not asyncio.get_running_loop():
            with self._lock:
                token = self._token(key)
            seconds = parse_ttl(ttl) if ttl is not None else self.default_ttl
            fut = asyncio.ensure_future(self._aload(key, loader, seconds, token))
            fut.add_done_callback(functools.partial(self._adone, key))
            self._aflights[key] = fut
        value = await asyncio.shield(fut)
        return default if value is _MISS else value

    def _adone(self, key: Any, fut: asyncio.Future[Any]) -> None:
        if not fut.cancelled():
            fut.exception()  # retrieved here; waiters re-raise it
        with self._lock:
            if self._aflights.get(key) is fut:
                del self._aflights[key]
            self._release(key)

    async def _aload(self, key: Any, loader: Callable[[], Any] | None, ttl: float | None,
                     token: tuple[int, int]) -> Any:
        return await self._arun_fill(self._fill(key, loader, ttl, token))

    async def asmart_set(self, key: Any, value: Any, ttl: Any = None, *, priority: Priority = "normal",
                         tiers: Sequence[str] | None = None) -> tuple[str, ...]:
        """Async :meth:`smart_set` (the tier writes run in a worker thread)."""
        return await asyncio.to_thread(self.smart_set, key, value, ttl, priority=priority, tiers=tiers)

    async def ainvalidate(self, key: Any) -> InvalidationReport:
        """Async :meth:`invalidate`: local L1 is dropped before the first await."""
        self.drop_local([key])
        return await asyncio.to_thread(self.batch_invalidate, [key])


    def cached(self, key: str | Callable[..., str] | None = None, *,
               ttl: float | str | timedelta | None = None) -> Callable[[Callable[P, R]], Callable[P, R]]:
        """Decorator memoizing a sync or async function through this cache (see :mod:`.memoize`);
        the wrapper keeps the function's signature (an ``async def`` stays awaitable)."""
        from .memoize import cached_over

        return cached_over(self, key=key, ttl=ttl)

    def close(self) -> None:
        """Stop the invalidation bus (if any); tiers are closed by their owner."""
        if self.bus is not None:
            self.bus.close()

    async def aclose(self) -> None:
        """:meth:`close`, then close the asyncio L2 clients this cache opened for its async
        reads (in the loop that used them; the tiers themselves stay their owner's to close)."""
        self.close()
        for tier in self.tiers:
            await tier.aclose()


Loader = Callable[[], Any] | Callable[[], Awaitable[Any]]
__all__ = ["Loader", "TieredCache"]

"""Revocation and refresh-family state for tokens: in memory or shared through Redis.

A store answers three questions: is this ``jti`` or this refresh family revoked, and may this
refresh token be rotated (atomic compare-and-set of the family's current ``jti``). The Redis
store makes a revocation visible to every process at once (one round trip per check); Redis
errors fail closed with :class:`~swfast.errors.ServiceUnavailable`.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable, Protocol

from ..errors import ServiceUnavailable
from .events import security_event

LOGGER = logging.getLogger("swfast.security")


class RevocationStore(Protocol):
    """What :class:`~swfast.security.tokens.TokenManager` needs from a store."""

    def is_revoked(self, jti: "str | None", family: "str | None") -> bool: ...
    def revoke(self, jti: str, expires_at: float) -> None: ...
    def revoke_family(self, family: str, expires_at: float) -> None: ...
    def start_family(self, family: str, jti: str, expires_at: float) -> None: ...
    def rotate(self, family: str, presented: str, new: str, expires_at: float) -> bool: ...


class MemoryRevocationStore:
    """Single-process store; expired entries are purged as the store grows. Thread-safe.

    Args:
        clock: wall clock used to purge entries past their expiry.
    """

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._revoked: dict[str, float] = {}
        self._families: dict[str, tuple[str, float]] = {}
        self._revoked_families: dict[str, float] = {}
        self._next_purge = 1024

    def is_revoked(self, jti: "str | None", family: "str | None") -> bool:
        return (jti is not None and jti in self._revoked) or (
            family is not None and family in self._revoked_families
        )

    def _maybe_purge(self) -> None:
        size = len(self._revoked) + len(self._families) + len(self._revoked_families)
        if size < self._next_purge:
            return
        now = self._clock()
        for table in (self._revoked, self._revoked_families):
            for k in [k for k, exp in table.items() if exp < now]:
                del table[k]
        for k in [k for k, (_, exp) in self._families.items() if exp < now]:
            del self._families[k]
        self._next_purge = max(1024, 2 * (len(self._revoked) + len(self._families) + len(self._revoked_families)))

    def revoke(self, jti: str, expires_at: float) -> None:
        with self._lock:
            self._revoked[jti] = expires_at
            self._maybe_purge()

    def revoke_family(self, family: str, expires_at: float) -> None:
        with self._lock:
            self._revoked_families[family] = expires_at
            self._families.pop(family, None)
            self._maybe_purge()

    def start_family(self, family: str, jti: str, expires_at: float) -> None:
        with self._lock:
            self._families[family] = (jti, expires_at)
            self._maybe_purge()

    def rotate(self, family: str, presented: str, new: str, expires_at: float) -> bool:
        with self._lock:
            current = self._families.get(family)
            if current is None or current[0] != presented:
                return False
            self._families[family] = (new, expires_at)
            return True


_ROTATE_LUA = """
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
"""


class RedisRevocationStore:
    """Store shared by every process through Redis. Keys live until the token would expire.

    Args:
        client: a redis-py ``Redis`` client (or pass ``url``).
        url: ``redis://host:port/db`` used when ``client`` is None.
        prefix: key prefix.
        clock: wall clock for converting expiry times to TTLs.
    """

    def __init__(
        self, client: Any = None, *, url: "str | None" = None, prefix: str = "swfast:tok:",
        clock: Callable[[], float] = time.time,
    ) -> None:
        if client is None:
            from .._optional import require

            redis = require("redis", "redis", feature="RedisRevocationStore(url=...)")
            client = redis.Redis.from_url(url or "redis://127.0.0.1:6379/0", socket_timeout=2)
        self._r = client
        self._p = prefix
        self._clock = clock
        self._rotate = client.register_script(_ROTATE_LUA)

    def _ttl_ms(self, expires_at: float) -> int:
        return max(1000, int((expires_at - self._clock()) * 1000) + 1000)

    def _call(self, what: str, fn: Callable[[], Any]) -> Any:
        import redis

        try:
            return fn()
        except redis.RedisError as exc:
            security_event("revocation_store", "unavailable", level=logging.WARNING, op=what)
            raise ServiceUnavailable(f"revocation store: redis {what} failed ({type(exc).__name__}); failing closed") from None

    def is_revoked(self, jti: "str | None", family: "str | None") -> bool:
        keys = []
        if jti is not None:
            keys.append(f"{self._p}rev:{jti}")
        if family is not None:
            keys.append(f"{self._p}famrev:{family}")
        if not keys:
            return False
        return bool(self._call("exists", lambda: self._r.exists(*keys)))

    def revoke(self, jti: str, expires_at: float) -> None:
        self._call("set", lambda: self._r.set(f"{self._p}rev:{jti}", b"1", px=self._ttl_ms(expires_at)))

    def revoke_family(self, family: str, expires_at: float) -> None:
        def op() -> None:
            pipe = self._r.pipeline()
            pipe.set(f"{self._p}famrev:{family}", b"1", px=self._ttl_ms(expires_at))
            pipe.delete(f"{self._p}fam:{family}")
            pipe.execute()

        self._call("revoke_family", op)

    def start_family(self, family: str, jti: str, expires_at: float) -> None:
        self._call("set", lambda: self._r.set(f"{self._p}fam:{family}", jti, px=self._ttl_ms(expires_at)))

    def rotate(self, family: str, presented: str, new: str, expires_at: float) -> bool:
        return bool(self._call("rotate", lambda: self._rotate(
            keys=[f"{self._p}fam:{family}"], args=[presented, new, self._ttl_ms(expires_at)],
        )))


__all__ = ["MemoryRevocationStore", "RedisRevocationStore", "RevocationStore"]

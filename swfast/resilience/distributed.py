"""A token bucket shared across processes in Redis, updated atomically by one Lua script.

Each ``try_acquire`` is one ``EVALSHA`` that refills and takes in a single atomic step on the
server, using the server's ``TIME`` (so processes need not agree on a clock) unless a ``now``
is injected. Buckets expire once they would be full again, so idle keys cost nothing.

When Redis fails, the limiter degrades instead of raising into the caller: by default to a
local in-process bucket with the same rate and burst (``on_error="local"``), or it admits
(``"allow"``) or refuses (``"deny"``) everything. The outage is logged once when it starts and
once when Redis answers again, and counted in ``swfast_resilience_ratelimit_redis_errors_total``.

``redis`` is imported by the client you pass in, never by this module at import time.

Thread safety: as thread-safe as the redis client passed in (redis-py clients are).
"""
from __future__ import annotations

import logging
import math
import threading
from typing import Any, Literal

from .._native import bucket as _k
from ..errors import ConfigurationError
from ..monitoring.metrics import REGISTRY
from .ratelimit import _check, _tokens

log = logging.getLogger("swfast.resilience")

_ERRORS = REGISTRY.counter("swfast_resilience_ratelimit_redis_errors_total",
                           "Redis errors seen by distributed rate limiters.", ("name",))

#: KEYS[1] bucket; ARGV rate, capacity, n, now (negative: use Redis TIME). Returns {ok, tokens}.
TOKEN_BUCKET_LUA = """
local rate = tonumber(ARGV[1])
local cap = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local now = tonumber(ARGV[4])
if now < 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local st = redis.call('HMGET', KEYS[1], 't', 'ts')
local tokens = tonumber(st[1])
local ts = tonumber(st[2])
if tokens == nil or ts == nil then
  tokens = cap
  ts = now
end
if now > ts then
  tokens = math.min(cap, tokens + (now - ts) * rate)
  ts = now
end
local ok = 0
if tokens >= n then
  tokens = tokens - n
  ok = 1
end
redis.call('HSET', KEYS[1], 't', string.format('%.17g', tokens), 'ts', string.format('%.17g', ts))
redis.call('PEXPIRE', KEYS[1], math.ceil((cap - tokens) / rate * 1000) + 1000)
return {ok, string.format('%.17g', tokens)}
"""


class RedisRateLimiter:
    """A token bucket (optionally one per key) shared by every process using the same Redis.

    Args:
        client: a ``redis.Redis`` (sync) or ``redis.asyncio.Redis`` client.
        name: the limit's name; keys are ``{prefix}{name}`` or ``{prefix}{name}:{key}``.
        rate: tokens per second (``> 0``).
        burst: capacity (``>= 1``).
        prefix: key prefix in Redis.
        on_error: what to do while Redis fails: ``"local"`` (an in-process bucket), ``"allow"``
            or ``"deny"``.
    """

    def __init__(self, client: Any, name: str, rate: float, burst: float | None = None, *,
                 prefix: str = "swfast:rl:", on_error: Literal["local", "allow", "deny"] = "local") -> None:
        if on_error not in ("local", "allow", "deny"):
            raise ConfigurationError("on_error", f"must be 'local', 'allow' or 'deny', got {on_error!r}")
        if not isinstance(name, str) or not name:
            raise ConfigurationError("name", "must be a non-empty str")
        self.rate, self.burst = _check(rate, burst)
        self.name = name
        self.client = client
        self.on_error = on_error
        self._base = f"{prefix}{name}"
        self._script = client.register_script(TOKEN_BUCKET_LUA)
        self._local = _k.KeyedBuckets(self.rate, self.burst, None, 100_000)
        self._outage = False
        self._lock = threading.Lock()

    def _request(self, n: float | None, key: str | None, now: float | None) -> dict[str, list[Any]]:
        """The script call for taking ``n`` tokens (``None`` reads without taking): the one
        request both :meth:`try_acquire` and :meth:`atry_acquire` send."""
        tokens = "0" if n is None else repr(float(_tokens(n, self.burst)))
        return {"keys": [self._base if key is None else f"{self._base}:{key}"],
                "args": [repr(self.rate), repr(self.burst), tokens, repr(-1.0 if now is None else _now(now))]}

    def _answer(self, reply: Any) -> tuple[bool, float]:
        """``(taken, tokens left)`` from the script's reply; notes that Redis answers again."""
        self._recovered()
        ok, tokens = reply
        return bool(int(ok)), float(tokens)

    def _failed(self, exc: BaseException, key: str | None, n: float) -> bool:
        _ERRORS.labels(self.name).inc()
        with self._lock:
            first, self._outage = not self._outage, True
        if first:
            log.warning("rate limiter %r: Redis failed (%s); degrading to %r until it recovers",
                        self.name, exc, self.on_error)
        if n == 0:
            return False
        if self.on_error == "allow":
            return True
        if self.on_error == "deny":
            return False
        return bool(self._local.try_acquire(key, n))

    def _recovered(self) -> None:
        if self._outage:
            with self._lock:
                was, self._outage = self._outage, False
            if was:
                log.warning("rate limiter %r: Redis answers again; shared limit restored", self.name)

    def try_acquire(self, n: float = 1, *, key: str | None = None, now: float | None = None) -> bool:
        """Take ``n`` tokens from the shared bucket (of ``key``) if available; never waits."""
        request = self._request(n, key, now)
        try:
            reply = self._script(**request)
        except Exception as exc:  # any client or server failure degrades, never raises
            return self._failed(exc, key, n)
        return self._answer(reply)[0]

    async def atry_acquire(self, n: float = 1, *, key: str | None = None, now: float | None = None) -> bool:
        """:meth:`try_acquire` for a ``redis.asyncio`` client."""
        request = self._request(n, key, now)
        try:
            reply = await self._script(**request)
        except Exception as exc:
            return self._failed(exc, key, n)
        return self._answer(reply)[0]

    def available(self, *, key: str | None = None, now: float | None = None) -> float:
        """Tokens in the shared bucket now (takes none); ``-1`` if Redis fails."""
        request = self._request(None, key, now)
        try:
            reply = self._script(**request)
        except Exception as exc:
            self._failed(exc, key, 0)
            return -1.0
        return self._answer(reply)[1]


def _now(now: float) -> float:
    t = float(now)
    if not math.isfinite(t) or t < 0:
        raise ConfigurationError("now", f"must be a finite time >= 0 in seconds, got {now!r}")
    return t


__all__ = ["TOKEN_BUCKET_LUA", "RedisRateLimiter"]

"""Optional breaker state shared across processes in Redis, with atomic updates.

A breaker given ``shared_state=RedisBreakerState(client)`` publishes its CLOSED, OPEN,
FORCED_OPEN and DISABLED transitions to one Redis hash per breaker name with a compare-and-set
Lua script keyed on a version number, so concurrent publishers never overwrite each other: the
loser adopts the winner's state. Every ``sync_interval`` seconds (checked on the call path) a
breaker reads the hash and adopts a newer remote state, so one process opening the circuit
opens it everywhere. HALF_OPEN stays local: each process probes on its own after its wait.
Creating a breaker never writes: a new instance adopts the stored state instead of resetting it.

When Redis fails, the breaker keeps working on its local state (or moves once to
``fallback_state`` if configured) and never raises into the protected call; the outage is
logged once when it starts and once when Redis answers again, and counted in
``swfast_resilience_breaker_shared_errors_total``.

The client is a synchronous ``redis.Redis``; async callers share it (one short round trip per
``sync_interval``).
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable, Protocol

from ..errors import ConfigurationError
from ..monitoring.metrics import REGISTRY
from .._durations import Duration
from ._validate import duration_non_negative
from .history import LOCAL, SHARED, CircuitState, Transition

log = logging.getLogger("swfast.resilience")
_ERRORS = REGISTRY.counter("swfast_resilience_breaker_shared_errors_total",
                           "Redis errors seen by shared breaker state.", ("name",))

#: Prefix of the *reason* of a transition adopted from the shared store, for humans reading
#: logs and history; code tells such transitions by ``Transition.origin == SHARED``.
SHARED_REASON = "shared state: "
_SHARED = (CircuitState.CLOSED, CircuitState.OPEN, CircuitState.FORCED_OPEN, CircuitState.DISABLED)

#: KEYS[1] hash; ARGV expected version, new state, reason. Returns {won, state, version}.
PUBLISH_LUA = """
local v = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if v ~= tonumber(ARGV[1]) then
  return {0, tonumber(redis.call('HGET', KEYS[1], 'state') or '0'), v}
end
local t = redis.call('TIME')
redis.call('HSET', KEYS[1], 'state', ARGV[2], 'version', v + 1, 'reason', ARGV[3],
           'changed_at', t[1] .. '.' .. t[2])
return {1, tonumber(ARGV[2]), v + 1}
"""


class BreakerHandle(Protocol):
    """What shared state needs from the breaker it serves (:class:`~swfast.resilience.CircuitBreaker`)."""

    name: str

    def check_state(self) -> CircuitState:
        """The breaker's current local state."""
        ...  # pragma: no cover - protocol

    def transition(self, to: CircuitState, reason: str, *, origin: str = LOCAL) -> bool:
        """Move the breaker to ``to``; ``origin=SHARED`` marks a state adopted from the store."""
        ...  # pragma: no cover - protocol


class SharedState(Protocol):
    """What a breaker needs from its ``shared_state`` (:class:`RedisBreakerState` is one)."""

    def attach(self, breaker: BreakerHandle) -> None:
        """Bind to ``breaker`` (once, from its constructor) and adopt the stored state."""
        ...  # pragma: no cover - protocol

    def sync(self) -> None:
        """Adopt a newer shared state if one is due (called before each guarded call)."""
        ...  # pragma: no cover - protocol

    def publish(self, t: Transition) -> None:
        """Share the breaker's transition ``t`` (``t.origin == SHARED`` ones are not shared back)."""
        ...  # pragma: no cover - protocol


class RedisBreakerState:
    """Shares one breaker's state through Redis (one instance per breaker).

    Args:
        client: a synchronous ``redis.Redis`` client.
        prefix: key prefix; the hash is ``{prefix}{breaker name}``.
        sync_interval: seconds between reads of the shared state (``0`` reads on every call).
        fallback_state: state to move to once when Redis fails (None keeps the local state).
        clock: monotonic clock for the sync schedule.
    """

    def __init__(self, client: Any, *, prefix: str = "swfast:cb:", sync_interval: Duration = 1.0,
                 fallback_state: CircuitState | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if fallback_state is not None and CircuitState(fallback_state) is CircuitState.HALF_OPEN:
            raise ConfigurationError("fallback_state", "must be CLOSED, OPEN, FORCED_OPEN, DISABLED or None")
        self.client = client
        self.prefix = prefix
        self.sync_interval = duration_non_negative("sync_interval", sync_interval)
        self.fallback_state = fallback_state
        self._clock = clock
        self._script = client.register_script(PUBLISH_LUA)
        self._version = 0
        self._next_sync = 0.0
        self._outage = False
        self._lock = threading.Lock()
        self._breaker: BreakerHandle | None = None
        self._key = ""

    def attach(self, breaker: BreakerHandle) -> None:
        """Bind to ``breaker`` and adopt the stored state (never writes)."""
        if self._breaker is not None:
            raise ConfigurationError("shared_state", "a RedisBreakerState serves one breaker; create one per breaker")
        self._breaker = breaker
        self._key = f"{self.prefix}{breaker.name}"
        self.sync(force=True)

    @property
    def version(self) -> int:
        """Version of the shared state this process last saw."""
        return self._version

    def sync(self, *, force: bool = False) -> None:
        """Adopt a newer shared state if ``sync_interval`` elapsed (or ``force``)."""
        now = self._clock()
        if not force and now < self._next_sync:
            return
        self._next_sync = now + self.sync_interval
        try:
            state, version = self.client.hmget(self._key, "state", "version")
        except Exception as exc:
            self._failed(exc)
            return
        self._recovered()
        if version is not None:
            self._adopt(int(state), int(version))

    def publish(self, t: Transition) -> None:
        """Publish a local transition with compare-and-set; adopt the winner on conflict."""
        if t.origin == SHARED or t.to_state not in _SHARED:
            return
        try:
            won, state, version = self._script(keys=[self._key], args=[self._version, int(t.to_state), t.reason])
        except Exception as exc:
            self._failed(exc)
            return
        self._recovered()
        if int(won):
            with self._lock:
                self._version = max(self._version, int(version))
        else:
            self._adopt(int(state), int(version))

    def _adopt(self, state: int, version: int) -> None:
        with self._lock:
            if version <= self._version:
                return
            self._version = version
        breaker = self._breaker
        if breaker is None:
            return
        local = breaker.check_state()
        remote = CircuitState(state)
        if remote is local or (remote is CircuitState.OPEN and local is CircuitState.HALF_OPEN):
            return
        breaker.transition(remote, f"{SHARED_REASON}adopted {remote.name} (version {version})", origin=SHARED)

    def _failed(self, exc: BaseException) -> None:
        name = self._breaker.name if self._breaker is not None else "?"
        _ERRORS.labels(name).inc()
        with self._lock:
            first, self._outage = not self._outage, True
        if not first:
            return
        log.warning("circuit %r: shared state store failed (%s); using local state%s", name, exc,
                    f", moving to {self.fallback_state.name}" if self.fallback_state is not None else "")
        if self.fallback_state is not None and self._breaker is not None:
            self._breaker.transition(self.fallback_state, f"{SHARED_REASON}store unavailable", origin=SHARED)

    def _recovered(self) -> None:
        if not self._outage:
            return
        with self._lock:
            was, self._outage = self._outage, False
        if was:
            name = self._breaker.name if self._breaker is not None else "?"
            log.warning("circuit %r: shared state store answers again", name)


__all__ = ["PUBLISH_LUA", "SHARED_REASON", "BreakerHandle", "RedisBreakerState", "SharedState"]

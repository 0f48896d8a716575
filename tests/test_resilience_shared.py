"""Breaker state shared through the real Redis fixture (CB-16 and pybreaker's Redis bugs)."""
from __future__ import annotations

import logging

import pytest

from _resilience_helpers import Boom, FakeClock
from swfast.errors import CircuitOpenError, ConfigurationError
from swfast.resilience import CircuitBreaker, CircuitState, RedisBreakerState

S = CircuitState


def fail() -> None:
    raise Boom()


def shared(client, name: str = "shared-db", **kw: object) -> CircuitBreaker:  # type: ignore[no-untyped-def]
    opts: dict[str, object] = dict(window_size=2, minimum_calls=2, clock=FakeClock())
    opts.update(kw)
    return CircuitBreaker(name, shared_state=RedisBreakerState(client, sync_interval=0), **opts)  # type: ignore[arg-type]


def open_it(b: CircuitBreaker) -> None:
    for _ in range(2):
        with pytest.raises(Boom):
            b.call(fail)


def test_open_in_one_process_opens_everywhere(redis_client, redis_server) -> None:  # type: ignore[no-untyped-def]
    import redis

    other_client = redis.Redis(host=redis_server.host, port=redis_server.port)
    a, b = shared(redis_client), shared(other_client)
    assert b.call(lambda: 1) == 1
    open_it(a)
    assert a.check_state() is S.OPEN
    with pytest.raises(CircuitOpenError):
        b.call(lambda: 1)
    assert b.check_state() is S.OPEN and list(b.history)[-1].reason.startswith("shared state: ")  # type: ignore[attr-defined]
    a.reset_breaker()

    @b
    def answer() -> int:
        return 2

    async def aanswer() -> int:
        return 3

    import asyncio

    assert answer() == 2 and b.check_state() is S.CLOSED and answer.__name__ == "answer"
    a.trip_breaker()
    with pytest.raises(CircuitOpenError):
        asyncio.run(b.acall(aanswer))
    with pytest.raises(CircuitOpenError):
        with b.guard():
            pass
    a.reset_breaker()
    assert asyncio.run(b.acall(aanswer)) == 3
    assert a.shared_state.version == b.shared_state.version == 4  # type: ignore[union-attr]
    other_client.close()


def test_new_instance_adopts_instead_of_resetting(redis_client) -> None:  # type: ignore[no-untyped-def]
    a = shared(redis_client, "join")
    a.trip_breaker()
    late = shared(redis_client, "join")
    assert late.check_state() is S.FORCED_OPEN
    assert redis_client.hget("swfast:cb:join", "state") == str(int(S.FORCED_OPEN)).encode()


def test_conflicting_publishers_one_winner(redis_client) -> None:  # type: ignore[no-untyped-def]
    a = shared(redis_client, "race")
    b = CircuitBreaker("race", window_size=2, minimum_calls=2, clock=FakeClock(),
                       shared_state=RedisBreakerState(redis_client, sync_interval=3600))
    a.trip_breaker()  # version 1
    b.disable()  # b has not synced: its compare-and-set on version 0 loses and adopts FORCED_OPEN
    assert b.check_state() is S.FORCED_OPEN
    assert int(redis_client.hget("swfast:cb:race", "version")) == 1


def test_store_down_falls_back_to_local_state_and_logs_once(caplog: pytest.LogCaptureFixture) -> None:
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    from _servers import start_redis

    server = start_redis()
    client = redis.Redis(host=server.host, port=server.port, socket_timeout=0.5, socket_connect_timeout=0.5,
                         retry=Retry(NoBackoff(), 0))
    local = shared(client, "outage", window_size=100, minimum_calls=100)
    strict = CircuitBreaker("outage-strict", shared_state=RedisBreakerState(client, sync_interval=0,
                                                                              fallback_state=S.OPEN))
    server.kill()
    with caplog.at_level(logging.WARNING, logger="swfast.resilience"):
        assert [local.call(lambda: 7) for _ in range(20)] == [7] * 20
        with pytest.raises(Boom):
            local.call(fail)
        with pytest.raises(CircuitOpenError):
            strict.call(lambda: 1)
        with pytest.raises(CircuitOpenError):
            strict.call(lambda: 1)
    outage_logs = [r for r in caplog.records if "shared state store failed" in r.getMessage()]
    assert len([r for r in outage_logs if "'outage'" in r.getMessage()]) == 1
    assert len([r for r in outage_logs if "'outage-strict'" in r.getMessage()]) == 1
    assert local.check_state() is S.CLOSED and strict.check_state() is S.OPEN
    client.close()


def test_one_state_per_breaker(redis_client) -> None:  # type: ignore[no-untyped-def]
    state = RedisBreakerState(redis_client)
    CircuitBreaker("one", shared_state=state)
    with pytest.raises(ConfigurationError, match="shared_state"):
        CircuitBreaker("two", shared_state=state)
    with pytest.raises(ConfigurationError, match="fallback_state"):
        RedisBreakerState(redis_client, fallback_state=S.HALF_OPEN)

"""Rate limiting: RL-1..RL-6 on a fake clock, keyed limits, and the Redis Lua bucket."""
from __future__ import annotations

import asyncio
import logging
import threading

import pytest

from _resilience_helpers import FakeClock
from swfast.errors import ConfigurationError, RateLimitExceeded
from swfast.resilience import KeyedRateLimiter, RateLimiter, RedisRateLimiter


def test_rl1_burst_after_idle_never_exceeds_capacity() -> None:
    clock = FakeClock()
    rl = RateLimiter(5.0, 10, clock=clock)
    assert sum(rl.try_acquire() for _ in range(50)) == 10
    clock.advance(3600.0)
    assert sum(rl.try_acquire() for _ in range(50)) == 10


def test_rl2_long_run_rate() -> None:
    clock = FakeClock(0.0)
    rate, burst = 50.0, 5
    rl = RateLimiter(rate, burst, clock=clock)
    admitted = 0
    for _ in range(10_000):  # 10 s in 1 ms steps, continuous demand
        clock.advance(0.001)
        while rl.try_acquire():
            admitted += 1
    assert rate * 10 - 1 <= admitted <= rate * 10 + burst


def test_rl3_frozen_clock_16_threads_100k_calls() -> None:
    rl = RateLimiter(1000.0, 25, clock=FakeClock())
    keyed = KeyedRateLimiter(1000.0, 25, clock=FakeClock())
    admitted = [0] * 16
    barrier = threading.Barrier(16)

    def worker(i: int) -> None:
        barrier.wait()
        got = 0
        for j in range(100_000 // 16):
            got += rl.try_acquire()
            got += keyed.try_acquire(j & 1)
        admitted[i] = got

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(admitted) == 25 + 2 * 25


def test_rl4_blocking_acquire_waits_exactly_and_times_out() -> None:
    clock = FakeClock(0.0)
    rl = RateLimiter(2.0, 2, clock=clock, sleep=clock.sleep)
    assert rl.acquire() and rl.acquire()
    assert rl.acquire(timeout=0.4) is False  # needs 0.5 s
    assert clock.sleeps == []
    assert rl.acquire(timeout=0.5) is True and clock.sleeps == [0.5]
    assert rl.acquire(2) is True and clock.sleeps[-1] == pytest.approx(1.0)


def test_rl4_interrupted_waiter_returns_reservation() -> None:
    clock = FakeClock(0.0)

    def interrupted(seconds: float) -> None:
        raise KeyboardInterrupt

    rl = RateLimiter(1.0, 1, clock=clock, sleep=interrupted)
    assert rl.try_acquire()
    with pytest.raises(KeyboardInterrupt):
        rl.acquire()
    assert rl.available() == 0.0
    clock.advance(1.0)
    assert rl.try_acquire()


def test_rl4_cancelled_async_waiter_returns_reservation() -> None:
    clock = FakeClock(0.0)

    async def main() -> None:
        rl = RateLimiter(1.0, 1, clock=clock)
        assert await rl.aacquire()
        waiter = asyncio.ensure_future(rl.aacquire())
        await asyncio.sleep(0)
        assert rl.available() == -1.0
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        assert rl.available() == 0.0
        assert await rl.aacquire(timeout=0.5) is False

    asyncio.run(main())


def test_rl5_clock_sanity_tokens_bounded() -> None:
    clock = FakeClock(100.0)
    rl = RateLimiter(10.0, 5, clock=clock)
    for step in (-3600.0, 3600.0, -7200.0, 0.01, 7200.0):
        clock.advance(step)
        tokens = rl.available()
        assert 0.0 <= tokens <= 5.0
        while rl.try_acquire():
            pass
        assert rl.available() >= 0.0


def test_rl6_live_reconfiguration() -> None:
    clock = FakeClock(0.0)
    rl = RateLimiter(1.0, 100, clock=clock)
    assert rl.try_acquire(100)
    clock.advance(1.0)
    rl.set_rate(10.0)
    assert rl.available() == pytest.approx(1.0)
    clock.advance(1.0)
    assert rl.available() == pytest.approx(11.0)
    with pytest.raises(ConfigurationError, match="rate"):
        rl.set_rate(-1)


def test_keyed_limits_are_independent_and_block() -> None:
    clock = FakeClock(0.0)
    kl = KeyedRateLimiter(1.0, 2, clock=clock, sleep=clock.sleep)
    assert [kl.try_acquire("a") for _ in range(3)] == [True, True, False]
    assert kl.try_acquire("b")
    assert kl.acquire("a", timeout=0.5) is False
    assert kl.acquire("a") is True and clock.sleeps == [1.0]

    async def main() -> None:
        assert await kl.aacquire("c", 2)
        assert await kl.aacquire("c", timeout=0.1) is False

    asyncio.run(main())


def test_decorator_and_context_manager() -> None:
    clock = FakeClock(0.0)
    rl = RateLimiter(1.0, 1, clock=clock, sleep=clock.sleep, asleep=clock.asleep)

    @rl.limit(timeout=0)
    def work(x: int) -> int:
        return x * 2

    assert work(2) == 4
    with pytest.raises(RateLimitExceeded):
        work(3)
    with rl:
        pass
    assert clock.sleeps == [1.0]

    @rl.limit(timeout=5)
    async def awork() -> str:
        return "done"

    async def main() -> None:
        assert await awork() == "done"
        async with rl:
            pass

    asyncio.run(main())
    assert clock.sleeps == [1.0, 1.0, 1.0]


@pytest.mark.parametrize("args,param", [((0, 1), "rate"), ((-5, 1), "rate"), ((1, 0), "burst"),
                                        ((1, 0.5), "burst"), ((float("nan"), 1), "rate")])
def test_bad_config(args: tuple[float, float], param: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        RateLimiter(*args)
    assert info.value.param == param
    with pytest.raises(ValueError):
        KeyedRateLimiter(*args)


def test_bad_requests() -> None:
    rl = RateLimiter(1.0, 2)
    with pytest.raises(ConfigurationError, match="n"):
        rl.acquire(3)
    with pytest.raises(ConfigurationError, match="timeout"):
        rl.acquire(1, timeout=-1)
    with pytest.raises(ConfigurationError, match="max_keys"):
        KeyedRateLimiter(1.0, 1, max_keys=-1)


# --- Redis ---------------------------------------------------------------------------------

def test_redis_bucket_burst_and_refill(redis_client) -> None:  # type: ignore[no-untyped-def]
    rl = RedisRateLimiter(redis_client, "api", 8.0, 5)
    assert sum(rl.try_acquire(now=100.0) for _ in range(20)) == 5
    assert rl.try_acquire(now=100.0625) is False
    assert sum(rl.try_acquire(now=100.375) for _ in range(20)) == 3
    assert sum(rl.try_acquire(now=10_000.0) for _ in range(20)) == 5
    assert rl.try_acquire(key="tenant-1", now=100.0) and rl.available(key="tenant-1", now=100.0) == 4.0
    assert redis_client.pttl("swfast:rl:api") > 0
    assert rl.try_acquire() in (True, False)  # server TIME path


def test_redis_bucket_shared_by_threads_and_clients_exact(redis_server) -> None:  # type: ignore[no-untyped-def]
    import redis

    clients = [redis.Redis(host=redis_server.host, port=redis_server.port) for _ in range(4)]
    clients[0].delete("swfast:rl:shared")
    limiters = [RedisRateLimiter(c, "shared", 1.0, 30) for c in clients]
    got = [0] * 8
    barrier = threading.Barrier(8)

    def worker(i: int) -> None:
        barrier.wait()
        got[i] = sum(limiters[i % 4].try_acquire(now=50.0) for _ in range(25))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(got) == 30
    for c in clients:
        c.close()


def test_redis_bucket_async_client(redis_server) -> None:  # type: ignore[no-untyped-def]
    import redis.asyncio as aredis

    async def main() -> None:
        client = aredis.Redis(host=redis_server.host, port=redis_server.port)
        await client.delete("swfast:rl:async")
        rl = RedisRateLimiter(client, "async", 1.0, 3)
        results = [await rl.atry_acquire(now=7.0) for _ in range(5)]
        assert results == [True, True, True, False, False]
        await client.aclose()

    asyncio.run(main())


def test_redis_outage_degrades_to_local_and_logs_once(caplog: pytest.LogCaptureFixture) -> None:
    import redis
    from _servers import start_redis

    from redis.backoff import NoBackoff
    from redis.retry import Retry

    server = start_redis()
    client = redis.Redis(host=server.host, port=server.port, socket_timeout=0.5,
                         socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0))
    rl = RedisRateLimiter(client, "outage", 0.001, 3)
    deny = RedisRateLimiter(client, "outage-deny", 1.0, 3, on_error="deny")
    assert rl.try_acquire(now=1.0)
    server.kill()
    with caplog.at_level(logging.WARNING, logger="swfast.resilience"):
        results = [rl.try_acquire() for _ in range(10)]
        assert deny.try_acquire() is False
    assert results.count(True) == 3  # the local bucket's burst
    assert sum("Redis failed" in r.message and "'outage'" in r.message for r in caplog.records) == 1
    client.close()
    with pytest.raises(ConfigurationError, match="on_error"):
        RedisRateLimiter(client, "x", 1.0, 1, on_error="explode")  # type: ignore[arg-type]


def test_metrics_exposed_at_scrape_time() -> None:
    from swfast.monitoring.metrics import REGISTRY

    clock = FakeClock()
    rl = RateLimiter(1.0, 2, name="scrape", clock=clock)
    kl = KeyedRateLimiter(1.0, 1, name="scrape-keyed", clock=clock)
    for _ in range(3):
        rl.try_acquire()
    kl.try_acquire("a")
    kl.try_acquire("b")
    kl.try_acquire("a")
    text = REGISTRY.render_text().decode()
    assert 'swfast_resilience_ratelimit_decisions_total{name="scrape",decision="admitted"} 2.0' in text
    assert 'swfast_resilience_ratelimit_decisions_total{name="scrape",decision="rejected"} 1.0' in text
    assert 'swfast_resilience_ratelimit_tokens{name="scrape"} 0.0' in text
    assert 'swfast_resilience_ratelimit_keys{name="scrape-keyed"} 2.0' in text
    assert 'swfast_resilience_ratelimit_decisions_total{name="scrape-keyed",decision="rejected"} 1.0' in text

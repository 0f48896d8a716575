"""Retry: RT-1..RT-11 of RELIABILITY.md with a fake clock and recorded sleeps."""
from __future__ import annotations

import asyncio
import math
import threading

import pytest

from _resilience_helpers import Boom, FakeClock
from swfast.errors import CircuitOpenError, ConfigurationError, RetryError
from swfast.resilience import (
    CircuitBreaker, ConstantBackoff, ExponentialBackoff, FullJitterBackoff, RetryBudget, Retrying,
    attempt_retry, create_backoff, retry, retry_context, set_active, set_testing, track_attempts,
)
from swfast.resilience.retry import DEFAULT_OPERATION_TIMEOUT, aattempt_retry, calculate_delay


def flaky(failures: int, exc: type[BaseException] = Boom):  # type: ignore[no-untyped-def]
    state = {"calls": 0}

    def fn(x: int = 1) -> int:
        state["calls"] += 1
        if state["calls"] <= failures:
            raise exc(f"failure {state['calls']}")
        return x

    fn.state = state  # type: ignore[attr-defined]
    return fn


def policy(clock: FakeClock, **kw: object) -> Retrying:
    opts: dict[str, object] = dict(on=Boom, attempts=5, backoff=ExponentialBackoff(initial=1, factor=2, max_delay=40),
                                   sleep=clock.sleep, asleep=clock.asleep, clock=clock)
    opts.update(kw)
    return Retrying(**opts)  # type: ignore[arg-type]


def test_rt1_deterministic_exponential_sleeps() -> None:
    clock = FakeClock()
    p = policy(clock, attempts=9, timeout=math.inf)
    fn = flaky(8)
    assert p.attempt_retry(fn, 7) == 7
    assert clock.sleeps == [1, 2, 4, 8, 16, 32, 40, 40]
    assert p.calculate_delay(50) == 40
    assert track_attempts() == (stats := track_attempts()) and stats.attempts == 9 and stats.total_delay == 143


@pytest.mark.parametrize("attempt", [1000, 10**6, 2**63])
def test_rt2_no_overflow_in_policy(attempt: int) -> None:
    p = policy(FakeClock())
    assert p.calculate_delay(attempt) == 40.0
    d = FullJitterBackoff(initial=0.5, max_delay=60).calculate_delay(attempt)
    assert math.isfinite(d) and 0 <= d <= 60


def test_rt4_proportional_jitter() -> None:
    b = ConstantBackoff(0.1, jitter=0.5, seed=3)
    assert all(0.05 <= b.calculate_delay(i) <= 0.15 for i in range(1, 1001))


def test_rt6_stops_on_attempts_with_chained_error() -> None:
    clock = FakeClock()
    p = policy(clock, attempts=3)
    fn = flaky(10)
    with pytest.raises(RetryError) as info:
        p.attempt_retry(fn)
    assert info.value.attempts == 3 and isinstance(info.value.__cause__, Boom)
    assert info.value.last_error is info.value.__cause__ and str(info.value.last_error) == "failure 3"
    stats = track_attempts()
    assert stats is not None and stats.attempts == 3 and stats.total_delay == 3 and stats.last_error is info.value.last_error
    with pytest.raises(Boom, match="failure 6"):
        policy(clock, attempts=3, reraise=True).attempt_retry(fn)


def test_rt6_stops_on_total_time_budget() -> None:
    clock = FakeClock()
    p = policy(clock, attempts=100, timeout=10.0)
    fn = flaky(100)
    with pytest.raises(RetryError, match="timeout"):
        p.attempt_retry(fn)
    assert clock.sleeps == [1, 2, 4]  # the next sleep (8 s) would pass 10 s
    assert Retrying(on=Boom).timeout == DEFAULT_OPERATION_TIMEOUT == 30.0


def test_rt6_budget_counts_slow_attempts() -> None:
    clock = FakeClock()
    p = policy(clock, attempts=100, timeout=10.0)
    calls = {"n": 0}

    def slow() -> None:
        calls["n"] += 1
        clock.advance(4.0)
        raise Boom()

    with pytest.raises(RetryError):
        p.attempt_retry(slow)
    # measured from the first failure: sleep 1, 4 s, sleep 2, 4 s (11 s): the next sleep would pass
    assert calls["n"] == 3 and clock.sleeps == [1, 2]


@pytest.mark.parametrize("exc", [KeyError, asyncio.CancelledError, KeyboardInterrupt, SystemExit])
def test_rt7_only_listed_errors(exc: type[BaseException]) -> None:
    clock = FakeClock()
    p = policy(clock, on=(Boom, KeyError) if exc is not KeyError else Boom)
    fn = flaky(1, exc)
    with pytest.raises(exc):
        p.attempt_retry(fn)
    assert fn.state["calls"] == 1 and clock.sleeps == []  # type: ignore[attr-defined]


def test_rt7_never_retries_circuit_open_even_if_listed() -> None:
    clock = FakeClock()
    p = policy(clock, on=Exception)

    def rejected() -> None:
        raise CircuitOpenError("db", 3.0)

    with pytest.raises(CircuitOpenError):
        p.attempt_retry(rejected)
    assert clock.sleeps == []


def test_rt7_predicate() -> None:
    clock = FakeClock()
    p = policy(clock, on=lambda e: "retry me" in str(e))
    calls = []

    def fn() -> str:
        calls.append(1)
        if len(calls) == 1:
            raise Boom("retry me")
        raise Boom("fatal")

    with pytest.raises(Boom, match="fatal"):
        p.attempt_retry(fn)
    assert len(calls) == 2


def test_rt8_retry_budget_under_total_outage() -> None:
    clock = FakeClock(0.0)
    budget = RetryBudget(percent_can_retry=20, min_retries_per_second=10, ttl=10, clock=clock)
    p = policy(clock, attempts=3, budget=budget, backoff=ConstantBackoff(0.0), timeout=math.inf)
    calls = {"n": 0}

    def down() -> None:
        calls["n"] += 1
        raise Boom()

    requests = 0
    for _ in range(10_000):  # 1000 requests/s for 10 s
        clock.advance(0.001)
        requests += 1
        with pytest.raises((Boom, RetryError)):
            p.attempt_retry(down)
    retries = calls["n"] - requests
    assert retries <= 0.2 * requests + 100
    assert calls["n"] <= 1.21 * requests
    assert budget.denied > 0


def test_rt8_exhausted_budget_raises_original_at_once() -> None:
    clock = FakeClock()
    budget = RetryBudget(percent_can_retry=0, min_retries_per_second=0, clock=clock)
    p = policy(clock, budget=budget)
    with pytest.raises(Boom, match="failure 1"):
        p.attempt_retry(flaky(5))
    assert clock.sleeps == []


def test_rt9_breaker_open_stops_the_loop() -> None:
    clock = FakeClock()
    b = CircuitBreaker("rt9", window_size=2, minimum_calls=2, clock=clock)
    p = policy(clock, attempts=10, breaker=b)

    @p
    @b
    def guarded() -> None:
        raise Boom()

    with pytest.raises(CircuitOpenError) as info:
        guarded()
    assert isinstance(info.value.__cause__, Boom) and clock.sleeps == [1]
    assert track_attempts().attempts == 2  # type: ignore[union-attr]


def test_rt10_statistics_per_call_across_32_threads() -> None:
    p = Retrying(on=Boom, attempts=40, backoff=ConstantBackoff(0.0), sleep=lambda s: None)
    local = threading.local()

    @p
    def work(failures: int) -> int:
        local.n = getattr(local, "n", 0) + 1
        if local.n <= failures:
            raise Boom(str(local.n))
        return failures

    mismatches: list[tuple[int, object]] = []
    barrier = threading.Barrier(32)

    def worker(i: int) -> None:
        barrier.wait()
        for round_ in range(20):
            local.n = 0
            failures = (i + round_) % 7
            assert work(failures) == failures
            stats = work.track_attempts()  # type: ignore[attr-defined]
            if stats.attempts != failures + 1 or stats.last_error is not None:
                mismatches.append((i, stats))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert mismatches == []


def test_rt11_testing_switch_zero_sleeps_and_capped_attempts() -> None:
    clock = FakeClock()
    set_testing(True, attempts=2)
    p = policy(clock, attempts=10)
    fn = flaky(5)
    with pytest.raises(RetryError):
        p.attempt_retry(fn)
    assert fn.state["calls"] == 2 and clock.sleeps == [0.0] and p.calculate_delay(3) == 0.0  # type: ignore[attr-defined]
    set_testing(False)
    set_active(False)
    fn2 = flaky(1)
    with pytest.raises(Boom):
        p.attempt_retry(fn2)
    assert fn2.state["calls"] == 1  # type: ignore[attr-defined]


def test_switch_is_reset_between_tests() -> None:
    from swfast.resilience.retry import is_testing

    assert not is_testing()
    assert attempt_retry(flaky(0), 5) == 5


def test_async_forms() -> None:
    clock = FakeClock()
    p = policy(clock)

    @p
    async def fetch(x: int) -> int:
        await asyncio.sleep(0)
        fetch.calls += 1  # type: ignore[attr-defined]
        if fetch.calls < 3:  # type: ignore[attr-defined]
            raise Boom()
        return x

    fetch.calls = 0  # type: ignore[attr-defined]

    async def main() -> None:
        assert await fetch(4) == 4
        assert track_attempts().attempts == 3  # type: ignore[union-attr]

        async def ok() -> str:
            return "ok"

        assert await aattempt_retry(ok) == "ok"
        n = 0
        async for attempt in p.context():
            async with attempt:
                n += 1
                if n < 2:
                    raise Boom()
        assert n == 2 and track_attempts().attempts == 2  # type: ignore[union-attr]

    asyncio.run(main())
    assert clock.sleeps == [1, 2, 1]


def test_retry_context_sync() -> None:
    clock = FakeClock()
    seen = []
    for attempt in retry_context(on=Boom, attempts=4, backoff=ConstantBackoff(0.5), sleep=clock.sleep, clock=clock):
        with attempt:
            seen.append(attempt.num)
            if attempt.num < 3:
                raise Boom()
    assert seen == [1, 2, 3] and clock.sleeps == [0.5, 0.5]
    with pytest.raises(RetryError):
        for attempt in retry_context(on=Boom, attempts=2, sleep=clock.sleep, clock=clock):
            with attempt:
                raise Boom()
    with pytest.raises(KeyError):
        for attempt in retry_context(on=Boom, sleep=clock.sleep, clock=clock):
            with attempt:
                raise KeyError("not listed")


def test_decorator_preserves_metadata_and_module_helpers() -> None:
    @retry(on=Boom, attempts=2)
    def documented(a: int) -> int:
        """Docs."""
        return a

    assert documented(3) == 3 and documented.__doc__ == "Docs." and documented.__name__ == "documented"
    assert documented.retry_policy.attempts == 2  # type: ignore[attr-defined]
    assert 0 <= calculate_delay(3) <= 0.4


@pytest.mark.parametrize("kw,param", [
    ({"attempts": 0}, "attempts"), ({"timeout": -1}, "timeout"), ({"on": 5}, "on"),
    ({"backoff": object()}, "backoff"),
])
def test_bad_config(kw: dict[str, object], param: str) -> None:
    opts: dict[str, object] = {"on": Boom}
    opts.update(kw)
    with pytest.raises(ConfigurationError) as info:
        Retrying(**opts)  # type: ignore[arg-type]
    assert info.value.param == param


@pytest.mark.parametrize("name,kw,param", [
    ("quadratic", {}, "strategy"), ("exponential", {"factor": 0.5}, "factor"),
    ("exponential", {"initial": -1}, "initial"), ("linear", {"initial": 5, "max_delay": 1}, "max_delay"),
    ("constant", {"delay": 1, "jitter": 2}, "jitter"), ("decorrelated_jitter", {"initial": 0}, "initial"),
])
def test_bad_backoff_config(name: str, kw: dict[str, object], param: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        create_backoff(name, **kw)
    assert info.value.param == param


def test_every_named_strategy_builds() -> None:
    from swfast.resilience import STRATEGIES

    for name in STRATEGIES:
        s = create_backoff(name, seed=1) if name != "constant" else create_backoff(name, delay=0.2)
        assert 0 <= s.calculate_delay(3) <= 5.0


def test_on_retry_hooks_sync_async_and_failing(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    seen: list[tuple[int, float, str]] = []
    p = policy(clock, on_retry=lambda n, d, e: seen.append((n, d, str(e))))
    assert p.attempt_retry(flaky(2)) == 1
    assert seen == [(1, 1.0, "failure 1"), (2, 2.0, "failure 2")]

    async def ahook(n: int, d: float, e: BaseException) -> None:
        seen.append((n, -d, "async"))

    ap = policy(clock, on_retry=ahook)

    async def afn() -> int:
        return flaky_async()

    calls = {"n": 0}

    def flaky_async() -> int:
        calls["n"] += 1
        if calls["n"] < 2:
            raise Boom()
        return 5

    assert asyncio.run(ap.aattempt_retry(afn)) == 5
    assert seen[-1] == (1, -1.0, "async")
    calls["n"] = 0
    assert ap.attempt_retry(flaky_async) == 5  # async hook in a sync retry: closed and logged
    assert "returned an awaitable" in caplog.text
    bad = policy(clock, on_retry=lambda n, d, e: 1 / 0)
    assert bad.attempt_retry(flaky(1)) == 1 and "on_retry hook failed" in caplog.text

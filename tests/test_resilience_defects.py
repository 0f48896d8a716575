"""Regression tests for the resilience defects of issue 10 (#12-#16), on both kernels."""
from __future__ import annotations

import asyncio
from typing import Any

import pytest

from _resilience_helpers import Boom, FakeClock
from swfast.errors import ConfigurationError, RateLimitExceeded
from swfast.resilience import (CircuitBreaker, CircuitState, DegradationLevel, DegradationManager,
                               Fallback, KeyedRateLimiter, RateLimiter)
from swfast.resilience import breaker as breaker_mod


@pytest.fixture
def kernel(impl, monkeypatch: pytest.MonkeyPatch) -> Any:  # type: ignore[no-untyped-def]
    """CircuitBreaker built over the compiled kernel or its twin."""
    mod = impl.load("breaker")
    monkeypatch.setattr(breaker_mod, "_k", mod)
    return mod


def _breaker(clock: FakeClock, **kw: Any) -> CircuitBreaker:
    opts: dict[str, Any] = dict(window_size=4, minimum_calls=4, failure_rate_threshold=50,
                                wait_duration_open=10.0, half_open_calls=1, clock=clock)
    opts.update(kw)
    return CircuitBreaker("svc", **opts)


# -- 12: exceptions outside record_exceptions count as successes -----------------------------
def test_unrecorded_exception_counts_as_success(kernel) -> None:  # type: ignore[no-untyped-def]
    clock = FakeClock()
    b = _breaker(clock, record_exceptions=(Boom,))
    for _ in range(4):
        with pytest.raises(KeyError):
            b.call(lambda: {}["x"])
    m = b.metrics()
    assert m["successful"] == 4 and m["ignored"] == 0 and m["calls"] == 4
    # ...so two recorded failures in a window of 4 (2 successes by unrecorded errors) open it
    for _ in range(2):
        with pytest.raises(Boom):
            b.call(_raise_boom)
    assert b.state is CircuitState.OPEN


def _raise_boom() -> None:
    raise Boom("down")


def test_unrecorded_exception_settles_a_half_open_probe(kernel) -> None:  # type: ignore[no-untyped-def]
    clock = FakeClock()
    b = _breaker(clock, record_exceptions=(Boom,))
    b.trip_breaker()
    b.reset_breaker()
    for _ in range(4):
        with pytest.raises(Boom):
            b.call(_raise_boom)
    assert b.state is CircuitState.OPEN
    clock.advance(10.0)
    with pytest.raises(KeyError):
        b.call(lambda: {}["x"])  # the probe: an unrecorded error is a success -> closes
    assert b.state is CircuitState.CLOSED


# -- 16: keyword arguments named fn / self pass through -----------------------------------------
def _echo(**kw: Any) -> dict[str, Any]:
    return kw


def test_fn_and_self_keywords_pass_through_call_and_decorator(kernel) -> None:  # type: ignore[no-untyped-def]
    b = _breaker(FakeClock())
    assert b.call(_echo, fn=1, self=2) == {"fn": 1, "self": 2}
    assert b(_echo)(fn=3, self=4) == {"fn": 3, "self": 4}
    assert b._core.call(_echo, fn=5) == {"fn": 5}
    assert Fallback(_echo).call(self=1, fn=2) == {"self": 1, "fn": 2}
    assert DegradationManager("d").run_if_enabled("f", _echo, fn=1, feature=2) == {"fn": 1, "feature": 2}


def test_fn_keyword_through_async_call(kernel) -> None:  # type: ignore[no-untyped-def]
    async def aecho(**kw: Any) -> dict[str, Any]:
        return kw

    b = _breaker(FakeClock())
    assert asyncio.run(b.acall(aecho, fn=1, self=2)) == {"fn": 1, "self": 2}


# -- 13: try_acquire validates n; KeyedRateLimiter has limit(), a context manager, counts ------
@pytest.mark.parametrize("bad", [-5, 0, 3, float("nan")])
def test_bucket_kernels_validate_n(impl, bad: float) -> None:  # type: ignore[no-untyped-def]
    k = impl.load("bucket")
    bucket = k.TokenBucket(1.0, 2.0, lambda: 0.0)
    keyed = k.KeyedBuckets(1.0, 2.0, lambda: 0.0, 0)
    for call in (lambda: bucket.try_acquire(bad), lambda: keyed.try_acquire("a", bad),
                 lambda: bucket.reserve(bad, 1.0), lambda: keyed.reserve("a", bad, 1.0)):
        with pytest.raises(ConfigurationError) as err:
            call()
        assert err.value.param == "n"
    assert bucket.available() == 2.0 and keyed.available("a") == 2.0
    with pytest.raises(ConfigurationError):
        bucket.refund(-1)
    with pytest.raises(ConfigurationError):
        keyed.refund("a", -1)


def test_rate_limiter_try_acquire_negative_raises() -> None:
    limiter = RateLimiter(1, 2, clock=lambda: 0.0)
    with pytest.raises(ConfigurationError):
        limiter.try_acquire(-5)
    assert limiter.available() == 2.0
    keyed = KeyedRateLimiter(1, 2, clock=lambda: 0.0)
    with pytest.raises(ConfigurationError):
        keyed.try_acquire("t", -5)
    assert keyed.available("t") == 2.0


def test_keyed_limiter_counts_cancelled_waits_and_refunds() -> None:
    from swfast.resilience import ratelimit

    clock = FakeClock()
    gate = asyncio.Event()

    async def never(_: float) -> None:
        await gate.wait()

    keyed = KeyedRateLimiter(1, 1, clock=clock, asleep=never, name="keyed-cancel")
    before = ratelimit._REJECTED.labels("keyed-cancel", "cancelled").get()

    async def main() -> None:
        assert keyed.try_acquire("t")
        task = asyncio.ensure_future(keyed.aacquire("t"))
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert ratelimit._REJECTED.labels("keyed-cancel", "cancelled").get() == before + 1
    assert keyed.available("t") == pytest.approx(0.0)  # the reservation was given back

    def interrupted(_: float) -> None:
        raise KeyboardInterrupt

    keyed2 = KeyedRateLimiter(1, 1, clock=clock, sleep=interrupted, name="keyed-int")
    assert keyed2.try_acquire("t")
    with pytest.raises(KeyboardInterrupt):
        keyed2.acquire("t")
    assert ratelimit._REJECTED.labels("keyed-int", "interrupted").get() == 1
    assert keyed2.available("t") == pytest.approx(0.0)


def test_keyed_limiter_limit_decorator_and_hold() -> None:
    clock = FakeClock()
    keyed = KeyedRateLimiter(1, 1, clock=clock, sleep=clock.sleep)

    @keyed.limit(lambda tenant, x: tenant, timeout=0)
    def work(tenant: str, x: int) -> int:
        return x * 2

    assert work("a", 2) == 4
    assert work("b", 3) == 6  # another key's bucket
    with pytest.raises(RateLimitExceeded):
        work("a", 1)
    fixed = keyed.limit("c", timeout=0)(lambda: "ok")
    assert fixed() == "ok"
    with pytest.raises(RateLimitExceeded):
        fixed()
    with keyed.hold("d"):
        pass
    with pytest.raises(RateLimitExceeded):
        with keyed.hold("d", timeout=0):
            pass
    with keyed.hold("d", timeout=5):  # waits (fake sleep) for the refill
        pass
    assert clock.sleeps == [pytest.approx(1.0)]

    async def amain() -> None:
        async with keyed.hold("e"):
            pass

        @keyed.limit("f", timeout=0)
        async def awork() -> int:
            return 1

        assert await awork() == 1
        with pytest.raises(RateLimitExceeded):
            await awork()

    asyncio.run(amain())


# -- 14: Fallback keys and argument validation --------------------------------------------------
def test_fallback_last_good_keys_do_not_collide() -> None:
    calls = {"fail": False}

    def primary(*args: Any, **kwargs: Any) -> str:
        if calls["fail"]:
            raise Boom("down")
        return f"{args}|{sorted(kwargs.items())}"

    chain: Fallback[str] = Fallback(primary)
    a = chain.call((1,), (("a", 1),))
    b = chain.call(1, a=1)
    assert a != b
    calls["fail"] = True
    assert chain.call((1,), (("a", 1),)) == a
    assert chain.call(1, a=1) == b


@pytest.mark.parametrize("kw", [
    {"max_cached": -1}, {"max_cached": "10"}, {"on": ("OSError",)}, {"on": (42,)}, {"on": "OSError"},
])
def test_fallback_arguments_validated(kw: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError) as err:
        Fallback(lambda: 1, **kw)
    assert err.value.param == next(iter(kw))


@pytest.mark.parametrize("kw", [
    {"record_exceptions": ("OSError",)}, {"ignore_exceptions": (42,)}, {"record_exceptions": 42},
    {"ignore_exceptions": [ValueError, "x"]},
])
def test_breaker_exception_arguments_validated(kernel, kw: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigurationError) as err:
        _breaker(FakeClock(), **kw)
    assert err.value.param == next(iter(kw))


def test_breaker_accepts_a_bare_exception_type_and_keeps_permits(kernel) -> None:  # type: ignore[no-untyped-def]
    clock = FakeClock()
    b = _breaker(clock, record_exceptions=Boom, ignore_exceptions=KeyError)
    assert b.record_exceptions == (Boom,) and b.ignore_exceptions == (KeyError,)
    for _ in range(4):
        with pytest.raises(Boom):
            b.call(_raise_boom)
    clock.advance(10.0)
    with pytest.raises(KeyError):
        b.call(lambda: {}["x"])  # ignored probe: its permit comes back
    assert b.state is CircuitState.HALF_OPEN and b.metrics()["permits"] == 1
    assert b.call(lambda: 1) == 1
    assert b.state is CircuitState.CLOSED


# -- 15: a breaker-only DegradationManager recovers --------------------------------------------
def test_breaker_only_degradation_returns_to_normal(kernel) -> None:  # type: ignore[no-untyped-def]
    clock = FakeClock()
    b = _breaker(clock)
    levels = DegradationManager("svc", breakers=[b])
    for _ in range(4):
        with pytest.raises(Boom):
            b.call(_raise_boom)
    assert levels.level is DegradationLevel.MINIMAL
    clock.advance(10.0)
    assert b.call(lambda: 1) == 1
    assert b.state is CircuitState.CLOSED
    assert levels.level is DegradationLevel.NORMAL


def test_fallback_mark_stays_until_success_after_breaker_closes(kernel) -> None:  # type: ignore[no-untyped-def]
    clock = FakeClock()
    b = _breaker(clock)
    levels = DegradationManager("svc2", breakers=[b])
    for _ in range(4):
        with pytest.raises(Boom):
            b.call(_raise_boom)
    levels.report_fallback()
    levels.report_success()  # breaker still open: the mark stays
    clock.advance(10.0)
    b.call(lambda: 1)
    assert levels.level is DegradationLevel.DEGRADED
    levels.report_success()
    assert levels.level is DegradationLevel.NORMAL


# -- design: CircuitBreaker.call is a class attribute, not rebound per instance ---------------
def test_subclass_call_override_runs_for_call_and_decorator(kernel) -> None:  # type: ignore[no-untyped-def]
    seen: list[str] = []

    class Audited(CircuitBreaker):
        def call(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def, override]
            seen.append(fn.__name__)
            return super().call(fn, *args, **kwargs)

    b = Audited("svc", clock=FakeClock())

    def work(x: int) -> int:
        return x + 1

    assert b.call(work, 1) == 2
    assert b(work)(2) == 3  # the decorator goes through the override too
    assert seen == ["work", "work"] and b.metrics()["calls"] == 2


def test_mock_patch_of_call_runs_on_class_and_instance(kernel) -> None:  # type: ignore[no-untyped-def]
    from unittest import mock

    b = _breaker(FakeClock())
    with mock.patch.object(CircuitBreaker, "call", return_value="patched") as m:
        assert b.call(int) == "patched" and CircuitBreaker("other").call(int) == "patched"
    assert m.call_count == 2
    with mock.patch.object(b, "call", return_value="instance"):
        assert b.call(int) == "instance"
        assert b(int)() == "instance"  # decorated while patched: the patch runs
    assert b.call(lambda: 7) == 7 and b.metrics()["calls"] == 1  # restored: the kernel again

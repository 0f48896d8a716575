"""Fallback chains and degradation levels: FB-1..FB-3 of RELIABILITY.md."""
from __future__ import annotations

import asyncio
import logging

import pytest

from _resilience_helpers import Boom, FakeClock
from swfast.errors import ConfigurationError
from swfast.monitoring.metrics import REGISTRY
from swfast.resilience import (
    CircuitBreaker, CircuitState, DegradationLevel, DegradationManager, Fallback, fallback,
)

L = DegradationLevel


def level_metric(name: str) -> str:
    text = REGISTRY.render_text().decode()
    line = [ln for ln in text.splitlines() if ln.startswith(f'swfast_resilience_degradation_level{{name="{name}"}}')]
    return line[0].split()[-1]


class Primary:
    def __init__(self) -> None:
        self.down = False
        self.calls = 0

    def __call__(self, key: str) -> str:
        self.calls += 1
        if self.down:
            raise Boom("primary down")
        return f"live:{key}"


def test_fb1_fallback_value_raises_level_and_logs_once(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("fb1", window_size=4, minimum_calls=4, clock=clock)
    levels = DegradationManager("fb1", breakers=[breaker])
    primary = Primary()
    chain: Fallback[str] = Fallback(primary, lambda key: f"replica:{key}", breaker=breaker, degradation=levels,
                                    use_last_good=False, name="fb1")
    assert chain.call("a") == "live:a" and levels.level is L.NORMAL
    primary.down = True
    with caplog.at_level(logging.INFO, logger="swfast.resilience"):
        answers = [chain.call("a") for _ in range(10)]
    assert answers == ["replica:a"] * 10
    assert breaker.check_state() is CircuitState.OPEN and primary.calls == 4  # 3 of 4 failed: open, primary no longer called
    assert levels.level is L.MINIMAL and level_metric("fb1") == "2.0"
    changes = [r for r in caplog.records if r.getMessage().startswith("degradation 'fb1'")]
    assert [r.getMessage().split(":")[1].split("(")[0].strip() for r in changes] == ["NORMAL -> DEGRADED", "DEGRADED -> MINIMAL"]


def test_last_good_value_then_default() -> None:
    primary = Primary()
    chain: Fallback[str] = Fallback(primary, default="default")
    assert chain.call("k") == "live:k"
    primary.down = True
    assert chain.call("k") == "live:k"  # the last good value
    assert chain.call("other") == "default"
    assert chain.call(["unhashable"]) == "default"  # type: ignore[arg-type]


def test_fb2_failing_fallback_raises_its_error_with_primary_chained() -> None:
    primary = Primary()
    primary.down = True

    def replica(key: str) -> str:
        raise KeyError("replica down")

    chain: Fallback[str] = Fallback(primary, replica)
    with pytest.raises(KeyError) as info:
        chain.call("x")
    assert isinstance(info.value.__cause__, Boom)
    with pytest.raises(Boom):  # no fallbacks at all: the primary error itself
        Fallback(primary).call("x")
    assert Fallback(primary, replica, lambda k: "second").call("x") == "second"


def test_fb3_back_to_normal_on_first_success_after_close() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("fb3", window_size=2, minimum_calls=2, wait_duration_open=5, half_open_calls=1, clock=clock)
    levels = DegradationManager("fb3", breakers=[breaker])
    primary = Primary()
    chain: Fallback[str] = Fallback(primary, default="cached", breaker=breaker, degradation=levels, use_last_good=False)
    primary.down = True
    chain.call("a")
    chain.call("a")
    assert levels.level is L.MINIMAL
    primary.down = False
    clock.advance(5.0)
    assert chain.call("a") == "live:a"  # the probe closes the breaker and counts as the first success
    assert breaker.check_state() is CircuitState.CLOSED and levels.level is L.NORMAL
    assert level_metric("fb3") == "0.0"


def test_fallback_without_breaker_marks_degraded_until_success() -> None:
    levels = DegradationManager("plain")
    primary = Primary()
    chain: Fallback[str] = Fallback(primary, default="d", degradation=levels)
    primary.down = True
    chain.call("a")
    assert levels.level is L.DEGRADED
    primary.down = False
    chain.call("a")
    assert levels.level is L.NORMAL


def test_features_switched_off_by_level_and_health() -> None:
    health = {"level": L.NORMAL}
    levels = DegradationManager("feat", health=lambda: health["level"])
    levels.register_feature("recommendations")
    levels.register_feature("thumbnails", disable_at=L.MINIMAL)
    assert levels.is_enabled("recommendations") and levels.is_enabled("unknown")
    health["level"] = L.DEGRADED
    levels.evaluate()
    assert not levels.is_enabled("recommendations") and levels.is_enabled("thumbnails")
    assert levels.run_if_enabled("recommendations", lambda: 1) is None
    assert levels.run_if_enabled("thumbnails", lambda: 2) == 2
    health["level"] = L.MINIMAL
    assert levels.evaluate() is L.MINIMAL and not levels.is_enabled("thumbnails")
    with pytest.raises(ConfigurationError, match="disable_at"):
        levels.register_feature("x", disable_at=L.NORMAL)


def test_failing_health_and_listener_are_isolated(caplog: pytest.LogCaptureFixture) -> None:
    def broken_health() -> DegradationLevel:
        raise RuntimeError("probe failed")

    levels = DegradationManager("iso", health=broken_health)
    seen = []
    levels.add_listener(lambda old, new, why: seen.append((old, new)))
    levels.add_listener(lambda old, new, why: 1 / 0)
    assert levels.evaluate() is L.DEGRADED and seen == [(L.NORMAL, L.DEGRADED)]
    assert "health check failed" in caplog.text and "listener" in caplog.text


def test_partial_breaker_outage_is_degraded() -> None:
    clock = FakeClock()
    a = CircuitBreaker("pa", clock=clock)
    b = CircuitBreaker("pb", clock=clock)
    levels = DegradationManager("partial", breakers=[a, b])
    a.trip_breaker()
    assert levels.level is L.DEGRADED
    b.trip_breaker()
    assert levels.level is L.MINIMAL


def test_decorator_and_async_chain() -> None:
    calls = {"n": 0}

    @fallback(lambda x: -x, name="deco")
    def risky(x: int) -> int:
        calls["n"] += 1
        raise Boom()

    assert risky(3) == -3 and risky.__name__ == "risky"

    async def areplica(x: int) -> int:
        return x * 10

    @fallback(areplica)
    async def aprimary(x: int) -> int:
        if x > 1:
            raise Boom()
        return x

    async def afail(x: int) -> int:
        raise KeyError("no")

    async def main() -> None:
        assert await aprimary(1) == 1
        assert await aprimary(2) == 20
        with pytest.raises(KeyError) as info:
            await Fallback(afail, afail).acall(1)
        assert isinstance(info.value.__cause__, KeyError)
        assert await Fallback(afail, default=0).acall(1) == 0

    asyncio.run(main())

"""Messaging's retry delays come from ``swfast.resilience.backoff`` (issue #10): every form of
``ConsumerConfig.retry_delays`` becomes a resilience strategy, and each message's retries ask
that strategy's ``next_delay`` with the message's own previous wait."""
from __future__ import annotations

import asyncio
import math
from typing import Any

import pytest

from swfast.errors import ConfigurationError
from swfast.messaging import ConsumerConfig, KafkaService, exponential_delays
from swfast.messaging._embedded import EmbeddedBroker
from swfast.resilience import DecorrelatedJitterBackoff, ExponentialBackoff
from swfast.resilience.backoff import CallableBackoff, ScheduleBackoff, as_backoff


def test_every_form_of_retry_delays_is_a_resilience_strategy() -> None:
    schedule = ConsumerConfig(retry_delays=[0.5, 1.5]).backoff()
    assert isinstance(schedule, ScheduleBackoff)
    assert [ConsumerConfig(retry_delays=[0.5, 1.5]).delay(a) for a in (1, 2, 3, 9)] == [0.5, 1.5, 1.5, 1.5]
    assert ConsumerConfig(retry_delays=[]).delay(3) == 0.0  # as before: no delays, no wait
    called = ConsumerConfig(retry_delays=lambda a: a * 0.25)
    assert isinstance(called.backoff(), CallableBackoff) and called.delay(3) == 0.75
    assert ConsumerConfig(retry_delays=lambda a: -1.0).delay(1) == 0.0  # a negative wait is none
    strategy = ExponentialBackoff(initial=0.5, factor=3, max_delay=10)
    cfg = ConsumerConfig(retry_delays=strategy)
    assert cfg.backoff() is strategy and cfg.delay(2) == 1.5
    bound = exponential_delays(base=0.1, factor=2, cap=1.0, jitter=0.0)
    assert ConsumerConfig(retry_delays=bound).backoff() is bound.__self__  # type: ignore[attr-defined]
    default = ConsumerConfig().backoff()
    assert isinstance(default, ExponentialBackoff) and default.jitter == 0.1 and default.cap == 5.0
    assert ConsumerConfig().delay(1) == pytest.approx(0.1, rel=0.11)


class _OnlyCalculate:
    def calculate_delay(self, attempt: int) -> float:
        return 0.01 * attempt


def test_a_duck_typed_strategy_still_works() -> None:
    assert ConsumerConfig(retry_delays=_OnlyCalculate()).delay(4) == pytest.approx(0.04)


@pytest.mark.parametrize("bad", [[-1.0], [0.1, math.nan], ["x"], "0.5", 5])
def test_a_bad_schedule_fails_at_construction(bad: Any) -> None:
    with pytest.raises(ConfigurationError, match="retry_delays"):
        ConsumerConfig(retry_delays=bad)
    with pytest.raises(ConfigurationError):
        as_backoff(bad)


def test_reassigned_retry_delays_are_picked_up() -> None:
    cfg = ConsumerConfig(retry_delays=[1.0])
    assert cfg.delay(1) == 1.0
    cfg.retry_delays = [2.0]
    assert cfg.delay(1) == 2.0


class _Recording:
    """A resilience-shaped strategy that records what the runner asks."""

    def __init__(self) -> None:
        self.asked: list[tuple[int, float]] = []

    def next_delay(self, attempt: int, prev: float) -> float:
        self.asked.append((attempt, prev))
        return prev + 1.0

    def calculate_delay(self, attempt: int) -> float:  # pragma: no cover - the runner uses next_delay
        raise AssertionError("the runner asks next_delay with the message's previous wait")


async def _until(cond: Any, timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not cond():
        assert loop.time() < end, "condition not reached"
        await asyncio.sleep(0.005)


async def test_each_message_retries_with_its_own_previous_wait() -> None:
    strategy = _Recording()
    slept: list[float] = []
    calls: dict[int, int] = {}

    async def sleep(d: float) -> None:
        slept.append(d)

    def handler(msg: dict[str, Any]) -> None:
        calls[msg["n"]] = calls.get(msg["n"], 0) + 1
        if calls[msg["n"]] <= 3:
            raise RuntimeError("flaky")

    cfg = ConsumerConfig(max_retries=3, retry_delays=strategy, sleep=sleep)
    async with KafkaService("", embedded=EmbeddedBroker(), consumer_config=cfg) as svc:
        for n in (1, 2):
            await svc.send_message("bk", {"n": n})
        await svc.subscribe("bk", "g", handler)
        await _until(lambda: calls.get(2) == 4)
    # per message: attempt 1 with no previous wait, then each wait fed back; message 2 starts afresh
    assert strategy.asked == [(1, 0.0), (2, 1.0), (3, 2.0)] * 2
    assert slept == [1.0, 2.0, 3.0] * 2


async def test_decorrelated_jitter_stays_in_its_bounds_per_message() -> None:
    slept: list[float] = []

    async def sleep(d: float) -> None:
        slept.append(d)

    def handler(msg: Any) -> None:
        raise RuntimeError("always")

    cfg = ConsumerConfig(max_retries=4, retry_delays=DecorrelatedJitterBackoff(initial=0.1, max_delay=2.0, seed=3),
                         sleep=sleep)
    async with KafkaService("", embedded=EmbeddedBroker(), consumer_config=cfg) as svc:
        await svc.send_message("dj", {"n": 1})
        await svc.subscribe("dj", "g", handler)
        await _until(lambda: len(slept) == 4)
    prev = 0.0
    for d in slept:
        hi = min(2.0, 3 * max(prev, 0.1))
        assert 0.1 <= d <= hi
        prev = d

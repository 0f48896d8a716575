"""Issue 11 item 4 in messaging: every duration of a consumer configuration goes through
``swfast._durations`` (float seconds, ``timedelta``, ``"250ms"``); bad ones name the argument."""
from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from swfast.errors import ConfigurationError
from swfast.messaging import ConsumerConfig, exponential_delays
from swfast.messaging._runner import Subscription

FORMS = ((0.2, 0.2), (3, 3.0), (timedelta(milliseconds=250), 0.25), ("250ms", 0.25), ("10m", 600.0),
         ("1m30s", 90.0), (" 1.5s ", 1.5))


@pytest.mark.parametrize(("value", "want"), FORMS)
def test_poll_timeout_takes_every_form_as_float_seconds(value: Any, want: float) -> None:
    cfg = ConsumerConfig(poll_timeout=value)
    assert type(cfg.poll_timeout) is float and cfg.poll_timeout == pytest.approx(want)


def test_poll_timeout_default_is_float_seconds() -> None:
    assert ConsumerConfig().poll_timeout == 0.2


@pytest.mark.parametrize("bad", ["soon", "", "5 parsecs", 0, "0s", timedelta(0), -1, timedelta(seconds=-1),
                                 float("nan"), float("inf"), None, True, [1], b"1s"])
def test_bad_poll_timeout_is_a_configuration_error_naming_it(bad: Any) -> None:
    with pytest.raises(ConfigurationError, match="poll_timeout") as info:
        ConsumerConfig(poll_timeout=bad)
    assert info.value.param == "poll_timeout"


def test_retry_delays_sequence_takes_duration_forms() -> None:
    cfg = ConsumerConfig(retry_delays=["250ms", timedelta(seconds=1), 2])
    assert [cfg.delay(a) for a in (1, 2, 3, 4)] == [0.25, 1.0, 2.0, 2.0]
    with pytest.raises(ConfigurationError, match="retry_delays") as info:
        ConsumerConfig(retry_delays=["later"])
    assert info.value.param == "retry_delays"


def test_exponential_delays_take_durations_and_name_their_arguments() -> None:
    delay = exponential_delays(base="100ms", cap=timedelta(seconds=1), jitter=0)
    assert [delay(a) for a in (1, 2, 3, 4, 5)] == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.0])
    for kwargs, name in (({"base": "x"}, "base"), ({"cap": -1}, "cap"), ({"base": float("nan")}, "base")):
        with pytest.raises(ConfigurationError, match=f"^{name}:") as info:
            exponential_delays(**kwargs)
        assert info.value.param == name


class _Consumer:
    """Records the wait each fetch asks for, then stops the subscription."""

    def __init__(self) -> None:
        self.waits: list[Any] = []
        self.sub: Subscription | None = None

    async def fetch(self, max_records: int, timeout: float) -> list[Any]:
        self.waits.append(timeout)
        assert self.sub is not None
        self.sub._stopping = True
        await asyncio.sleep(0)
        return []

    async def close(self) -> None:
        pass


async def test_subscription_fetches_with_the_parsed_poll_timeout() -> None:
    consumer = _Consumer()

    async def send(*_: Any) -> None:
        return None

    sub = Subscription("t", "g", lambda m: None, ConsumerConfig(poll_timeout="150ms"), consumer, send)
    consumer.sub = sub
    sub.start()
    assert sub.task is not None
    await asyncio.wait_for(sub.task, 5.0)  # the first fetch stops it
    await sub.stop(1.0)
    assert consumer.waits == [0.15] and type(consumer.waits[0]) is float


@pytest.mark.parametrize(("value", "want"), FORMS)
def test_poll_timeout_assigned_after_construction_is_parsed_too(value: Any, want: float) -> None:
    cfg = ConsumerConfig()
    cfg.poll_timeout = value
    assert type(cfg.poll_timeout) is float and cfg.poll_timeout == pytest.approx(want)


@pytest.mark.parametrize("bad", ["soon", 0, "0s", -1, float("nan"), None, True])
def test_bad_poll_timeout_assigned_later_is_refused_and_the_old_one_kept(bad: Any) -> None:
    cfg = ConsumerConfig(poll_timeout="1s")
    with pytest.raises(ConfigurationError, match="poll_timeout") as info:
        cfg.poll_timeout = bad
    assert info.value.param == "poll_timeout"
    assert cfg.poll_timeout == 1.0


def test_bad_retry_delays_assigned_later_is_refused_and_the_old_schedule_kept() -> None:
    cfg = ConsumerConfig(retry_delays=[0.5])
    with pytest.raises(ConfigurationError, match="retry_delays"):
        cfg.retry_delays = ["later"]
    assert cfg.retry_delays == (0.5,) and cfg.delay(1) == 0.5
    cfg.retry_delays = ["2s"]
    assert cfg.delay(3) == 2.0


def test_a_schedule_list_is_kept_as_a_tuple_so_it_cannot_drift_from_the_checked_one() -> None:
    # A list changed in place after the check would have shown one schedule and used another
    # (the strategy is built from the checked value); a tuple cannot be changed.
    from collections import deque

    delays = ["100ms", "1s"]
    cfg = ConsumerConfig(retry_delays=delays)
    delays.append("not a duration")
    assert cfg.retry_delays == ("100ms", "1s") and cfg.delay(5) == 1.0
    cfg.retry_delays = deque([0.25])
    assert cfg.retry_delays == (0.25,) and cfg.delay(1) == 0.25
    schedule = (0.5, 2.0)
    cfg.retry_delays = schedule
    assert cfg.retry_delays is schedule  # an immutable sequence is kept as given


def test_a_config_with_a_schedule_can_be_copied_with_another_batch_flag() -> None:
    # KafkaService.subscribe(batch=...) copies the config; the copy used to pass the cached
    # backoff strategy back to __init__ as an unknown keyword (TypeError).
    import dataclasses

    cfg = ConsumerConfig(retry_delays=["100ms", "1s"], poll_timeout="50ms")
    cfg.backoff()
    copy = dataclasses.replace(cfg, batch=True)
    assert copy.batch and copy.poll_timeout == 0.05 and copy.delay(2) == 1.0


async def test_subscribe_with_a_batch_flag_keeps_the_services_schedule() -> None:
    from swfast.messaging import KafkaService
    from swfast.messaging._embedded import EmbeddedBroker

    got: list[Any] = []
    cfg = ConsumerConfig(retry_delays=[0.01], poll_timeout="10ms")
    async with KafkaService("", embedded=EmbeddedBroker(), consumer_config=cfg) as svc:
        await svc.send_message("t-batch", {"x": 1})
        await svc.subscribe("t-batch", "g", got.append, batch=True)
        for _ in range(500):
            if got:
                break
            await asyncio.sleep(0.01)
    assert got and isinstance(got[0], list) and got[0][0]["x"] == 1

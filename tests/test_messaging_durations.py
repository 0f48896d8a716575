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

"""Every duration parameter of the resilience layer takes float seconds, a ``timedelta`` and the
strings of ``swfast._durations`` (issue 11, item 4), and a wrong one is a ConfigurationError
naming the argument (it was a raw TypeError or a "must be a number")."""
from __future__ import annotations

from datetime import timedelta
from typing import Any, Callable

import pytest

from swfast.errors import CircuitOpenError, ConfigurationError
from swfast.resilience import (
    CircuitBreaker, ConstantBackoff, ExponentialBackoff, LinearBackoff, RetryBudget, Retrying,
)
from swfast.resilience.backoff import ScheduleBackoff


@pytest.mark.parametrize("value,expected", [(90, 90.0), (1.5, 1.5), (timedelta(minutes=2), 120.0), ("2m", 120.0),
                                            ("250ms", 0.25), ("1h30m", 5400.0)])
def test_retry_timeout_and_backoff_take_every_duration_form(value: Any, expected: float) -> None:
    assert Retrying(on=OSError, timeout=value).timeout == pytest.approx(expected)
    assert ConstantBackoff(value).calculate_delay(1) == pytest.approx(expected)
    lin = LinearBackoff(initial=value, step=value, max_delay=timedelta(days=1))
    assert lin.calculate_delay(1) == pytest.approx(expected) and lin.calculate_delay(2) == pytest.approx(2 * expected)
    exp = ExponentialBackoff(initial=value, factor=2.0, max_delay=timedelta(days=1))
    assert exp.calculate_delay(1) == pytest.approx(expected)
    assert ScheduleBackoff([value, "1s"]).next_delay(1) == pytest.approx(expected)
    RetryBudget(ttl=value)


@pytest.mark.parametrize("value", [timedelta(seconds=30), "30s", 30, 30.0])
def test_breaker_durations_take_every_form_and_behave_the_same(value: Any) -> None:
    """The same OPEN wait, written four ways, admits the first probe at the same clock time."""
    now = [0.0]
    b = CircuitBreaker("dur-open", wait_duration_open=value, slow_call_duration="1m",
                       max_wait_in_half_open=timedelta(seconds=5), clock=lambda: now[0],
                       minimum_calls=1, window_size=1)

    def boom() -> None:
        raise OSError("down")

    with pytest.raises(OSError):
        b.call(boom)  # one failure in a window of one: OPEN
    now[0] = 29.9
    with pytest.raises(CircuitOpenError):
        b.call(lambda: 1)
    now[0] = 30.1
    assert b.call(lambda: 2) == 2  # the probe after 30 s


@pytest.mark.parametrize("kwargs,param", [
    ({"wait_duration_open": "soon"}, "wait_duration_open"),
    ({"wait_duration_open": timedelta(0)}, "wait_duration_open"),
    ({"slow_call_duration": [1]}, "slow_call_duration"),
    ({"max_wait_in_half_open": "-5s"}, "max_wait_in_half_open"),
])
def test_bad_breaker_durations_name_the_argument(kwargs: dict[str, Any], param: str) -> None:
    with pytest.raises(ConfigurationError, match=param):
        CircuitBreaker("bad", **kwargs)


@pytest.mark.parametrize("build,param", [
    (lambda: Retrying(on=OSError, timeout="forever"), "timeout"),
    (lambda: ConstantBackoff("x"), "delay"),
    (lambda: ExponentialBackoff(initial=timedelta(seconds=-1)), "initial"),
    (lambda: LinearBackoff(max_delay="1 fortnight"), "max_delay"),
    (lambda: RetryBudget(ttl="0s"), "ttl"),
])
def test_bad_durations_name_the_argument(build: Callable[[], Any], param: str) -> None:
    with pytest.raises(ConfigurationError, match=param):
        build()

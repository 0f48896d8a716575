"""The shared duration parser and credential redaction."""
from __future__ import annotations

import math
from datetime import timedelta

import pytest

from swfast._durations import seconds
from swfast._redact import node_name, redact_text, redact_url
from swfast.errors import ConfigurationError


@pytest.mark.parametrize("value, want", [
    (5, 5.0), (0.25, 0.25), (timedelta(minutes=2), 120.0), ("10m", 600.0), ("2h5m", 7500.0),
    ("1d 3h", 97200.0), ("250ms", 0.25), ("1.5h", 5400.0), ("7d", 604800.0), ("1w", 604800.0),
])
def test_seconds_accepts_every_spelling(value: object, want: float) -> None:
    assert seconds(value, param="ttl") == pytest.approx(want)


@pytest.mark.parametrize("value", [-1, math.nan, "soon", "", "10 parsecs", True, [1], b"10s"])
def test_seconds_refuses_with_the_argument_named(value: object) -> None:
    with pytest.raises(ConfigurationError) as info:
        seconds(value, param="reset_timeout")
    assert info.value.param == "reset_timeout"
    assert "reset_timeout" in str(info.value)


def test_seconds_zero_inf_none_policies() -> None:
    assert seconds(None, param="t", allow_none=True) is None
    with pytest.raises(ConfigurationError):
        seconds(None, param="t")
    with pytest.raises(ConfigurationError):
        seconds(0, param="t", allow_zero=False)
    with pytest.raises(ConfigurationError):
        seconds(math.inf, param="t")
    assert seconds(math.inf, param="t", allow_inf=True) == math.inf


def test_redact_url_drops_userinfo_and_secret_params() -> None:
    assert redact_url("redis://:s3cret@host:6379/0") == "redis://***@host:6379/0"
    assert redact_url("redis://user:pw@h/1?password=x&db=1") == "redis://***@h/1?password=***&db=1"
    assert redact_url("redis://host:6379") == "redis://host:6379"
    assert "s3cret" not in redact_text("Error connecting to redis://:s3cret@10.0.0.1:6379/0: refused")


def test_node_name_is_host_port_db() -> None:
    assert node_name("redis://:s3cret@host:6379/2") == "host:6379/2"
    assert node_name("rediss://u:p@[::1]:7000") == "[::1]:7000"
    assert node_name("host:6380") == "host:6380"

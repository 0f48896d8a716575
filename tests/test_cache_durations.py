"""Cache duration parameters take float seconds, ``timedelta`` and ``"10m"``-style strings
(issue 11, item 4): ``PersistentCache(default_ttl=timedelta(days=7))`` died with a raw
``TypeError`` and ``L1Cache(ttl="10m")`` was refused."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from swfast.cache.l1 import L1Cache
from swfast.cache.l3 import PersistentCache
from swfast.errors import ConfigurationError


@pytest.mark.parametrize("ttl", [600, 600.0, timedelta(minutes=10), "10m"])
def test_l1_ttl_in_every_form_expires_at_the_same_time(ttl: Any) -> None:
    now = [1000.0]
    c = L1Cache(10, ttl=ttl, clock=lambda: now[0])
    c.set("k", 1)
    now[0] = 1599.0
    assert c.get("k") == 1
    now[0] = 1601.0
    assert c.get("k") is None


@pytest.mark.parametrize("ttl", [timedelta(days=7), "7d", 7 * 86400])
def test_l3_default_ttl_and_busy_timeout_in_every_form(tmp_path: Path, ttl: Any) -> None:
    now = [1_000_000.0]
    c = PersistentCache(tmp_path / "l3", default_ttl=ttl, busy_timeout=timedelta(seconds=2), clock=lambda: now[0])
    try:
        assert c.default_ttl == 7 * 86400.0 and c.busy_timeout == 2.0
        assert c.persistent_set("k", {"v": 1})
        now[0] += 7 * 86400 - 1
        assert c.persistent_get("k") == {"v": 1}
        now[0] += 2
        assert c.persistent_get("k") is None
    finally:
        c.close()


@pytest.mark.parametrize("kwargs,param", [
    ({"default_ttl": "soon"}, "default_ttl"), ({"default_ttl": 0}, "default_ttl"),
    ({"default_ttl": timedelta(seconds=-1)}, "default_ttl"), ({"busy_timeout": "x"}, "busy_timeout"),
])
def test_bad_l3_durations_name_the_argument(tmp_path: Path, kwargs: dict[str, Any], param: str) -> None:
    with pytest.raises(ConfigurationError, match=param):
        PersistentCache(tmp_path / "bad", **kwargs)


def test_bad_l1_ttl_string_names_the_argument() -> None:
    with pytest.raises(ConfigurationError, match="ttl"):
        L1Cache(10, ttl="ten minutes")

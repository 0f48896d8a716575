"""Shared fixtures: both kernel implementations, real Redis and Kafka servers.

* ``impl`` is parametrized ``c``/``py``: ``impl.load("lru")`` returns the compiled kernel module
  (``swfast._native._lru_c``) or its twin (``_lru_py``). With ``SWFAST_NO_EXTENSIONS=1`` the
  ``c`` case is skipped; otherwise a missing compiled module fails the test.
* ``redis_server`` / ``kafka_server`` start real servers on free loopback ports for the whole
  session and stop them by pid. With ``SWFAST_REQUIRE_SERVICES=1`` (CI sets it) a server that
  cannot start fails the run instead of skipping.
"""
from __future__ import annotations

import importlib
import os
import shutil
import sys
from pathlib import Path
from types import ModuleType
from typing import Iterator

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from _servers import KAFKA_FAST_GROUP, Server, ServerUnavailable, start_kafka, start_redis  # noqa: E402

from swfast._native._compat import NO_EXTENSIONS  # noqa: E402

REQUIRE_SERVICES = os.environ.get("SWFAST_REQUIRE_SERVICES", "") not in ("", "0")


class Impl:
    """One implementation of the kernels: ``c`` (compiled) or ``py`` (pure-Python twin)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def load(self, kernel: str) -> ModuleType:
        suffix = "c" if self.name == "c" else "py"
        return importlib.import_module(f"swfast._native._{kernel}_{suffix}")

    def __repr__(self) -> str:
        return f"Impl({self.name!r})"


@pytest.fixture(params=["c", "py"], scope="session")
def impl(request: pytest.FixtureRequest) -> Impl:
    if request.param == "c" and NO_EXTENSIONS:
        pytest.skip("SWFAST_NO_EXTENSIONS=1: compiled kernels disabled")
    return Impl(request.param)


def _service(start, what: str) -> Iterator[Server]:  # type: ignore[no-untyped-def]
    try:
        server = start()
    except ServerUnavailable as exc:
        if REQUIRE_SERVICES:
            pytest.fail(f"{what} could not start and SWFAST_REQUIRE_SERVICES=1: {exc}")
        pytest.skip(f"{what} unavailable: {exc}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def chromium() -> str:
    """Path of a headless-capable Chromium (Debian's `chromium`, installed by scripts/apt-packages.txt)."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        if REQUIRE_SERVICES:
            pytest.fail("chromium is not installed and SWFAST_REQUIRE_SERVICES=1 (see scripts/apt-packages.txt)")
        pytest.skip("chromium is not installed")
    return path


@pytest.fixture(scope="session")
def redis_server() -> Iterator[Server]:
    """A real redis-server for the whole session."""
    yield from _service(start_redis, "redis-server")


@pytest.fixture(scope="session")
def redis_url(redis_server: Server) -> str:
    return f"redis://{redis_server.address}/0"


@pytest.fixture
def redis_client(redis_server: Server) -> Iterator[object]:
    """A redis-py client on a flushed database."""
    redis = pytest.importorskip("redis") if not REQUIRE_SERVICES else importlib.import_module("redis")
    client = redis.Redis(host=redis_server.host, port=redis_server.port, socket_timeout=5)
    client.flushall()
    yield client
    client.close()


@pytest.fixture(scope="session")
def kafka_server() -> Iterator[Server]:
    """A real Kafka-protocol broker (tansu, memory storage) for the whole session."""
    yield from _service(start_kafka, "kafka broker (tansu)")


@pytest.fixture(scope="session")
def kafka_bootstrap(kafka_server: Server) -> str:
    return kafka_server.address


@pytest.fixture(scope="session")
def kafka_fast_group() -> dict[str, int]:
    """Consumer settings for a quick group join on tansu."""
    return dict(KAFKA_FAST_GROUP)


_SERVICE_MARKERS = {
    "redis_server": "redis", "redis_url": "redis", "redis_client": "redis",
    "kafka_server": "kafka", "kafka_bootstrap": "kafka",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        for fixture in getattr(item, "fixturenames", ()):
            marker = _SERVICE_MARKERS.get(fixture)
            if marker:
                item.add_marker(getattr(pytest.mark, marker))


@pytest.fixture(autouse=True)
def _reset_swfast_globals() -> Iterator[None]:
    """Reset global configuration between tests (features register their resets here)."""
    yield
    from swfast import _resets

    _resets.reset_all()

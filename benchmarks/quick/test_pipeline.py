"""Quick pipeline benchmark: the demo's request path, swfast against the glued peers, same run.

Group ``pipeline.hit``: warm cache (every request an L1 hit: the common case). Group
``pipeline.miss``: every request new (L1 and L3 miss, model call through retry + breaker +
fallback, write L1 + L3). Medians are per request (``ops_per_round``); the model costs nothing.
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any, Callable

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import _pipeline_paths as paths  # noqa: E402

from swfast._native._compat import NO_EXTENSIONS  # noqa: E402

N = 500
SWFAST = "swfast-py" if NO_EXTENSIONS else "swfast"
BUILDERS = [(SWFAST, paths.swfast_path), ("glued-peers", paths.peer_path)]


def _loop(handle: Callable[[bytes], bytes], bodies: list[bytes]) -> int:
    for b in bodies:
        handle(b)
    return len(bodies)


@pytest.mark.parametrize("impl,build", BUILDERS)
def test_pipeline_hit(benchmark: Any, impl: str, build: Any, tmp_path: Path) -> None:
    bodies = paths.requests(N, fresh=False)
    handle, close = build(str(tmp_path))
    try:
        _loop(handle, bodies)  # warm: every timed request is a cache hit
        benchmark.group = "pipeline.hit"
        benchmark.extra_info.update(impl=impl, ops_per_round=N, peers=paths.peer_versions())
        assert benchmark(_loop, handle, bodies) == N
    finally:
        close()


@pytest.mark.parametrize("impl,build", BUILDERS)
def test_pipeline_miss(benchmark: Any, impl: str, build: Any) -> None:
    bodies = paths.requests(N, fresh=True)
    opened: list[Any] = []

    def setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
        d = tempfile.TemporaryDirectory(prefix="swfast-bench-")
        handle, close = build(d.name)
        opened.append((d, close))
        return (handle, bodies), {}

    benchmark.group = "pipeline.miss"
    benchmark.extra_info.update(impl=impl, ops_per_round=N)
    try:
        assert benchmark.pedantic(_loop, setup=setup, rounds=5, iterations=1) == N
    finally:
        for d, close in opened:
            close()
            d.cleanup()

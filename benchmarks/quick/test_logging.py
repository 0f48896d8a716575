"""Quick benchmarks for swfast.logging, with ratios against the peers in the same run.

Groups: ``json.format_5_extras`` (python-json-logger, structlog + orjson, ecs-logging),
``pipeline.process_json`` (enrich + redact + JSON), ``pipeline.logger_info`` (``logger.info``
through a StreamHandler: python-json-logger, the stdlib text formatter, a NullHandler), ``redact.clean`` / ``redact.dense`` (plain
``re`` with the same detectors), ``file.1000_records`` (stdlib RotatingFileHandler, loguru) and
the network handlers' enqueue latency with the sink up, down and hung (p50/p99 printed and kept
in ``extra_info``).
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Callable

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import _logging_peers as peers  # noqa: E402

from swfast._native._compat import NO_EXTENSIONS  # noqa: E402

SWFAST = "swfast-py" if NO_EXTENSIONS else "swfast"


def _bench(benchmark: Any, group: str, impl: str, fn: Callable[[], Any], ops: int = 1) -> None:
    benchmark.group = group
    benchmark.extra_info["impl"] = impl
    if ops != 1:
        benchmark.extra_info["ops_per_round"] = ops
    benchmark(fn)


@pytest.mark.parametrize("impl,make", [
    (SWFAST, peers.swfast_json), ("swfast-py", peers.swfast_json_twin), ("python-json-logger", peers.pjl_json),
    ("structlog+orjson", peers.structlog_orjson), ("ecs-logging", peers.ecs_json),
])
def test_json_format(benchmark: Any, impl: str, make: Callable[[], Callable[[], Any]]) -> None:
    _bench(benchmark, "json.format_5_extras", impl, make())


@pytest.mark.parametrize("impl,make", [
    (SWFAST, peers.swfast_pipeline), ("swfast-formatter-processor", peers.swfast_pipeline_formatter),
    ("swfast-formatter-processor-str", peers.swfast_pipeline_format), ("swfast-no-redact", peers.swfast_pipeline_noredact),
    ("structlog+orjson", peers.structlog_orjson), ("python-json-logger", peers.pjl_json),
])
def test_pipeline(benchmark: Any, impl: str, make: Callable[[], Callable[[], Any]]) -> None:
    _bench(benchmark, "pipeline.process_json", impl, make())


@pytest.mark.parametrize("impl", ["swfast", "python-json-logger", "stdlib-text", "stdlib-null"])
def test_logger_info(benchmark: Any, impl: str) -> None:
    """``logger.info`` with 5 extras through a StreamHandler (see ``peers.logger_info``)."""
    _bench(benchmark, "pipeline.logger_info", SWFAST if impl == "swfast" else impl, peers.logger_info(impl))


@pytest.mark.parametrize("text_name", ["clean", "dense"])
@pytest.mark.parametrize("impl,make", [
    (SWFAST, peers.swfast_redact), ("swfast-py", peers.swfast_redact_twin), ("plain-re", peers.plain_re_redact),
])
def test_redact(benchmark: Any, impl: str, make: Callable[[str], Callable[[], Any]], text_name: str) -> None:
    text = peers.CLEAN if text_name == "clean" else peers.DENSE
    benchmark.extra_info["chars"] = len(text)
    _bench(benchmark, f"redact.{text_name}", impl, make(text))


@pytest.mark.parametrize("impl", ["swfast-json", "swfast-text", "stdlib-rotating", "stdlib-rotating-json", "loguru"])
def test_file_handler(benchmark: Any, impl: str) -> None:
    fb = peers.FileBench(impl)
    try:
        _bench(benchmark, "file.1000_records", "swfast" if impl == "swfast-json" else impl, lambda: fb.run(1000),
               ops=1000)
    finally:
        fb.close()


@pytest.mark.parametrize("sink", ["up", "down", "hung"])
@pytest.mark.parametrize("kind", ["elastic", "kafka", "stdlib-null", "stdlib-queue"])
def test_enqueue_latency(kind: str, sink: str, record_property: Any) -> None:
    if kind == "kafka" and sink == "hung":
        pytest.skip("a hung Kafka broker is the 'down' case for librdkafka (it queues locally)")
    if kind.startswith("stdlib") and sink != "hung":
        pytest.skip("the stdlib peers (NullHandler floor, QueueHandler with a hung listener) run once")
    stats = peers.enqueue_latency(sink, kind, n=20_000)
    record_property("enqueue", stats)
    print(f"\n{kind} sink {sink}: enqueue p50 {stats['p50_us']:.2f} us, p99 {stats['p99_us']:.2f} us, "
          f"max {stats['max_us']:.0f} us, dropped {stats['dropped']:.0f}")
    assert stats["p99_us"] > 0

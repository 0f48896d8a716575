"""asv benchmarks for swfast.logging against python-json-logger, structlog + orjson, ecs-logging,
stdlib RotatingFileHandler, loguru and a plain-``re`` redactor (adapters in ``_logging_peers``).

Both implementations run through asv's ``SWFAST_NO_EXTENSIONS`` matrix; ``track_enqueue_*``
report the network handlers' p99 enqueue latency (µs) with the sink up, down and hung.
"""
from __future__ import annotations

import os
import sys
from typing import Any, Callable

sys.path.insert(0, os.path.dirname(__file__))

import _logging_peers as peers  # noqa: E402


class JSONFormat:
    params = ["swfast", "python-json-logger", "structlog+orjson", "ecs-logging"]
    param_names = ["impl"]

    def setup(self, impl: str) -> None:
        self.fn: Callable[[], Any] = {"swfast": peers.swfast_json, "python-json-logger": peers.pjl_json,
                                      "structlog+orjson": peers.structlog_orjson, "ecs-logging": peers.ecs_json}[impl]()

    def time_format_1000(self, impl: str) -> None:
        fn = self.fn
        for _ in range(1000):
            fn()


class Pipeline:
    params = ["swfast", "swfast-formatter-processor", "swfast-formatter-processor-str", "swfast-no-redact",
              "structlog+orjson"]
    param_names = ["impl"]

    def setup(self, impl: str) -> None:
        self.fn: Callable[[], Any] = {"swfast": peers.swfast_pipeline, "swfast-no-redact": peers.swfast_pipeline_noredact,
                                      "swfast-formatter-processor": peers.swfast_pipeline_formatter,
                                      "swfast-formatter-processor-str": peers.swfast_pipeline_format,
                                      "structlog+orjson": peers.structlog_orjson}[impl]()

    def time_process_json_1000(self, impl: str) -> None:
        fn = self.fn
        for _ in range(1000):
            fn()


class LoggerInfo:
    """``logger.info`` with 5 extras through a StreamHandler into a discarding stream."""

    params = ["swfast", "python-json-logger", "stdlib-text", "stdlib-null"]
    param_names = ["impl"]

    def setup(self, impl: str) -> None:
        self.fn: Callable[[], Any] = peers.logger_info(impl)

    def time_logger_info_1000(self, impl: str) -> None:
        fn = self.fn
        for _ in range(1000):
            fn()


class Redact:
    params = (["swfast", "plain-re"], ["clean", "dense", "adversarial"])
    param_names = ["impl", "text"]

    def setup(self, impl: str, text: str) -> None:
        body = {"clean": peers.CLEAN, "dense": peers.DENSE, "adversarial": "a" * 100_000 + "@"}[text]
        self.fn: Callable[[], Any] = (peers.swfast_redact if impl == "swfast" else peers.plain_re_redact)(body)

    def time_redact(self, impl: str, text: str) -> None:
        self.fn()


class FileHandler:
    params = ["swfast-json", "swfast-text", "stdlib-rotating", "loguru"]
    param_names = ["impl"]

    def setup(self, impl: str) -> None:
        self.fb = peers.FileBench(impl)

    def teardown(self, impl: str) -> None:
        self.fb.close()

    def time_1000_records(self, impl: str) -> None:
        self.fb.run(1000)


class Enqueue:
    params = (["elastic", "kafka"], ["up", "down", "hung"])
    param_names = ["kind", "sink"]
    timeout = 120

    def track_enqueue_p99_us(self, kind: str, sink: str) -> float:
        if kind == "kafka" and sink == "hung":
            return float("nan")
        return peers.enqueue_latency(sink, kind, n=10_000)["p99_us"]

    track_enqueue_p99_us.unit = "us"  # type: ignore[attr-defined]

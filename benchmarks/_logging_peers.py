"""Peers and fixtures shared by bench_logging.py (asv) and quick/test_logging.py.

Peers: python-json-logger, structlog + orjson, ecs-logging, stdlib RotatingFileHandler, loguru,
and a plain-``re`` implementation of the same redaction detectors (checksums included).
"""
from __future__ import annotations

import http.server
import io
import logging
import logging.handlers
import os
import re
import socket
import statistics
import sys
import tempfile
import threading
import time
from typing import Any, Callable

from swfast.logging import ElasticLogHandler, JSONLogFormatter, LogProcessor, SensitiveDataFilter


def record(extras: int = 5) -> logging.LogRecord:
    rec = logging.LogRecord("app.orders", logging.INFO, "/srv/app/orders.py", 42, "user %s placed order %d",
                            ("bob", 1234), None, func="place")
    for i in range(extras):
        setattr(rec, f"k{i}", i if i % 2 else f"value-{i}")
    return rec


# ---------------------------------------------------------------- JSON formatters
def swfast_json() -> Callable[[], Any]:
    fmt, rec = JSONLogFormatter(), record()
    return lambda: fmt.format(rec)


def swfast_json_twin() -> Callable[[], Any]:
    from swfast._native import _logjson_py
    from swfast.logging import formatters

    fmt, rec = JSONLogFormatter(), record()
    fmt._renderer = _logjson_py.RecordRenderer(logging.LogRecord, *fmt._renderer_args())  # type: ignore[attr-defined]

    def run() -> Any:
        saved = formatters._render_fast
        formatters._render_fast = _logjson_py.render
        try:
            return fmt.format(rec)
        finally:
            formatters._render_fast = saved
    return run


def pjl_json() -> Callable[[], Any]:
    from pythonjsonlogger.json import JsonFormatter

    fmt, rec = JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"), record()
    return lambda: fmt.format(rec)


def ecs_json() -> Callable[[], Any]:
    import ecs_logging

    fmt, rec = ecs_logging.StdlibFormatter(), record()
    return lambda: fmt.format(rec)


class _NullLogger:
    def msg(self, message: Any) -> None:
        pass

    info = msg


def structlog_orjson() -> Callable[[], Any]:
    import orjson
    import structlog

    log = structlog.wrap_logger(
        _NullLogger(), processors=[structlog.processors.add_log_level,
                                   structlog.processors.TimeStamper(fmt="iso", utc=True),
                                   structlog.processors.JSONRenderer(serializer=orjson.dumps)],
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO), cache_logger_on_first_use=True)
    extras = {f"k{i}": (i if i % 2 else f"value-{i}") for i in range(5)}
    return lambda: log.info("user bob placed order 1234", **extras)


# ---------------------------------------------------------------- processor chain + JSON
def swfast_pipeline() -> Callable[[], Any]:
    proc, fmt, rec = LogProcessor(service="svc"), JSONLogFormatter(), record()
    return lambda: fmt.render(proc.process_log(rec))  # type: ignore[arg-type]


def swfast_pipeline_formatter() -> Callable[[], Any]:
    """The same work through ``JSONLogFormatter(processor=…)``: no processed copy is made."""
    fmt, rec = JSONLogFormatter(processor=LogProcessor(service="svc")), record()
    return lambda: fmt.render(rec)


def swfast_pipeline_format() -> Callable[[], Any]:
    """As :func:`swfast_pipeline_formatter`, through ``format`` (the str a stdlib handler writes)."""
    fmt, rec = JSONLogFormatter(processor=LogProcessor(service="svc")), record()
    return lambda: fmt.format(rec)


def swfast_pipeline_noredact() -> Callable[[], Any]:
    proc, fmt, rec = LogProcessor(service="svc", redact=False), JSONLogFormatter(), record()
    return lambda: fmt.render(proc.process_log(rec))  # type: ignore[arg-type]


# ---------------------------------------------------------------- logger.info end to end
class _Discard(io.TextIOBase):
    """A text stream that keeps nothing (the handler's own work is measured, not the disk)."""

    def write(self, text: str) -> int:
        return len(text)


def logger_info(impl: str) -> Callable[[], Any]:
    """``logger.info("user %s placed order %d", "bob", 1234, extra=5 fields)`` through one
    ``StreamHandler`` into a discarding stream, formatted by ``impl``: ``swfast`` (JSON with
    enrich + redact), ``python-json-logger``, ``stdlib-text`` (the default ``Formatter``), or
    ``stdlib-null`` (a ``NullHandler``: the floor of a stdlib call that emits)."""
    log = logging.Logger(f"bench.{impl}", logging.INFO)
    log.propagate = False
    if impl == "stdlib-null":
        handler: logging.Handler = logging.NullHandler()
    else:
        handler = logging.StreamHandler(_Discard())
        if impl == "swfast":
            handler.setFormatter(JSONLogFormatter(processor=LogProcessor(service="svc")))
        elif impl == "python-json-logger":
            from pythonjsonlogger.json import JsonFormatter

            handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        elif impl != "stdlib-text":
            raise ValueError(impl)
    log.addHandler(handler)
    extra = {f"k{i}": (i if i % 2 else f"value-{i}") for i in range(5)}
    return lambda: log.info("user %s placed order %d", "bob", 1234, extra=extra)


# ---------------------------------------------------------------- redaction
CLEAN = ("GET /api/v2/orders/7781 200 12.4ms user=bob region=eu-west-1 build 3.4.1 "
         "cache hit ratio 0.93 request 550e8400-e29b-41d4-a716-446655440000 ") * 8
DENSE = ("card 4111 1111 1111 1111 mail a.b@example.com token=abc123 "
         "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig AKIAIOSFODNN7EXAMPLE "
         "https://u:p@h.example/ +98 912 345 6789 IR050170000000123456789012 0012345679 ") * 8


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _nid(d: str) -> bool:
    s = sum(int(d[i]) * (10 - i) for i in range(9)) % 11
    return int(d[9]) == (s if s < 2 else 11 - s)


_NORMAL = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "0123456789" * 2)


class PlainRe:
    """The same detectors written as ordinary ``re`` patterns (the usual logredactor style)."""

    PATTERNS = [
        ("PRIVATE_KEY", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----"), None),
        ("JWT", re.compile(r"\beyJ[\w-]+\.eyJ[\w-]+\.[\w-]*"), None),
        ("URL_CREDENTIALS", re.compile(r"(?<=://)[^\s/@]+(?=@)"), None),
        ("EMAIL", re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)+"), None),
        ("BEARER", re.compile(r"(?i)(?<=bearer )[\w.~+/-]{8,}=*"), None),
        ("AWS_KEY", re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"), None),
        ("SECRET", re.compile(r"(?i)(\b(?:password|passwd|secret|token|api_key|apikey|otp)[\"']?\s*[=:]\s*[\"']?)[^\s&,;\"'}]+"), None),
        ("IBAN", re.compile(r"(?i)\bIR\d{2}(?:[ -]?\d){22}\b"), None),
        ("PHONE", re.compile(r"(?:\+98|0098|0)[ -]?9\d{2}[ -]?\d{3}[ -]?\d{4}\b"), None),
        ("CARD", re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)"), lambda m: _luhn(re.sub(r"\D", "", m.translate(_NORMAL)))),
        ("NATIONAL_ID", re.compile(r"(?<!\d)\d{10}(?!\d)"), lambda m: _nid(m.translate(_NORMAL))),
    ]

    def redact(self, text: str) -> str:
        for label, pattern, check in self.PATTERNS:
            def sub(m: re.Match[str], label: str = label, check: Any = check) -> str:
                if check is not None and not check(m.group()):
                    return m.group()
                return (m.group(1) if m.re.groups else "") + f"[REDACTED:{label}]"
            text = pattern.sub(sub, text)
        return text


def swfast_redact(text: str) -> Callable[[], Any]:
    flt = SensitiveDataFilter()
    return lambda: flt.redact_text(text)


def swfast_redact_twin(text: str) -> Callable[[], Any]:
    from swfast._native import _redscan_py
    from swfast.logging import redaction

    flt = SensitiveDataFilter()

    def run() -> Any:
        saved = redaction._scan
        redaction._scan = _redscan_py.scan
        try:
            return flt.redact_text(text)
        finally:
            redaction._scan = saved
    return run


def plain_re_redact(text: str) -> Callable[[], Any]:
    red = PlainRe()
    return lambda: red.redact(text)


# ---------------------------------------------------------------- file handlers
class FileBench:
    """``n`` records through a logger into a rotating file handler; returns records/s."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.dir = tempfile.mkdtemp(prefix="swfast-bench-log-")
        path = os.path.join(self.dir, "app.log")
        self.log = logging.Logger(f"bench.{kind}", logging.INFO)
        self._loguru: Any = None
        if kind == "swfast-json":
            from swfast.logging import FileLogHandler

            self.handler: logging.Handler = FileLogHandler(path, max_bytes="5 MB", backup_count=2)
        elif kind == "swfast-text":
            from swfast.logging import FileLogHandler, TextLogFormatter

            self.handler = FileLogHandler(path, max_bytes="5 MB", backup_count=2)
            self.handler.setFormatter(TextLogFormatter(colors=False, extras=False))
        elif kind == "stdlib-rotating":
            self.handler = logging.handlers.RotatingFileHandler(path, maxBytes=5_000_000, backupCount=2)
            self.handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        elif kind == "stdlib-rotating-json":
            self.handler = logging.handlers.RotatingFileHandler(path, maxBytes=5_000_000, backupCount=2)
            self.handler.setFormatter(JSONLogFormatter())
        elif kind == "loguru":
            from loguru import logger

            self._loguru = logger.bind()
            logger.remove()
            self._sink = logger.add(path, rotation="5 MB", retention=2, enqueue=False, catch=True)
        else:
            raise ValueError(kind)
        if self._loguru is None:
            self.log.addHandler(self.handler)

    def run(self, n: int) -> None:
        if self._loguru is not None:
            info = self._loguru.info
            for i in range(n):
                info("user {} placed order {}", "bob", i)
        else:
            info = self.log.info
            for i in range(n):
                info("user %s placed order %d", "bob", i)

    def close(self) -> None:
        if self._loguru is not None:
            from loguru import logger

            logger.remove(self._sink)
        else:
            self.handler.close()


# ---------------------------------------------------------------- network enqueue latency
class _Hung(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        time.sleep(3600)

    def log_message(self, *args: Any) -> None:
        pass


class _Up(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        n = body.count(b"\n") // 2
        data = b'{"errors":false,"items":[' + b",".join([b'{"index":{"status":201}}'] * n) + b"]}"
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def enqueue_latency(sink: str, kind: str = "elastic", n: int = 20_000) -> dict[str, float]:
    """p50/p99/max of ``logger.info`` (µs) with the sink ``up``, ``down`` or ``hung``."""
    server: Any = None
    broker: Any = None
    if kind in ("stdlib-null", "stdlib-queue"):  # the floor (logger.info itself) and stdlib's QueueHandler
        return _stdlib_latency(kind, n)
    if kind == "kafka" and sink == "up":  # a real tansu broker (tests/_servers.py)
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))
        from _servers import start_kafka

        broker = start_kafka()
        url, bootstrap = "", broker.address
    elif sink == "down":
        url = f"http://127.0.0.1:{_free_port()}"
        bootstrap = url.rsplit("//", 1)[1]
    else:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Up if sink == "up" else _Hung)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}"
        bootstrap = url.rsplit("//", 1)[1]
    handler: logging.Handler
    if kind == "elastic":
        handler = ElasticLogHandler(url, max_queue=5_000, timeout=600, sleep=lambda s: None, flush_timeout=0.5)
    else:
        from swfast.logging import KafkaLogHandler

        handler = KafkaLogHandler("bench-logs", bootstrap, max_queue=5_000, flush_timeout=0.5,
                                  producer_config={"message.timeout.ms": 5_000})
    samples = _info_latencies(handler, sink, n)
    handler.close(timeout=0.5)  # type: ignore[call-arg]
    if server is not None:
        server.shutdown()
    if broker is not None:
        broker.stop()
    q = statistics.quantiles(samples, n=100)
    return {"p50_us": q[49] / 1000, "p99_us": q[98] / 1000, "max_us": samples[-1] / 1000,
            "dropped": float(handler.counters.get("dropped"))}  # type: ignore[attr-defined]


def _info_latencies(handler: logging.Handler, name: str, n: int) -> list[int]:
    """Sorted ns of ``n`` ``logger.info`` calls into ``handler``."""
    log = logging.Logger(f"bench.enqueue.{name}", logging.INFO)
    log.addHandler(handler)
    samples = []
    clock = time.perf_counter_ns
    for i in range(n):
        t0 = clock()
        log.info("user %s placed order %d", "bob", i)
        samples.append(clock() - t0)
    samples.sort()
    return samples


def _stdlib_latency(kind: str, n: int) -> dict[str, float]:
    """``logger.info`` into a NullHandler, or into stdlib's QueueHandler whose listener's handler
    hangs (an unbounded ``queue.Queue``: a bounded one raises ``queue.Full`` into handleError)."""
    import queue

    listener: Any = None
    release = threading.Event()
    if kind == "stdlib-null":
        handler: logging.Handler = logging.NullHandler()
    else:
        class _HungHandler(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                release.wait(30)

        q: queue.Queue[Any] = queue.Queue()
        handler = logging.handlers.QueueHandler(q)
        listener = logging.handlers.QueueListener(q, _HungHandler())
        listener.start()
    samples = _info_latencies(handler, kind, n)
    if listener is not None:
        release.set()
        listener.stop()
    q50, q99 = statistics.quantiles(samples, n=100)[49], statistics.quantiles(samples, n=100)[98]
    return {"p50_us": q50 / 1000, "p99_us": q99 / 1000, "max_us": samples[-1] / 1000, "dropped": 0.0}


def stream() -> io.StringIO:
    return io.StringIO()

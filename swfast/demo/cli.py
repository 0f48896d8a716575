"""Command-line bodies of ``swfast demo`` (and, in :mod:`swfast.demo.benchreport`, ``swfast bench``)."""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any, Sequence

from .._durations import seconds as _seconds
from .benchreport import add_bench_arguments, run_bench


def seconds(value: str, *, param: str) -> float:
    """A command-line duration: a bare number is seconds, else the shared parser's forms."""
    try:
        return float(value)
    except ValueError:
        got = _seconds(value, param=param)
        assert got is not None
        return got


def add_demo_arguments(p: argparse.ArgumentParser) -> None:
    """The ``demo`` sub-command's options (``swfast.cli`` builds the parser and calls this)."""
    from .. import config

    p.add_argument("--duration", default="10s", help="how long producers publish (seconds or '30s', '2m'); default 10s")
    p.add_argument("--rate", type=float, default=200.0, help="requests per second (default 200)")
    p.add_argument("--workers", type=int, default=4, help="consumers in the workers' group, per process (default 4)")
    p.add_argument("--processes", type=int, default=1, help="worker processes (> 1 needs --kafka)")
    p.add_argument("--redis", default=config.redis_url(),
                   help="L2: redis:// URL(s), comma-separated ring nodes, or one node of a Redis Cluster "
                        f"(default ${config.REDIS_URL}; none: L1 + L3 only)")
    p.add_argument("--kafka", default=config.kafka_bootstrap(),
                   help=f"Kafka bootstrap servers (default ${config.KAFKA_BOOTSTRAP_SERVERS}; none: the embedded transport)")
    p.add_argument("--chaos", action="store_true", help="run the chaos drill (slow model, failure bursts, cache fault)")
    p.add_argument("--chaos-pause-pid", type=int, action="append", default=[], metavar="PID",
                   help="with --chaos: SIGSTOP this server process (a Redis node, the broker) mid-run, then SIGCONT")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--kill-after", default=None, help="scale-out drill: SIGKILL one worker process after this long")
    p.add_argument("--consumer-option", action="append", default=[], metavar="KEY=VALUE",
                   help="extra librdkafka consumer property for the workers (repeatable), e.g. session.timeout.ms=6000")
    p.add_argument("--drain-timeout", default="20s", help="how long to wait for the last answers after producing")
    p.add_argument("--workdir", default=None,
                   help="keep L3, the JSON log (demo.log.jsonl) and worker logs here (default: a temporary directory)")
    p.add_argument("--no-dashboard", action="store_true", help="do not serve the live page on 127.0.0.1")
    p.add_argument("--dashboard-port", type=int, default=0, help="port of the live page (default: any free port)")
    p.add_argument("--dashboard-html", default="demo-results/dashboard.html",
                   help="where the final page is written (default demo-results/dashboard.html)")
    p.add_argument("--no-progress", action="store_true", help="no progress line")
    p.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")


def run_from_args(args: argparse.Namespace) -> int:
    """Run the demo for parsed ``args``; 0 when nothing was lost, 1 otherwise."""
    from ..errors import ConfigurationError
    from .runner import Demo, DemoConfig, format_summary

    try:
        return _run(args, Demo, DemoConfig, format_summary)
    except ConfigurationError as exc:
        print(f"swfast demo: error: {exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace, Demo: Any, DemoConfig: Any, format_summary: Any) -> int:
    cfg = DemoConfig(duration=seconds(args.duration, param="duration"), rate=args.rate, workers=args.workers,
                     processes=args.processes, redis=args.redis or None, kafka=args.kafka or None, chaos=args.chaos,
                     pause_pids=list(args.chaos_pause_pid),
                     seed=args.seed, progress=not args.no_progress, consumer_overrides=_options(args.consumer_option),
                     drain_timeout=seconds(args.drain_timeout, param="drain_timeout"), workdir=args.workdir,
                     dashboard=not args.no_dashboard, dashboard_port=args.dashboard_port,
                     dashboard_html=args.dashboard_html or None,
                     kill_after=seconds(args.kill_after, param="kill_after") if args.kill_after else None)
    summary: dict[str, Any] = asyncio.run(Demo(cfg).run())
    if args.json:
        print(json.dumps(summary, indent=2, ensure_ascii=False))
    else:
        print(format_summary(summary))
    if summary["lost"]:
        print(f"FAILED: {summary['lost']} request(s) got neither a response nor a dead letter", file=sys.stderr)
        return 1
    return 0


def _options(items: list[str]) -> dict[str, Any]:
    from ..errors import ConfigurationError

    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigurationError("consumer_option", f"expected KEY=VALUE, got {item!r}")
        out[key.strip()] = int(value) if value.strip().isdigit() else value.strip()
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m swfast.demo``: the demo on its own."""
    parser = argparse.ArgumentParser(prog="swfast demo", description="the model-serving pipeline demo")
    add_demo_arguments(parser)
    return run_from_args(parser.parse_args(argv))


__all__ = ["add_bench_arguments", "add_demo_arguments", "main", "run_bench", "run_from_args"]

"""``python -m swfast`` / ``swfast``: environment report and the embedded-defaults demo.

Commands:
    info   version, which kernels are active, CPU/memory (container limits too), GPU if NVML
           finds one, optional packages installed, configured services and whether they answer.
           Credentials in configured URLs are shown redacted (``redis://***@host:6379/0``).
    demo   the model-serving pipeline on embedded defaults (swfast.demo); bench: quick benchmarks + HTML report.

``swfast --version`` prints the version. Output cut short by the reader (``swfast info | head``)
ends quietly with status 0 (no BrokenPipeError traceback).

``swfast info --json`` keys (stable; ``schema`` changes only when one is removed or changes meaning):
    schema       1
    swfast       version string
    extensions   "compiled" or "pure-python"
    python       "CPython 3.11.9"
    gil_enabled  bool
    platform     platform string
    cpu          {"logical": int, "affinity": int | null}
    memory       {"total_bytes", "available_bytes"} (empty without psutil)
    container    {"memory_max_bytes", "cpu_max"} from cgroup v2 (empty outside one)
    gpu          list of {"index", "name", "memory_total_bytes", "memory_free_bytes"}, or a string why not
    packages     {distribution: version | null}
    services     {"redis" | "kafka": {"env": variable, "configured": redacted value | null,
                  "reachable": bool | null}}
    environment  {SWFAST_* variable: redacted value | null} (every variable of swfast.config)
"""
from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import os
import platform
import random
import socket
import sys
import time
from pathlib import Path
from typing import Any, Sequence
from urllib.parse import urlparse

from . import config

OPTIONAL = (
    "numpy", "numba", "mmh3", "lz4", "cramjam", "psutil", "redis", "hiredis", "confluent-kafka",
    "cupy-cuda12x", "cupy-cuda13x", "nvidia-ml-py", "cryptography", "orjson", "prometheus-client",
)

#: Environment variables naming the services swfast uses when they are configured (swfast.config).
SERVICE_ENV = {"redis": config.REDIS_URL, "kafka": config.KAFKA_BOOTSTRAP_SERVERS}
INFO_SCHEMA = 1


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _cgroup_limits() -> dict[str, Any]:
    out: dict[str, Any] = {}
    try:
        mem = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        out["memory_max_bytes"] = None if mem == "max" else int(mem)
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()
        out["cpu_max"] = None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    return out


def _memory() -> dict[str, Any]:
    try:
        import psutil

        vm = psutil.virtual_memory()
        return {"total_bytes": vm.total, "available_bytes": vm.available}
    except ImportError:
        return {}


def _gpus() -> list[dict[str, Any]] | str:
    if importlib.util.find_spec("pynvml") is None:
        return "pynvml not installed"
    try:
        import pynvml

        pynvml.nvmlInit()
        try:
            gpus = []
            for i in range(pynvml.nvmlDeviceGetCount()):
                h = pynvml.nvmlDeviceGetHandleByIndex(i)
                mem = pynvml.nvmlDeviceGetMemoryInfo(h)
                name = pynvml.nvmlDeviceGetName(h)
                gpus.append({
                    "index": i,
                    "name": name.decode() if isinstance(name, bytes) else name,
                    "memory_total_bytes": int(mem.total),
                    "memory_free_bytes": int(mem.free),
                })
            return gpus
        finally:
            pynvml.nvmlShutdown()
    except Exception as exc:  # no driver, no device: report, do not fail
        return f"no GPU: {exc}"


def _reachable(address: str, timeout: float = 0.5) -> bool:
    url = urlparse(address if "://" in address else f"tcp://{address}")
    host, port = url.hostname or "127.0.0.1", url.port
    if port is None:
        port = 6379 if url.scheme.startswith("redis") else 9092
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def info() -> dict[str, Any]:
    """Everything ``swfast info`` prints, as a dict."""
    import swfast

    services = {}
    values = {"redis": config.redis_url(), "kafka": config.kafka_bootstrap()}
    env = config.snapshot()
    for name, var in SERVICE_ENV.items():
        value = values[name]
        if name == "kafka":
            var = config.kafka_variable()
        first = value.split(",")[0].strip() if value else None
        services[name] = {
            "env": var,
            "configured": env.get(var) if value else None,  # redacted
            "reachable": _reachable(first) if first else None,
        }
    return {
        "schema": INFO_SCHEMA,
        "swfast": swfast.__version__,
        "extensions": "compiled" if swfast.USE_EXTENSIONS else "pure-python",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "gil_enabled": getattr(sys, "_is_gil_enabled", lambda: True)(),
        "platform": platform.platform(),
        "cpu": {"logical": os.cpu_count(), "affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None},
        "memory": _memory(),
        "container": _cgroup_limits(),
        "gpu": _gpus(),
        "packages": {dist: _version(dist) for dist in OPTIONAL},
        "services": services,
        "environment": env,
    }


def _print_info(data: dict[str, Any]) -> None:
    print(f"swfast {data['swfast']} ({data['extensions']} kernels) on {data['python']}, GIL {'on' if data['gil_enabled'] else 'off'}")
    print(f"platform   {data['platform']}")
    print(f"cpu        {data['cpu']['logical']} logical, {data['cpu']['affinity']} usable")
    mem = data["memory"]
    if mem:
        print(f"memory     {mem['total_bytes'] / 2**30:.1f} GiB total, {mem['available_bytes'] / 2**30:.1f} GiB available")
    if data["container"]:
        print(f"container  {data['container']}")
    gpu = data["gpu"]
    if isinstance(gpu, list):
        for g in gpu:
            print(f"gpu {g['index']}      {g['name']}, {g['memory_total_bytes'] / 2**30:.1f} GiB")
        if not gpu:
            print("gpu        none found by NVML")
    else:
        print(f"gpu        {gpu}")
    present = ", ".join(f"{k} {v}" for k, v in data["packages"].items() if v)
    missing = ", ".join(k for k, v in data["packages"].items() if not v)
    print(f"packages   {present}")
    print(f"missing    {missing or '-'}")
    for name, s in data["services"].items():
        state = "not configured" if not s["configured"] else ("reachable" if s["reachable"] else "UNREACHABLE")
        print(f"{name:<10} {s['env']}={s['configured'] or ''} ({state})")


def demo(*, ops: int = 300_000, keys: int = 50_000, maxsize: int = 10_000, seed: int = 7) -> dict[str, Any]:
    """Run a Zipf-like L1 workload (read-through on miss) and return its figures."""
    from .cache import L1Cache

    rnd = random.Random(seed)
    # a skewed key stream: most reads go to a small hot set, as model feature lookups do
    stream = [f"feature:{int(keys * rnd.random() ** 3)}" for _ in range(ops)]
    cache = L1Cache(maxsize, ttl=60.0, name="demo")
    get, put = cache.fast_get, cache.fast_set
    t0 = time.perf_counter()
    for k in stream:
        if get(k) is None:
            put(k, k)
    elapsed = time.perf_counter() - t0
    s = cache.stats()
    return {
        "operations": ops + s["misses"],
        "seconds": elapsed,
        "ops_per_second": (ops + s["misses"]) / elapsed,
        "hit_rate": s["hit_rate"],
        "evictions": s["evictions"],
        "size": s["size"],
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; the exit status (0 also when the reader closed the pipe early)."""
    try:
        status = _main(argv)
        sys.stdout.flush()
        return status
    except BrokenPipeError:
        # the reader went away (``swfast info | head``): stop quietly, and keep the interpreter's
        # final flush of stdout from raising again
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return 0


def _warnings_to_stderr() -> None:
    """The CLI is an application: swfast's own warnings (a deprecated variable, an embedded
    stand-in) go to stderr. The library itself only has a ``NullHandler``, so without this they
    would vanish; nothing is added when the process already configured logging."""
    import logging

    log = logging.getLogger("swfast")
    if logging.getLogger().handlers or any(not isinstance(h, logging.NullHandler) for h in log.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter("swfast: %(levelname)s: %(message)s"))
    log.addHandler(handler)


def _main(argv: Sequence[str] | None) -> int:
    _warnings_to_stderr()
    from . import __version__

    parser = argparse.ArgumentParser(prog="swfast", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"swfast {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    p_info = sub.add_parser("info", help="environment report")
    p_info.add_argument("--json", action="store_true", help="print JSON")
    from .demo import cli as demo_cli

    demo_cli.add_demo_arguments(sub.add_parser("demo", help="the model-serving pipeline on embedded defaults"))
    demo_cli.add_bench_arguments(sub.add_parser("bench", help="quick benchmarks against peers + HTML report"))
    args = parser.parse_args(argv)
    if args.command == "info":
        data = info()
        print(json.dumps(data, indent=2)) if args.json else _print_info(data)
        return 0
    if args.command == "bench":
        return demo_cli.run_bench(args)
    return demo_cli.run_from_args(args)  # demo


__all__ = ["demo", "info", "main"]

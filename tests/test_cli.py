"""``python -m swfast info`` and ``demo`` run and report what they promise."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from swfast import cli

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "swfast", *args], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, **env}, timeout=120)


def test_info_json_reports_environment_and_services(redis_server):
    out = _run("info", "--json", SWFAST_REDIS_URL=f"redis://{redis_server.address}/0",
               SWFAST_KAFKA_BOOTSTRAP="127.0.0.1:1")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    import swfast

    assert data["swfast"] == swfast.__version__
    assert data["extensions"] in ("compiled", "pure-python")
    assert data["cpu"]["logical"] >= 1
    assert data["packages"]["numpy"]
    assert data["services"]["redis"]["reachable"] is True
    assert data["services"]["kafka"]["reachable"] is False


def test_info_text_mentions_kernels():
    out = _run("info")
    assert out.returncode == 0, out.stderr
    assert "kernels" in out.stdout and "redis" in out.stdout


def test_demo_reports_hit_rate_and_throughput():
    result = cli.demo(ops=20_000, keys=5_000, maxsize=1_000)
    assert 0.0 < result["hit_rate"] < 1.0
    assert result["ops_per_second"] > 0 and result["size"] == 1_000
    out = _run("demo", "--duration", "1", "--rate", "50", "--no-progress")
    assert out.returncode == 0 and "hit rate" in out.stdout and "lost 0" in out.stdout


def test_demo_rejects_bad_ops():
    out = _run("demo", "--workers", "0")
    assert out.returncode == 2 and "workers" in out.stderr


def test_unreachable_address_is_reported_quickly():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert cli._reachable(f"127.0.0.1:{port}") is False

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
               SWFAST_KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:1")
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


INFO_KEYS = {"schema", "swfast", "extensions", "python", "gil_enabled", "platform", "cpu", "memory", "container",
             "gpu", "packages", "services", "environment"}


def test_info_json_keys_are_the_documented_ones():
    data = cli.info()
    assert set(data) == INFO_KEYS and data["schema"] == 1
    for key in INFO_KEYS:
        assert f"    {key} " in cli.__doc__  # each key is documented in the module docstring
    assert set(data["services"]) == {"redis", "kafka"}
    assert set(data["services"]["redis"]) == {"env", "configured", "reachable"}
    from swfast import config

    assert set(data["environment"]) >= {v.name for v in config.VARIABLES}


def test_info_redacts_credentials_text_and_json():
    secret = {"SWFAST_REDIS_URL": "redis://admin:s3cret-pw@127.0.0.1:1/0",
              "SWFAST_KAFKA_BOOTSTRAP_SERVERS": "bob:kafka-pw@127.0.0.1:1", "SWFAST_MASTER_KEY": "bWFzdGVyLWtleQ=="}
    for args in (("info",), ("info", "--json")):
        out = _run(*args, **secret)
        assert out.returncode == 0, out.stderr
        for word in ("s3cret-pw", "kafka-pw", "bWFzdGVyLWtleQ=="):
            assert word not in out.stdout and word not in out.stderr
        assert "127.0.0.1:1/0" in out.stdout


def test_old_kafka_variable_is_still_reported_with_a_deprecation_note():
    out = _run("info", "--json", SWFAST_KAFKA_BOOTSTRAP="127.0.0.1:1")
    data = json.loads(out.stdout)
    assert data["services"]["kafka"] == {"env": "SWFAST_KAFKA_BOOTSTRAP", "configured": "127.0.0.1:1",
                                         "reachable": False}
    assert "deprecated" in out.stderr and "SWFAST_KAFKA_BOOTSTRAP_SERVERS" in out.stderr


def test_version_flag():
    import swfast

    out = _run("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"swfast {swfast.__version__}"


def test_closed_pipe_ends_quietly():
    """``swfast info | head``: the reader is gone before the first write; no traceback, status 0."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run([sys.executable, "-m", "swfast", "info"], stdout=write_end, stderr=subprocess.PIPE,
                              text=True, cwd=ROOT, timeout=120)
    finally:
        os.close(write_end)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr

"""A real Prometheus server (Debian's ``prometheus`` package) for the monitoring tests.

``start_prometheus(targets)`` writes a scrape config (1 s interval) for ``targets``
(``host:port`` of swfast ``/metrics`` endpoints), starts the server on a free loopback port and
waits for ``/-/ready``; :meth:`Server.stop` ends it by pid. Reuses tests/_servers.py.
"""
from __future__ import annotations

import json
import shutil
import tempfile
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from _servers import Server, ServerUnavailable, _spawn, _wait, free_port


def prometheus_binary() -> str:
    path = shutil.which("prometheus")
    if not path:
        raise ServerUnavailable("prometheus is not installed (apt-get install prometheus; see scripts/apt-packages.txt)")
    return path


def _ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/-/ready", timeout=1) as resp:
            return bool(resp.status == 200)
    except OSError:
        return False


def start_prometheus(targets: list[str], *, interval: str = "1s", timeout: float = 60.0) -> Server:
    binary = prometheus_binary()
    workdir = tempfile.mkdtemp(prefix="swfast-prometheus-")
    port = free_port()
    config = Path(workdir) / "prometheus.yml"
    config.write_text(
        "global:\n"
        f"  scrape_interval: {interval}\n"
        f"  scrape_timeout: {interval}\n"
        "scrape_configs:\n"
        "  - job_name: swfast\n"
        "    metrics_path: /metrics\n"
        "    static_configs:\n"
        f"      - targets: {json.dumps(targets)}\n"
    )
    argv = [binary, f"--config.file={config}", f"--storage.tsdb.path={workdir}/data",
            f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"]
    server = _spawn("prometheus", argv, port, workdir)
    _wait(lambda: _ready(port), server, timeout)
    return server


def query(server: Server, promql: str, at: float | None = None) -> list[dict[str, Any]]:
    """Instant query through the HTTP API; returns ``data.result``."""
    params = {"query": promql}
    if at is not None:
        params["time"] = repr(at)
    url = f"http://{server.address}/api/v1/query?" + urllib.parse.urlencode(params)
    with urllib.request.urlopen(url, timeout=5) as resp:
        body = json.load(resp)
    if body.get("status") != "success":
        raise AssertionError(f"prometheus query {promql!r} failed: {body}")
    return list(body["data"]["result"])


def promtool() -> str:
    path = shutil.which("promtool")
    if not path:
        raise ServerUnavailable("promtool is not installed (part of Debian's prometheus package)")
    return path


__all__ = ["prometheus_binary", "promtool", "query", "start_prometheus"]

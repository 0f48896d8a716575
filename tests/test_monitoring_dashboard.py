"""Dashboard + alert view: data discovery, the self-contained page, and a real headless Chromium
(no console errors, no request outside its own origin, charts with points, a screenshot)."""
from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

import pytest

from swfast.monitoring.alerts import AlertStore
from swfast.monitoring.dashboard import AlertVisualizer, DashboardGenerator
from swfast.monitoring.metrics import MetricSnapshot, Registry, Sample

OUTPUT = Path(os.environ.get("SWFAST_TEST_OUTPUT", Path(__file__).resolve().parent.parent / "tests-output"))


class Clock:
    def __init__(self) -> None:
        self.t = 1_800_000_000.0

    def __call__(self) -> float:
        return self.t


def _populate(reg: Registry, clock: Clock, dash: DashboardGenerator, steps: int = 8) -> None:
    req = reg.counter("swfast_messaging_messages_sent_total", "Messages sent.", ("topic",))
    lat = reg.histogram("swfast_cache_get_seconds", "Cache get latency.", ("tier",), buckets=(0.001, 0.01, 0.1, 1.0))
    rej = reg.counter("swfast_resilience_ratelimit_rejected_total", "Rejected by rate limiters.", ("name",))
    lag = reg.gauge("swfast_messaging_consumer_lag", "Consumer lag.", ("topic",))
    anomaly = reg.gauge("swfast_resources_anomaly", "Anomaly flag.")
    state = {"hits": 0.0, "misses": 0.0}
    reg.register_collector(lambda: [
        MetricSnapshot("swfast_cache_tier_hits_total", "counter", "hits",
                       [Sample("swfast_cache_tier_hits_total", {"cache": "default", "tier": "l1"}, state["hits"])]),
        MetricSnapshot("swfast_cache_tier_misses_total", "counter", "misses",
                       [Sample("swfast_cache_tier_misses_total", {"cache": "default", "tier": "l1"}, state["misses"])]),
        MetricSnapshot("swfast_resilience_breaker_state", "gauge", "state",
                       [Sample("swfast_resilience_breaker_state", {"name": "payments"}, 1.0)]),
    ])
    for i in range(steps):
        req.labels("orders").inc(10 * (i + 1))
        for k in range(20):
            lat.labels("l1").observe(0.0005 * (k + 1))
        rej.labels("api").inc(i)
        lag.labels("orders").set(100 - i)
        state["hits"] += 8
        state["misses"] += 2
        anomaly.set(1.0 if i == steps - 2 else 0.0)
        dash.tick()
        clock.t += 5.0


@pytest.fixture
def setup() -> tuple[Registry, Clock, AlertStore, DashboardGenerator]:
    reg, clock, store = Registry(), Clock(), AlertStore()
    store.publish({"fingerprint": "cpu|pod=a", "name": "HighCPU", "severity": "critical", "state": "firing",
                   "labels": {"pod": "a"}, "value": 0.93, "peak": 0.97, "count": 4,
                   "started_at": clock.t + 10, "updated_at": clock.t + 30, "summary": "مصرف پردازنده بالا"})
    store.publish({"fingerprint": "mem|pod=a", "name": "HighMemory", "severity": "warning", "state": "resolved",
                   "labels": {"pod": "a"}, "value": 0.5, "peak": 0.88, "started_at": clock.t,
                   "updated_at": clock.t + 20, "summary": "memory back to normal"})
    dash = DashboardGenerator(reg, alerts=AlertVisualizer(store, clock=clock), clock=clock, refresh=1.0)
    _populate(reg, clock, dash)
    return reg, clock, store, dash


def test_constructor_is_inert() -> None:
    before = threading.active_count()
    DashboardGenerator()
    AlertVisualizer()
    assert threading.active_count() == before


def test_data_is_discovered_from_the_registry(setup: Any) -> None:
    _, _, _, dash = setup
    d = dash.dashboard_data(tick=False)
    g = d["groups"]
    thr = next(s for s in g["throughput"] if s["title"] == "swfast_messaging_messages_sent_total")
    assert thr["component"] == "messaging" and thr["v"][-1] == pytest.approx(80 / 5.0)
    lat = g["latency"][0]
    assert lat["component"] == "cache" and 0.001 <= lat["lines"]["p50"][-1] <= 0.01
    assert g["cache"][0]["labels"]["tier"] == "l1" and g["cache"][0]["v"][-1] == pytest.approx(0.8)
    assert {s["title"] for s in g["limits"]} >= {"swfast_resilience_ratelimit_rejected_total",
                                                  "swfast_messaging_consumer_lag"}
    assert d["breakers"] == [{"name": "payments", "state": "open", "label": "باز", "transitions": 0}]
    assert d["marks"] and d["limits"][1]["limit"] > 0
    assert [a["name"] for a in d["alerts"]["active"]] == ["HighCPU"]
    assert len(d["t"]) == 8 and all(len(s["v"]) == 8 for s in g["throughput"])


def test_alert_view_groups_and_shows_duration_peak_count(setup: Any) -> None:
    _, clock, store, dash = setup
    frag = dash.alerts.visualize_alerts()
    assert frag.count('data-fingerprint="cpu|pod=a"') == 2  # active and recent
    assert "بحرانی" in frag and "رفع‌شده" in frag and "0.97" in frag
    active = dash.alerts.data()["active"][0]
    assert active["count"] == 4 and active["duration"] == pytest.approx(clock.t - active["started_at"])


def test_page_is_self_contained_rtl_and_json_is_cached(setup: Any, tmp_path: Path) -> None:
    _, _, _, dash = setup
    path = dash.generate_dashboard(tmp_path / "d.html")
    page = path.read_text(encoding="utf-8")
    assert page.startswith('<!DOCTYPE html><html lang="fa" dir="rtl">')
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert "connect-src 'self'" in page
    body = dash.render_json()
    assert dash.render_json() is body  # cached until the next tick
    dash.tick()
    assert dash.render_json() is not body
    assert json.loads(body)["lang"] == "fa"
    assert "dir=\"ltr\"" in DashboardGenerator(Registry(), lang="en").render_html()


# -- real headless Chromium ---------------------------------------------------------------------
class _Proxy(BaseHTTPRequestHandler):
    """A recording HTTP proxy: every request the browser makes is logged with its Referer (the
    page's own requests carry it; Chromium's background service traffic does not); only
    ``origin`` is served."""

    seen: list[str] = []
    page: list[str] = []
    origin = ""

    def do_GET(self) -> None:  # noqa: N802
        _Proxy.seen.append(self.path)
        if (self.headers.get("Referer") or "").startswith(_Proxy.origin) or self.path.startswith(_Proxy.origin):
            _Proxy.page.append(self.path)
        if not self.path.startswith(_Proxy.origin):
            self.send_response(502)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        with urllib.request.urlopen(self.path, timeout=10) as resp:
            body = resp.read()
            ctype = resp.headers["Content-Type"]
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_CONNECT(self) -> None:  # noqa: N802 - https attempts are recorded and refused
        _Proxy.seen.append("CONNECT " + self.path)
        self.send_response(502)
        self.end_headers()

    def log_message(self, *a: Any) -> None:
        pass


@pytest.fixture
def proxy() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Proxy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Proxy.seen = []
    _Proxy.page = []
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()


def _browse(binary: str, url: str, proxy_port: int, *extra: str) -> tuple[str, list[str]]:
    argv = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--no-first-run", "--disable-extensions", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--metrics-recording-only",
            f"--proxy-server=http://127.0.0.1:{proxy_port}", "--proxy-bypass-list=<-loopback>",
            "--enable-logging=stderr", "--v=0", "--virtual-time-budget=4000", *extra, url]
    proc = subprocess.run(argv, capture_output=True, timeout=120)
    console = [line for line in proc.stderr.decode(errors="replace").splitlines() if ":CONSOLE" in line]
    return proc.stdout.decode(errors="replace"), console


def test_proxy_and_console_detection_work(chromium: str, proxy: int) -> None:
    # the detectors themselves: a bad page served from its origin must be caught
    from swfast.monitoring._http import HttpServer

    bad = (b'<html><body><img src="http://cdn.example.invalid/x.png">'
           b'<script>console.error("boom")</script></body></html>')
    with HttpServer({"/bad": lambda q, h: (200, "text/html", bad)}) as server:
        _Proxy.origin = server.url
        _, console = _browse(chromium, server.url + "/bad", proxy, "--dump-dom")
    assert any("boom" in line for line in console)
    assert any("cdn.example.invalid" in s for s in _Proxy.page)


def test_served_dashboard_in_headless_chromium(setup: Any, chromium: str, proxy: int) -> None:
    reg, clock, store, dash = setup
    server = dash.serve(0)
    try:
        origin = server.url
        _Proxy.origin = origin
        dom, console = _browse(chromium, origin + "/", proxy, "--dump-dom")
        assert console == [], console
        assert _Proxy.page and all(s.startswith(origin + "/") for s in _Proxy.page), _Proxy.page
        assert any(s.endswith("/dashboard.json") for s in _Proxy.page)  # the live refresh ran
        points = int(re.search(r'data-points="(\d+)"', dom).group(1))  # type: ignore[union-attr]
        assert points > 50
        assert "data-refresh-error" not in dom
        assert dom.count('class="pt"') == points and 'class="line"' in dom
        assert 'class="mark"' in dom  # anomaly/alert marks drawn
        assert "HighCPU" in dom and 'dir="rtl"' in dom
        OUTPUT.mkdir(parents=True, exist_ok=True)
        shot = OUTPUT / "monitoring-dashboard.png"
        if shot.exists():
            shot.unlink()
        _Proxy.page = []
        _, console = _browse(chromium, origin + "/", proxy, f"--screenshot={shot}", "--window-size=1400,2200",
                             "--hide-scrollbars")
        assert console == [], console
        assert all(s.startswith(origin + "/") for s in _Proxy.page), _Proxy.page
        assert shot.exists() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
    finally:
        dash.close()


def test_free_port_helper_is_loopback() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        assert s.getsockname()[0] == "127.0.0.1"

"""The demo's live page: served on 127.0.0.1 while the run lasts, written as one HTML file at the end.

``GET /`` is a self-refreshing HTML page (phase, throughput and p99 over time as inline SVG,
breakers, degradation level, cache hit rates, accounting, resources); ``GET /state.json`` the
same state as JSON; ``GET /metrics`` the process registry in Prometheus text format. The server
is a stdlib ``ThreadingHTTPServer`` on a daemon thread; nothing starts until :meth:`start`.
"""
from __future__ import annotations

import html
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

PHASE_COLORS = {"warmup": "#e8f4ea", "model_slow": "#fff3cd", "burst_failures": "#f8d7da", "cache_fault": "#e2e3f3",
                "recovery": "#e8f4ea", "steady": "#f4f4f4"}


def _spark(points: list[tuple[float, float]], phases: list[dict[str, Any]], *, width: int = 460, height: int = 90,
           color: str = "#2b7bb9", label: str = "", unit: str = "") -> str:
    """A line over time with the chaos phases as background bands."""
    if not points:
        return f'<svg width="{width}" height="{height}"></svg>'
    t_max = max(p[0] for p in points) or 1.0
    v_max = max(max(p[1] for p in points), 1e-9)

    def sx(t: float) -> float:
        return 40 + t / t_max * (width - 50)

    def sy(v: float) -> float:
        return height - 16 - v / v_max * (height - 30)

    bands = []
    for i, ph in enumerate(phases):
        t0 = ph["at_s"]
        t1 = phases[i + 1]["at_s"] if i + 1 < len(phases) else t_max
        if t1 > t0:
            bands.append(f'<rect x="{sx(t0):.1f}" y="4" width="{max(sx(t1) - sx(t0), 1):.1f}" height="{height - 20}" '
                         f'fill="{PHASE_COLORS.get(ph["phase"], "#f4f4f4")}"><title>{html.escape(ph["phase"])}</title></rect>')
    path = " ".join(f"{'M' if i == 0 else 'L'}{sx(t):.1f},{sy(v):.1f}" for i, (t, v) in enumerate(points))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="100%" viewBox="0 0 {width} {height}" font-family="sans-serif" '
            f'font-size="11">{"".join(bands)}<path d="{path}" fill="none" stroke="{color}" stroke-width="2"/>'
            f'<text x="2" y="14">{html.escape(label)}</text><text x="2" y="{height - 18}">0</text>'
            f'<text x="2" y="28">{v_max:.0f}{unit}</text><text x="{width - 40}" y="{height - 3}">{t_max:.0f} s</text></svg>')


def render(state: dict[str, Any], *, live: bool) -> str:
    """The page for one state snapshot (``live``: refresh every second)."""
    acc = state.get("accounting", {})
    lat = state.get("latency_ms", {})
    phases = state.get("phases", [])
    hist = state.get("history", [])
    thr = [(h["t"], h["rate"]) for h in hist]
    p99 = [(h["t"], h["p99_ms"]) for h in hist]
    breakers = "".join(f'<span class="pill {html.escape(v.lower())}">{html.escape(k)}: {html.escape(v)}</span>'
                       for k, v in state.get("breakers", {}).items())
    rates = state.get("cache", {}).get("hit_rate", {})
    rows = "".join(f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(str(v))}</td></tr>"
                   for k, v in state.get("outcomes", {}).items())
    res = state.get("resources", {})
    alerts = "".join(f'<div class="bad">alert: {html.escape(str(a))}</div>' for a in state.get("alerts", [])[:4])
    phase = html.escape(str(state.get("phase", "-")))
    lost_cls = "bad" if acc.get("lost") else "good"
    refresh = '<meta http-equiv="refresh" content="1">' if live else ""
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">{refresh}<title>swfast demo</title>
<style>body{{font-family:sans-serif;margin:1.2em;color:#222;max-width:1000px}} .grid{{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:12px}}
.card{{border:1px solid #ddd;border-radius:6px;padding:8px 12px}} .pill{{display:inline-block;padding:2px 8px;margin:2px;border-radius:10px;background:#e8f4ea}}
.pill.open,.pill.killed{{background:#f8d7da}} .pill.half_open{{background:#fff3cd}} .big{{font-size:1.6em;font-weight:bold}} .bad{{color:#c00}} .good{{color:#080}}
td{{padding:1px 8px}}</style></head><body>
<h1>swfast demo {'(live)' if live else '(final)'}</h1>
<div class="grid">
<div class="card"><div>phase</div><div class="big" style="background:{PHASE_COLORS.get(str(state.get('phase')), '#fff')}">{phase}</div>
<div>degradation level <b>{html.escape(str(state.get('level', '-')))}</b>, health <b>{html.escape(str(state.get('health', '-')))}</b></div>
<div>{breakers}</div>{alerts}</div>
<div class="card"><div>accounting</div><div class="big {lost_cls}">lost {acc.get('lost', 0)}</div>
<div>sent {acc.get('sent', 0):,} - answered {acc.get('answered', 0):,} - dead letters {acc.get('dead_letters', 0):,} -
duplicates {acc.get('duplicates', 0):,}</div></div>
<div class="card">{_spark(thr, phases, label='answered per second', unit='/s')}</div>
<div class="card">{_spark(p99, phases, color='#d9534f', label='p99 latency (ms, per interval)', unit=' ms')}</div>
<div class="card"><div>latency p50 {lat.get('p50', 0):.2f} ms, p95 {lat.get('p95', 0):.2f} ms, p99 {lat.get('p99', 0):.2f} ms</div>
<div>cache hit rate L1 {rates.get('l1', 0):.1%}, L2 {rates.get('l2', 0):.1%}, L3 {rates.get('l3', 0):.1%}</div>
<div>fallbacks {state.get('fallbacks', 0):,}, retries {state.get('retries', 0):,}, breaker trips {state.get('trips', 0)}</div></div>
<div class="card"><table>{rows}</table></div>
<div class="card">resources: CPU {res.get('cpu_percent', 0):.0f}% of one core, RSS {res.get('memory_bytes', 0) / 2**20:.0f} MiB,
{res.get('threads', 0):.0f} threads</div>
<div class="card">phases: {' &rarr; '.join(html.escape(f"{p['phase']}@{p['at_s']:.1f}s") for p in phases) or 'steady'}</div>
</div></body></html>"""


class Dashboard:
    """Serves ``state()`` live. ``url`` is known after :meth:`start`."""

    def __init__(self, state: Callable[[], dict[str, Any]], *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.state = state
        self.host, self.port = host, port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def start(self) -> str:
        dash = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (stdlib name)
                if self.path.startswith("/state.json"):
                    body, ctype = json.dumps(dash.state(), default=str).encode(), "application/json"
                elif self.path.startswith("/metrics"):
                    from ..monitoring.metrics import CONTENT_TYPE_LATEST, REGISTRY

                    body, ctype = REGISTRY.render_text(), CONTENT_TYPE_LATEST
                elif self.path == "/" or self.path.startswith("/?"):
                    body, ctype = render(dash.state(), live=True).encode(), "text/html; charset=utf-8"
                else:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # quiet: the demo has its own log
                pass

        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="swfast-demo-dashboard", daemon=True)
        self._thread.start()
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def write(self, path: str) -> None:
        """The final page, one self-contained HTML file."""
        with open(path, "w", encoding="utf-8") as f:
            f.write(render(self.state(), live=False))


__all__ = ["Dashboard", "render"]

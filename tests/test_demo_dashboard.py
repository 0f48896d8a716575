"""The demo's live dashboard: served while the run lasts, written as one HTML file at the end,
and photographed in headless Chromium during the chaos drill's failure burst."""
from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from swfast.demo.dashboard import Dashboard, render
from swfast.demo.runner import Demo, DemoConfig

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
REQUIRE = os.environ.get("SWFAST_REQUIRE_SERVICES") == "1"


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.read()


def test_dashboard_serves_page_state_and_metrics():
    state = {"phase": "burst_failures", "phases": [{"at_s": 0.0, "phase": "warmup"}, {"at_s": 1.0, "phase": "burst_failures"}],
             "history": [{"t": 0.5, "rate": 100.0, "p99_ms": 3.0}, {"t": 1.5, "rate": 80.0, "p99_ms": 40.0}],
             "accounting": {"sent": 10, "answered": 9, "dead_letters": 1, "lost": 0}, "breakers": {"m": "OPEN"},
             "level": "DEGRADED", "outcomes": {"fallback": 3}}
    from swfast.monitoring.metrics import REGISTRY

    REGISTRY.counter("swfast_demo_dashboard_test_total", "a metric the page exports").inc()
    dash = Dashboard(lambda: state)
    url = dash.start()
    try:
        page = _get(url).decode()
        assert "burst_failures" in page and "DEGRADED" in page and 'http-equiv="refresh"' in page
        assert page.count("<svg") == 2 and "m: OPEN" in page
        assert json.loads(_get(url + "state.json"))["level"] == "DEGRADED"
        assert b"swfast_demo_dashboard_test_total 1" in _get(url + "metrics")
        with pytest.raises(Exception):
            _get(url + "nope")
    finally:
        dash.stop()
    final = render(state, live=False)
    assert "(final)" in final and "refresh" not in final


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def test_dashboard_during_chaos_screenshot(tmp_path, record_property, capsys):
    """The run serves the page; during the failure burst the test saves the live page and takes a
    headless-Chromium screenshot of it (test-artifacts/dashboard-chaos.png); the final page is
    written at the end."""
    chromium = _chromium()
    if chromium is None:
        if REQUIRE:
            pytest.fail("no chromium on PATH (scripts/apt-packages.txt installs it)")
        pytest.skip("no chromium on PATH")
    final = tmp_path / "final.html"
    cfg = DemoConfig(duration=6.0, rate=150.0, workers=3, chaos=True, progress=False, workdir=str(tmp_path / "w"),
                     dashboard=True, dashboard_html=str(final))
    demo = Demo(cfg)
    captured: dict[str, object] = {}

    def watch() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and "page" not in captured:
            if demo.url:
                try:
                    st = json.loads(_get(demo.url + "state.json"))
                    if st["phase"] in ("burst_failures", "cache_fault") and st.get("trips", 0) >= 1:
                        captured["state"] = st
                        captured["page"] = _get(demo.url).decode()
                        return
                except OSError:
                    pass
            time.sleep(0.1)

    t = threading.Thread(target=watch)
    t.start()
    s = asyncio.run(demo.run())
    t.join()
    assert s["lost"] == 0 and s["dashboard"]["url"].startswith("http://127.0.0.1:")
    assert final.is_file() and "(final)" in final.read_text()
    assert "page" in captured, "the page was never seen in the burst_failures phase"
    page = re.sub(r'<meta http-equiv="refresh"[^>]*>', "", str(captured["page"]))
    assert "burst_failures" in page  # the phase timeline on the page
    assert ": OPEN" in page or ": HALF_OPEN" in page or "DEGRADED" in page or "MINIMAL" in page
    ARTIFACTS.mkdir(exist_ok=True)
    html_path = ARTIFACTS / "dashboard-chaos.html"
    html_path.write_text(page, encoding="utf-8")
    png = ARTIFACTS / "dashboard-chaos.png"
    png.unlink(missing_ok=True)
    proc = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                           f"--screenshot={png}", "--window-size=1050,700", html_path.as_uri()],
                          capture_output=True, text=True, timeout=120)
    assert png.is_file() and png.stat().st_size > 5000, proc.stderr[-2000:]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    record_property("screenshot", str(png))  # in the JUnit XML (pytest --junitxml) beside the test
    line = f"dashboard screenshot during the chaos drill: {png} ({png.stat().st_size:,} bytes)"
    with capsys.disabled():  # in the test output even when the test passes; the file stays in test-artifacts/
        print(f"\n{line}")

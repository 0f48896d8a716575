"""``swfast bench``: the HTML report (inline SVG ratio charts + table) and the pipeline paths."""
from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from swfast.demo.benchreport import find_benchmarks, format_table, render_html, svg_chart

ROOT = Path(__file__).resolve().parents[1]
DATA = {
    "pipeline.hit": {"swfast": {"median_ns": 40_000.0, "ratio_to_swfast": 1.0},
                     "glued-peers": {"median_ns": 400_000.0, "ratio_to_swfast": 10.0}},
    "l1.set": {"swfast": {"median_ns": 170.0, "ratio_to_swfast": 1.0},
               "cachebox": {"median_ns": 150.0, "ratio_to_swfast": 0.88}},
}


def test_svg_chart_has_a_bar_per_implementation_on_a_log_axis():
    svg = svg_chart("pipeline.hit", DATA["pipeline.hit"])
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert svg.count("<rect") == 2 and "x10.00" in svg and "glued-peers" in svg
    assert ">1x<" in svg and ">10x<" in svg  # decade ticks


def test_report_marks_a_faster_peer_and_lists_every_row(tmp_path):
    page = render_html(DATA)
    assert page.count("<svg") == 2 and "#d9534f" in page  # cachebox is faster: a red bar
    assert "<td>cachebox</td>" in page and "x0.88" in page
    table = format_table(DATA)
    assert table.splitlines()[0].startswith("l1.set") and "400.00 us" in table


def test_bench_command_renders_existing_ratios(tmp_path):
    src = tmp_path / "ratios.json"
    src.write_text(json.dumps(DATA))
    out = tmp_path / "r" / "report.html"
    proc = subprocess.run([sys.executable, "-m", "swfast", "bench", "--from-json", str(src), "--out", str(out)],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "pipeline.hit" in proc.stdout and out.is_file() and "<svg" in out.read_text()


def test_bench_outside_a_checkout_says_why(tmp_path, monkeypatch):
    monkeypatch.setattr("swfast.demo.benchreport.__file__", str(tmp_path / "x" / "y" / "z.py"))
    from swfast.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="source"):
        find_benchmarks(tmp_path)
    assert find_benchmarks(ROOT).name == "quick"


def test_pipeline_paths_answer_the_same_requests():
    """Both builds of the benchmark's request path accept the same requests and agree on the answer."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import _pipeline_paths as paths

    bodies = paths.requests(20, fresh=False) + paths.requests(5, fresh=True)
    answers = []
    for build in (paths.swfast_path, paths.peer_path):
        with tempfile.TemporaryDirectory() as d:
            handle, close = build(d)
            try:
                out = [json.loads(handle(b)) for b in bodies]
                again = [json.loads(handle(b)) for b in bodies]
            finally:
                close()
        assert all(o["payload"]["status"] == "success" for o in out)
        assert all(a["payload"]["cached"] for a in again)  # the second pass hits the cache
        answers.append([(o["metadata"]["request_id"], o["payload"]["data"]["label"]) for o in out])
    assert answers[0] == answers[1]


def test_report_labels_fit_inside_their_charts_in_headless_chromium(tmp_path, chromium):
    # A long implementation name was clipped at the chart's left edge (a fixed 170 px label
    # column). The browser lays the page out; every SVG text must start and end inside its svg.
    data = {"pipeline.process_json": {
        "swfast": {"median_ns": 2_340.0, "ratio_to_swfast": 1.0},
        "swfast-formatter-processor-str-with-a-much-longer-name": {"median_ns": 1_280.0, "ratio_to_swfast": 0.55},
        "python-json-logger": {"median_ns": 6_870.0, "ratio_to_swfast": 2.94}}}
    probe = ("<script>window.addEventListener('load',function(){var bad=[];"
             "document.querySelectorAll('svg').forEach(function(s){var w=s.width.baseVal.value;"
             "s.querySelectorAll('text').forEach(function(t){var b=t.getBBox();"
             "if(b.x<0||b.x+b.width>w)bad.push(t.textContent+' '+b.x.toFixed(1)+'..'+(b.x+b.width).toFixed(1)+'/'+w);});});"
             "var p=document.createElement('pre');p.id='probe';p.textContent='checked '+JSON.stringify(bad);"
             "document.body.appendChild(p);});</script>")
    page = tmp_path / "report.html"
    page.write_text(render_html(data).replace("</body>", probe + "</body>"), encoding="utf-8")
    proc = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                           "--no-first-run", "--disable-extensions", "--virtual-time-budget=3000", "--dump-dom",
                           page.as_uri()], capture_output=True, timeout=120)
    dom = proc.stdout.decode(errors="replace")
    found = re.search(r'<pre id="probe">checked (.*?)</pre>', dom)
    assert found, proc.stderr.decode(errors="replace")[-2000:]  # the probe ran after layout
    assert json.loads(found.group(1).replace("&quot;", '"')) == []  # no label outside its chart

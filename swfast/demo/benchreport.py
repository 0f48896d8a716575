"""``swfast bench``: run the quick comparative benchmarks and write an HTML report of the ratios.

The quick benchmarks live in a source checkout (``benchmarks/quick``); each group (operation)
times swfast and its peers in the same run. The report has one inline SVG bar chart per group,
ratio = peer time / swfast time on a log scale (a bar past 1x: swfast is faster), and the same
numbers as a table, which is also printed.
"""
from __future__ import annotations

import html
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Sequence

from ..errors import ConfigurationError


def find_benchmarks(start: str | os.PathLike[str] | None = None) -> Path:
    """``benchmarks/quick`` of the checkout containing ``start`` (default: cwd, then swfast's own)."""
    here = Path(__file__).resolve().parents[2]
    for root in [Path(start or os.getcwd()).resolve(), *Path(start or os.getcwd()).resolve().parents, here]:
        cand = root / "benchmarks" / "quick"
        if (cand / "conftest.py").is_file():
            return cand
    raise ConfigurationError("benchmarks", "no benchmarks/quick found: run `swfast bench` inside a swfast source "
                             "checkout (the quick benchmarks are not part of the wheel)")


def run_quick(quick: Path, out_dir: Path, select: str | None = None, max_time: float = 0.25) -> dict[str, Any]:
    """Run pytest-benchmark on ``quick`` (``select`` is a ``-k`` expression); the ratios it wrote."""
    out_dir.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pytest", str(quick), "-q", "-p", "no:randomly", "--benchmark-only",
           "--benchmark-min-rounds=5", f"--benchmark-max-time={max_time}", "--benchmark-warmup=on",
           f"--benchmark-json={out_dir / 'quick.json'}", "--benchmark-columns=median,rounds"]
    if select:
        cmd += ["-k", select]
    proc = subprocess.run(cmd, cwd=str(out_dir.parent), capture_output=True, text=True)
    ratios = out_dir / "ratios.json"
    if proc.returncode not in (0,) or not ratios.is_file():
        raise RuntimeError(f"quick benchmarks failed (exit {proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-2000:]}")
    data: dict[str, Any] = json.loads(ratios.read_text())
    return data


def _fmt_ns(ns: float) -> str:
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} us"
    return f"{ns:.0f} ns"


def svg_chart(group: str, rows: dict[str, dict[str, float]], width: int = 640) -> str:
    """One horizontal bar chart: each implementation's ratio to swfast on a log10 axis."""
    items = sorted(rows.items(), key=lambda kv: kv[1]["ratio_to_swfast"])
    bar_h, gap, right, min_left = 22, 6, 90, 170
    # room for the longest implementation name (about 7 px a character at 12 px sans-serif), so
    # no label is clipped at the chart's left edge; the bars keep their span
    left = max(min_left, 7 * max((len(impl) for impl in rows), default=0) + 12)
    width += left - min_left
    top = 26
    height = top + len(items) * (bar_h + gap) + 26
    top_ratio = max([r["ratio_to_swfast"] for _, r in items if math.isfinite(r["ratio_to_swfast"])] + [10.0])
    lo = min([r["ratio_to_swfast"] for _, r in items if r["ratio_to_swfast"] > 0] + [1.0])
    lo_exp = math.floor(math.log10(min(lo, 1.0)))
    hi_exp = max(1, math.ceil(math.log10(top_ratio)))
    span = width - left - right

    def x(ratio: float) -> float:
        r = max(ratio, 10.0 ** lo_exp)
        return left + (math.log10(r) - lo_exp) / (hi_exp - lo_exp) * span

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="{html.escape(group)} ratios" font-family="sans-serif" font-size="12">',
             f'<text x="4" y="16" font-weight="bold">{html.escape(group)}</text>']
    for e in range(lo_exp, hi_exp + 1):
        gx = x(10.0 ** e)
        parts.append(f'<line x1="{gx:.1f}" y1="{top - 4}" x2="{gx:.1f}" y2="{height - 20}" stroke="#ddd"/>')
        parts.append(f'<text x="{gx:.1f}" y="{height - 6}" text-anchor="middle" fill="#666">{10.0 ** e:g}x</text>')
    one = x(1.0)
    for i, (impl, r) in enumerate(items):
        y = top + i * (bar_h + gap)
        ratio = r["ratio_to_swfast"]
        is_swfast = impl.startswith("swfast")
        color = "#2b7bb9" if is_swfast else ("#d9534f" if ratio < 1.0 else "#f0ad4e")
        x0, x1 = sorted((one, x(ratio)))
        parts.append(f'<text x="{left - 6}" y="{y + bar_h - 7}" text-anchor="end">{html.escape(impl)}</text>')
        parts.append(f'<rect x="{x0:.1f}" y="{y}" width="{max(x1 - x0, 2):.1f}" height="{bar_h}" fill="{color}">'
                     f'<title>{html.escape(impl)}: {_fmt_ns(r["median_ns"])}, x{ratio:.2f}</title></rect>')
        parts.append(f'<text x="{max(x1, one) + 4:.1f}" y="{y + bar_h - 7}">x{ratio:.2f}  ({_fmt_ns(r["median_ns"])})</text>')
    parts.append(f'<line x1="{one:.1f}" y1="{top - 4}" x2="{one:.1f}" y2="{height - 20}" stroke="#333"/>')
    parts.append("</svg>")
    return "".join(parts)


def table_rows(data: dict[str, dict[str, dict[str, float]]]) -> list[tuple[str, str, str, str]]:
    out = []
    for group in sorted(data):
        for impl, r in sorted(data[group].items(), key=lambda kv: kv[1]["median_ns"]):
            out.append((group, impl, _fmt_ns(r["median_ns"]), f"x{r['ratio_to_swfast']:.2f}"))
    return out


def render_html(data: dict[str, dict[str, dict[str, float]]], *, title: str = "swfast vs peers",
                note: str = "") -> str:
    """The report: a chart per group, then the table."""
    charts = "\n".join(f"<figure>{svg_chart(g, data[g])}</figure>" for g in sorted(data))
    rows = "\n".join(f"<tr><td>{html.escape(g)}</td><td>{html.escape(i)}</td><td>{m}</td><td>{r}</td></tr>"
                     for g, i, m, r in table_rows(data))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;max-width:900px;margin:2em auto;color:#222}}
figure{{margin:1.2em 0}} table{{border-collapse:collapse}} td,th{{padding:3px 10px;border-bottom:1px solid #eee;text-align:left}}</style>
</head><body>
<h1>{html.escape(title)}</h1>
<p>Median time per operation, every implementation measured in the same run; ratio = implementation time /
swfast time (log scale; above 1x swfast is faster, red bars: a peer is faster). {html.escape(note)}</p>
{charts}
<h2>Table</h2>
<table><tr><th>operation</th><th>implementation</th><th>median</th><th>ratio</th></tr>
{rows}
</table>
</body></html>
"""


def format_table(data: dict[str, dict[str, dict[str, float]]]) -> str:
    rows = table_rows(data)
    if not rows:
        return "(no results)"
    w = [max(len(r[i]) for r in rows) for i in range(4)]
    return "\n".join(f"{g:<{w[0]}}  {i:<{w[1]}}  {m:>{w[2]}}  {r:>{w[3]}}" for g, i, m, r in rows)


def bench_main(argv: Sequence[str] | None = None) -> int:
    """``swfast bench [-k EXPR] [--out FILE] [--from-json RATIOS]``."""
    import argparse

    p = argparse.ArgumentParser(prog="swfast bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_bench_arguments(p)
    return run_bench(p.parse_args(argv))


def add_bench_arguments(p: Any) -> None:
    p.add_argument("-k", dest="select", default=None, help="only benchmarks matching this pytest -k expression")
    p.add_argument("--out", default="bench-results/report.html", help="HTML report path (default bench-results/report.html)")
    p.add_argument("--from-json", default=None, help="render an existing ratios.json instead of running")
    p.add_argument("--max-time", type=float, default=0.25, help="pytest-benchmark max time per benchmark (s)")


def run_bench(args: Any) -> int:
    out = Path(args.out)
    try:
        if args.from_json:
            data = json.loads(Path(args.from_json).read_text())
        else:
            data = run_quick(find_benchmarks(), out.parent.resolve(), args.select, args.max_time)
    except (ConfigurationError, RuntimeError) as exc:
        print(f"swfast bench: error: {exc}", file=sys.stderr)
        return 2
    out.parent.mkdir(parents=True, exist_ok=True)
    note = f"Written {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {os.cpu_count()} CPU(s)."
    out.write_text(render_html(data, note=note), encoding="utf-8")
    print(format_table(data))
    print(f"\nreport: {out}")
    return 0


__all__ = ["add_bench_arguments", "bench_main", "find_benchmarks", "format_table", "render_html", "run_bench",
           "run_quick", "svg_chart"]

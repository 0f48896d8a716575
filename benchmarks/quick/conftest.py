"""Quick pytest-benchmark run for CI, reported as ratios against named peers.

Convention: every benchmark sets ``benchmark.group`` to the operation measured (for example
``"l1.get_hit"``) and ``benchmark.extra_info["impl"]`` to who is measured (``"swfast"``,
``"swfast-py"`` for the twin, or the peer's name such as ``"cachebox"``). At the end of the run a
table gives, per group, each implementation's median per operation (the round's median divided
by ``extra_info["ops_per_round"]`` when a round runs a batch) and its ratio to swfast's, and
``bench-results/ratios.json`` keeps the same numbers.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))


def _rows(config: pytest.Config) -> dict[str, dict[str, float]]:
    session = getattr(config, "_benchmarksession", None)
    groups: dict[str, dict[str, float]] = {}
    for bench in getattr(session, "benchmarks", []) or []:
        stats = getattr(bench, "stats", None)
        if stats is None or not getattr(stats, "rounds", 0):
            continue
        impl = bench.extra_info.get("impl", bench.name)
        per_round = bench.extra_info.get("ops_per_round", 1)
        groups.setdefault(bench.group or bench.name, {})[impl] = stats.median / per_round
    return groups


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # type: ignore[no-untyped-def]
    groups = _rows(config)
    if not groups:
        return
    out: dict[str, dict[str, dict[str, float]]] = {}
    tr = terminalreporter
    tr.section("swfast vs peers (median per operation; ratio = impl time / swfast time, >1: swfast faster)")
    for group in sorted(groups):
        rows = groups[group]
        base = rows.get("swfast")
        out[group] = {}
        tr.write_line(f"{group}:")
        for impl, median in sorted(rows.items(), key=lambda kv: kv[1]):
            ratio = median / base if base else float("nan")
            out[group][impl] = {"median_ns": median * 1e9, "ratio_to_swfast": ratio}
            tr.write_line(f"    {impl:<28} {median * 1e9:12.1f} ns   x{ratio:6.2f}")
    path = Path("bench-results")
    path.mkdir(exist_ok=True)
    (path / "ratios.json").write_text(json.dumps(out, indent=2, sort_keys=True))

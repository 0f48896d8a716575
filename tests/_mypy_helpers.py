"""Run ``mypy --strict`` on user-style code (examples/, tests/typing/) the way a user would."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_LINE = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): error: .*\[(?P<code>[a-z-]+)\]$")


def run_mypy(*paths: str) -> tuple[int, str]:
    """``python -m mypy --strict PATHS`` from the repository root (its config: the overrides
    for untyped third-party packages); returns the exit status and the report."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-error-summary", *paths],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    return proc.returncode, proc.stdout + proc.stderr


def errors_by_line(report: str) -> dict[tuple[str, int], set[str]]:
    """``{(file, line): {error codes}}`` from a mypy report."""
    found: dict[tuple[str, int], set[str]] = {}
    for line in report.splitlines():
        m = _LINE.match(line.strip())
        if m:
            found.setdefault((Path(m["file"]).as_posix(), int(m["line"])), set()).add(m["code"])
    return found

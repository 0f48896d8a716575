"""Every script in examples/ runs (against the active implementation) and passes mypy --strict."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from _mypy_helpers import ROOT, run_mypy

EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
COMPONENTS = {"cache_tiers", "resilience", "security", "utils", "messaging", "logging_example", "resources",
              "monitoring"}
#: what examples/logging_example.py logs on purpose; none of it may reach its output unredacted
LOGGING_SECRETS = ("sara@example.com", "6037-9912-3456-7893", "s3cr3t", "eyJhbGciOi", "tk_live_123",
                   "912 345 6789", "۶۰۳۷-۹۹۱۲-۳۴۵۶-۷۸۹۳", "0012345679")


def test_there_is_an_example_per_component() -> None:
    assert COMPONENTS <= {p.stem for p in EXAMPLES}


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs(example: Path, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, str(example)], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, f"{example.name} failed:\n{proc.stdout}\n{proc.stderr}"
    assert proc.stdout.strip(), f"{example.name} printed nothing"
    assert "Traceback" not in proc.stderr, proc.stderr
    if example.stem == "logging_example":
        leaked = [s for s in LOGGING_SECRETS if s in proc.stdout or s in proc.stderr]
        assert not leaked, f"logging example printed secrets {leaked}:\n{proc.stdout}"
        assert "[REDACTED:CARD]" in proc.stdout and "[REDACTED:EMAIL]" in proc.stdout


@pytest.mark.build
def test_examples_pass_mypy_strict() -> None:
    status, report = run_mypy("examples")
    assert status == 0, report

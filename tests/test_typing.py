"""``mypy --strict`` on user code importing from the documented paths (tests/typing/*.py).

``user_*.py`` must type-check cleanly; every line of ``expect_errors.py`` marked ``# E: code``
must fail with that code (so the names are really typed, not ``Any``), and nothing else may fail.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from _mypy_helpers import ROOT, errors_by_line, run_mypy

pytestmark = pytest.mark.build

SNIPPETS = ROOT / "tests" / "typing"
_MARK = re.compile(r"#\s*E:\s*(?P<code>[a-z-]+)\s*$")


def test_documented_import_paths_type_check_for_users() -> None:
    users = sorted(SNIPPETS.glob("user_*.py"))
    assert len(users) >= 4
    status, report = run_mypy(str(SNIPPETS.relative_to(ROOT)))
    got = errors_by_line(report)
    expected_file = (SNIPPETS / "expect_errors.py").relative_to(ROOT).as_posix()
    expected = {
        (expected_file, n): {m["code"]}
        for n, text in enumerate((SNIPPETS / "expect_errors.py").read_text().splitlines(), 1)
        if (m := _MARK.search(text))
    }
    assert len(expected) >= 5
    assert got == expected, report
    assert status == 1  # only the expected errors

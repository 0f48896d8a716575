"""The utils package surface: lazy exports, kernel selection, and cheap imports."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import swfast.utils as utils
from swfast.errors import ValidationError

ROOT = Path(__file__).parents[1]


def test_all_is_sorted_and_every_name_resolves() -> None:
    assert utils.__all__ == sorted(utils.__all__)
    for name in utils.__all__:
        assert getattr(utils, name) is not None
    with pytest.raises(AttributeError):
        utils.nope  # noqa: B018


def test_twins_selected_with_no_extensions() -> None:
    code = ("import swfast._native.jsonschema as j, swfast._native.text as t, "
            "swfast._native.stats as s, swfast; "
            "print(j.Node.__module__, t.normalize_chars.__module__, s.load().NAME, "
            "swfast.USE_EXTENSIONS)")
    env = dict(os.environ, SWFAST_NO_EXTENSIONS="1", PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["swfast._native._jsonschema_py", "swfast._native._text_py",
                                  "numpy", "False"]


def test_validator_call_forms() -> None:
    v = utils.compile_schema({"type": "object", "properties": {"a": {"type": "integer"},
                                                               "b": {"type": "string"}}})
    v({"a": 1})
    v.validate({"a": 1}, fail_fast=True)
    with pytest.raises(ValidationError) as info:
        v({"a": "x", "b": 2}, fail_fast=True)
    assert len(info.value.errors) == 1  # type: ignore[attr-defined]
    with pytest.raises(ValidationError) as info:
        v.validate({"a": "x", "b": 2})
    assert len(info.value.errors) == 2  # type: ignore[attr-defined]
    assert "Validator(draft='2020-12'" in repr(v)
    from swfast.monitoring.metrics import REGISTRY

    assert 'swfast_validation_failures_total{keyword="type"}' in REGISTRY.render_text().decode()

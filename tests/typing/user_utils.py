"""User code importing utilities from their documented path (mypy --strict must pass)."""
from __future__ import annotations

from typing import Any, assert_type

from swfast.utils import (
    Scheduler,
    Validator,
    compile_schema,
    find_patterns,
    format_duration,
    normalize_text,
    statistical_analysis,
    to_jalali,
    validate_input,
)


def check(document: str) -> Any:
    validator = compile_schema({"type": "object"})
    assert_type(validator, Validator)
    validator({"a": 1})
    cleaned: str = normalize_text("سلام")
    spans = [m.start for m in find_patterns(cleaned)]
    year, month, day = to_jalali(__import__("datetime").date(2026, 3, 21))
    stats: dict[str, Any] = statistical_analysis([1.0, 2.0, 3.0])
    text: str = format_duration(7500)
    assert spans is not None and year + month + day and stats and text
    return validate_input(document, {"type": "object"})


__all__ = ["Scheduler", "check"]

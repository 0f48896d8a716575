"""Utilities: compiled JSON-schema validation, Persian-aware text, statistics, time, scheduling.

Names load lazily on first access, so ``import swfast.utils`` stays cheap (no numba, no redis).
"""
from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "calculate_duration": "timeutils",
    "convert_timezone": "timeutils",
    "format_datetime": "timeutils",
    "format_duration": "timeutils",
    "from_jalali": "jalali",
    "localize": "timeutils",
    "parse_duration": "timeutils",
    "to_jalali": "jalali",
    "matrix_calculations": "mathstats",
    "numerical_operations": "mathstats",
    "statistical_analysis": "mathstats",
    "warmup": "mathstats",
    "Compatibility": "compatibility",
    "check_compatibility": "compatibility",
    "check_constraints": "validation",
    "generate_schema": "compatibility",
    "sanitize_data": "validation",
    "validate_input": "validation",
    "PatternMatch": "text",
    "find_patterns": "text",
    "luhn_valid": "text",
    "normalize_text": "text",
    "text_metrics": "text",
    "Validator": "schema",
    "clear_cache": "schema",
    "compile_schema": "schema",
    "validate_schema": "schema",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'swfast.utils' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


__all__ = sorted(_EXPORTS)

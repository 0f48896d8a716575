"""Utilities: compiled JSON-schema validation, Persian-aware text, statistics, time, scheduling.

Names load lazily on first access, so ``import swfast.utils`` stays cheap (no numba, no redis).
"""
from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Compatibility": "compatibility",
    "Cron": "triggers",
    "Interval": "triggers",
    "Job": "scheduler",
    "OneOff": "triggers",
    "PatternMatch": "text",
    "RedisRunLock": "scheduler",
    "Scheduler": "scheduler",
    "Validator": "schema",
    "calculate_duration": "timeutils",
    "check_compatibility": "compatibility",
    "check_constraints": "validation",
    "clear_cache": "schema",
    "compile_schema": "schema",
    "convert_timezone": "timeutils",
    "find_patterns": "text",
    "format_datetime": "timeutils",
    "format_duration": "timeutils",
    "from_jalali": "jalali",
    "generate_schema": "compatibility",
    "localize": "timeutils",
    "luhn_valid": "text",
    "matrix_calculations": "mathstats",
    "normalize_text": "text",
    "numerical_operations": "mathstats",
    "parse_duration": "timeutils",
    "sanitize_data": "validation",
    "statistical_analysis": "mathstats",
    "text_metrics": "text",
    "to_jalali": "jalali",
    "validate_input": "validation",
    "validate_schema": "schema",
    "warmup": "mathstats",
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

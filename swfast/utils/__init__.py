"""Utilities: compiled JSON-schema validation, Persian-aware text, statistics, time, scheduling.

Names load lazily on first access, so ``import swfast.utils`` stays cheap (no numba, no redis).
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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


if TYPE_CHECKING:  # pragma: no cover - names for type checkers; runtime loads lazily
    from .compatibility import Compatibility, check_compatibility, generate_schema
    from .jalali import from_jalali, to_jalali
    from .mathstats import matrix_calculations, numerical_operations, statistical_analysis, warmup
    from .scheduler import Job, RedisRunLock, Scheduler
    from .schema import Validator, clear_cache, compile_schema, validate_schema
    from .text import PatternMatch, find_patterns, luhn_valid, normalize_text, text_metrics
    from .timeutils import (
        calculate_duration,
        convert_timezone,
        format_datetime,
        format_duration,
        localize,
        parse_duration,
    )
    from .triggers import Cron, Interval, OneOff
    from .validation import check_constraints, sanitize_data, validate_input


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

"""Utilities: compiled JSON-schema validation, Persian-aware text, statistics, time, scheduling.

Names load lazily on first access, so ``import swfast.utils`` stays cheap (no numba, no redis).
"""
from __future__ import annotations

TYPE_CHECKING = False  # keep typing off the import path

from .._lazy import attach

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
    from .compatibility import Compatibility as Compatibility
    from .compatibility import check_compatibility as check_compatibility
    from .compatibility import generate_schema as generate_schema
    from .jalali import from_jalali as from_jalali
    from .jalali import to_jalali as to_jalali
    from .mathstats import matrix_calculations as matrix_calculations
    from .mathstats import numerical_operations as numerical_operations
    from .mathstats import statistical_analysis as statistical_analysis
    from .mathstats import warmup as warmup
    from .scheduler import Job as Job
    from .scheduler import RedisRunLock as RedisRunLock
    from .scheduler import Scheduler as Scheduler
    from .schema import Validator as Validator
    from .schema import clear_cache as clear_cache
    from .schema import compile_schema as compile_schema
    from .schema import validate_schema as validate_schema
    from .text import PatternMatch as PatternMatch
    from .text import find_patterns as find_patterns
    from .text import luhn_valid as luhn_valid
    from .text import normalize_text as normalize_text
    from .text import text_metrics as text_metrics
    from .timeutils import calculate_duration as calculate_duration
    from .timeutils import convert_timezone as convert_timezone
    from .timeutils import format_datetime as format_datetime
    from .timeutils import format_duration as format_duration
    from .timeutils import localize as localize
    from .timeutils import parse_duration as parse_duration
    from .triggers import Cron as Cron
    from .triggers import Interval as Interval
    from .triggers import OneOff as OneOff
    from .validation import check_constraints as check_constraints
    from .validation import sanitize_data as sanitize_data
    from .validation import validate_input as validate_input

__getattr__, __dir__ = attach(__name__, _EXPORTS)


__all__ = sorted(_EXPORTS)

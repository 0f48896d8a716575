"""Utilities: compiled JSON Schema validation, Persian-aware text, statistics, time.

Run: ``python examples/utils.py``
"""
from __future__ import annotations

from datetime import date, datetime, timezone

import numpy as np

from swfast.errors import ValidationError
from swfast.utils import (
    compile_schema,
    convert_timezone,
    find_patterns,
    format_duration,
    normalize_text,
    statistical_analysis,
    to_jalali,
    validate_input,
)

SCHEMA = {
    "type": "object",
    "required": ["user_id", "text"],
    "properties": {
        "user_id": {"type": "integer", "minimum": 1},
        "text": {"type": "string", "maxLength": 500},
        "lang": {"enum": ["fa", "en"]},
    },
    "additionalProperties": False,
}


def main() -> None:
    # Schema validation: compiled once (and cached), then called per message.
    validator = compile_schema(SCHEMA)
    validator({"user_id": 7, "text": "سلام", "lang": "fa"})
    for problem in validator.errors({"user_id": 0, "text": 3, "extra": True}):
        print("invalid:", problem.path or "<root>", problem.keyword)

    # Untrusted text in: parsed with size, depth and duplicate-key limits, then validated.
    parsed = validate_input('{"user_id": 9, "text": "hi"}', SCHEMA)
    print("parsed:", parsed)
    try:
        validate_input('{"user_id": 9, "user_id": 10, "text": "hi"}', SCHEMA)
    except ValidationError as exc:
        print("refused:", exc.keyword)

    # Persian-first normalisation: Arabic letters, digits, ZWNJ and spacing; idempotent.
    raw = "كتاب هاي  من ۱۲3"
    clean = normalize_text(raw)
    assert normalize_text(clean) == clean
    print("normalized:", clean)
    print("patterns:", [(m.kind, m.normalized) for m in find_patterns("call 09121234567 or a@b.io")])

    # Statistics over a NumPy array (Numba kernels when installed, NumPy otherwise).
    stats = statistical_analysis(np.arange(1, 1001, dtype=np.float64), percentiles=(50, 99))
    print("mean", stats["mean"], "std", round(stats["std"], 2), "percentiles", stats["percentiles"])

    # Time: zoneinfo conversion, compact durations, the Jalali calendar.
    noon_utc = datetime(2026, 3, 20, 12, 0, tzinfo=timezone.utc)
    print("Tehran:", convert_timezone(noon_utc, "Asia/Tehran").isoformat())
    print("duration:", format_duration(7500), "| Jalali:", to_jalali(date(2026, 3, 21)))


if __name__ == "__main__":
    main()

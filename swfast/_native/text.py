"""Selector for the text kernel: compiled unless ``SWFAST_NO_EXTENSIONS`` is set."""
from __future__ import annotations

from ._compat import MISSING_HINT, NO_EXTENSIONS

TYPE_CHECKING = False  # typing stays off the import path; mypy reads the twin's names

if TYPE_CHECKING or NO_EXTENSIONS:
    from ._text_py import (
        affix_join, count_text, emoji_continues, is_arabic_letter, is_pictographic, joins_left,
        normalize_chars,
    )
else:
    try:
        from ._text_c import (
            affix_join, count_text, emoji_continues, is_arabic_letter, is_pictographic, joins_left,
            normalize_chars,
        )
    except ImportError as exc:  # pragma: no cover - exercised by a subprocess test
        raise ImportError(MISSING_HINT.format(name="_text_c")) from exc

__all__ = [
    "affix_join", "count_text", "emoji_continues", "is_arabic_letter", "is_pictographic",
    "joins_left", "normalize_chars",
]

"""Selector for the cache value-envelope kernel: compiled unless ``SWFAST_NO_EXTENSIONS`` is set."""
from __future__ import annotations

from ._compat import MISSING_HINT, NO_EXTENSIONS

TYPE_CHECKING = False  # typing stays off the import path; mypy reads the twin's names

if TYPE_CHECKING or NO_EXTENSIONS:
    from ._cacheval_py import (
        REJECT, SLOW, decode, decode_into, decode_mac, decode_many, encode_rows, json_inexact, mac,
        open_entry, open_row, pack, pack_command, prefix_keys, siphash24,
    )
else:
    try:
        from ._cacheval_c import (
            REJECT, SLOW, decode, decode_into, decode_mac, decode_many, encode_rows, json_inexact,
            mac, open_entry, open_row, pack, pack_command, prefix_keys, siphash24,
        )
    except ImportError as exc:  # pragma: no cover - exercised by a subprocess test
        raise ImportError(MISSING_HINT.format(name="_cacheval_c")) from exc

__all__ = [
    "REJECT", "SLOW", "decode", "decode_into", "decode_mac", "decode_many", "encode_rows",
    "json_inexact", "mac", "open_entry", "open_row", "pack", "pack_command", "prefix_keys",
    "siphash24",
]

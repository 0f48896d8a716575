"""Holders for secret bytes and best-effort wiping of sensitive memory.

Honest limits: CPython ``bytes`` and ``str`` are immutable and may be copied by the interpreter,
the allocator or the OS (swap, core dumps); nothing can erase those copies. :class:`SecretBytes`
keeps its own copy in a ``bytearray`` so that at least that buffer can be zeroed by
:func:`wipe`, and it refuses to be printed, compared with ``==`` in variable time, or pickled.
"""
from __future__ import annotations

import ctypes
import hmac
from typing import Any, NoReturn


def wipe(buffer: "bytearray | memoryview") -> None:
    """Overwrite a mutable buffer with zeros in place (best effort, see module docstring).

    Args:
        buffer: a ``bytearray`` or writable ``memoryview``. Immutable ``bytes`` are refused.

    Raises:
        TypeError: ``buffer`` is not a writable buffer.
    """
    if isinstance(buffer, (bytes, str)):
        raise TypeError("buffer: bytes and str are immutable and cannot be wiped; use a bytearray")
    view = memoryview(buffer).cast("B")
    if view.readonly:
        raise TypeError("buffer: the memoryview is read-only; pass a writable buffer")
    n = view.nbytes
    if n:
        address = ctypes.addressof((ctypes.c_char * n).from_buffer(view))
        ctypes.memset(address, 0, n)


class SecretBytes:
    """Key material that never shows itself in ``repr``/``str``/pickles.

    Thread-safe for reads. Call :meth:`wipe` when the secret is no longer needed.
    """

    __slots__ = ("_buf", "__weakref__")

    def __init__(self, data: "bytes | bytearray | memoryview") -> None:
        self._buf = bytearray(data)

    def reveal(self) -> bytes:
        """Return the secret bytes (a copy the caller must treat as sensitive)."""
        return bytes(self._buf)

    def __len__(self) -> int:
        return len(self._buf)

    def wipe(self) -> None:
        """Zero the held buffer; later :meth:`reveal` returns zeros."""
        wipe(self._buf)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SecretBytes):
            return NotImplemented
        return hmac.compare_digest(self._buf, other._buf)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<SecretBytes len={len(self._buf)} redacted>"

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        raise TypeError("SecretBytes cannot be pickled: store keys with KeyRing.store_keys (wrapped)")

    def __reduce_ex__(self, protocol: Any) -> NoReturn:
        self.__reduce__()
        raise AssertionError("unreachable")


__all__ = ["SecretBytes", "wipe"]

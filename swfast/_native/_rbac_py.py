"""Pure-Python twin of the RBAC permission index (``_rbac_c.pyx``): same names and behaviour.

The index maps a subject to its precomputed effective permissions: a frozenset of exact names
plus a tuple of wildcard prefixes (``"data:"`` for a granted ``"data:*"``). ``check`` is O(1)
for exact names; it returns None when the subject has no entry, so the caller computes the
closure and calls ``set``. Data structure only: the policy lives in ``swfast.security.rbac``.
"""
from __future__ import annotations

from typing import Optional


class PermissionIndex:
    """Subject -> (exact permissions, wildcard prefixes). Every method is atomic under the GIL."""

    __slots__ = ("_entries",)

    def __init__(self) -> None:
        self._entries: dict[object, tuple[frozenset[str], tuple[str, ...]]] = {}

    def check(self, subject: object, permission: str) -> Optional[bool]:
        """True/False for a known subject, None when the subject has no entry yet."""
        try:
            entry = self._entries.get(subject)
        except TypeError:  # unhashable subject: no entry, like PyDict_GetItem in the kernel
            return None
        if entry is None:
            return None
        if permission in entry[0]:
            return True
        if not isinstance(permission, str):
            return False
        for prefix in entry[1]:
            if permission.startswith(prefix):
                return True
        return False

    def set(self, subject: object, exact: frozenset[str], prefixes: tuple[str, ...]) -> None:
        """Store the subject's effective permissions (replaces any previous entry)."""
        self._entries[subject] = (frozenset(exact), tuple(prefixes))

    def discard(self, subject: object) -> None:
        """Forget one subject."""
        self._entries.pop(subject, None)

    def clear(self) -> None:
        """Forget every subject (invalidation after any policy change)."""
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


__all__ = ["PermissionIndex"]

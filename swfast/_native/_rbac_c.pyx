# cython: freethreading_compatible = False, cdivision = False
"""Compiled RBAC permission index; the pure-Python twin is ``_rbac_py.py``.

``check`` is one dict lookup plus one set lookup done with C-API calls (no Python frames).
Atomic under the GIL: entries are immutable tuples replaced whole.
"""
from cpython.dict cimport PyDict_GetItem
from cpython.object cimport PyObject
from cpython.set cimport PySet_Contains


cdef class PermissionIndex:
    """Subject -> (exact permissions, wildcard prefixes)."""

    cdef dict _entries

    def __init__(self):
        self._entries = {}

    def check(self, subject, permission):
        """True/False for a known subject, None when the subject has no entry yet."""
        cdef PyObject* raw = PyDict_GetItem(self._entries, subject)
        cdef tuple entry
        cdef str prefix
        if raw is NULL:
            return None
        entry = <tuple>raw
        if PySet_Contains(entry[0], permission) == 1:
            return True
        if not isinstance(permission, str):
            return False
        for prefix in <tuple>entry[1]:
            if (<str>permission).startswith(prefix):
                return True
        return False

    def set(self, subject, exact, prefixes):
        """Store the subject's effective permissions (replaces any previous entry)."""
        self._entries[subject] = (frozenset(exact), tuple(prefixes))

    def discard(self, subject):
        """Forget one subject."""
        self._entries.pop(subject, None)

    def clear(self):
        """Forget every subject (invalidation after any policy change)."""
        self._entries.clear()

    def __len__(self):
        return len(self._entries)

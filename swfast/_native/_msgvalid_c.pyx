# cython: freethreading_compatible = False
"""Compiled message validation kernel; the pure-Python twin is ``_msgvalid_py.py``.

Table-driven checks of decoded JSON dicts (see the twin's docstring for the contract). Strings
are inspected as ASCII bytes in C (UUIDs, timestamps); a non-ASCII string can never match those
grammars, so it is rejected before any encoding happens. Nothing here raises on bad data.
"""
from libc.stdint cimport int64_t
from cpython.dict cimport PyDict_GetItem, PyDict_Size
from cpython.object cimport PyObject
from cpython.unicode cimport PyUnicode_GET_LENGTH

cdef extern from "Python.h":
    int PyUnicode_IS_ASCII(object o)
    const char* PyUnicode_AsUTF8AndSize(object o, Py_ssize_t* size) except NULL


K_ANY = 0
K_STR = 1
K_OPT_STR = 2
K_ENUM = 3
K_OPT_ENUM = 4
K_INT_MIN0 = 5
K_OPT_INT_MIN0 = 6
K_OPT_NUM_MIN0 = 7
K_NUM_POS = 8
K_BOOL = 9
K_DICT = 10
K_OPT_DICT = 11
K_STR_LIST = 12
K_UUID = 13
K_TS = 14
K_OPT_TS = 15
K_PRIORITY = 16

TS_OK = 0
TS_MALFORMED = 1
TS_NO_ZONE = 2

cdef int[13] _DIM = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]


cdef inline bint _ishex(char c) noexcept nogil:
    return (c'0' <= c <= c'9') or (c'a' <= c <= c'f') or (c'A' <= c <= c'F')


cdef bint _is_uuid(object value):
    cdef Py_ssize_t n
    cdef const char* s
    cdef int i
    if type(value) is not str or PyUnicode_GET_LENGTH(value) != 36 or not PyUnicode_IS_ASCII(value):
        return False
    s = PyUnicode_AsUTF8AndSize(value, &n)
    for i in range(36):
        if i == 8 or i == 13 or i == 18 or i == 23:
            if s[i] != c'-':
                return False
        elif not _ishex(s[i]):
            return False
    return True


def is_uuid(value):
    """True when ``value`` is a str in canonical 8-4-4-4-12 hex UUID form."""
    return _is_uuid(value)


cdef inline int _num(const char* s, Py_ssize_t start, int n) noexcept nogil:
    cdef int out = 0
    cdef int i
    cdef char c
    for i in range(n):
        c = s[start + i]
        if c < c'0' or c > c'9':
            return -1
        out = out * 10 + (c - c'0')
    return out




cdef int64_t _days_from_civil(int64_t y, int64_t m, int64_t d) noexcept nogil:
    cdef int64_t era, yoe, doy, doe
    if m <= 2:
        y -= 1
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


cdef int _parse_ts(object value, int64_t* out):
    cdef Py_ssize_t n, pos, start, nd, rest
    cdef const char* s
    cdef int y, mo, d, h, mi, se, dim, oh, om, k
    cdef int64_t micros = 0, offset = 0, secs
    cdef char c
    if type(value) is not str or not PyUnicode_IS_ASCII(value):
        return TS_MALFORMED
    s = PyUnicode_AsUTF8AndSize(value, &n)
    if n < 19 or s[4] != c'-' or s[7] != c'-' or not (s[10] == c'T' or s[10] == c't' or s[10] == c' ') \
            or s[13] != c':' or s[16] != c':':
        return TS_MALFORMED
    y = _num(s, 0, 4)
    mo = _num(s, 5, 2)
    d = _num(s, 8, 2)
    h = _num(s, 11, 2)
    mi = _num(s, 14, 2)
    se = _num(s, 17, 2)
    if y < 1 or mo < 1 or mo > 12 or d < 0 or h < 0 or h > 23 or mi < 0 or mi > 59 or se < 0 or se > 59:
        return TS_MALFORMED
    dim = _DIM[mo]
    if mo == 2 and y % 4 == 0 and (y % 100 != 0 or y % 400 == 0):
        dim += 1
    if d < 1 or d > dim:
        return TS_MALFORMED
    pos = 19
    if pos < n and s[pos] == c'.':
        pos += 1
        start = pos
        while pos < n and c'0' <= s[pos] <= c'9':
            if pos - start < 6:
                micros = micros * 10 + (s[pos] - c'0')
            pos += 1
        nd = pos - start
        if nd == 0 or nd > 9:
            return TS_MALFORMED
        for k in range(<int>nd, 6):
            micros *= 10
    if pos == n:
        return TS_NO_ZONE
    c = s[pos]
    if c == c'Z' or c == c'z':
        if pos + 1 != n:
            return TS_MALFORMED
    elif c == c'+' or c == c'-':
        rest = n - pos - 1
        if rest == 5 and s[pos + 3] == c':':
            oh = _num(s, pos + 1, 2)
            om = _num(s, pos + 4, 2)
        elif rest == 4:
            oh = _num(s, pos + 1, 2)
            om = _num(s, pos + 3, 2)
        else:
            return TS_MALFORMED
        if oh < 0 or om < 0 or oh > 23 or om > 59:
            return TS_MALFORMED
        offset = oh * 3600 + om * 60
        if c == c'-':
            offset = -offset
    else:
        return TS_MALFORMED
    secs = _days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - offset
    out[0] = secs * 1000000 + micros
    return TS_OK


def parse_ts(value):
    """Parse an ISO 8601 timestamp: ``(status, epoch microseconds in UTC)``."""
    cdef int64_t us = 0
    cdef int status = _parse_ts(value, &us)
    return status, (us if status == TS_OK else 0)


def parse_timestamp(value):
    """Epoch microseconds (UTC) of a zoned ISO 8601 timestamp, or None when invalid."""
    cdef int64_t us = 0
    if _parse_ts(value, &us) == TS_OK:
        return us
    return None


cdef inline str _describe(object value):
    return "null" if value is None else type(value).__name__


cdef inline bint _is_int(object v):
    return type(v) is int or (isinstance(v, int) and not isinstance(v, bool))


cdef inline bint _is_num(object v):
    cdef double f
    if type(v) is float:
        f = v
        return f == f and f != float("inf") and f != float("-inf")
    return _is_int(v)


cdef class Checker:
    """Table-driven validator of one message shape (metadata + payload).

    Args:
        meta_fields: ``(name, kind, required, enum_index)`` per metadata field.
        payload_fields: the same for the payload.
        enums: value sets referenced by ``enum_index`` (frozensets of str).
        enum_names: a human label per value set, used in error messages.
    """

    cdef tuple _meta
    cdef tuple _payload
    cdef tuple _enums
    cdef tuple _enum_names
    cdef frozenset _meta_keys
    cdef frozenset _payload_keys

    def __init__(self, meta_fields, payload_fields, enums, enum_names):
        self._meta = tuple([(str(n), int(k), bool(r), int(e)) for n, k, r, e in meta_fields])
        self._payload = tuple([(str(n), int(k), bool(r), int(e)) for n, k, r, e in payload_fields])
        self._enums = tuple([frozenset(e) for e in enums])
        self._enum_names = tuple([str(n) for n in enum_names])
        self._meta_keys = frozenset([f[0] for f in self._meta])
        self._payload_keys = frozenset([f[0] for f in self._payload])

    def check(self, message, bint strict=False):
        """Return None when ``message`` is valid, else ``(path, keyword, message)``."""
        cdef PyObject* meta
        cdef PyObject* payload
        if type(message) is not dict:
            return ("", "type", f"must be an object with 'metadata' and 'payload', got {_describe(message)}")
        meta = PyDict_GetItem(message, "metadata")
        payload = PyDict_GetItem(message, "payload")
        if meta == NULL or <object>meta is None:
            return ("metadata", "required", "is required")
        if payload == NULL or <object>payload is None:
            return ("payload", "required", "is required")
        if strict and PyDict_Size(message) != 2:
            for key in message:
                if key != "metadata" and key != "payload":
                    return (str(key), "unknown", "unknown field; remove it or validate with strict=False")
        err = self._check_obj(<object>meta, "metadata", self._meta, self._meta_keys, strict)
        if err is not None:
            return err
        err = self._check_obj(<object>payload, "payload", self._payload, self._payload_keys, strict)
        if err is not None:
            return err
        return self._check_order(<dict>meta)

    cdef object _check_order(self, dict meta):
        cdef PyObject* exp = PyDict_GetItem(meta, "expires_at")
        cdef PyObject* ts
        cdef int64_t t0 = 0, t1 = 0
        if exp == NULL or <object>exp is None:
            return None
        ts = PyDict_GetItem(meta, "timestamp")
        _parse_ts(<object>ts, &t0)
        _parse_ts(<object>exp, &t1)
        if t1 < t0:
            return ("metadata.expires_at", "order", "is before metadata.timestamp; it must be at or after it")
        return None

    cdef object _check_obj(self, object obj, str where, tuple fields, frozenset keys, bint strict):
        cdef PyObject* item
        cdef tuple spec
        cdef Py_ssize_t i, found = 0
        if type(obj) is not dict:
            return (where, "type", f"must be an object, got {_describe(obj)}")
        for i in range(len(fields)):
            spec = <tuple>fields[i]
            item = PyDict_GetItem(<dict>obj, spec[0])
            if item == NULL:
                if spec[2]:
                    return (f"{where}.{spec[0]}", "required", "is required")
                continue
            found += 1
            err = self._check_value(<object>item, <int>spec[1], <int>spec[3])
            if err is not None:
                return (f"{where}.{spec[0]}", err[0], err[1])
        if strict and found != PyDict_Size(obj):
            for key in obj:
                if key not in keys:
                    return (f"{where}.{key}", "unknown", "unknown field; remove it or validate with strict=False")
        return None

    cdef object _check_value(self, object v, int kind, int enum_index):
        cdef int64_t us = 0
        cdef int status
        if kind == K_ANY:
            return None
        if kind == K_STR or (kind == K_OPT_STR and v is not None):
            return None if type(v) is str else ("type", f"must be a string, got {_describe(v)}")
        if kind == K_OPT_STR:
            return None
        if kind == K_ENUM or (kind == K_OPT_ENUM and v is not None):
            allowed = <frozenset>self._enums[enum_index]
            if type(v) is str and v in allowed:
                return None
            return ("enum", f"must be one of the {self._enum_names[enum_index]} values {sorted(allowed)}, got {v!r}"[:300])
        if kind == K_OPT_ENUM:
            return None
        if kind == K_INT_MIN0 or (kind == K_OPT_INT_MIN0 and v is not None):
            if not _is_int(v):
                return ("type", f"must be an integer, got {_describe(v)}")
            return None if v >= 0 else ("minimum", f"must be >= 0, got {v}")
        if kind == K_OPT_INT_MIN0:
            return None
        if kind == K_OPT_NUM_MIN0:
            if v is None:
                return None
            if not _is_num(v):
                return ("type", f"must be a finite number, got {_describe(v)}")
            return None if v >= 0 else ("minimum", f"must be >= 0, got {v}")
        if kind == K_NUM_POS:
            if not _is_num(v):
                return ("type", f"must be a finite number, got {_describe(v)}")
            return None if v > 0 else ("minimum", f"must be > 0, got {v}")
        if kind == K_BOOL:
            return None if type(v) is bool else ("type", f"must be a boolean, got {_describe(v)}")
        if kind == K_DICT or (kind == K_OPT_DICT and v is not None):
            return None if type(v) is dict else ("type", f"must be an object, got {_describe(v)}")
        if kind == K_OPT_DICT:
            return None
        if kind == K_STR_LIST:
            if type(v) is not list:
                return ("type", f"must be a list of strings, got {_describe(v)}")
            for item in <list>v:
                if type(item) is not str:
                    return ("type", f"must be a list of strings, has {_describe(item)}")
            return None
        if kind == K_UUID:
            if _is_uuid(v):
                return None
            return ("format", f"must be a UUID string (8-4-4-4-12 hex digits), got {v!r}"[:200])
        if kind == K_TS or (kind == K_OPT_TS and v is not None):
            status = _parse_ts(v, &us)
            if status == TS_OK:
                return None
            if status == TS_NO_ZONE:
                return ("timezone", f"has no time zone: {v!r}; add 'Z' or an offset such as '+00:00'")
            return ("format", f"must be an ISO 8601 timestamp with a time zone, got {v!r}"[:200])
        if kind == K_OPT_TS:
            return None
        if kind == K_PRIORITY:
            if not _is_int(v):
                return ("type", f"must be an integer priority 1-5, got {_describe(v)}")
            return None if 1 <= v <= 5 else ("range", f"must be from 1 (CRITICAL) to 5 (BACKGROUND), got {v}")
        return ("kind", f"unknown field kind {kind}")

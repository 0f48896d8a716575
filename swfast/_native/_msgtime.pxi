# UUID and ISO 8601 timestamp grammars, included by ``_msgvalid_c.pyx`` (twin: ``_msgvalid_py.py``).
#
# Strings are inspected as ASCII bytes in C; a non-ASCII string can never match these grammars,
# so it is rejected before any encoding happens.

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
        return CTS_MALFORMED
    s = PyUnicode_AsUTF8AndSize(value, &n)
    if n < 19 or s[4] != c'-' or s[7] != c'-' or not (s[10] == c'T' or s[10] == c't' or s[10] == c' ') \
            or s[13] != c':' or s[16] != c':':
        return CTS_MALFORMED
    y = _num(s, 0, 4)
    mo = _num(s, 5, 2)
    d = _num(s, 8, 2)
    h = _num(s, 11, 2)
    mi = _num(s, 14, 2)
    se = _num(s, 17, 2)
    if y < 1 or mo < 1 or mo > 12 or d < 0 or h < 0 or h > 23 or mi < 0 or mi > 59 or se < 0 or se > 59:
        return CTS_MALFORMED
    dim = _DIM[mo]
    if mo == 2 and y % 4 == 0 and (y % 100 != 0 or y % 400 == 0):
        dim += 1
    if d < 1 or d > dim:
        return CTS_MALFORMED
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
            return CTS_MALFORMED
        for k in range(<int>nd, 6):
            micros *= 10
    if pos == n:
        return CTS_NO_ZONE
    c = s[pos]
    if c == c'Z' or c == c'z':
        if pos + 1 != n:
            return CTS_MALFORMED
    elif c == c'+' or c == c'-':
        rest = n - pos - 1
        if rest == 5 and s[pos + 3] == c':':
            oh = _num(s, pos + 1, 2)
            om = _num(s, pos + 4, 2)
        elif rest == 4:
            oh = _num(s, pos + 1, 2)
            om = _num(s, pos + 3, 2)
        else:
            return CTS_MALFORMED
        if oh < 0 or om < 0 or oh > 23 or om > 59:
            return CTS_MALFORMED
        offset = oh * 3600 + om * 60
        if c == c'-':
            offset = -offset
    else:
        return CTS_MALFORMED
    secs = _days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - offset
    out[0] = secs * 1000000 + micros
    return CTS_OK


def parse_ts(value):
    """Parse an ISO 8601 timestamp: ``(status, epoch microseconds in UTC)``."""
    cdef int64_t us = 0
    cdef int status = _parse_ts(value, &us)
    return status, (us if status == CTS_OK else 0)


def parse_timestamp(value):
    """Epoch microseconds (UTC) of a zoned ISO 8601 timestamp, or None when invalid."""
    cdef int64_t us = 0
    if _parse_ts(value, &us) == CTS_OK:
        return us
    return None

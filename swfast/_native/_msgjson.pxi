# Strict RFC 8259 JSON reader, included by ``_msgvalid_c.pyx`` (its twin is ``_msgjson_py.py``).
#
# It reads UTF-8 bytes straight into Python values: the generic ``_pv`` for any value and, in
# ``Checker.decode``, the metadata/payload objects straight into their field slots. Grammar and
# results equal ``json.loads`` with these strict rules, shared with the twin: NaN/Infinity
# literals, numbers that overflow a double, lone surrogate escapes, invalid UTF-8, raw control
# characters in strings and nesting deeper than MAX_DEPTH are errors. Big integers stay exact
# (Python's digit limit applies). Errors raise ValueError; the caller turns them into results.
from libc.string cimport memcmp, memcpy
from cpython.mem cimport PyMem_Malloc, PyMem_Free
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE, PyBytes_Check
from cpython.unicode cimport PyUnicode_Check, PyUnicode_DecodeUTF8
from cpython.long cimport PyLong_FromLongLong

cdef extern from "Python.h":
    object PyUnicode_New(Py_ssize_t size, Py_UCS4 maxchar)
    void* PyUnicode_DATA(object o)
    double PyOS_string_to_double(const char* s, char** endptr, void* overflow_exception) except? -1.0
    object PyLong_FromString(const char* s, char** pend, int base)

DEF MAX_DEPTH = 512
JSON_MAX_DEPTH = MAX_DEPTH

cdef struct _P:
    const unsigned char* s
    Py_ssize_t n
    Py_ssize_t pos


cdef object _jerr(_P* p, str what):
    raise ValueError(f"{what} at byte {p.pos}")


cdef inline void _ws(_P* p) noexcept nogil:
    cdef unsigned char c
    while p.pos < p.n:
        c = p.s[p.pos]
        if c == 32 or c == 10 or c == 13 or c == 9:
            p.pos += 1
        else:
            return


cdef inline bint _same(const unsigned char* a, const char* b, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n):
        if a[i] != <unsigned char>b[i]:
            return False
    return True


cdef inline int _hex4(const unsigned char* s) noexcept nogil:
    cdef int out = 0, i, d
    cdef unsigned char c
    for i in range(4):
        c = s[i]
        if c'0' <= c <= c'9':
            d = c - c'0'
        elif c'a' <= c <= c'f':
            d = c - c'a' + 10
        elif c'A' <= c <= c'F':
            d = c - c'A' + 10
        else:
            return -1
        out = out * 16 + d
    return out


cdef object _pstr(_P* p):
    """A string; ``p.pos`` is on the opening quote."""
    cdef Py_ssize_t start = p.pos + 1, i = start, end, o
    cdef bint escaped = False, ascii = True
    cdef unsigned char c
    cdef const unsigned char* s = p.s
    cdef unsigned char* buf
    cdef int cp, lo
    while True:
        if i >= p.n:
            p.pos = i
            _jerr(p, "unterminated string")
        c = s[i]
        if c == c'"':
            break
        if c == c'\\':
            escaped = True
            i += 2
            continue
        if c < 32:
            p.pos = i
            _jerr(p, "control character in string")
        if c >= 128:
            ascii = False
        i += 1
    end = i
    p.pos = end + 1
    if not escaped:
        if ascii:
            out = PyUnicode_New(end - start, 127)
            memcpy(PyUnicode_DATA(out), s + start, end - start)
            return out
        return PyUnicode_DecodeUTF8(<const char*>s + start, end - start, NULL)
    buf = <unsigned char*>PyMem_Malloc(end - start + 1)
    if buf == NULL:
        raise MemoryError()
    try:
        o = 0
        i = start
        while i < end:
            c = s[i]
            if c != c'\\':
                buf[o] = c
                o += 1
                i += 1
                continue
            c = s[i + 1]
            i += 2
            if c == c'"' or c == c'\\' or c == c'/':
                buf[o] = c
            elif c == c'b':
                buf[o] = 8
            elif c == c'f':
                buf[o] = 12
            elif c == c'n':
                buf[o] = 10
            elif c == c'r':
                buf[o] = 13
            elif c == c't':
                buf[o] = 9
            elif c == c'u':
                cp = _hex4(s + i) if i + 4 <= end else -1
                if cp < 0:
                    p.pos = i
                    _jerr(p, "invalid \\u escape")
                i += 4
                if 0xDC00 <= cp <= 0xDFFF:
                    p.pos = i
                    _jerr(p, "lone low surrogate")
                if 0xD800 <= cp <= 0xDBFF:
                    lo = _hex4(s + i + 2) if i + 6 <= end and s[i] == c'\\' and s[i + 1] == c'u' else -1
                    if not (0xDC00 <= lo <= 0xDFFF):
                        p.pos = i
                        _jerr(p, "lone high surrogate")
                    i += 6
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00)
                if cp < 0x80:
                    buf[o] = cp
                elif cp < 0x800:
                    buf[o] = 0xC0 | (cp >> 6)
                    buf[o + 1] = 0x80 | (cp & 0x3F)
                    o += 1
                elif cp < 0x10000:
                    buf[o] = 0xE0 | (cp >> 12)
                    buf[o + 1] = 0x80 | ((cp >> 6) & 0x3F)
                    buf[o + 2] = 0x80 | (cp & 0x3F)
                    o += 2
                else:
                    buf[o] = 0xF0 | (cp >> 18)
                    buf[o + 1] = 0x80 | ((cp >> 12) & 0x3F)
                    buf[o + 2] = 0x80 | ((cp >> 6) & 0x3F)
                    buf[o + 3] = 0x80 | (cp & 0x3F)
                    o += 3
            else:
                p.pos = i - 1
                _jerr(p, "invalid escape")
            o += 1
        return PyUnicode_DecodeUTF8(<const char*>buf, o, NULL)
    finally:
        PyMem_Free(buf)


cdef object _pnum(_P* p):
    cdef Py_ssize_t start = p.pos, i = p.pos, nd, k
    cdef const unsigned char* s = p.s
    cdef bint neg = False, is_float = False
    cdef long long v = 0
    cdef char tmp[64]
    cdef char* heap
    cdef double d
    if s[i] == c'-':
        neg = True
        i += 1
    if i >= p.n or not (c'0' <= s[i] <= c'9'):
        p.pos = i
        _jerr(p, "invalid number")
    if s[i] == c'0':
        i += 1
    else:
        while i < p.n and c'0' <= s[i] <= c'9':
            i += 1
    nd = i - start - neg
    if i < p.n and s[i] == c'.':
        is_float = True
        i += 1
        if i >= p.n or not (c'0' <= s[i] <= c'9'):
            p.pos = i
            _jerr(p, "invalid number")
        while i < p.n and c'0' <= s[i] <= c'9':
            i += 1
    if i < p.n and (s[i] == c'e' or s[i] == c'E'):
        is_float = True
        i += 1
        if i < p.n and (s[i] == c'+' or s[i] == c'-'):
            i += 1
        if i >= p.n or not (c'0' <= s[i] <= c'9'):
            p.pos = i
            _jerr(p, "invalid number")
        while i < p.n and c'0' <= s[i] <= c'9':
            i += 1
    p.pos = i
    if not is_float and nd <= 18:
        for k in range(start + neg, i):
            v = v * 10 + (s[k] - c'0')
        return PyLong_FromLongLong(-v if neg else v)
    if i - start < 64:
        heap = &tmp[0]
    else:
        heap = <char*>PyMem_Malloc(i - start + 1)
    if heap == NULL:
        raise MemoryError()
    try:
        memcpy(heap, s + start, i - start)
        heap[i - start] = 0
        if not is_float:
            return PyLong_FromString(heap, NULL, 10)
        d = PyOS_string_to_double(heap, NULL, NULL)
    finally:
        if heap != &tmp[0]:
            PyMem_Free(heap)
    if d == float("inf") or d == float("-inf"):
        p.pos = start
        _jerr(p, "number out of range")
    return d


cdef object _pv(_P* p, int depth):
    """Any value, after optional whitespace."""
    cdef unsigned char c
    _ws(p)
    if p.pos >= p.n:
        _jerr(p, "expected a value")
    c = p.s[p.pos]
    if c == c'"':
        return _pstr(p)
    if c == c'{':
        return _pobj(p, depth + 1)
    if c == c'[':
        return _parr(p, depth + 1)
    if c == c'-' or c'0' <= c <= c'9':
        return _pnum(p)
    if c == c't' and p.n - p.pos >= 4 and memcmp(p.s + p.pos, b"true", 4) == 0:
        p.pos += 4
        return True
    if c == c'f' and p.n - p.pos >= 5 and memcmp(p.s + p.pos, b"false", 5) == 0:
        p.pos += 5
        return False
    if c == c'n' and p.n - p.pos >= 4 and memcmp(p.s + p.pos, b"null", 4) == 0:
        p.pos += 4
        return None
    _jerr(p, "expected a value")


cdef inline int _sep(_P* p, unsigned char close, bint* more) except -1:
    """After a member: ``,`` (more follow) or the closing bracket."""
    _ws(p)
    if p.pos < p.n and p.s[p.pos] == c',':
        p.pos += 1
        more[0] = True
        return 0
    if p.pos < p.n and p.s[p.pos] == close:
        p.pos += 1
        more[0] = False
        return 0
    _jerr(p, "expected ',' or a closing bracket")
    return -1


cdef inline int _colon(_P* p) except -1:
    _ws(p)
    if p.pos >= p.n or p.s[p.pos] != c':':
        _jerr(p, "expected ':'")
        return -1
    p.pos += 1
    return 0


cdef inline bint _open(_P* p, unsigned char close, int depth) except -1:
    """Past the opening bracket: True when the container is empty (and consumed)."""
    if depth > MAX_DEPTH:
        _jerr(p, "nesting too deep")
        return -1
    p.pos += 1
    _ws(p)
    if p.pos < p.n and p.s[p.pos] == close:
        p.pos += 1
        return True
    return False


cdef inline int _key_start(_P* p) except -1:
    _ws(p)
    if p.pos >= p.n or p.s[p.pos] != c'"':
        _jerr(p, "expected a string key")
        return -1
    return 0


cdef object _pobj(_P* p, int depth):
    cdef dict out = {}
    cdef bint more = True
    if _open(p, c'}', depth):
        return out
    while more:
        _key_start(p)
        key = _pstr(p)
        _colon(p)
        out[key] = _pv(p, depth)
        _sep(p, c'}', &more)
    return out


cdef object _parr(_P* p, int depth):
    cdef list out = []
    cdef bint more = True
    if _open(p, c']', depth):
        return out
    while more:
        out.append(_pv(p, depth))
        _sep(p, c']', &more)
    return out


cdef object _source(object data, _P* p):
    """Point ``p`` at the UTF-8 bytes of ``data``; returns the object that owns them."""
    cdef Py_ssize_t n
    if PyBytes_Check(data):
        owner = data
    elif PyUnicode_Check(data):
        p.s = <const unsigned char*>PyUnicode_AsUTF8AndSize(data, &n)
        p.n = n
        p.pos = 0
        return data
    elif isinstance(data, (bytearray, memoryview)):
        owner = bytes(data)
    else:
        raise TypeError(f"must be str, bytes, bytearray or memoryview, got {type(data).__name__}")
    p.s = <const unsigned char*>PyBytes_AS_STRING(owner)
    p.n = PyBytes_GET_SIZE(owner)
    p.pos = 0
    return owner


cdef object _end(_P* p):
    _ws(p)
    if p.pos != p.n:
        _jerr(p, "extra data after the JSON value")


cdef object _loads(object data):
    cdef _P p
    owner = _source(data, &p)
    out = _pv(&p, 0)
    _end(&p)
    return out


def loads(data):
    """Strict JSON decode of str/bytes/bytearray/memoryview (rules at the top of this file).

    Raises:
        ValueError: the text is not valid (strict) JSON.
        TypeError: ``data`` is not text or bytes.
    """
    return _loads(data)

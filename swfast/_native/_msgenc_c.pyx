# cython: freethreading_compatible = False, cdivision = True
"""Compiled message JSON encoder; the pure-Python twin is ``_msgenc_py.py``.

Reads the slots of two fixed classes directly (member offsets resolved once) and writes
compact JSON into one growing buffer: str (any subclass, so str enums write their value), int
(and IntEnum), float, bool, None, and nested dict (str keys) / list / tuple. Anything else, an
int beyond 64 bits, a non-finite float, a str that is not valid UTF-8, or nesting deeper than
64 makes the whole message go through the ``dumps`` fallback, so the output never disagrees
with it on what is valid.
"""
from libc.string cimport memcpy, memchr, memcmp
from libc.stdint cimport uint64_t
from libc.stdlib cimport malloc, realloc, free
from cpython.object cimport PyObject
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.dict cimport PyDict_Next
from cpython.mem cimport PyMem_Free

cdef extern from "Python.h":
    ctypedef struct PyMemberDef:
        const char* name
        int type
        Py_ssize_t offset
    ctypedef struct PyMemberDescrObject:
        PyMemberDef* d_member
    const char* PyUnicode_AsUTF8AndSize(object o, Py_ssize_t* size) except NULL
    long long PyLong_AsLongLongAndOverflow(object o, int* overflow) except? -1
    double PyFloat_AS_DOUBLE(object o)
    char* PyOS_double_to_string(double val, char format_code, int precision, int flags, int* ptype) except NULL
    int Py_DTSF_ADD_DOT_0
    bint PyUnicode_Check(object o)
    bint PyLong_Check(object o)
    bint PyFloat_Check(object o)
    bint PyDict_CheckExact(object o)
    bint PyList_CheckExact(object o)
    bint PyTuple_CheckExact(object o)

cdef enum:
    UNSUPPORTED = 1
    MAX_DEPTH = 64
    MAX_SLOTS = 64

cdef struct Buf:
    char* data
    Py_ssize_t len
    Py_ssize_t cap


cdef int _reserve(Buf* b, Py_ssize_t extra) except -1:
    cdef Py_ssize_t need = b.len + extra
    cdef Py_ssize_t cap
    cdef char* grown
    if need <= b.cap:
        return 0
    cap = b.cap * 2
    if cap < need:
        cap = need + 256
    grown = <char*>realloc(b.data, cap)
    if grown == NULL:
        raise MemoryError()
    b.data = grown
    b.cap = cap
    return 0


cdef inline int _put(Buf* b, const char* s, Py_ssize_t n) except -1:
    if b.len + n > b.cap:
        _reserve(b, n)
    memcpy(b.data + b.len, s, n)
    b.len += n
    return 0


cdef const char* _HEX = b"0123456789abcdef"


cdef inline bint _plain(const unsigned char* p, Py_ssize_t n) noexcept nogil:
    """True when no byte needs escaping (a quote, a backslash or a control character).

    Eight bytes at a time: the classic SWAR tests for "a byte below 0x20" and "a byte equal to
    0x22 / 0x5c" on one 64-bit word."""
    cdef Py_ssize_t i = 0
    cdef uint64_t w, q, bs
    cdef uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL
    while i + 8 <= n:
        memcpy(&w, p + i, 8)
        q = w ^ (0x22 * ones)
        bs = w ^ (0x5C * ones)
        if ((w - 0x20 * ones) & ~w & highs) or ((q - ones) & ~q & highs) or ((bs - ones) & ~bs & highs):
            return False
        i += 8
    while i < n:
        if p[i] < 0x20 or p[i] == c'"' or p[i] == c'\\':
            return False
        i += 1
    return True


cdef int _string(Buf* b, object s) except -1:
    cdef Py_ssize_t n, i, start
    cdef const unsigned char* p
    cdef unsigned char c
    cdef char esc[6]
    try:
        p = <const unsigned char*>PyUnicode_AsUTF8AndSize(s, &n)
    except UnicodeError:
        return UNSUPPORTED
    if b.len + n + 2 > b.cap:
        _reserve(b, n + 2)
    if _plain(p, n):  # the common case: one copy between the quotes
        b.data[b.len] = c'"'
        memcpy(b.data + b.len + 1, p, n)
        b.data[b.len + n + 1] = c'"'
        b.len += n + 2
        return 0
    b.data[b.len] = c'"'
    b.len += 1
    start = 0
    for i in range(n):
        c = p[i]
        if c >= 0x20 and c != c'"' and c != c'\\':
            continue
        if i > start:
            _put(b, <const char*>p + start, i - start)
        start = i + 1
        if c == c'"':
            _put(b, b'\\"', 2)
        elif c == c'\\':
            _put(b, b'\\\\', 2)
        elif c == c'\n':
            _put(b, b'\\n', 2)
        elif c == c'\r':
            _put(b, b'\\r', 2)
        elif c == c'\t':
            _put(b, b'\\t', 2)
        elif c == 8:
            _put(b, b'\\b', 2)
        elif c == 12:
            _put(b, b'\\f', 2)
        else:
            esc[0] = c'\\'; esc[1] = c'u'; esc[2] = c'0'; esc[3] = c'0'
            esc[4] = _HEX[c >> 4]; esc[5] = _HEX[c & 15]
            _put(b, esc, 6)
    if n > start:
        _put(b, <const char*>p + start, n - start)
    _put(b, b'"', 1)
    return 0


cdef int _int(Buf* b, object v) except -1:
    cdef int overflow = 0
    cdef long long x = PyLong_AsLongLongAndOverflow(v, &overflow)
    cdef char tmp[24]
    cdef int i = 24
    cdef bint neg = x < 0
    cdef unsigned long long u
    if overflow:
        return UNSUPPORTED
    u = <unsigned long long>(-(x + 1)) + 1 if neg else <unsigned long long>x
    while True:
        i -= 1
        tmp[i] = c'0' + <char>(u % 10)
        u //= 10
        if u == 0:
            break
    if neg:
        i -= 1
        tmp[i] = c'-'
    _put(b, tmp + i, 24 - i)
    return 0


cdef int _float(Buf* b, object v) except -1:
    cdef double d = PyFloat_AS_DOUBLE(v)
    cdef char* s
    cdef Py_ssize_t n = 0
    if d != d or d == float("inf") or d == float("-inf"):
        return UNSUPPORTED
    cdef Py_ssize_t e = -1, j
    s = PyOS_double_to_string(d, c'r', 0, Py_DTSF_ADD_DOT_0, NULL)
    while s[n] != 0:
        if s[n] == c'e':
            e = n
        n += 1
    try:
        if e < 0:
            _put(b, s, n)
        else:  # "1e-07" -> "1e-7", as orjson writes exponents
            j = e + 1
            if s[j] == c'+' or s[j] == c'-':
                j += 1
            _put(b, s, j)
            while j < n - 1 and s[j] == c'0':
                j += 1
            _put(b, s + j, n - j)
    finally:
        PyMem_Free(s)
    return 0


cdef int _value(Buf* b, object v, int depth) except -1:
    cdef PyObject* k
    cdef PyObject* item
    cdef Py_ssize_t pos = 0, i, n
    cdef bint first = True
    cdef int r
    if v is None:
        return _put(b, b"null", 4)
    if v is True:
        return _put(b, b"true", 4)
    if v is False:
        return _put(b, b"false", 5)
    if PyUnicode_Check(v):
        return _string(b, v)
    if PyLong_Check(v):
        return _int(b, v)
    if PyFloat_Check(v):
        return _float(b, v)
    if depth >= MAX_DEPTH:
        return UNSUPPORTED
    if PyDict_CheckExact(v):
        _put(b, b"{", 1)
        while PyDict_Next(v, &pos, &k, &item):
            if not PyUnicode_Check(<object>k):
                return UNSUPPORTED
            if not first:
                _put(b, b",", 1)
            first = False
            r = _string(b, <object>k)
            if r:
                return r
            _put(b, b":", 1)
            r = _value(b, <object>item, depth + 1)
            if r:
                return r
        return _put(b, b"}", 1)
    if PyList_CheckExact(v) or PyTuple_CheckExact(v):
        _put(b, b"[", 1)
        n = len(v)
        for i in range(n):
            if i:
                _put(b, b",", 1)
            r = _value(b, v[i], depth + 1)
            if r:
                return r
        return _put(b, b"]", 1)
    return UNSUPPORTED


cdef enum:
    DEF_MAX_PROBLEM_DEPTH = 512

PROBLEM_MAX_DEPTH = DEF_MAX_PROBLEM_DEPTH


cdef object _scan(object v, int depth):
    """None, or the reversed path plus keyword and message of the first problem (see the twin)."""
    cdef PyObject* k
    cdef PyObject* item
    cdef Py_ssize_t pos = 0, i, n
    cdef double d
    cdef object r
    if v is None or v is True or v is False or PyUnicode_Check(v) or PyLong_Check(v):
        return None
    if PyFloat_Check(v):
        d = PyFloat_AS_DOUBLE(v)
        if d != d or d == float("inf") or d == float("-inf"):
            return ([], "finite", f"{v!r} has no JSON form (NaN and Infinity are refused)")
        return None
    if PyDict_CheckExact(v) or isinstance(v, dict):
        if depth >= DEF_MAX_PROBLEM_DEPTH:
            return ([], "depth", f"nesting deeper than {DEF_MAX_PROBLEM_DEPTH}")
        if PyDict_CheckExact(v):
            while PyDict_Next(v, &pos, &k, &item):
                if not PyUnicode_Check(<object>k):
                    return _key_problem(<object>k)
                r = _scan(<object>item, depth + 1)
                if r is not None:
                    r[0].append(<object>k)
                    return r
            return None
        for key, val in v.items():
            if not PyUnicode_Check(key):
                return _key_problem(key)
            r = _scan(val, depth + 1)
            if r is not None:
                r[0].append(key)
                return r
        return None
    if PyList_CheckExact(v) or PyTuple_CheckExact(v) or isinstance(v, (list, tuple)):
        if depth >= DEF_MAX_PROBLEM_DEPTH:
            return ([], "depth", f"nesting deeper than {DEF_MAX_PROBLEM_DEPTH}")
        n = len(v)
        for i in range(n):
            r = _scan(v[i], depth + 1)
            if r is not None:
                r[0].append(i)
                return r
    return None


cdef object _key_problem(object k):
    return ([], "key", f"key {k!r} ({type(k).__name__}) is not a str: JSON object keys are strings; "
                       "convert the keys first (this would not round-trip)")


def problem(obj):
    """The first value JSON cannot carry losslessly, as ``(path, keyword, message)``, else None."""
    r = _scan(obj, 0)
    if r is None:
        return None
    out = ""
    for part in reversed(r[0]):
        out += f"[{part}]" if type(part) is int else (f".{part}" if out else str(part))
    return out, r[1], r[2]


def problem_after(bytes out, obj):
    """:func:`problem` of ``obj``, looked for only when its encoding ``out`` contains ``null``.

    orjson writes NaN and ±Infinity as ``null``; output without one cannot hide them, so the
    common case costs one ``memchr`` pass over the bytes and no walk of the object.
    """
    cdef const char* p = PyBytes_AS_STRING(out)
    cdef Py_ssize_t n = PyBytes_GET_SIZE(out), i = 0
    cdef const char* hit
    while i + 4 <= n:
        hit = <const char*>memchr(p + i, c'n', n - i)
        if hit == NULL:
            return None
        if hit + 4 <= p + n and memcmp(hit, b"null", 4) == 0:
            return problem(obj)
        i = (hit - p) + 1
    return None


cdef class _Layout:
    cdef type cls
    cdef tuple names
    cdef tuple prefixes  # keeps the bytes alive for the raw pointers below
    cdef int n
    cdef Py_ssize_t offsets[MAX_SLOTS]
    cdef const char* prefix_ptr[MAX_SLOTS]
    cdef Py_ssize_t prefix_len[MAX_SLOTS]

    def __init__(self, cls, names):
        names = tuple(names)
        if len(names) > MAX_SLOTS:
            raise ValueError(f"names: at most {MAX_SLOTS} fields")
        self.cls = cls
        self.names = names
        self.n = len(names)
        for i, name in enumerate(names):
            descr = cls.__dict__.get(name)
            if type(descr).__name__ != "member_descriptor":
                raise TypeError(f"{cls.__qualname__}.{name}: not a slot (use a slotted class)")
            self.offsets[i] = (<PyMemberDescrObject*><PyObject*>descr).d_member.offset
        self.prefixes = tuple([(("," if i else "") + '"' + name + '":').encode() for i, name in enumerate(names)])
        for i in range(self.n):
            self.prefix_ptr[i] = PyBytes_AS_STRING(self.prefixes[i])
            self.prefix_len[i] = PyBytes_GET_SIZE(self.prefixes[i])

    cdef int write(self, Buf* b, object obj) except -1:
        cdef int i, r
        cdef PyObject* v
        if type(obj) is not self.cls:
            return UNSUPPORTED
        _put(b, b"{", 1)
        for i in range(self.n):
            v = (<PyObject**>((<char*><PyObject*>obj) + self.offsets[i]))[0]
            if v == NULL:
                return UNSUPPORTED
            _put(b, self.prefix_ptr[i], self.prefix_len[i])
            r = _value(b, <object>v, 1)
            if r:
                return r
        return _put(b, b"}", 1)


cdef class Encoder:
    """Encode metadata + payload objects of fixed classes to JSON bytes (see the twin)."""

    cdef _Layout _meta
    cdef _Layout _payload
    cdef object _dumps
    cdef Buf _buf  # reused: encoding runs no Python code, so it is never re-entered

    def __init__(self, meta_cls, meta_names, payload_cls, payload_names, dumps):
        self._meta = _Layout(meta_cls, meta_names)
        self._payload = _Layout(payload_cls, payload_names)
        self._dumps = dumps
        self._buf.data = <char*>malloc(1024)
        if self._buf.data == NULL:
            raise MemoryError()
        self._buf.len = 0
        self._buf.cap = 1024

    def __dealloc__(self):
        free(self._buf.data)

    cdef void _shrink(self):
        cdef char* small = <char*>realloc(self._buf.data, 1024)
        if small != NULL:
            self._buf.data = small
            self._buf.cap = 1024

    def encode(self, meta, payload):
        """JSON bytes of ``{"metadata": meta, "payload": payload}``."""
        cdef Buf* b = &self._buf
        cdef int r
        b.len = 0
        _put(b, b'{"metadata":', 12)
        r = self._meta.write(b, meta)
        if r == 0:
            _put(b, b',"payload":', 11)
            r = self._payload.write(b, payload)
        if r == 0:
            _put(b, b"}", 1)
            out = PyBytes_FromStringAndSize(b.data, b.len)
            if b.cap > 65536:  # do not keep a huge buffer after one large message
                self._shrink()
            return out
        return self._dumps({
            "metadata": {n: getattr(meta, n) for n in self._meta.names},
            "payload": {n: getattr(payload, n) for n in self._payload.names},
        })

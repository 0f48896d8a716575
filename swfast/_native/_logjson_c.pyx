# cython: freethreading_compatible = False, cdivision = True
"""Compiled JSON line renderer for log records; the pure-Python twin is ``_logjson_py.py``.

``render(d, skip, first, reserved, taken, names, stamp, level, logger, message, fallback)`` writes
``{"<ts>":"…","<level>":"…","<logger>":"…","<message>":"…", extras…}`` as UTF-8 bytes. ``d`` is the
record's ``__dict__``; its first ``skip`` entries are the standard attributes when its first key is
``first`` (otherwise every key is checked against ``reserved``). Extras named in ``taken`` are
written as ``extra.<name>``. str/int/float/bool/None are encoded here; any other value (and a str
with lone surrogates, or an int beyond 64 bits) goes through ``fallback(value) -> bytes``.
"""
from libc.stdlib cimport malloc, realloc, free
from libc.string cimport memcpy
from cpython.dict cimport PyDict_Next, PyDict_GetItem
from cpython.unicode cimport PyUnicode_Check
from cpython.long cimport PyLong_Check
from cpython.float cimport PyFloat_Check, PyFloat_AS_DOUBLE
from cpython.bytes cimport PyBytes_FromStringAndSize, PyBytes_AS_STRING, PyBytes_GET_SIZE
from cpython.object cimport PyObject
from libc.math cimport isfinite

cdef extern from "Python.h":
    const char* PyUnicode_AsUTF8AndSize(object o, Py_ssize_t* size) except? NULL
    long long PyLong_AsLongLongAndOverflow(object o, int* overflow) except? -1
    char* PyOS_double_to_string(double val, char format_code, int precision, int flags, int* ptype)
    void PyMem_Free(void* p)
    int PySet_Contains(object s, object key) except -1
    void PyErr_Clear()

cdef struct Buf:
    char* p
    Py_ssize_t n
    Py_ssize_t cap

cdef const char* HEX = b"0123456789abcdef"


cdef int _grow(Buf* b, Py_ssize_t extra) except -1:
    cdef Py_ssize_t cap
    cdef char* q
    if b.n + extra <= b.cap:
        return 0
    cap = b.cap * 2
    while cap < b.n + extra:
        cap *= 2
    q = <char*>realloc(b.p, cap)
    if q == NULL:
        raise MemoryError()
    b.p = q
    b.cap = cap
    return 0


cdef inline int _put(Buf* b, const char* s, Py_ssize_t n) except -1:
    _grow(b, n)
    memcpy(b.p + b.n, s, n)
    b.n += n
    return 0


cdef inline int _putc(Buf* b, char c) except -1:
    if b.n + 1 > b.cap:
        _grow(b, 1)
    b.p[b.n] = c
    b.n += 1
    return 0


cdef int _str(Buf* b, const char* s, Py_ssize_t n) except -1:
    cdef Py_ssize_t i, start = 0
    cdef unsigned char c
    _grow(b, n + 2)
    _putc(b, 34)
    for i in range(n):
        c = <unsigned char>s[i]
        if c >= 0x20 and c != 34 and c != 92:
            continue
        if i > start:
            _put(b, s + start, i - start)
        start = i + 1
        if c == 34:
            _put(b, b'\\"', 2)
        elif c == 92:
            _put(b, b"\\\\", 2)
        elif c == 10:
            _put(b, b"\\n", 2)
        elif c == 13:
            _put(b, b"\\r", 2)
        elif c == 9:
            _put(b, b"\\t", 2)
        else:
            _put(b, b"\\u00", 4)
            _putc(b, HEX[c >> 4])
            _putc(b, HEX[c & 15])
    if n > start:
        _put(b, s + start, n - start)
    _putc(b, 34)
    return 0


cdef int _ustr(Buf* b, object text, object fallback) except -1:
    cdef Py_ssize_t n
    cdef const char* s
    try:
        s = PyUnicode_AsUTF8AndSize(text, &n)
    except UnicodeEncodeError:  # lone surrogates
        _raw(b, fallback(text))
        return 0
    _str(b, s, n)
    return 0


cdef int _raw(Buf* b, object data) except -1:
    _put(b, PyBytes_AS_STRING(data), PyBytes_GET_SIZE(data))
    return 0


cdef inline int _itoa(char* tmp, long long x) noexcept:
    """Decimal digits of ``x`` written at the end of ``tmp[32]``; returns their count."""
    cdef unsigned long long u = <unsigned long long>(-(x + 1)) + 1 if x < 0 else <unsigned long long>x
    cdef int i = 32
    while True:
        i -= 1
        tmp[i] = <char>(48 + u % 10)
        u //= 10
        if u == 0:
            break
    if x < 0:
        i -= 1
        tmp[i] = 45
    return 32 - i


cdef int _value(Buf* b, object v, object fallback) except -1:
    cdef int overflow = 0
    cdef long long x
    cdef char tmp[32]
    cdef int k
    cdef char* r
    cdef double f
    if PyUnicode_Check(v):
        return _ustr(b, v, fallback)
    if v is None:
        return _put(b, b"null", 4)
    if v is True:
        return _put(b, b"true", 4)
    if v is False:
        return _put(b, b"false", 5)
    if type(v) is int:
        x = PyLong_AsLongLongAndOverflow(v, &overflow)
        if overflow == 0:
            k = _itoa(tmp, x)
            return _put(b, tmp + 32 - k, k)
    elif type(v) is float:
        f = PyFloat_AS_DOUBLE(v)
        if isfinite(f):
            r = PyOS_double_to_string(f, b'r', 0, 0, NULL)
            if r == NULL:
                raise MemoryError()
            try:
                _put(b, r, len(<bytes>r))
            finally:
                PyMem_Free(r)
            return 0
    _raw(b, fallback(v))
    return 0


def render(dict d, Py_ssize_t skip, first, reserved, taken, tuple names, str stamp, str level, str logger,
           str message, fallback):
    """The JSON line of one record (see the module docstring)."""
    return _render(d, skip, first, reserved, taken, names, stamp, level, logger, message, fallback)


cdef list _MS = [f".{i:03d}Z" for i in range(1001)]


cdef class RecordRenderer:
    """``JSONLogFormatter.render`` for the common record, in one call: ``renderer(record)`` is the
    JSON line, or ``None`` when the record needs the general path (an exception or stack, a
    non-str ``msg``/``name``/``levelname``, a failing ``msg % args``, a record subclass).

    The timestamp is ``record.created`` in UTC with milliseconds, the per-second prefix cached
    (``time.strftime`` once a second), exactly as ``swfast.logging._common.UTCStamp``.
    """
    cdef Py_ssize_t skip
    cdef object first, reserved, taken, fallback, gmstrftime, cls
    cdef tuple names
    cdef long long _sec
    cdef bint _have
    cdef str _prefix

    def __init__(self, cls, Py_ssize_t skip, first, reserved, taken, tuple names, fallback, gmstrftime):
        self.cls = cls
        self.skip = skip
        self.first = first
        self.reserved = reserved
        self.taken = taken
        self.names = names
        self.fallback = fallback
        self.gmstrftime = gmstrftime  # sec -> "YYYY-mm-ddTHH:MM:SS"
        self._sec = 0
        self._have = False
        self._prefix = ""

    def stamp(self, double created):
        return self._stamp(created)

    cdef str _stamp(self, double created):
        cdef long long sec = <long long>created  # truncation toward zero, as int()
        cdef long long ms
        if not self._have or sec != self._sec:
            self._prefix = self.gmstrftime(sec)
            self._sec = sec
            self._have = True
        ms = <long long>((created - <double>sec) * 1000.0)
        return self._prefix + <str>_MS[ms]

    def render_with(self, record, str message, dict adds):
        """The line of ``record`` with ``message`` as its message and the str-keyed fields ``adds``
        appended after its extras (``None`` when the record needs the general path); what a
        processed copy (``msg`` replaced, fields added) would render as, without the copy."""
        if type(record) is not self.cls:
            return None
        return self._render_with(record.__dict__, message, adds)

    cdef object _render_with(self, dict d, str message, dict adds):
        cdef PyObject* v
        cdef object level, name
        v = PyDict_GetItem(d, "levelname")
        if v == NULL or type(<object>v) is not str:
            return None
        level = <object>v
        v = PyDict_GetItem(d, "name")
        if v == NULL or type(<object>v) is not str:
            return None
        name = <object>v
        v = PyDict_GetItem(d, "created")
        if v == NULL or type(<object>v) is not float:
            return None
        return _render(d, self.skip, self.first, self.reserved, self.taken, self.names,
                       self._stamp(<double><object>v), level, name, message, self.fallback, adds)

    def __call__(self, record):
        cdef dict d
        cdef PyObject* v
        cdef object msg, args, message
        if type(record) is not self.cls:
            return None
        d = record.__dict__
        for key in ("exc_info", "exc_text", "stack_info"):
            v = PyDict_GetItem(d, key)
            if v == NULL or <object>v is not None:
                return None
        if PyDict_GetItem(d, "_swfast_exc") != NULL:
            return None
        v = PyDict_GetItem(d, "msg")
        if v == NULL or type(<object>v) is not str:
            return None
        msg = <object>v
        v = PyDict_GetItem(d, "_swfast_done")
        if v != NULL and <object>v:
            message = msg
        else:
            v = PyDict_GetItem(d, "args")
            if v == NULL:
                return None
            args = <object>v
            if args:
                try:
                    message = msg % args
                except Exception:
                    return None
                if type(message) is not str:
                    return None
            else:
                message = msg
        return self._render_with(d, <str>message, None)


cdef object _render(dict d, Py_ssize_t skip, first, reserved, taken, tuple names, str stamp, str level,
                    str logger, str message, fallback, dict adds=None):
    cdef Buf b
    cdef Py_ssize_t pos = 0, i = 0
    cdef PyObject* kp
    cdef PyObject* vp
    cdef bint check_all
    b.cap = 512
    b.n = 0
    b.p = <char*>malloc(b.cap)
    if b.p == NULL:
        raise MemoryError()
    try:
        _putc(&b, 123)
        _ustr(&b, names[0], fallback); _putc(&b, 58); _ustr(&b, stamp, fallback); _putc(&b, 44)
        _ustr(&b, names[1], fallback); _putc(&b, 58); _ustr(&b, level, fallback); _putc(&b, 44)
        _ustr(&b, names[2], fallback); _putc(&b, 58); _ustr(&b, logger, fallback); _putc(&b, 44)
        _ustr(&b, names[3], fallback); _putc(&b, 58); _ustr(&b, message, fallback)
        check_all = True
        if PyDict_Next(d, &pos, &kp, &vp):
            check_all = not (<object>kp == first and len(d) >= skip)
            pos = 0
        while PyDict_Next(d, &pos, &kp, &vp):
            i += 1
            if not check_all and i <= skip:
                continue
            key = <object>kp
            value = <object>vp  # own references before anything that may run user code
            if not PyUnicode_Check(key):
                key = str(key)
            if PySet_Contains(reserved, key):
                continue
            _putc(&b, 44)
            if PySet_Contains(taken, key):
                _ustr(&b, "extra." + key, fallback)
            else:
                _ustr(&b, key, fallback)
            _putc(&b, 58)
            _value(&b, value, fallback)
        if adds:
            pos = 0
            while PyDict_Next(adds, &pos, &kp, &vp):
                key = <object>kp
                _putc(&b, 44)
                if PySet_Contains(taken, key):
                    _ustr(&b, "extra." + key, fallback)
                else:
                    _ustr(&b, key, fallback)
                _putc(&b, 58)
                _value(&b, <object>vp, fallback)
        _putc(&b, 125)
        return PyBytes_FromStringAndSize(b.p, b.n)
    finally:
        free(b.p)

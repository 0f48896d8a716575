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
    bint heap  # p was malloc'ed (it starts on the caller's stack)

cdef const char* HEX = b"0123456789abcdef"


cdef int _grow(Buf* b, Py_ssize_t extra) except -1:
    cdef Py_ssize_t cap
    cdef char* q
    if b.n + extra <= b.cap:
        return 0
    cap = b.cap * 2
    while cap < b.n + extra:
        cap *= 2
    if b.heap:
        q = <char*>realloc(b.p, cap)
    else:
        q = <char*>malloc(cap)
        if q != NULL:
            memcpy(q, b.p, b.n)
    if q == NULL:
        raise MemoryError()
    b.p = q
    b.cap = cap
    b.heap = True
    return 0


DEF STACK = 1024

cdef extern from "Python.h":
    object PyUnicode_DecodeUTF8(const char* s, Py_ssize_t size, const char* errors)
    bint PyUnicode_IS_ASCII(object o)
    void* PyUnicode_DATA(object o)
    Py_ssize_t PyUnicode_GET_LENGTH(object o)
    object PyUnicode_New(Py_ssize_t size, Py_UCS4 maxchar)


cdef inline void _start(Buf* b, char* stack) noexcept:
    b.p = stack
    b.n = 0
    b.cap = STACK
    b.heap = False


cdef inline void _release(Buf* b) noexcept:
    if b.heap:
        free(b.p)


cdef bint _is_ascii(const char* p, Py_ssize_t n) noexcept:
    cdef Py_ssize_t i = 0
    cdef unsigned long long w
    while i + 8 <= n:
        memcpy(&w, p + i, 8)
        if w & 0x8080808080808080ULL:
            return False
        i += 8
    while i < n:
        if <unsigned char>p[i] >= 0x80:
            return False
        i += 1
    return True


cdef object _finish(Buf* b, bint as_str):
    """The buffer as bytes, or as str (what ``bytes.decode("utf-8", "surrogatepass")`` gives)."""
    if as_str:
        if _is_ascii(b.p, b.n):
            out = PyUnicode_New(b.n, 127)
            memcpy(PyUnicode_DATA(out), b.p, b.n)
            return out
        return PyUnicode_DecodeUTF8(b.p, b.n, "surrogatepass")
    return PyBytes_FromStringAndSize(b.p, b.n)


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
    if PyUnicode_IS_ASCII(text):  # its characters are its UTF-8
        _str(b, <const char*>PyUnicode_DATA(text), PyUnicode_GET_LENGTH(text))
        return 0
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
cdef list _MS_END = [f".{i:03d}Z\"".encode() for i in range(1001)]  # the same, closing the JSON string


cdef bytes _json_str(object text, object fallback):
    """``text`` as a JSON string (what ``_ustr`` writes)."""
    cdef Buf b
    cdef char stack[STACK]
    _start(&b, stack)
    try:
        _ustr(&b, text, fallback)
        return PyBytes_FromStringAndSize(b.p, b.n)
    finally:
        _release(&b)


cdef class RecordRenderer:
    """``JSONLogFormatter.render`` for the common record, in one call: ``renderer(record)`` is the
    JSON line, or ``None`` when the record needs the general path (an exception or stack, a
    non-str ``msg``/``name``/``levelname``, a failing ``msg % args``, a record subclass, a
    ``created`` that is not a float in [0, 1e17)).

    The timestamp is ``record.created`` in UTC with milliseconds, the per-second prefix cached
    (``time.strftime`` once a second), exactly as ``swfast.logging._common.UTCStamp``; the fixed
    field names are encoded once, and the cached prefix is kept as the bytes that open the line.
    """
    cdef Py_ssize_t skip
    cdef object first, reserved, taken, fallback, gmstrftime, cls
    cdef tuple names
    cdef long long _sec
    cdef bint _have
    cdef str _prefix
    cdef bytes _open  # b'{"timestamp":"2026-01-02T03:04:05' for the cached second (None: not encodable)
    cdef bytes _k_level, _k_logger, _k_message  # b',"level":' ...
    cdef dict _keys  # extra name -> b',"name":' (b',"extra.name":' when taken), None when reserved
    cdef tuple _fields_src, _fields_enc  # the last ``fields`` seen and its names' encodings

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
        self._open = None
        self._keys = {}
        self._k_level = b"," + _json_str(names[1], fallback) + b":"
        self._k_logger = b"," + _json_str(names[2], fallback) + b":"
        self._k_message = b"," + _json_str(names[3], fallback) + b":"

    def stamp(self, double created):
        return self._stamp(created)

    cdef int _second(self, long long sec) except -1:
        """Make ``sec`` the cached second (prefix str and the opening bytes)."""
        cdef bytes head
        cdef object prefix
        if self._have and sec == self._sec:
            return 0
        prefix = self.gmstrftime(sec)
        head = _json_str(prefix, self.fallback)
        # the opening bytes only when the prefix encodes as itself (no fallback, no escapes)
        opening = None
        if type(prefix) is str and head == b'"' + (<str>prefix).encode("utf-8", "surrogatepass") + b'"':
            opening = b"{" + _json_str(self.names[0], self.fallback) + b":" + head[:len(head) - 1]
        self._prefix = prefix
        self._open = opening
        self._sec = sec
        self._have = True
        return 0

    cdef str _stamp(self, double created):
        cdef long long sec = <long long>created  # truncation toward zero, as int()
        cdef long long ms
        self._second(sec)
        ms = <long long>((created - <double>sec) * 1000.0)
        return self._prefix + <str>_MS[ms]

    def render_with(self, record, str message, dict adds):
        """The line of ``record`` with ``message`` as its message and the str-keyed fields ``adds``
        appended after its extras (``None`` when the record needs the general path); what a
        processed copy (``msg`` replaced, fields added) would render as, without the copy."""
        if type(record) is not self.cls:
            return None
        return self._line(record.__dict__, message, adds, None, None, False)

    @property
    def _c_render(self):
        """A capsule of :func:`_render_processed_c` (the fused kernel calls it directly)."""
        return _C_RENDER

    @property
    def _c_render_encoded(self):
        """A capsule of :func:`_render_encoded_c`."""
        return _C_RENDER_ENCODED

    def key_bytes(self, str key):
        """``b',"key":'`` as this renderer writes an extra named ``key`` (``extra.key`` for a
        taken name), ``None`` for a reserved name."""
        return _key_entry(self._keys, key, self.reserved, self.taken, self.fallback)

    def render_processed(self, record, str message, dict ctx, tuple fields, bint as_str=False):
        """``render_with(record, message, adds)`` where ``adds`` are the entries of ``ctx`` (str
        keys) and then the ``(name, value)`` pairs ``fields`` whose names are neither in the
        record, nor reserved, nor (for ``fields``) in ``ctx``; as str when ``as_str``."""
        if type(record) is not self.cls:
            return None
        return self._line(record.__dict__, message, None, ctx, fields, as_str)

    cdef object _line(self, dict d, str message, dict adds, dict ctx, tuple fields, bint as_str):
        cdef PyObject* lv = PyDict_GetItem(d, "levelname")
        cdef PyObject* nv = PyDict_GetItem(d, "name")
        cdef PyObject* cv = PyDict_GetItem(d, "created")
        if lv == NULL or nv == NULL or cv == NULL:
            return None
        return self._emit(d, <object>lv, <object>nv, <object>cv, message, adds, ctx, fields, as_str, -1)

    cdef object _emit(self, dict d, object level, object name, object created_obj, str message, dict adds,
                      dict ctx, tuple fields, bint as_str, Py_ssize_t start, PyObject** enames=NULL,
                      PyObject** evalues=NULL, Py_ssize_t en=-1):
        """The line, given the record's ``levelname``, ``name`` and ``created`` (``start``: where
        its extras begin, -1: find out; with ``en >= 0`` the extras are given instead: their
        encoded names as :meth:`key_bytes` gives them and their values)."""
        cdef Py_ssize_t j
        cdef double created
        cdef long long sec, ms
        cdef Buf b
        cdef char stack[STACK]
        cdef Py_ssize_t pos = 0
        cdef PyObject* kp
        cdef PyObject* vp
        if type(level) is not str or type(name) is not str or type(created_obj) is not float:
            return None
        created = PyFloat_AS_DOUBLE(created_obj)
        if not (0.0 <= created < 1e17):  # negative, NaN, huge: the general path
            return None
        sec = <long long>created
        self._second(sec)
        ms = <long long>((created - <double>sec) * 1000.0)
        _start(&b, stack)
        try:
            if self._open is not None:
                _raw(&b, self._open)
                _raw(&b, <bytes>_MS_END[ms])
            else:
                _putc(&b, 123)
                _ustr(&b, self.names[0], self.fallback); _putc(&b, 58)
                _ustr(&b, self._prefix + <str>_MS[ms], self.fallback)
            _raw(&b, self._k_level); _ustr(&b, level, self.fallback)
            _raw(&b, self._k_logger); _ustr(&b, name, self.fallback)
            _raw(&b, self._k_message); _ustr(&b, message, self.fallback)
            if en >= 0:
                for j in range(en):
                    _raw(&b, <bytes>enames[j])
                    _value(&b, <object>evalues[j], self.fallback)
            else:
                _extras(&b, d, self.skip, self.first, self.reserved, self.taken, self.fallback, self._keys, start)
            if adds:
                while PyDict_Next(adds, &pos, &kp, &vp):
                    _field(&b, <object>kp, <object>vp, self.taken, self.fallback)
            if ctx:
                pos = 0
                while PyDict_Next(ctx, &pos, &kp, &vp):
                    key = <object>kp
                    if type(key) is not str:
                        return None
                    if PyDict_GetItem(d, key) == NULL:
                        entry = _key_entry(self._keys, key, self.reserved, self.taken, self.fallback)
                        if entry is not None:  # not reserved
                            _raw(&b, entry)
                            _value(&b, <object>vp, self.fallback)
            if fields:
                if fields is not self._fields_src:  # (name, encoded name or None, value), once per tuple
                    self._fields_enc = tuple([(key, _key_entry(self._keys, key, self.reserved, self.taken,
                                                               self.fallback), value) for key, value in fields])
                    self._fields_src = fields
                for key, entry, value in self._fields_enc:
                    if (entry is not None and PyDict_GetItem(d, key) == NULL
                            and (not ctx or PyDict_GetItem(ctx, key) == NULL)):
                        _raw(&b, <bytes>entry)
                        _value(&b, value, self.fallback)
            _putc(&b, 125)
            return _finish(&b, as_str)
        finally:
            _release(&b)

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
        return self._line(d, <str>message, None, None, None, False)


cdef int _field(Buf* b, object key, object value, taken, fallback) except -1:
    """``,"key":value`` (``extra.key`` for a taken name); ``key`` is a str."""
    _putc(b, 44)
    if PySet_Contains(taken, key):
        _ustr(b, "extra." + key, fallback)
    else:
        _ustr(b, key, fallback)
    _putc(b, 58)
    _value(b, value, fallback)
    return 0


cdef Py_ssize_t _after_standard(dict d, Py_ssize_t skip) noexcept:
    """``skip`` when the ``PyDict_Next`` positions before ``skip`` hold exactly the first ``skip``
    entries of ``d`` (no deleted slot among them; always so for a split table), else -1."""
    cdef Py_ssize_t pos = skip, m = 0
    cdef PyObject* k
    cdef PyObject* v
    while PyDict_Next(d, &pos, &k, &v):
        m += 1
    return skip if skip + m == len(d) else -1


DEF MAX_KEYS = 4096


cdef object _key_entry(dict cache, object key, reserved, taken, fallback):
    """``,"key":`` as bytes (``extra.key`` for a taken name), ``None`` for a reserved name;
    remembered in ``cache`` for exact str keys (at most MAX_KEYS of them)."""
    cdef PyObject* hit
    cdef Buf b
    cdef char stack[STACK]
    cdef bint exact = type(key) is str
    if exact:
        hit = PyDict_GetItem(cache, key)
        if hit != NULL:
            return <object>hit
    if PySet_Contains(reserved, key):
        entry = None
    else:
        _start(&b, stack)
        try:
            _field(&b, key, None, taken, fallback)
            entry = PyBytes_FromStringAndSize(b.p, b.n - 4)  # without the "null"
        finally:
            _release(&b)
    if exact and len(cache) < MAX_KEYS:
        cache[key] = entry
    return entry


cdef int _extras(Buf* b, dict d, Py_ssize_t skip, first, reserved, taken, fallback, dict keys=None,
                 Py_ssize_t known=-1) except -1:
    """Every extra of ``d`` (see the module docstring), each as ``,"key":value`` (the names'
    encodings remembered in ``keys`` when given)."""
    cdef Py_ssize_t pos = 0, i = 0
    cdef PyObject* kp
    cdef PyObject* vp
    cdef bint check_all = True
    if known >= 0:  # the caller walked the standard attributes: the extras start at ``known``
        check_all = False
        pos = known
        i = skip
    else:
        if PyDict_Next(d, &pos, &kp, &vp):
            check_all = not (<object>kp == first and len(d) >= skip)
            pos = 0
        if not check_all and _after_standard(d, skip) >= 0:  # step over the standard attributes in one move
            pos = skip
            i = skip
    while PyDict_Next(d, &pos, &kp, &vp):
        i += 1
        if not check_all and i <= skip:
            continue
        key = <object>kp
        value = <object>vp  # own references before anything that may run user code
        if not PyUnicode_Check(key):
            key = str(key)
        if keys is not None:
            entry = _key_entry(keys, key, reserved, taken, fallback)
            if entry is not None:
                _raw(b, entry)
                _value(b, value, fallback)
            continue
        if PySet_Contains(reserved, key):
            continue
        _field(b, key, value, taken, fallback)
    return 0


cdef object _render(dict d, Py_ssize_t skip, first, reserved, taken, tuple names, str stamp, str level,
                    str logger, str message, fallback):
    cdef Buf b
    cdef char stack[STACK]
    _start(&b, stack)
    try:
        _putc(&b, 123)
        _ustr(&b, names[0], fallback); _putc(&b, 58); _ustr(&b, stamp, fallback); _putc(&b, 44)
        _ustr(&b, names[1], fallback); _putc(&b, 58); _ustr(&b, level, fallback); _putc(&b, 44)
        _ustr(&b, names[2], fallback); _putc(&b, 58); _ustr(&b, logger, fallback); _putc(&b, 44)
        _ustr(&b, names[3], fallback); _putc(&b, 58); _ustr(&b, message, fallback)
        _extras(&b, d, skip, first, reserved, taken, fallback)
        _putc(&b, 125)
        return PyBytes_FromStringAndSize(b.p, b.n)
    finally:
        _release(&b)


cdef object _render_processed_c(object renderer, object record, dict d, str message, dict ctx, tuple fields,
                                bint as_str, object level, object name, object created, Py_ssize_t start):
    """``renderer.render_processed(record, message, ctx, fields, as_str)`` with ``d`` the record's
    ``__dict__``, for callers in C (through the ``_c_render`` capsule). With ``start >= 0`` the
    caller has walked the standard attributes: ``level``, ``name``, ``created`` are their values
    and the extras begin at ``PyDict_Next`` position ``start``."""
    cdef RecordRenderer r = <RecordRenderer?>renderer
    if type(record) is not r.cls:
        return None
    if start >= 0:
        return r._emit(d, level, name, created, message, None, ctx, fields, as_str, start)
    return r._line(d, message, None, ctx, fields, as_str)


from cpython.pycapsule cimport PyCapsule_New

cdef object _C_RENDER = PyCapsule_New(<void*>_render_processed_c, b"swfast._native._logjson_c.render_processed", NULL)


cdef object _render_encoded_c(object renderer, object record, dict d, str message, dict ctx, tuple fields,
                              bint as_str, object level, object name, object created, PyObject** names,
                              PyObject** values, Py_ssize_t n):
    """:func:`_render_processed_c` given the extras (the record's extras, in order, that are not
    reserved): ``names[i]`` is what :meth:`RecordRenderer.key_bytes` gives for the i-th one's
    name, ``values[i]`` its value."""
    cdef RecordRenderer r = <RecordRenderer?>renderer
    if type(record) is not r.cls:
        return None
    return r._emit(d, level, name, created, message, None, ctx, fields, as_str, -1, names, values, n)


cdef object _C_RENDER_ENCODED = PyCapsule_New(<void*>_render_encoded_c, b"swfast._native._logjson_c.render_encoded",
                                              NULL)

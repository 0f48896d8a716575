# cython: freethreading_compatible = False, cdivision = True
"""Compiled message validation kernel; the pure-Python twin is ``_msgvalid_py.py``.

Table-driven checks of decoded JSON dicts (see the twin's docstring for the contract). Strings
are inspected as ASCII bytes in C (UUIDs, timestamps); a non-ASCII string can never match those
grammars, so it is rejected before any encoding happens. Nothing here raises on bad data.
"""
from libc.stdint cimport int64_t, uint64_t
from cpython.dict cimport PyDict_GetItem, PyDict_Size
from cpython.object cimport PyObject
from cpython.unicode cimport PyUnicode_GET_LENGTH
from cpython.tuple cimport PyTuple_GET_ITEM

cdef extern from "Python.h":
    int PyUnicode_IS_ASCII(object o)
    const char* PyUnicode_AsUTF8AndSize(object o, Py_ssize_t* size) except NULL


cdef enum:
    CK_ANY = 0
    CK_STR = 1
    CK_OPT_STR = 2
    CK_ENUM = 3
    CK_OPT_ENUM = 4
    CK_INT_MIN0 = 5
    CK_OPT_INT_MIN0 = 6
    CK_OPT_NUM_MIN0 = 7
    CK_NUM_POS = 8
    CK_BOOL = 9
    CK_DICT = 10
    CK_OPT_DICT = 11
    CK_STR_LIST = 12
    CK_UUID = 13
    CK_TS = 14
    CK_OPT_TS = 15
    CK_PRIORITY = 16
    CTS_OK = 0
    CTS_MALFORMED = 1
    CTS_NO_ZONE = 2
    MAX_FIELDS = 64

K_ANY = CK_ANY
K_STR = CK_STR
K_OPT_STR = CK_OPT_STR
K_ENUM = CK_ENUM
K_OPT_ENUM = CK_OPT_ENUM
K_INT_MIN0 = CK_INT_MIN0
K_OPT_INT_MIN0 = CK_OPT_INT_MIN0
K_OPT_NUM_MIN0 = CK_OPT_NUM_MIN0
K_NUM_POS = CK_NUM_POS
K_BOOL = CK_BOOL
K_DICT = CK_DICT
K_OPT_DICT = CK_OPT_DICT
K_STR_LIST = CK_STR_LIST
K_UUID = CK_UUID
K_TS = CK_TS
K_OPT_TS = CK_OPT_TS
K_PRIORITY = CK_PRIORITY
TS_OK = CTS_OK
TS_MALFORMED = CTS_MALFORMED
TS_NO_ZONE = CTS_NO_ZONE

cimport cython

include "_msgjson.pxi"
include "_slots.pxi"

cdef object _MISSING = object()


def _plain(str text):
    """True when ``text`` is written in JSON as-is (no quote, backslash or control character)."""
    return not any(c == '"' or c == "\\" or ord(c) < 32 for c in text)


include "_msgtime.pxi"


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




cdef class _Table:
    """One object's field table in C arrays (names and defaults kept in tuples)."""
    cdef tuple names
    cdef tuple defaults
    cdef frozenset keys
    cdef int n
    cdef int kind[MAX_FIELDS]
    cdef bint required[MAX_FIELDS]
    cdef int enum_index[MAX_FIELDS]
    cdef tuple bnames
    cdef dict index
    cdef const char* bname[MAX_FIELDS]
    cdef Py_ssize_t blen[MAX_FIELDS]
    cdef int ts_i
    cdef int exp_i

    def __init__(self, fields):
        specs = [tuple(f) for f in fields]
        if len(specs) > MAX_FIELDS:
            raise ValueError(f"fields: at most {MAX_FIELDS} fields per object")
        self.n = len(specs)
        self.names = tuple([str(f[0]) for f in specs])
        self.defaults = tuple([f[4] if len(f) > 4 else None for f in specs])
        self.keys = frozenset(self.names)
        for i, f in enumerate(specs):
            self.kind[i] = int(f[1])
            self.required[i] = bool(f[2])
            self.enum_index[i] = int(f[3])
        self.bnames = tuple([name.encode("utf-8") for name in self.names])
        self.index = {name: i for i, name in enumerate(self.names)}
        for i in range(self.n):
            self.bname[i] = PyBytes_AS_STRING(self.bnames[i])
            self.blen[i] = PyBytes_GET_SIZE(self.bnames[i])
        self.ts_i = self.index.get("timestamp", -1)
        self.exp_i = self.index.get("expires_at", -1)


cdef class Checker:
    """Table-driven validator (and converter) of one message shape (metadata + payload).

    Args:
        meta_fields: ``(name, kind, required, enum_index[, default])`` per metadata field.
        payload_fields: the same for the payload.
        enums: mappings ``value -> converted value`` (enum members) referenced by
            ``enum_index``; membership is the validation, the mapped value the conversion.
        enum_names: a human label per mapping, used in error messages.
    """

    cdef _Table _meta
    cdef _Table _payload
    cdef tuple _enums
    cdef tuple _enum_names
    cdef tuple _enum_raw
    cdef _Slots _meta_cls
    cdef _Slots _payload_cls
    cdef _Slots _envelope_cls

    def __init__(self, meta_fields, payload_fields, enums, enum_names):
        self._meta = _Table(meta_fields)
        self._payload = _Table(payload_fields)
        self._enums = tuple([dict(e) if isinstance(e, dict) else {v: v for v in e} for e in enums])
        self._enum_names = tuple([str(n) for n in enum_names])
        for table in (self._meta, self._payload):
            for i in range(table.n):
                if table.kind[i] in (CK_ENUM, CK_OPT_ENUM, CK_PRIORITY) and not 0 <= table.enum_index[i] < len(self._enums):
                    raise ValueError(f"fields: {table.names[i]!r} uses enum {table.enum_index[i]}, "
                                     f"but only {len(self._enums)} enums are given")
        self._enum_raw = tuple([tuple([(k.encode("utf-8", "surrogatepass"), v) for k, v in e.items()
                                       if type(k) is str and _plain(k)]) for e in self._enums])

    def check(self, message, bint strict=False):
        """Return None when ``message`` is valid, else ``(path, keyword, message)``."""
        return self._run(message, strict, None, None)

    def convert(self, message, bint strict=False):
        """Validate and convert: ``(None, metadata_args, payload_args)`` or ``(error, None, None)``."""
        cdef list meta_out = []
        cdef list payload_out = []
        err = self._run(message, strict, meta_out, payload_out)
        if err is not None:
            return err, None, None
        return None, meta_out, payload_out

    def bind(self, meta_cls, payload_cls, envelope_cls):
        """Classes for :meth:`build`: built from the field tables' argument lists, the envelope
        from ``(metadata, payload)``."""
        self._meta_cls = _Slots(meta_cls, self._meta.names)
        self._payload_cls = _Slots(payload_cls, self._payload.names)
        self._envelope_cls = _Slots(envelope_cls, ("metadata", "payload"))

    def build(self, data, bint strict=False):
        """:meth:`decode` and construct: ``(None, envelope)`` or ``(error, None)`` (see :meth:`bind`)."""
        if self._envelope_cls is None:
            raise RuntimeError("build: call bind(meta_cls, payload_cls, envelope_cls) first")
        err, meta, payload = self.decode(data, strict)
        if err is not None:
            return err, None
        return None, self._envelope_cls.make([self._meta_cls.make(meta), self._payload_cls.make(payload)])

    def decode(self, data, bint strict=False):
        """``convert(loads(data))`` in one pass over the JSON bytes (see ``_msgjson.pxi``).

        Invalid JSON gives ``(("", "json", "is not valid JSON (...)"), None, None)``; never
        raises for any input value.
        """
        cdef _P p
        try:
            owner = _source(data, &p)
            res = self._decode_fast(&p, strict)
            if res is not None:
                return res
            p.pos = 0  # an unusual shape: read generically, then the dict path gives the answer
            value = _pv(&p, 0)
            _end(&p)
        except (ValueError, TypeError) as exc:
            return ("", "json", f"is not valid JSON ({exc})"), None, None
        return self.convert(value, strict)

    cdef object _decode_fast(self, _P* p, bint strict):
        """Both objects read into field slots, or None for the generic path."""
        cdef bint more = True
        cdef list meta = None
        cdef list payload = None
        cdef uint64_t meta_done = 0, payload_done = 0
        meta_unknown = payload_unknown = top_unknown = None
        _ws(p)
        if p.pos >= p.n or p.s[p.pos] != c'{' or _open(p, c'}', 1):
            return None
        while more:
            _key_start(p)
            key = _pstr(p)
            _colon(p)
            _ws(p)
            if key == "metadata" or key == "payload":
                if p.pos >= p.n or p.s[p.pos] != c'{':
                    return None
                if key == "metadata":
                    if meta is not None:
                        return None
                    meta = [_MISSING] * self._meta.n
                    meta_unknown = self._read_obj(p, self._meta, meta, &meta_done)
                else:
                    if payload is not None:
                        return None
                    payload = [_MISSING] * self._payload.n
                    payload_unknown = self._read_obj(p, self._payload, payload, &payload_done)
            else:
                if top_unknown is None:
                    top_unknown = key
                _pv(p, 1)
            _sep(p, c'}', &more)
        _end(p)
        if meta is None or payload is None:
            return None
        if strict and top_unknown is not None:
            return (top_unknown, "unknown", "unknown field; remove it or validate with strict=False"), None, None
        err = self._check_slots(meta, "metadata", self._meta, strict, meta_unknown, meta_done)
        if err is None:
            err = self._check_slots(payload, "payload", self._payload, strict, payload_unknown, payload_done)
        if err is None and self._meta.exp_i >= 0 and self._meta.ts_i >= 0:
            err = self._order(meta[self._meta.ts_i], meta[self._meta.exp_i])
        if err is not None:
            return err, None, None
        return None, meta, payload

    @cython.boundscheck(False)
    @cython.wraparound(False)
    cdef object _enum_raw_match(self, _P* p, int e):
        """An enum value read from its raw bytes (no escapes): the mapped value, or _MISSING."""
        cdef Py_ssize_t L, start = p.pos + 1
        if p.pos >= p.n or p.s[p.pos] != c'"':
            return _MISSING
        for entry in <tuple>self._enum_raw[e]:
            raw = <bytes>(<tuple>entry)[0]
            L = PyBytes_GET_SIZE(raw)
            if start + L < p.n and p.s[start + L] == c'"' and memcmp(p.s + start, PyBytes_AS_STRING(raw), L) == 0:
                p.pos = start + L + 1
                return (<tuple>entry)[1]
        return _MISSING

    cdef object _read_obj(self, _P* p, _Table t, list vals, uint64_t* done):
        """One object's members into ``vals`` (last duplicate wins); the first unknown key.

        Enum values matched on their raw bytes are stored converted, flagged in ``done``."""
        cdef bint more = True
        cdef Py_ssize_t ks, ke, L, j, k, i, hint = 0
        cdef const unsigned char* s = p.s
        first = None
        if _open(p, c'}', 2):
            return None
        while more:
            _key_start(p)
            ks = p.pos + 1
            i = -1
            j = hint if hint < t.n else 0  # fields usually come in table order: the next one first
            L = t.blen[j]
            if t.n and ks + L < p.n and s[ks + L] == c'"' and memcmp(s + ks, t.bname[j], L) == 0:
                i = j
                ke = ks + L
            else:
                ke = ks
                while ke < p.n and s[ke] != c'"' and s[ke] != c'\\':
                    ke += 1
                if ke < p.n and s[ke] == c'"':
                    L = ke - ks
                    for j in range(t.n):
                        if t.blen[j] == L and memcmp(s + ks, t.bname[j], L) == 0:
                            i = j
                            break
            if i >= 0:
                hint = i + 1
            if i >= 0:
                p.pos = ke + 1
            else:
                key = _pstr(p)
                got = t.index.get(key)
                if got is not None:
                    i = got
                elif first is None:
                    first = key
            _colon(p)
            if i >= 0 and (t.kind[i] == CK_ENUM or t.kind[i] == CK_OPT_ENUM):
                _ws(p)
                v = self._enum_raw_match(p, t.enum_index[i])
                if v is not _MISSING:
                    vals[i] = v
                    done[0] |= (<uint64_t>1) << i
                    _sep(p, c'}', &more)
                    continue
            v = _pv(p, 2)
            if i >= 0:
                vals[i] = v
                done[0] &= ~((<uint64_t>1) << i)
            _sep(p, c'}', &more)
        return first

    @cython.boundscheck(False)
    @cython.wraparound(False)
    cdef object _check_slots(self, list vals, str where, _Table t, bint strict, object unknown, uint64_t done):
        """``_check_obj`` over field slots, converting them in place (``done``: already are)."""
        cdef PyObject* mapped
        cdef Py_ssize_t i
        cdef int kind
        for i in range(t.n):
            if done & ((<uint64_t>1) << i):
                continue
            v = vals[i]
            kind = t.kind[i]
            if v is _MISSING:
                if t.required[i]:
                    return (f"{where}.{t.names[i]}", "required", "is required")
                if kind == CK_DICT:
                    vals[i] = {}
                elif kind == CK_STR_LIST:
                    vals[i] = []
                else:
                    vals[i] = <object>PyTuple_GET_ITEM(t.defaults, i)
                continue
            err = self._check_value(v, kind, t.enum_index[i])
            if err is not None:
                return (f"{where}.{t.names[i]}", err[0], err[1])
            if (kind == CK_ENUM or kind == CK_OPT_ENUM or kind == CK_PRIORITY) and v is not None:
                mapped = PyDict_GetItem(<dict>PyTuple_GET_ITEM(self._enums, t.enum_index[i]), v)
                if mapped != NULL:
                    vals[i] = <object>mapped
        if strict and unknown is not None:
            return (f"{where}.{unknown}", "unknown", "unknown field; remove it or validate with strict=False")
        return None

    cdef object _order(self, object ts, object exp):
        cdef int64_t t0 = 0, t1 = 0
        if exp is None:
            return None
        _parse_ts(ts, &t0)
        _parse_ts(exp, &t1)
        if t1 < t0:
            return ("metadata.expires_at", "order", "is before metadata.timestamp; it must be at or after it")
        return None

    cdef object _run(self, object message, bint strict, list meta_out, list payload_out):
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
        err = self._check_obj(<object>meta, "metadata", self._meta, strict, meta_out)
        if err is not None:
            return err
        err = self._check_obj(<object>payload, "payload", self._payload, strict, payload_out)
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

    cdef object _check_obj(self, object obj, str where, _Table table, bint strict, list out):
        cdef PyObject* item
        cdef PyObject* mapped
        cdef Py_ssize_t i, found = 0
        cdef int kind
        cdef object v, name
        if type(obj) is not dict:
            return (where, "type", f"must be an object, got {_describe(obj)}")
        for i in range(table.n):
            name = <object>PyTuple_GET_ITEM(table.names, i)
            kind = table.kind[i]
            item = PyDict_GetItem(<dict>obj, name)
            if item == NULL:
                if table.required[i]:
                    return (f"{where}.{name}", "required", "is required")
                if out is not None:
                    if kind == CK_DICT:
                        out.append({})
                    elif kind == CK_STR_LIST:
                        out.append([])
                    else:
                        out.append(<object>PyTuple_GET_ITEM(table.defaults, i))
                continue
            found += 1
            v = <object>item
            err = self._check_value(v, kind, table.enum_index[i])
            if err is not None:
                return (f"{where}.{name}", err[0], err[1])
            if out is not None:
                if (kind == CK_ENUM or kind == CK_OPT_ENUM or kind == CK_PRIORITY) and v is not None:
                    mapped = PyDict_GetItem(<dict>PyTuple_GET_ITEM(self._enums, table.enum_index[i]), v)
                    out.append(<object>mapped if mapped != NULL else v)
                else:
                    out.append(v)
        if strict and found != PyDict_Size(obj):
            for key in obj:
                if key not in table.keys:
                    return (f"{where}.{key}", "unknown", "unknown field; remove it or validate with strict=False")
        return None

    cdef object _check_value(self, object v, int kind, int enum_index):
        cdef int64_t us = 0
        cdef int status
        if kind == CK_ANY:
            return None
        if kind == CK_STR or (kind == CK_OPT_STR and v is not None):
            return None if type(v) is str else ("type", f"must be a string, got {_describe(v)}")
        if kind == CK_OPT_STR:
            return None
        if kind == CK_ENUM or (kind == CK_OPT_ENUM and v is not None):
            allowed = <dict>self._enums[enum_index]
            if type(v) is str and PyDict_GetItem(allowed, v) != NULL:
                return None
            return ("enum", f"must be one of the {self._enum_names[enum_index]} values {sorted(allowed)}, got {v!r}"[:300])
        if kind == CK_OPT_ENUM:
            return None
        if kind == CK_INT_MIN0 or (kind == CK_OPT_INT_MIN0 and v is not None):
            if not _is_int(v):
                return ("type", f"must be an integer, got {_describe(v)}")
            return None if v >= 0 else ("minimum", f"must be >= 0, got {v}")
        if kind == CK_OPT_INT_MIN0:
            return None
        if kind == CK_OPT_NUM_MIN0:
            if v is None:
                return None
            if not _is_num(v):
                return ("type", f"must be a finite number, got {_describe(v)}")
            return None if v >= 0 else ("minimum", f"must be >= 0, got {v}")
        if kind == CK_NUM_POS:
            if not _is_num(v):
                return ("type", f"must be a finite number, got {_describe(v)}")
            return None if v > 0 else ("minimum", f"must be > 0, got {v}")
        if kind == CK_BOOL:
            return None if type(v) is bool else ("type", f"must be a boolean, got {_describe(v)}")
        if kind == CK_DICT or (kind == CK_OPT_DICT and v is not None):
            return None if type(v) is dict else ("type", f"must be an object, got {_describe(v)}")
        if kind == CK_OPT_DICT:
            return None
        if kind == CK_STR_LIST:
            if type(v) is not list:
                return ("type", f"must be a list of strings, got {_describe(v)}")
            for item in <list>v:
                if type(item) is not str:
                    return ("type", f"must be a list of strings, has {_describe(item)}")
            return None
        if kind == CK_UUID:
            if _is_uuid(v):
                return None
            return ("format", f"must be a UUID string (8-4-4-4-12 hex digits), got {v!r}"[:200])
        if kind == CK_TS or (kind == CK_OPT_TS and v is not None):
            status = _parse_ts(v, &us)
            if status == CTS_OK:
                return None
            if status == CTS_NO_ZONE:
                return ("timezone", f"has no time zone: {v!r}; add 'Z' or an offset such as '+00:00'")
            return ("format", f"must be an ISO 8601 timestamp with a time zone, got {v!r}"[:200])
        if kind == CK_OPT_TS:
            return None
        if kind == CK_PRIORITY:
            if not _is_int(v):
                return ("type", f"must be an integer priority 1-5, got {_describe(v)}")
            return None if 1 <= v <= 5 else ("range", f"must be from 1 (CRITICAL) to 5 (BACKGROUND), got {v}")
        return ("kind", f"unknown field kind {kind}")

# cython: freethreading_compatible = False, cdivision = False
"""Compiled consumer batch kernel; the pure-Python twin is ``_msgbatch_py.py`` (the contract).

One C loop per fetched batch: the record methods are called through cached method names,
the decoder once per value, and the structured-message checks are two dict lookups.
"""
cimport cython
from cpython.dict cimport PyDict_GetItem, PyDict_SetItem
from cpython.object cimport PyObject
from cpython.list cimport PyList_GET_ITEM, PyList_GET_SIZE
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE
from cpython.bytearray cimport PyByteArray_AS_STRING, PyByteArray_GET_SIZE
from libc.string cimport memchr, memcmp, memcpy
from libc.stdint cimport uint64_t


cdef inline bint _digits8(const unsigned char* p) noexcept nogil:
    """True when the 8 bytes at ``p`` are all ASCII digits (SWAR: no byte of x is above 9)."""
    cdef uint64_t w, x
    memcpy(&w, p, 8)
    x = w ^ 0x3030303030303030ULL
    return (((x + 0x7676767676767676ULL) | x) & 0x8080808080808080ULL) == 0


cdef inline bint _is_digit(unsigned char c) noexcept nogil:
    return <unsigned char>(c - 48) < 10


cdef bint _long_digits(bytes data) noexcept:
    """A run of 19+ digits always contains a whole 8-byte window of digits starting at one of
    every 11 offsets (19 = 11 + 8): test those windows, and only around an all-digit one count
    the run byte by byte (then go on just past its end)."""
    cdef const unsigned char* p = <const unsigned char*>PyBytes_AS_STRING(data)
    cdef Py_ssize_t n = PyBytes_GET_SIZE(data), i = 0, lo, hi
    if n < 19:
        return False
    while i + 8 <= n:
        if _digits8(p + i):
            lo = i
            while lo > 0 and _is_digit(p[lo - 1]):
                lo -= 1
            hi = i + 8
            while hi < n and _is_digit(p[hi]):
                hi += 1
            if hi - lo >= 19:
                return True
            i = hi + 1  # p[hi] is not a digit: the next run starts after it
        else:
            i += 11
    return False


def long_digits(data):
    """True when ``data`` (bytes) holds a run of 19+ digits (see the twin)."""
    return type(data) is bytes and _long_digits(<bytes>data)


cdef bint _maybe_meta(bytes data) noexcept:
    """Whether ``data`` could decode to an object with a ``metadata`` key: it holds the bytes
    ``metadata`` or a backslash (an escaped key such as ``"\\u006detadata"``)."""
    cdef const char* p = PyBytes_AS_STRING(data)
    cdef Py_ssize_t n = PyBytes_GET_SIZE(data)
    cdef const char* end = p + n
    cdef const char* q
    if memchr(p, 92, n) != NULL:
        return True
    q = <const char*>memchr(p, 109, n)  # 'm'
    while q != NULL:
        if end - q < 8:
            return False
        if memcmp(q, b"metadata", 8) == 0:
            return True
        q = <const char*>memchr(q + 1, 109, end - q - 1)
    return False


def maybe_meta(data):
    """Whether bytes ``data`` may decode to an object with a ``metadata`` key (see the twin)."""
    return type(data) is not bytes or _maybe_meta(<bytes>data)


cdef inline object _decode(object value, object loads, object fallback, object exact):
    try:
        if exact is not None and type(value) is bytes and _long_digits(<bytes>value):
            return exact(value)
        return loads(value)
    except (ValueError, TypeError):
        return fallback(value)


def prepare(list records, loads, fallback, parse_timestamp, now_us, default_priority, bint order, exact=None,
            bint lazy=False):
    """Decode one fetched batch (see the twin for the contract)."""
    cdef dict offsets = {}
    cdef list values = []
    cdef list recs = []
    cdef list prios = []  # filled only once the batch turns out to mix priorities
    cdef bytearray pending = bytearray(PyList_GET_SIZE(records)) if lazy else None
    cdef char* pend = PyByteArray_AS_STRING(pending) if lazy else NULL
    cdef bint lazy_one
    cdef list errors = []
    cdef Py_ssize_t i, k, n = PyList_GET_SIZE(records)
    cdef Py_ssize_t expired = 0
    cdef bint mixed = False, have_first = False, have_part = False
    cdef PyObject* got
    cdef object rec, obj, meta, p, value, us, prio, first = None, run_part = None, run_last = None
    for i in range(n):
        rec = <object>PyList_GET_ITEM(records, i)
        if rec.error() is not None:
            errors.append(rec)
            continue
        p = rec.partition()
        if not have_part or (p is not run_part and p != run_part):  # a new run of one partition
            if have_part:
                _store(offsets, run_part, run_last)
            have_part = True
            run_part = p
        run_last = rec
        value = rec.value()
        lazy_one = lazy and type(value) is bytes and not _maybe_meta(<bytes>value)
        if lazy_one:  # no metadata possible: default priority, never expires; decoded when handled
            obj = value
        else:
            obj = _decode(value, loads, fallback, exact)
        prio = default_priority
        if not lazy_one and type(obj) is dict:
            got = PyDict_GetItem(<dict>obj, "metadata")
            if got != NULL and type(<object>got) is dict:
                meta = <object>got
                got = PyDict_GetItem(<dict>meta, "expires_at")
                if got != NULL and <object>got is not None and _is_dict(PyDict_GetItem(<dict>obj, "payload")):
                    us = parse_timestamp(<object>got)
                    if us is not None and us < now_us:
                        expired += 1
                        continue
                got = PyDict_GetItem(<dict>meta, "priority")
                if got != NULL and type(<object>got) is int:
                    prio = <object>got
        if not have_first:
            have_first = True
            first = prio
        elif not mixed and prio is not first and prio != first:
            mixed = True
            if order:
                prios = [first] * PyList_GET_SIZE(values)
        if mixed and order:
            prios.append(prio)
        if lazy_one:
            pend[PyList_GET_SIZE(values)] = 1
        values.append(obj)
        recs.append(rec)
    if have_part:
        _store(offsets, run_part, run_last)
    if mixed and order:  # stable: equal priorities keep fetch order
        idx = sorted(range(PyList_GET_SIZE(values)), key=prios.__getitem__)
        values = [values[k] for k in idx]
        recs = [recs[k] for k in idx]
        if lazy:
            pending = bytearray([pending[k] for k in idx])
    if lazy:
        del pending[PyList_GET_SIZE(values):]
        return values, recs, offsets, errors, expired, pending
    return values, recs, offsets, errors, expired


cdef inline bint _is_dict(PyObject* o) noexcept:
    return o != NULL and type(<object>o) is dict


cdef inline void _store(dict offsets, object part, object last) except *:
    """The next offset after a run's last record (runs are in offset order), kept at the maximum."""
    cdef PyObject* got = PyDict_GetItem(offsets, part)
    nxt = last.offset() + 1
    if nxt > 0 and (got == NULL or nxt > <object>got):
        offsets[part] = nxt


def run_sync(handler, list values, Py_ssize_t start, pending=None, loads=None, fallback=None, exact=None):
    """Call ``handler(v)`` for ``values[start:]`` while it returns None (see the twin)."""
    cdef Py_ssize_t i, n = PyList_GET_SIZE(values)
    cdef object v, result
    cdef bint decoded, raised
    cdef char* pend = NULL
    if pending is not None:
        if type(pending) is not bytearray or PyByteArray_GET_SIZE(pending) < n:
            raise ValueError("run_sync: pending must be the bytearray prepare(lazy=True) returned")
        pend = PyByteArray_AS_STRING(pending)
    for i in range(start, n):
        v = <object>PyList_GET_ITEM(values, i)
        decoded = pend != NULL and pend[i]
        if decoded:
            v = _decode(v, loads, fallback, exact)
        try:
            result = handler(v)
        except Exception as exc:
            result, raised = exc, True
        else:
            if result is None:
                continue
            raised = False
        if decoded:  # control goes back to the caller: it sees the decoded value
            values[i] = v
            pend[i] = 0
        return i, result, raised
    return n, None, False


cdef class Reports:
    """Delivery outcomes of one produced batch (see the twin for the contract)."""

    cdef public list errors
    cdef public Py_ssize_t count
    cdef public Py_ssize_t expected
    cdef object _make_error
    cdef object _on_complete

    def __init__(self, Py_ssize_t n, make_error, on_complete):
        self.errors = [None] * n
        self.count = 0
        self.expected = -1
        self._make_error = make_error
        self._on_complete = on_complete

    def callback(self, Py_ssize_t i):
        """The delivery callback of item ``i``: ``cb(err, msg)``."""
        return _make_report(self, i)

    def report(self, Py_ssize_t i, err, _msg=None):
        """Record item ``i``'s outcome (``err`` None: delivered)."""
        self._report(i, err)

    cdef int _report(self, Py_ssize_t i, object err) except -1:
        if err is not None:
            self.errors[i] = self._make_error(err)
        self.count += 1
        if self.count == self.expected:
            self._on_complete(self)
        return 0

    def finish(self, Py_ssize_t produced):
        """Publish how many items were produced; True when every report is already in."""
        self.expected = produced
        return self.count == produced


@cython.final
@cython.freelist(64)
cdef class _Report:
    """One message's delivery callback (cheaper than a partial: no Python frame per report)."""

    cdef Reports owner
    cdef Py_ssize_t i

    def __call__(self, err, msg):
        self.owner._report(self.i, err)


cdef inline _Report _make_report(Reports owner, Py_ssize_t i):
    cdef _Report r = _Report.__new__(_Report)
    r.owner = owner
    r.i = i
    return r


def produce_all(produce, topic, list values, keys, Reports reports, Py_ssize_t start):
    """Produce ``values[start:]`` with one delivery callback each (see the twin)."""
    cdef Py_ssize_t i, n = PyList_GET_SIZE(values)
    cdef list key_list = keys
    for i in range(start, n):
        try:
            produce(topic, <object>PyList_GET_ITEM(values, i),
                    None if key_list is None else key_list[i], -1, _make_report(reports, i))
        except Exception as exc:
            return i, exc
    return n, None


@cython.final
@cython.freelist(256)
cdef class Delivery:
    """One ``send``'s delivery callback (see the twin): appends its outcome to its loop's sink."""

    cdef list sink
    cdef object fut
    cdef object acked

    def __call__(self, err, msg):
        if err is None:
            self.sink.append((self.fut, None, self.acked))
        else:
            self.sink.append((self.fut, (err, msg.topic() if msg is not None else ""), self.acked))


def delivery(list sink, fut, acked=None):
    """The delivery callback of one message whose outcome resolves ``fut`` (see the twin)."""
    cdef Delivery d = Delivery.__new__(Delivery)
    d.sink = sink
    d.fut = fut
    d.acked = acked
    return d


def resolve(list items, make_error, failed=None):
    """Resolve every ``(future, outcome, acked)`` of ``items`` on the loop thread (see the twin)."""
    cdef Py_ssize_t i, n = PyList_GET_SIZE(items)
    cdef object item, fut, r, acked, err
    for i in range(n):
        item = <object>PyList_GET_ITEM(items, i)
        fut = (<tuple>item)[0]
        r = (<tuple>item)[1]
        acked = (<tuple>item)[2]
        if acked is None:
            if not fut.done():
                fut.set_result(None if r is None else make_error((<tuple>r)[0], (<tuple>r)[1]))
        elif r is None:
            acked.inc()
            if not fut.done():
                fut.set_result(True)
        else:
            err = make_error((<tuple>r)[0], (<tuple>r)[1])
            if failed is not None:
                failed(err)
            if not fut.done():
                fut.set_result(False)

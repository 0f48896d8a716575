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
from libc.string cimport memcpy
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
    """A run of 19+ digits always contains a whole aligned 8-byte block of digits: test blocks,
    and only around such a block count the run byte by byte."""
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
            i = (hi + 7) & ~(<Py_ssize_t>7)
        else:
            i += 8
    return False


def long_digits(data):
    """True when ``data`` (bytes) holds a run of 19+ digits (see the twin)."""
    return type(data) is bytes and _long_digits(<bytes>data)


def prepare(list records, loads, fallback, parse_timestamp, now_us, default_priority, bint order, exact=None):
    """Decode one fetched batch (see the twin for the contract)."""
    cdef dict offsets = {}
    cdef list values = []
    cdef list recs = []
    cdef list prios = []  # filled only once the batch turns out to mix priorities
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
        try:
            if exact is not None and type(value) is bytes and _long_digits(<bytes>value):
                obj = exact(value)
            else:
                obj = loads(value)
        except (ValueError, TypeError):
            obj = fallback(value)
        prio = default_priority
        if type(obj) is dict:
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
        values.append(obj)
        recs.append(rec)
    if have_part:
        _store(offsets, run_part, run_last)
    if mixed and order:  # stable: equal priorities keep fetch order
        idx = sorted(range(PyList_GET_SIZE(values)), key=prios.__getitem__)
        values = [values[k] for k in idx]
        recs = [recs[k] for k in idx]
    return values, recs, offsets, errors, expired


cdef inline bint _is_dict(PyObject* o) noexcept:
    return o != NULL and type(<object>o) is dict


cdef inline void _store(dict offsets, object part, object last) except *:
    """The next offset after a run's last record (runs are in offset order), kept at the maximum."""
    cdef PyObject* got = PyDict_GetItem(offsets, part)
    nxt = last.offset() + 1
    if nxt > 0 and (got == NULL or nxt > <object>got):
        offsets[part] = nxt


def run_sync(handler, list values, Py_ssize_t start):
    """Call ``handler(v)`` for ``values[start:]`` while it returns None (see the twin)."""
    cdef Py_ssize_t i, n = PyList_GET_SIZE(values)
    for i in range(start, n):
        try:
            result = handler(<object>PyList_GET_ITEM(values, i))
        except Exception as exc:
            return i, exc, True
        if result is not None:
            return i, result, False
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

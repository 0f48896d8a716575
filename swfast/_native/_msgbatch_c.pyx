# cython: freethreading_compatible = False
"""Compiled consumer batch kernel; the pure-Python twin is ``_msgbatch_py.py`` (the contract).

One C loop per fetched batch: the record methods are called through cached method names,
the decoder once per value, and the structured-message checks are two dict lookups.
"""
cimport cython
from cpython.dict cimport PyDict_GetItem, PyDict_SetItem
from cpython.object cimport PyObject
from cpython.list cimport PyList_GET_ITEM, PyList_GET_SIZE


def prepare(list records, loads, fallback, parse_timestamp, now_us, default_priority, bint order):
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
            obj = loads(value)
        except (ValueError, TypeError):
            obj = fallback(value)
        prio = default_priority
        if type(obj) is dict:
            got = PyDict_GetItem(<dict>obj, "metadata")
            if got != NULL and type(<object>got) is dict:
                meta = <object>got
                got = PyDict_GetItem(<dict>meta, "expires_at")
                if got != NULL and <object>got is not None:
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

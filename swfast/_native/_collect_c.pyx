# cython: freethreading_compatible = False, cdivision = False
"""Compiled hot path of ``MetricsCollector.collect_metric`` (twin: ``_collect_py.py``).

``make_collect_metric(fast, routes, clock, slow)`` returns ``collect_metric(name, value,
kind="gauge", **labels)``: a finite ``int``/``float`` for a series already seen is appended at
once (unlabelled gauges through ``fast[name]``, the ring's ``append`` of ``(timestamp, value)``;
labelled or non-gauge events through ``routes[(name, kind, *labels.items())]`` =
``(series, unit factor)``); everything else (first sight, mappings, NaN/inf, other types) goes
to ``slow``, the validating path. The wall clock is read in C (``clock_gettime``) when ``clock``
is ``time.time``, else ``clock()`` is called. Behaviour is identical to the twin's.
"""
from cpython.float cimport PyFloat_AS_DOUBLE
from libc.math cimport isfinite
from swfast._native._clock cimport wall as _wall

import time as _time


def make_collect_metric(dict fast, dict routes, clock, slow):
    """The ``collect_metric`` callable over a store's ``fast``/``routes`` tables."""
    cdef bint wall = clock is _time.time

    def collect_metric(name, value, kind="gauge", **labels):
        cdef type tp = type(value)
        cdef object append, route, ts
        if tp is float:
            if not isfinite(PyFloat_AS_DOUBLE(value)):
                return slow(name, value, kind, **labels)
        elif tp is not int:
            return slow(name, value, kind, **labels)
        if not labels and (kind is "gauge" or kind == "gauge"):
            append = fast.get(name)
            if append is not None:
                ts = _wall() if wall else clock()
                append((ts, value))
                return None
        else:
            route = routes.get((name, kind, *labels.items()))
            if route is not None:
                ts = _wall() if wall else clock()
                (<tuple>route)[0].add(ts, value * (<tuple>route)[1])
                return None
        return slow(name, value, kind, **labels)

    return collect_metric

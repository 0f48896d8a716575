# cython: freethreading_compatible = False, cdivision = False
"""Compiled first attempt of a retried call (twin: ``_attempt_py.py``).

``FirstAttempt(fn, on_failure, var, first)`` is a callable standing in for the decorated
function: it calls ``fn(*args, **kwargs)``; on success it makes sure the context variable
``var`` holds ``first`` (writing only when it does not: a write allocates a Token) and returns
the result; on any exception it returns ``on_failure(exc, args, kwargs)``, the retry core's
driver, so no retry decision is ever made here. It binds as a method as a function does and
has a ``__dict__`` (for :func:`functools.update_wrapper`).
"""
from cpython.object cimport PyObject
from cpython.ref cimport Py_XDECREF
from cpython.contextvars cimport PyContextVar_Get, PyContextVar_Set

from types import MethodType


cdef class FirstAttempt:
    """``fn`` with its first attempt in C; failures go to ``on_failure``."""

    cdef readonly object fn
    cdef object _on_failure, _var, _first
    cdef dict __dict__
    cdef object __weakref__

    def __init__(self, fn, on_failure, var, first):
        if not callable(fn) or not callable(on_failure):
            raise TypeError("fn and on_failure must be callable")
        self.fn = fn
        self._on_failure = on_failure
        self._var = var
        self._first = first

    def __call__(self, *args, **kwargs):
        cdef PyObject* current = NULL
        try:
            result = self.fn(*args, **kwargs)
        except BaseException as exc:
            return self._on_failure(exc, args, kwargs)
        PyContextVar_Get(self._var, NULL, &current)
        if current != <PyObject*>self._first:
            PyContextVar_Set(self._var, self._first)
        Py_XDECREF(current)
        return result

    def __get__(self, obj, objtype):
        if obj is None:
            return self
        return MethodType(self, obj)

    def __repr__(self):
        return f"<retried {self.fn!r}>"

# Direct construction of slotted classes, included by ``_msgvalid_c.pyx`` (twin: calling the class).
#
# A slotted dataclass's generated ``__init__`` only stores its arguments in the slots. When a
# class is exactly that (plain ``object.__new__``, no ``__post_init__``, one writable object slot
# per field, defined on the class itself) ``_Slots.make`` allocates the instance and fills the
# slots in C, skipping the Python-level ``__init__`` frame; any other class is simply called.
from dataclasses import fields, is_dataclass
from types import MemberDescriptorType
from cpython.ref cimport Py_INCREF, Py_DECREF

cdef extern from "Python.h":
    ctypedef struct _MemberDef "PyMemberDef":
        int type
        Py_ssize_t offset
        int flags
    ctypedef struct _MemberDescr "PyMemberDescrObject":
        _MemberDef* d_member
    ctypedef struct _TypeObj "PyTypeObject":
        PyObject* (*tp_alloc)(_TypeObj*, Py_ssize_t)

cdef enum:
    _T_OBJECT_EX = 16
    _READONLY = 1


cdef inline object _steal(PyObject* raw):
    obj = <object>raw
    Py_DECREF(obj)
    return obj


cdef class _Slots:
    """How to build one class from a positional argument list (its field order)."""
    cdef object cls
    cdef Py_ssize_t n
    cdef bint direct
    cdef Py_ssize_t offset[MAX_FIELDS]

    def __init__(self, cls, names):
        names = list(names)
        if len(names) > MAX_FIELDS:
            raise ValueError(f"names: at most {MAX_FIELDS} fields")
        self.cls = cls
        self.n = len(names)
        self.direct = (type(cls) is type and cls.__new__ is object.__new__
                       and getattr(cls, "__post_init__", None) is None
                       and is_dataclass(cls) and len(fields(cls)) == self.n)
        for i, name in enumerate(names):
            d = cls.__dict__.get(name) if self.direct else None
            if type(d) is not MemberDescriptorType:
                self.direct = False
                break
            member = (<_MemberDescr*><PyObject*>d).d_member
            if member.type != _T_OBJECT_EX or member.flags & _READONLY:
                self.direct = False
                break
            self.offset[i] = member.offset

    cdef object make(self, list args):
        cdef PyObject* raw
        cdef Py_ssize_t i
        if not self.direct or len(args) != self.n:
            return self.cls(*args)
        raw = (<_TypeObj*><PyObject*>self.cls).tp_alloc(<_TypeObj*><PyObject*>self.cls, 0)
        if raw == NULL:
            raise MemoryError()
        obj = _steal(raw)
        for i in range(self.n):
            v = args[i]
            Py_INCREF(v)
            (<PyObject**>((<char*>raw) + self.offset[i]))[0] = <PyObject*>v
        return obj

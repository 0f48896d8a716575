# cython: freethreading_compatible = False, cdivision = False
"""Compiled budget and leases; the pure-Python twin is ``_lease_py.py`` (same names, same behaviour).

Thread safety: every method runs under the GIL without releasing it. Not free-threading safe.
"""
from cpython.dict cimport PyDict_GetItem, PyDict_SetItem, PyDict_DelItem
from cpython.object cimport PyObject


cdef double _EPS = 1e-9


cdef inline double _held(dict d, str owner):
    cdef PyObject* v = PyDict_GetItem(d, owner)
    return 0.0 if v == NULL else <double>(<object>v)


cdef class Budget:
    cdef double _capacity
    cdef double _used
    cdef Py_ssize_t _count
    cdef dict _by_owner
    cdef object _resolver

    def __init__(self, double capacity=0.0, resolver=None):
        self._capacity = capacity
        self._resolver = resolver
        self._used = 0.0
        self._count = 0
        self._by_owner = {}

    cdef inline int _resolve(self) except -1:
        cdef object fn = self._resolver
        if fn is not None:
            self._resolver = None
            self._capacity = float(fn())
        return 0

    @property
    def resolved(self):
        return self._resolver is None

    @property
    def capacity(self):
        self._resolve()
        return self._capacity

    @property
    def used(self):
        return self._used

    @property
    def available(self):
        self._resolve()
        return self._capacity - self._used

    @property
    def count(self):
        return self._count

    def set_capacity(self, double capacity):
        self._resolver = None
        self._capacity = capacity

    def by_owner(self):
        return dict(self._by_owner)

    def held_by(self, str owner):
        return _held(self._by_owner, owner)

    def try_acquire(self, double amount, str owner):
        cdef Lease lease
        if self._resolver is not None:
            self._resolve()
        if self._used + amount > self._capacity + _EPS:
            return None
        self._used += amount
        self._count += 1
        PyDict_SetItem(self._by_owner, owner, _held(self._by_owner, owner) + amount)
        lease = Lease.__new__(Lease)
        lease._budget = self
        lease._amount = amount
        lease._owner = owner
        return lease

    cdef int _give_back(self, double amount, str owner) except -1:
        cdef double left
        self._used -= amount
        if self._used < _EPS:
            self._used = 0.0
        self._count -= 1
        left = _held(self._by_owner, owner) - amount
        if left <= _EPS:
            if PyDict_GetItem(self._by_owner, owner) != NULL:
                PyDict_DelItem(self._by_owner, owner)
        else:
            PyDict_SetItem(self._by_owner, owner, left)
        return 0


cdef class Lease:
    cdef Budget _budget
    cdef double _amount
    cdef str _owner
    cdef public object on_release

    def __init__(self, Budget budget, double amount, str owner):
        self._budget = budget
        self._amount = amount
        self._owner = owner

    @property
    def amount(self):
        return self._amount

    @property
    def owner(self):
        return self._owner

    @property
    def released(self):
        return self._budget is None

    def release(self):
        cdef Budget budget = self._budget
        if budget is None:
            return False
        self._budget = None
        budget._give_back(self._amount, self._owner)
        hook = self.on_release
        if hook is not None:
            self.on_release = None
            hook()
        return True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()

    def __del__(self):
        if self._budget is not None:
            try:
                self.release()
            except Exception:
                pass

    def __repr__(self):
        state = "released" if self._budget is None else "held"
        return f"Lease(amount={self._amount:g}, owner={self._owner!r}, {state})"


cdef str _NORMAL = "normal"
cdef double _INF = float("inf")


cdef class CpuFastPath:
    """``allocate_cpu`` for the common call (a positive finite number of CPUs, a str owner, normal
    priority, no affinity): one C call. Anything else, or a lease that does not fit, goes to
    ``slow`` with the same arguments (which validates and raises the typed errors)."""
    cdef Budget _budget
    cdef object _slow

    def __init__(self, Budget budget, slow):
        self._budget = budget
        self._slow = slow

    def __call__(self, cpus=None, *, fraction=None, owner="default", priority="normal", affinity=False):
        cdef double amount
        cdef type tc = type(cpus)
        if (fraction is None and (priority is _NORMAL or priority == _NORMAL) and affinity is False
                and (tc is float or tc is int) and type(owner) is str and owner):
            amount = cpus
            if 0 < amount < _INF:
                lease = self._budget.try_acquire(amount, owner)
                if lease is not None:
                    return lease
        return self._slow(cpus, fraction=fraction, owner=owner, priority=priority, affinity=affinity)

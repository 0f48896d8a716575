# cython: language_level=3, freethreading_compatible = False
"""Compiled budget and leases; the pure-Python twin is ``_lease_py.py`` (same names, same behaviour).

Thread safety: every method runs under the GIL without releasing it. Not free-threading safe.
"""
cdef double _EPS = 1e-9


cdef class Budget:
    cdef double _capacity
    cdef double _used
    cdef Py_ssize_t _count
    cdef dict _by_owner

    def __init__(self, double capacity):
        self._capacity = capacity
        self._used = 0.0
        self._count = 0
        self._by_owner = {}

    @property
    def capacity(self):
        return self._capacity

    @property
    def used(self):
        return self._used

    @property
    def available(self):
        return self._capacity - self._used

    @property
    def count(self):
        return self._count

    def set_capacity(self, double capacity):
        self._capacity = capacity

    def by_owner(self):
        return dict(self._by_owner)

    def held_by(self, str owner):
        return self._by_owner.get(owner, 0.0)

    def try_acquire(self, double amount, str owner):
        cdef Lease lease
        if self._used + amount > self._capacity + _EPS:
            return None
        self._used += amount
        self._count += 1
        self._by_owner[owner] = <double>self._by_owner.get(owner, 0.0) + amount
        lease = Lease.__new__(Lease)
        lease._budget = self
        lease._amount = amount
        lease._owner = owner
        return lease

    cdef void _give_back(self, double amount, str owner):
        cdef double left
        self._used -= amount
        if self._used < _EPS:
            self._used = 0.0
        self._count -= 1
        left = <double>self._by_owner.get(owner, 0.0) - amount
        if left <= _EPS:
            self._by_owner.pop(owner, None)
        else:
            self._by_owner[owner] = left


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

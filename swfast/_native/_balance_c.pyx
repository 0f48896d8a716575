# cython: freethreading_compatible = False, cdivision = True
"""Compiled power-of-two-choices picker; the pure-Python twin is ``_balance_py.py`` (same picks
for the same seed). Thread safety: runs under the GIL. Not free-threading safe."""
from libc.stdint cimport uint64_t
from libc.stdlib cimport realloc, free
from swfast._native._clock cimport mono as _mono


cdef class P2C:
    cdef uint64_t _state
    cdef public double slow_start_s
    cdef public double min_ramp
    cdef list _targets
    cdef double* _weight
    cdef long* _active
    cdef char* _healthy
    cdef double* _added
    cdef Py_ssize_t* _live
    cdef Py_ssize_t _n
    cdef Py_ssize_t _cap
    cdef Py_ssize_t _m
    cdef double _fixed_now
    cdef double _warm_until

    def __cinit__(self, uint64_t seed=0x9E3779B97F4A7C15, double slow_start_s=0.0, double min_ramp=0.1):
        self._state = seed if seed else 1
        self.slow_start_s = slow_start_s
        self.min_ramp = min_ramp
        self._targets = []
        self._fixed_now = -1.0
        self._warm_until = -1.0

    def __dealloc__(self):
        free(self._weight)
        free(self._active)
        free(self._healthy)
        free(self._added)
        free(self._live)

    cdef inline double _now(self) noexcept:
        if self._fixed_now >= 0:
            return self._fixed_now
        return _mono()

    def set_time(self, now):
        self._fixed_now = -1.0 if now is None else float(now)

    cdef inline uint64_t _rand(self) noexcept:
        cdef uint64_t x = self._state
        x ^= x >> 12
        x ^= x << 25
        x ^= x >> 27
        self._state = x
        return x * <uint64_t>0x2545F4914F6CDD1D

    cdef void _rebuild(self) noexcept:
        cdef Py_ssize_t i, m = 0
        for i in range(self._n):
            if self._healthy[i]:
                self._live[m] = i
                m += 1
        self._m = m

    cdef void _grow(self) except *:
        cdef Py_ssize_t cap = self._cap * 2 if self._cap else 8
        cdef void* p
        p = realloc(self._weight, cap * sizeof(double))
        if p == NULL:
            raise MemoryError()
        self._weight = <double*>p
        p = realloc(self._active, cap * sizeof(long))
        if p == NULL:
            raise MemoryError()
        self._active = <long*>p
        p = realloc(self._healthy, cap * sizeof(char))
        if p == NULL:
            raise MemoryError()
        self._healthy = <char*>p
        p = realloc(self._added, cap * sizeof(double))
        if p == NULL:
            raise MemoryError()
        self._added = <double*>p
        p = realloc(self._live, cap * sizeof(Py_ssize_t))
        if p == NULL:
            raise MemoryError()
        self._live = <Py_ssize_t*>p
        self._cap = cap

    cdef inline Py_ssize_t _check(self, Py_ssize_t index) except -1:
        if index < 0 or index >= self._n:
            raise IndexError(f"index: must be in [0, {self._n}), got {index}")
        return index

    def add(self, target, double weight=1.0):
        if not weight > 0:
            raise ValueError(f"weight: must be > 0, got {weight!r}")
        if self._n == self._cap:
            self._grow()
        cdef double now = self._now()
        cdef Py_ssize_t i = self._n
        self._targets.append(target)
        self._weight[i] = weight
        self._active[i] = 0
        self._healthy[i] = 1
        self._added[i] = now
        self._n += 1
        if self.slow_start_s > 0:
            self._warm_until = max(self._warm_until, now + self.slow_start_s)
        self._rebuild()
        return i

    def __len__(self):
        return self._n

    def target(self, Py_ssize_t index):
        return self._targets[self._check(index)]

    def set_healthy(self, Py_ssize_t index, bint healthy):
        self._healthy[self._check(index)] = healthy
        self._rebuild()

    def is_healthy(self, Py_ssize_t index):
        return bool(self._healthy[self._check(index)])

    def set_weight(self, Py_ssize_t index, double weight):
        if not weight > 0:
            raise ValueError(f"weight: must be > 0, got {weight!r}")
        self._weight[self._check(index)] = weight

    def weight(self, Py_ssize_t index):
        return self._weight[self._check(index)]

    def active(self, Py_ssize_t index):
        return self._active[self._check(index)]

    def acquire(self, Py_ssize_t index):
        self._active[self._check(index)] += 1

    def release(self, Py_ssize_t index):
        self._check(index)
        if self._active[index] > 0:
            self._active[index] -= 1

    def healthy_count(self):
        return self._m

    cdef inline double _score(self, Py_ssize_t i, double now) noexcept:
        cdef double w = self._weight[i], ramp
        if now < self._warm_until:
            ramp = (now - self._added[i]) / self.slow_start_s
            if ramp < 1.0:
                w *= ramp if ramp > self.min_ramp else self.min_ramp
        return (self._active[i] + 1) / w

    cdef inline Py_ssize_t _pick(self) noexcept:
        cdef Py_ssize_t m = self._m, ia, ib, a, b
        cdef uint64_t r
        cdef double now = 0.0
        if m == 0:
            return -1
        if m == 1:
            return self._live[0]
        r = self._rand()
        ia = <Py_ssize_t>(r % <uint64_t>m)
        ib = <Py_ssize_t>((<uint64_t>ia + 1 + (r >> 32) % <uint64_t>(m - 1)) % <uint64_t>m)
        a = self._live[ia]
        b = self._live[ib]
        if self._warm_until >= 0:
            now = self._now()
        return b if self._score(b, now) < self._score(a, now) else a

    def pick_index(self):
        return self._pick()

    def pick(self):
        cdef Py_ssize_t i = self._pick()
        if i < 0:
            return None
        return self._targets[i]

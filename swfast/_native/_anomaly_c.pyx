# cython: freethreading_compatible = False, cdivision = True
"""Compiled streaming anomaly scores; the pure-Python twin is ``_anomaly_py.py`` (same results).

The median/MAD window is kept sorted (binary search + memmove per point) and the MAD is the
k-th smallest of two sorted deviation runs (left and right of the median), so each point costs
O(window) moves with no sort. Thread safety: runs under the GIL. Not free-threading safe.
"""
from libc.math cimport sqrt, isnan, INFINITY, NAN, copysign
from libc.stdlib cimport malloc, calloc, free
from libc.string cimport memmove

import numpy as np

MAD_SCALE = 1.4826
cdef double _MAD_SCALE = 1.4826


cdef inline double _z(double diff, double sd) nogil:
    if sd > 0.0:
        return diff / sd
    if diff == 0.0:
        return 0.0
    return copysign(INFINITY, diff)


cdef class AnomalyScorer:
    cdef public double alpha
    cdef public Py_ssize_t window
    cdef public Py_ssize_t warmup
    cdef public Py_ssize_t seasons
    cdef double* _mean
    cdef double* _var
    cdef Py_ssize_t* _n
    cdef double* _ring
    cdef double* _sorted
    cdef Py_ssize_t _pos
    cdef Py_ssize_t _filled
    cdef Py_ssize_t _count

    def __cinit__(self, double alpha=0.1, Py_ssize_t window=64, Py_ssize_t warmup=16, Py_ssize_t seasons=1):
        if not (0.0 < alpha <= 1.0):
            raise ValueError(f"alpha: must be in (0, 1], got {alpha!r}")
        if window < 3:
            raise ValueError(f"window: must be >= 3, got {window!r}")
        if warmup < 1:
            raise ValueError(f"warmup: must be >= 1, got {warmup!r}")
        if seasons < 1:
            raise ValueError(f"seasons: must be >= 1, got {seasons!r}")
        self.alpha = alpha
        self.window = window
        self.warmup = warmup
        self.seasons = seasons
        self._mean = <double*>calloc(seasons, sizeof(double))
        self._var = <double*>calloc(seasons, sizeof(double))
        self._n = <Py_ssize_t*>calloc(seasons, sizeof(Py_ssize_t))
        self._ring = <double*>calloc(window, sizeof(double))
        self._sorted = <double*>calloc(window, sizeof(double))
        if not (self._mean and self._var and self._n and self._ring and self._sorted):
            raise MemoryError()

    def __dealloc__(self):
        free(self._mean)
        free(self._var)
        free(self._n)
        free(self._ring)
        free(self._sorted)

    def reset(self):
        cdef Py_ssize_t i
        for i in range(self.seasons):
            self._mean[i] = 0.0
            self._var[i] = 0.0
            self._n[i] = 0
        self._pos = 0
        self._filled = 0
        self._count = 0

    @property
    def count(self):
        return self._count

    cdef inline Py_ssize_t _season(self, Py_ssize_t season) except -1:
        if season < 0 or season >= self.seasons:
            raise IndexError(f"season: must be in [0, {self.seasons}), got {season!r}")
        return season

    def mean(self, Py_ssize_t season=0):
        return self._mean[self._season(season)]

    def std(self, Py_ssize_t season=0):
        return sqrt(self._var[self._season(season)])

    cdef inline double _median(self) noexcept nogil:
        cdef Py_ssize_t n = self._filled, h = self._filled // 2
        if n == 0:
            return 0.0
        if n % 2:
            return self._sorted[h]
        return (self._sorted[h - 1] + self._sorted[h]) / 2.0

    cdef double _mad(self, double m) noexcept nogil:
        # Median of |s[i] - m| without sorting: the deviations left of the median (m - s[i], i
        # descending) and right of it (s[j] - m) are two sorted runs A and B; a binary search on
        # how many of the t smallest come from A finds the k-th smallest in O(log n).
        cdef double* s = self._sorted
        cdef Py_ssize_t n = self._filled, h = n // 2, lo = 0, hi = n, mid, na, nb, t, ca, cb
        cdef double kth, nxt, a, b
        if n == 0:
            return 0.0
        while lo < hi:
            mid = (lo + hi) // 2
            if s[mid] < m:
                lo = mid + 1
            else:
                hi = mid
        na = lo
        nb = n - lo
        t = h + 1 if n % 2 else h  # take the t smallest: the t-th is dev[t - 1]
        lo = t - nb if t > nb else 0
        hi = t if t < na else na
        while lo < hi:
            ca = (lo + hi) // 2
            cb = t - ca
            if cb > 0 and (m - s[na - 1 - ca]) < (s[na + cb - 1] - m):
                lo = ca + 1
            else:
                hi = ca
        ca = lo
        cb = t - ca
        kth = -INFINITY
        if ca > 0:
            kth = m - s[na - ca]
        if cb > 0:
            b = s[na + cb - 1] - m
            if b > kth:
                kth = b
        if n % 2:
            return kth
        nxt = INFINITY
        if ca < na:
            nxt = m - s[na - 1 - ca]
        if cb < nb:
            a = s[na + cb] - m
            if a < nxt:
                nxt = a
        return (kth + nxt) / 2.0

    def median(self):
        return self._median()

    def mad(self):
        return self._mad(self._median())

    cdef inline void _step(self, double x, Py_ssize_t b, double* z1, double* z2) noexcept nogil:
        cdef double mean, var, diff, incr, old, m
        cdef Py_ssize_t n, lo, hi, mid, r, w = self.window
        cdef double* s = self._sorted
        if isnan(x):
            z1[0] = NAN
            z2[0] = NAN
            return
        mean = self._mean[b]
        var = self._var[b]
        n = self._n[b]
        diff = x - mean
        z1[0] = _z(diff, sqrt(var)) if n >= self.warmup else 0.0
        if n == 0:
            self._mean[b] = x
        else:
            incr = self.alpha * diff
            self._mean[b] = mean + incr
            self._var[b] = (1.0 - self.alpha) * (var + diff * incr)
        self._n[b] = n + 1
        z2[0] = 0.0
        if self._filled >= self.warmup:
            m = self._median()
            z2[0] = _z(x - m, _MAD_SCALE * self._mad(m))
        if self._filled == w:
            # replace the oldest value: one memmove over the span between its slot and x's
            old = self._ring[self._pos]
            lo = 0
            hi = w
            while lo < hi:
                mid = (lo + hi) // 2
                if s[mid] < old:
                    lo = mid + 1
                else:
                    hi = mid
            r = lo
            lo = 0
            hi = w
            while lo < hi:  # first index with s[i] > x
                mid = (lo + hi) // 2
                if s[mid] <= x:
                    lo = mid + 1
                else:
                    hi = mid
            if lo <= r:
                memmove(s + lo + 1, s + lo, (r - lo) * sizeof(double))
                s[lo] = x
            else:
                memmove(s + r, s + r + 1, (lo - 1 - r) * sizeof(double))
                s[lo - 1] = x
        else:
            lo = 0
            hi = self._filled
            while lo < hi:
                mid = (lo + hi) // 2
                if s[mid] <= x:
                    lo = mid + 1
                else:
                    hi = mid
            memmove(s + lo + 1, s + lo, (self._filled - lo) * sizeof(double))
            s[lo] = x
            self._filled += 1
        self._ring[self._pos] = x
        self._pos += 1
        if self._pos == w:
            self._pos = 0
        self._count += 1

    def update(self, double x, Py_ssize_t season=0):
        cdef double z1, z2
        cdef Py_ssize_t b = self._season(season)
        self._step(x, b, &z1, &z2)
        return (z1, z2)

    def score(self, values, seasons=None):
        cdef const double[::1] v = np.ascontiguousarray(values, dtype=np.float64).ravel()
        cdef Py_ssize_t n = v.shape[0], i, b
        out1 = np.empty(n)
        out2 = np.empty(n)
        cdef double[::1] o1 = out1
        cdef double[::1] o2 = out2
        cdef const long long[::1] bk
        if seasons is None:
            with nogil:
                for i in range(n):
                    self._step(v[i], 0, &o1[i], &o2[i])
        else:
            bk = np.ascontiguousarray(seasons, dtype=np.int64).ravel()
            if bk.shape[0] != n:
                raise ValueError(f"seasons: length {bk.shape[0]} differs from values' {n}")
            for i in range(n):
                b = self._season(<Py_ssize_t>bk[i])
                self._step(v[i], b, &o1[i], &o2[i])
        return out1, out2

# cython: freethreading_compatible = False, cdivision = False
"""Compiled DDSketch-style mergeable quantile sketch (twin: ``_qsketch_py.py``).

A value ``x > 0`` goes to bucket ``k = ceil(log(x) / log(gamma))``, ``gamma = (1 + a) / (1 - a)``;
a quantile is answered with ``2 * gamma**k / (gamma + 1)``, within relative error ``a`` of the
true value at any quantile. Negative values use a mirrored store; ``|x| < min_value`` is zero.
Each store is a dense array of at most ``bin_limit`` buckets that grows on demand; past the limit
the lowest buckets are folded into the lowest kept one ("collapsing lowest", as DDSketch).

Serialisation (``to_bytes``) is byte-identical with the twin's, so sketches merge across
processes and implementations. Thread safety: calls hold the GIL and do not release it; one
sketch is not safe for concurrent writers without a lock (keep one per thread and merge).
"""
from libc.math cimport log, ceil, pow, isfinite, INFINITY, NAN
from libc.stdlib cimport realloc, free
from libc.string cimport memmove, memset, memcpy

import struct as _struct

_HEADER = _struct.Struct("<4sdidddddiiii")
_MAGIC = b"QSK1"


cdef struct DStore:
    double* c
    int lo
    int n
    int cap


cdef int _reserve(DStore* s, int need, int limit) except -1:
    cdef int cap
    cdef double* p
    if need <= s.cap:
        return 0
    cap = s.cap * 2
    if cap < 32:
        cap = 32
    if cap < need:
        cap = need
    if cap > limit:
        cap = limit
    p = <double*>realloc(s.c, cap * sizeof(double))
    if p == NULL:
        raise MemoryError()
    s.c = p
    s.cap = cap
    return 0


cdef int _store_add(DStore* s, int key, double w, int limit) except -1:
    cdef int hi, floor, shift, cut, i, newn
    cdef double folded
    if s.n == 0:
        _reserve(s, 1, limit)
        s.lo = key
        s.n = 1
        s.c[0] = w
        return 0
    hi = s.lo + s.n - 1
    if key < s.lo:
        floor = hi - limit + 1
        if key < floor:
            key = floor
        if key < s.lo:
            shift = s.lo - key
            newn = s.n + shift
            _reserve(s, newn, limit)
            memmove(s.c + shift, s.c, s.n * sizeof(double))
            memset(s.c, 0, shift * sizeof(double))
            s.lo = key
            s.n = newn
    elif key > hi:
        floor = key - limit + 1
        if floor > s.lo:
            folded = 0.0
            if floor > hi:
                for i in range(s.n):
                    folded += s.c[i]
                s.n = 1
                s.c[0] = 0.0
            else:
                cut = floor - s.lo
                for i in range(cut):
                    folded += s.c[i]
                memmove(s.c, s.c + cut, (s.n - cut) * sizeof(double))
                s.n -= cut
            s.lo = floor
            s.c[0] += folded
        newn = key - s.lo + 1
        _reserve(s, newn, limit)
        memset(s.c + s.n, 0, (newn - s.n) * sizeof(double))
        s.n = newn
    s.c[key - s.lo] += w
    return 0


cdef inline void _trim(DStore* s, int* lo, int* n):
    cdef int a = 0, b = s.n - 1
    while a <= b and s.c[a] == 0.0:
        a += 1
    while b >= a and s.c[b] == 0.0:
        b -= 1
    if a > b:
        lo[0] = 0
        n[0] = 0
    else:
        lo[0] = s.lo + a
        n[0] = b - a + 1


cdef class QuantileSketch:
    """Mergeable log-bucket quantile sketch with relative-error guarantees.

    Args:
        relative_accuracy: ``a`` in (0, 1); every quantile is within ``a`` of the true value
            (relative), 0.01 by default.
        bin_limit: most buckets kept per sign (>= 16).
        min_value: magnitudes below it count as zero (default 1e-9).
    """

    cdef DStore _pos
    cdef DStore _neg
    cdef double _alpha, _gamma, _inv_lg, _min_value, _zero, _count, _sum, _min, _max
    cdef int _limit

    def __cinit__(self, *args, **kwargs):
        self._pos.c = NULL
        self._pos.n = self._pos.cap = self._pos.lo = 0
        self._neg.c = NULL
        self._neg.n = self._neg.cap = self._neg.lo = 0

    def __init__(self, double relative_accuracy=0.01, int bin_limit=2048, double min_value=1e-9):
        if not (0.0 < relative_accuracy < 1.0):
            raise ValueError(f"relative_accuracy: must be in (0, 1), got {relative_accuracy!r}")
        if bin_limit < 16:
            raise ValueError(f"bin_limit: must be >= 16, got {bin_limit!r}")
        if not min_value > 0.0:
            raise ValueError(f"min_value: must be > 0, got {min_value!r}")
        self._alpha = relative_accuracy
        self._gamma = (1.0 + relative_accuracy) / (1.0 - relative_accuracy)
        if not self._gamma > 1.0:
            raise ValueError(f"relative_accuracy: {relative_accuracy!r} is too small, "
                             "(1 + a) / (1 - a) rounds to 1; use at least 1e-15")
        self._inv_lg = 1.0 / log(self._gamma)
        self._limit = bin_limit
        self._min_value = min_value
        self._pos.n = 0
        self._neg.n = 0
        self._zero = self._count = self._sum = 0.0
        self._min = INFINITY
        self._max = -INFINITY

    def __dealloc__(self):
        free(self._pos.c)
        free(self._neg.c)

    @property
    def relative_accuracy(self):
        return self._alpha

    @property
    def bin_limit(self):
        return self._limit

    @property
    def count(self):
        return self._count

    @property
    def sum(self):
        return self._sum

    @property
    def min(self):
        return self._min if self._count else NAN

    @property
    def max(self):
        return self._max if self._count else NAN

    @property
    def mean(self):
        return self._sum / self._count if self._count else NAN

    cdef inline int _add(self, double x, double w) except -1:
        cdef int key, idx
        if x > self._min_value:
            key = <int>ceil(log(x) * self._inv_lg)
            idx = key - self._pos.lo
            if 0 <= idx < self._pos.n:  # the common case: a bucket inside the current span
                self._pos.c[idx] += w
            else:
                _store_add(&self._pos, key, w, self._limit)
        elif x < -self._min_value:
            _store_add(&self._neg, <int>ceil(log(-x) * self._inv_lg), w, self._limit)
        else:
            self._zero += w
        self._count += w
        self._sum += x * w
        if x < self._min:
            self._min = x
        if x > self._max:
            self._max = x
        return 0

    def add(self, double value, double weight=1.0):
        """Add ``value`` (finite) with ``weight`` (> 0)."""
        if weight == 1.0 and isfinite(value):
            self._add(value, 1.0)
            return
        if not isfinite(value):
            raise ValueError(f"value: must be finite, got {value!r}")
        if not (weight > 0.0 and isfinite(weight)):
            raise ValueError(f"weight: must be finite and > 0, got {weight!r}")
        self._add(value, weight)

    def add_many(self, values):
        """Add every value of an iterable (or a float64 buffer such as a numpy array)."""
        cdef const double[::1] mv
        cdef Py_ssize_t i
        cdef double x
        try:
            mv = values
        except (TypeError, ValueError):
            for i, v in enumerate(values):
                x = v
                if not isfinite(x):
                    raise ValueError(f"values: item {i} is not finite ({x!r}); items before it were added")
                self._add(x, 1.0)
            return
        for i in range(mv.shape[0]):
            if not isfinite(mv[i]):
                raise ValueError(f"values: item {i} is not finite ({mv[i]!r}); items before it were added")
            self._add(mv[i], 1.0)

    cdef inline double _value(self, int key):
        return 2.0 * pow(self._gamma, key) / (self._gamma + 1.0)

    cdef double _quantile(self, double q):
        cdef double rank, acc = 0.0, out
        cdef int i, last = 0
        cdef bint found = False
        if not self._count:
            return NAN
        if q == 0.0:
            return self._min
        if q == 1.0:
            return self._max
        rank = q * (self._count - 1.0)
        i = self._neg.n - 1
        while i >= 0:
            acc += self._neg.c[i]
            if acc > rank:
                out = -self._value(self._neg.lo + i)
                found = True
                break
            i -= 1
        if not found:
            acc += self._zero
            if acc > rank:
                out = 0.0
                found = True
        if not found:
            out = 0.0
            for i in range(self._pos.n):
                if self._pos.c[i] != 0.0:
                    last = i
                    acc += self._pos.c[i]
                    if acc > rank:
                        out = self._value(self._pos.lo + i)
                        found = True
                        break
            if not found and self._pos.n:
                out = self._value(self._pos.lo + last)
        if out < self._min:
            out = self._min
        if out > self._max:
            out = self._max
        return out

    def quantile(self, double q):
        """The ``q``-quantile (0 <= q <= 1); NaN when empty."""
        if not (0.0 <= q <= 1.0):
            raise ValueError(f"q: must be in [0, 1], got {q!r}")
        return self._quantile(q)

    def quantiles(self, qs):
        """``[quantile(q) for q in qs]``."""
        return [self.quantile(q) for q in qs]

    def merge(self, QuantileSketch other):
        """Add every value of ``other`` (same parameters) into this sketch."""
        cdef int i
        if other is None:
            raise TypeError("other: expected QuantileSketch, got NoneType")
        if other._alpha != self._alpha or other._limit != self._limit or other._min_value != self._min_value:
            raise ValueError("other: sketches differ in relative_accuracy, bin_limit or min_value")
        if not other._count:
            return
        for i in range(other._pos.n):
            if other._pos.c[i] != 0.0:
                _store_add(&self._pos, other._pos.lo + i, other._pos.c[i], self._limit)
        for i in range(other._neg.n):
            if other._neg.c[i] != 0.0:
                _store_add(&self._neg, other._neg.lo + i, other._neg.c[i], self._limit)
        self._zero += other._zero
        self._count += other._count
        self._sum += other._sum
        if other._min < self._min:
            self._min = other._min
        if other._max > self._max:
            self._max = other._max

    def copy(self):
        """An independent copy."""
        cdef QuantileSketch out = QuantileSketch(self._alpha, self._limit, self._min_value)
        out.merge(self)
        return out

    def clear(self):
        """Forget every value."""
        self._pos.n = 0
        self._neg.n = 0
        self._zero = self._count = self._sum = 0.0
        self._min = INFINITY
        self._max = -INFINITY

    def bins(self):
        """Number of non-empty buckets (both signs, plus zero)."""
        cdef int i, n = 1 if self._zero else 0
        for i in range(self._pos.n):
            if self._pos.c[i] != 0.0:
                n += 1
        for i in range(self._neg.n):
            if self._neg.c[i] != 0.0:
                n += 1
        return n

    def to_bytes(self):
        """Serialise (little-endian) for merging in another process; ``from_bytes`` reads it."""
        cdef int plo, plen, nlo, nlen
        _trim(&self._pos, &plo, &plen)
        _trim(&self._neg, &nlo, &nlen)
        head = _HEADER.pack(_MAGIC, self._alpha, self._limit, self._min_value, self._zero, self._count,
                            self._min, self._max, plo, plen, nlo, nlen)
        cdef bytearray body = bytearray(8 * (plen + nlen + 1))
        cdef char* p = body
        if plen:
            memcpy(p, self._pos.c + (plo - self._pos.lo), plen * sizeof(double))
        if nlen:
            memcpy(p + 8 * plen, self._neg.c + (nlo - self._neg.lo), nlen * sizeof(double))
        memcpy(p + 8 * (plen + nlen), &self._sum, sizeof(double))
        return head + bytes(body)

    @classmethod
    def from_bytes(cls, data):
        """Rebuild a sketch written by ``to_bytes`` (either implementation)."""
        cdef int i
        data = bytes(data)
        if len(data) < _HEADER.size + 8 or data[:4] != _MAGIC:
            raise ValueError("data: not a serialised QuantileSketch")
        (_, alpha, limit, min_value, zero, count, vmin, vmax, plo, plen, nlo, nlen) = _HEADER.unpack_from(data)
        if plen < 0 or nlen < 0 or len(data) != _HEADER.size + 8 * (plen + nlen + 1):
            raise ValueError("data: truncated or corrupt QuantileSketch")
        cdef QuantileSketch out = cls(alpha, limit, min_value)
        dense = _struct.unpack_from(f"<{plen + nlen}d", data, _HEADER.size)
        for i in range(plen):
            if dense[i]:
                _store_add(&out._pos, plo + i, dense[i], out._limit)
        for i in range(nlen):
            if dense[plen + i]:
                _store_add(&out._neg, nlo + i, dense[plen + i], out._limit)
        out._zero = zero
        out._count = count
        out._min = vmin
        out._max = vmax
        (out._sum,) = _struct.unpack_from("<d", data, _HEADER.size + 8 * (plen + nlen))
        return out

    def __reduce__(self):
        return (type(self).from_bytes, (self.to_bytes(),))

    def __len__(self):
        return int(self._count)

    def __repr__(self):
        return f"QuantileSketch(relative_accuracy={self._alpha}, count={self._count:g})"

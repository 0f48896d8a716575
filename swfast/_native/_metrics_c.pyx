# cython: freethreading_compatible = False, cdivision = False
"""Compiled metrics kernel; the pure-Python twin is ``_metrics_py.py``.

Every update is one C operation under the GIL (no Python call in between), so it is atomic
on CPython with the GIL. Not declared free-threading compatible.
"""
from libc.math cimport isnan, isinf
from libc.stdlib cimport malloc, free

_LABELLED = "metric has label names {names}: call .labels(...) first"


def check_bounds(bounds):
    """Validate histogram upper bounds: finite, strictly increasing, at least one."""
    out = tuple(float(b) for b in bounds)
    if not out:
        raise ValueError("buckets: need at least one finite upper bound")
    for i, b in enumerate(out):
        if isnan(b) or isinf(b):
            raise ValueError(f"buckets: bound {b!r} must be finite (+Inf is implicit)")
        if i and b <= out[i - 1]:
            raise ValueError(f"buckets: bounds must be strictly increasing, got {out}")
    return out


cdef class _Cell:
    cdef tuple _labelnames
    cdef dict _children
    cdef bint _labelled
    cdef object __weakref__

    def __init__(self, labelnames=()):
        names = tuple(labelnames)
        for n in names:
            if not isinstance(n, str):
                raise TypeError(f"labelnames: label names must be str, got {type(n).__name__}")
        self._labelnames = names
        self._labelled = len(names) > 0
        self._children = {}

    cdef object _new_child(self):
        raise TypeError("abstract cell")

    @property
    def labelnames(self):
        return self._labelnames

    def labels(self, *values, **kwvalues):
        """Return the child cell for these label values (positional or by name)."""
        cdef object child
        if kwvalues:
            if values:
                raise ValueError("labels: pass label values positionally or by name, not both")
            try:
                values = tuple([kwvalues[n] for n in self._labelnames])
            except KeyError as exc:
                raise ValueError(
                    f"labels: missing label {exc.args[0]!r}; expected {self._labelnames}"
                ) from None
            if len(kwvalues) != len(self._labelnames):
                extra = sorted(set(kwvalues) - set(self._labelnames))
                raise ValueError(f"labels: unknown label names {extra}; expected {self._labelnames}")
        child = self._children.get(values)
        if child is not None:
            return child
        if not self._labelled:
            raise ValueError("labels: this metric has no label names")
        if len(values) != len(self._labelnames):
            raise ValueError(
                f"labels: expected {len(self._labelnames)} values for {self._labelnames}, got {len(values)}"
            )
        key = tuple([v if type(v) is str else str(v) for v in values])
        child = self._children.get(key)
        if child is None:
            child = self._new_child()
            child = self._children.setdefault(key, child)
        if key != values:
            self._children[values] = child
        return child

    def children(self):
        """Snapshot of ``(label values, child)`` pairs, one per distinct child."""
        seen = set()
        out = []
        for key, child in list(self._children.items()):
            if id(child) in seen or not all(type(v) is str for v in key):
                continue
            seen.add(id(child))
            out.append((key, child))
        return out

    def remove(self, *values):
        """Forget the child for these label values."""
        key = tuple(str(v) for v in values)
        child = self._children.pop(key, None)
        for k in [k for k, c in self._children.items() if c is child]:
            del self._children[k]

    def clear(self):
        """Forget every child."""
        self._children.clear()

    cdef int _refuse(self) except -1:
        raise ValueError(_LABELLED.format(names=self._labelnames))


cdef class CounterCell(_Cell):
    """A monotonically increasing float."""
    cdef double _value

    cdef object _new_child(self):
        return CounterCell()

    def inc(self, double amount=1.0):
        """Add ``amount`` (must be >= 0)."""
        if self._labelled:
            self._refuse()
        if not amount >= 0.0:
            raise ValueError(f"amount: counters only go up; got {amount!r}")
        self._value += amount

    def get(self):
        return self._value

    def reset(self):
        self._value = 0.0


cdef class GaugeCell(_Cell):
    """A float that goes up and down."""
    cdef double _value

    cdef object _new_child(self):
        return GaugeCell()

    def inc(self, double amount=1.0):
        if self._labelled:
            self._refuse()
        self._value += amount

    def dec(self, double amount=1.0):
        if self._labelled:
            self._refuse()
        self._value -= amount

    def set(self, double value):
        if self._labelled:
            self._refuse()
        self._value = value

    def get(self):
        return self._value

    def reset(self):
        self._value = 0.0


cdef class HistogramCell(_Cell):
    """Fixed-bucket histogram: per-bucket counts (the last bucket is +Inf), sum and count."""
    cdef double *_b
    cdef long long *_c
    cdef Py_ssize_t _n
    cdef double _sum
    cdef tuple _bounds

    def __cinit__(self, *args, **kwargs):
        self._b = NULL
        self._c = NULL

    def __init__(self, bounds, labelnames=()):
        _Cell.__init__(self, labelnames)
        cdef tuple b = check_bounds(bounds)
        cdef Py_ssize_t i
        self._bounds = b
        self._n = len(b)
        self._b = <double *> malloc(self._n * sizeof(double))
        self._c = <long long *> malloc((self._n + 1) * sizeof(long long))
        if self._b == NULL or self._c == NULL:
            raise MemoryError()
        for i in range(self._n):
            self._b[i] = b[i]
        for i in range(self._n + 1):
            self._c[i] = 0
        self._sum = 0.0

    def __dealloc__(self):
        free(self._b)
        free(self._c)

    cdef object _new_child(self):
        return HistogramCell(self._bounds)

    @property
    def bounds(self):
        return self._bounds

    def observe(self, double value):
        """Record one observation (``le`` semantics: value == bound falls in that bucket)."""
        cdef Py_ssize_t lo = 0, hi = self._n, mid
        if self._labelled:
            self._refuse()
        if isnan(value):
            raise ValueError("value: NaN cannot be observed")
        while lo < hi:
            mid = (lo + hi) >> 1
            if self._b[mid] < value:
                lo = mid + 1
            else:
                hi = mid
        self._c[lo] += 1
        self._sum += value

    def get(self):
        """Return ``(per-bucket counts, sum, count)``; counts are not cumulative."""
        cdef Py_ssize_t i
        cdef long long total = 0
        counts = []
        for i in range(self._n + 1):
            counts.append(self._c[i])
            total += self._c[i]
        return counts, self._sum, total

    def reset(self):
        cdef Py_ssize_t i
        for i in range(self._n + 1):
            self._c[i] = 0
        self._sum = 0.0

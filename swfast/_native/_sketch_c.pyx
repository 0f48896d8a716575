# cython: freethreading_compatible = False, cdivision = True
"""Compiled frequency sketch and the W-TinyLFU cache built on it.

The pure-Python twin is ``_sketch_py.py``. The sketch is count-min with 8-bit saturating counters
and periodic halving. Used by the usage tracker (hot keys, demand
forecasts) and by the W-TinyLFU admission policy. Counters saturate at 15 (as TinyLFU's 4-bit
ones do); after ``sample_size`` increments every counter is halved, so old popularity fades.
Keys are hashed with ``hash()`` mixed with a per-sketch seed: estimates are per process, and a
random seed makes collision attacks impractical.

Thread safety: each call runs under the GIL without releasing it. Not free-threading safe.
"""
from libc.stdint cimport uint8_t, uint64_t, int32_t
from libc.stdlib cimport calloc, malloc, free
from libc.string cimport memset
from swfast._native._clock cimport mono as _mono
from cpython.dict cimport PyDict_GetItem
from cpython.object cimport PyObject

DEF DEPTH = 4
DEF MAXC = 15


cdef inline uint64_t _mix(uint64_t h) nogil:
    h ^= h >> 33
    h *= 0xff51afd7ed558ccdULL
    h ^= h >> 33
    h *= 0xc4ceb9fe1a85ec53ULL
    h ^= h >> 33
    return h


cdef class FrequencySketch:
    """Approximate per-key counts in fixed memory.

    Args:
        capacity: number of distinct keys to track well (width = next power of two ≥ 2×capacity).
        sample_size: increments between halvings (default ``10 * capacity``).
        seed: hash seed (any int).
    """
    cdef uint8_t *table
    cdef uint64_t mask
    cdef uint64_t seed
    cdef readonly Py_ssize_t width
    cdef readonly Py_ssize_t sample_size
    cdef readonly Py_ssize_t additions

    def __cinit__(self, capacity, sample_size=None, seed=0x9E3779B97F4A7C15):
        if capacity < 1:
            raise ValueError(f"capacity: must be >= 1, got {capacity}")
        cdef Py_ssize_t w = 16
        while w < 2 * capacity:
            w <<= 1
        self.width = w
        self.mask = <uint64_t>(w - 1)
        self.seed = <uint64_t>(seed & 0xFFFFFFFFFFFFFFFF)
        self.sample_size = 10 * capacity if sample_size is None else sample_size
        if self.sample_size < 1:
            raise ValueError(f"sample_size: must be >= 1, got {sample_size}")
        self.additions = 0
        self.table = <uint8_t *>calloc(DEPTH * w, 1)
        if self.table == NULL:
            raise MemoryError()

    def __dealloc__(self):
        free(self.table)

    cdef inline uint64_t _h(self, object key) except? 0xFFFFFFFFFFFFFFFF:
        return _mix(<uint64_t>hash(key) ^ self.seed)

    cdef inline int _estimate_h(self, uint64_t h) noexcept nogil:
        cdef int i, m = MAXC + 1, c
        cdef uint64_t h1 = h & 0xFFFFFFFFULL, h2 = (h >> 32) | 1
        for i in range(DEPTH):
            c = self.table[i * self.width + ((h1 + i * h2) & self.mask)]
            if c < m:
                m = c
        return m

    cdef inline void _increment_h(self, uint64_t h) noexcept nogil:
        cdef int i, m = self._estimate_h(h)
        cdef uint8_t *p
        cdef uint64_t h1 = h & 0xFFFFFFFFULL, h2 = (h >> 32) | 1
        if m < MAXC:
            for i in range(DEPTH):  # conservative update: raise only the minimal counters
                p = &self.table[i * self.width + ((h1 + i * h2) & self.mask)]
                if p[0] == m:
                    p[0] = m + 1
        self.additions += 1
        if self.additions >= self.sample_size:
            self._halve()

    cdef void _halve(self) noexcept nogil:
        cdef Py_ssize_t i
        for i in range(DEPTH * self.width):
            self.table[i] >>= 1
        self.additions //= 2

    def increment(self, key):
        """Count one occurrence of ``key``."""
        self._increment_h(self._h(key))

    def estimate(self, key):
        """Estimated count of ``key`` (0..15, an overestimate at worst)."""
        return self._estimate_h(self._h(key))

    def increment_many(self, keys):
        """Count every key of an iterable."""
        for key in keys:
            self._increment_h(self._h(key))

    def clear(self):
        """Zero every counter."""
        memset(self.table, 0, DEPTH * self.width)
        self.additions = 0


DEF WINDOW = 0
DEF PROBATION = 1
DEF PROTECTED = 2

_MISSING = object()


cdef class WTinyLFU:
    """A bounded cache with W-TinyLFU admission (Einziger, Friedman, Manes 2017).

    New keys enter a small LRU *window* (``window_fraction`` of the capacity). A key pushed
    out of the window competes with the main space's eviction victim: the one the frequency
    sketch has seen more often stays. The main space is a segmented LRU (probation, then
    protected = 80 %). Scan-resistant and frequency-aware where plain LRU is not.

    Args:
        maxsize: maximum entries (≥ 1).
        window_fraction: share of ``maxsize`` for the admission window.
        ttl: default lifetime in seconds (``None`` = none).
        clock: monotonic clock; ``None`` reads ``CLOCK_MONOTONIC`` in C.

    Every operation is O(1). Thread safety: each method runs under the GIL without calling
    back into Python (except ``hash``/``__eq__`` of keys and an injected clock).
    """
    cdef dict _map
    cdef list _keys
    cdef list _vals
    cdef double *_exp
    cdef int32_t *_prev
    cdef int32_t *_next
    cdef uint8_t *_seg
    cdef uint64_t *_hash
    cdef int32_t _free
    cdef int32_t _cap, _wcap, _pcap, _base
    cdef int32_t _size[3]
    cdef FrequencySketch _sketch
    cdef object _clock
    cdef double _ttl
    cdef readonly Py_ssize_t hits, misses, evictions, rejections

    def __cinit__(self, maxsize, window_fraction=0.01, ttl=None, clock=None):
        cdef int32_t i
        if maxsize < 1:
            raise ValueError(f"maxsize: must be >= 1, got {maxsize}")
        if not 0.0 < window_fraction < 1.0:
            raise ValueError(f"window_fraction: must be in (0, 1), got {window_fraction}")
        if ttl is not None and ttl < 0:
            raise ValueError(f"ttl: must be >= 0 seconds or None, got {ttl}")
        self._cap = maxsize
        self._wcap = max(1, <int32_t>(maxsize * window_fraction + 0.5))
        if self._wcap >= maxsize:
            self._wcap = maxsize
        self._pcap = <int32_t>((maxsize - self._wcap) * 0.8)
        self._base = maxsize + 1
        n = maxsize + 4
        self._exp = <double *>calloc(n, sizeof(double))
        self._prev = <int32_t *>malloc(n * sizeof(int32_t))
        self._next = <int32_t *>malloc(n * sizeof(int32_t))
        self._seg = <uint8_t *>calloc(n, 1)
        self._hash = <uint64_t *>calloc(n, sizeof(uint64_t))
        if not (self._exp and self._prev and self._next and self._seg and self._hash):
            raise MemoryError()
        for i in range(3):
            self._prev[self._base + i] = self._base + i
            self._next[self._base + i] = self._base + i
            self._size[i] = 0
        for i in range(self._base):  # free list through _next
            self._next[i] = i + 1 if i + 1 < self._base else -1
        self._free = 0
        self._map = {}
        self._keys = [None] * self._base
        self._vals = [None] * self._base
        self._sketch = FrequencySketch(maxsize)
        self._clock = clock
        self._ttl = 0.0 if ttl is None else ttl

    def __dealloc__(self):
        free(self._exp); free(self._prev); free(self._next); free(self._seg); free(self._hash)

    cdef inline double _now(self) except? -1.0:
        if self._clock is None:
            return _mono()
        return <double>self._clock()

    cdef inline void _unlink(self, int32_t s) noexcept nogil:
        cdef int32_t p = self._prev[s], n = self._next[s]
        self._next[p] = n
        self._prev[n] = p
        self._size[self._seg[s]] -= 1

    cdef inline void _push(self, int32_t s, int seg) noexcept nogil:
        cdef int32_t h = self._base + seg, p = self._prev[h]
        self._next[p] = s
        self._prev[s] = p
        self._next[s] = h
        self._prev[h] = s
        self._seg[s] = seg
        self._size[seg] += 1

    cdef void _drop(self, int32_t s):
        self._unlink(s)
        del self._map[self._keys[s]]
        self._keys[s] = None
        self._vals[s] = None
        self._next[s] = self._free
        self._free = s

    cdef inline void _touch(self, int32_t s):
        cdef int seg = self._seg[s]
        cdef int32_t v
        self._unlink(s)
        if seg == WINDOW:
            self._push(s, WINDOW)
        else:
            self._push(s, PROTECTED)
            if self._size[PROTECTED] > self._pcap:
                v = self._next[self._base + PROTECTED]
                self._unlink(v)
                self._push(v, PROBATION)

    cdef void _evict(self):
        cdef int32_t c, v
        if self._size[WINDOW] <= self._wcap:
            return
        c = self._next[self._base + WINDOW]  # window LRU: the candidate
        self._unlink(c)
        self._push(c, PROBATION)
        if self._size[PROBATION] + self._size[PROTECTED] <= self._cap - self._wcap:
            return
        v = self._next[self._base + PROBATION]
        if v == c:  # probation held only the candidate: evict from protected instead
            v = self._next[self._base + PROTECTED]
            if v == self._base + PROTECTED:
                v = c
        if v != c and self._sketch._estimate_h(self._hash[c]) > self._sketch._estimate_h(self._hash[v]):
            self._drop(v)
            self.evictions += 1
        else:
            self._drop(c)
            self.rejections += 1

    def fast_get(self, key, default=None):
        """The value of ``key`` if present and fresh, else ``default``; counts the access."""
        cdef PyObject *o = PyDict_GetItem(self._map, key)
        cdef int32_t s
        if o == NULL:
            self.misses += 1  # the sketch counts the key when it is set
            return default
        s = <int32_t>(<object>o)
        if self._exp[s] != 0.0 and self._exp[s] <= self._now():
            self._drop(s)
            self._sketch._increment_h(self._hash[s])
            self.misses += 1
            return default
        self._sketch._increment_h(self._hash[s])
        self._touch(s)
        self.hits += 1
        return self._vals[s]

    def fast_set(self, key, value, ttl=None):
        """Store ``value``; ``ttl`` seconds (default the cache's), ``0`` removes the key."""
        cdef double t = self._ttl if ttl is None else ttl
        cdef double exp = 0.0
        cdef PyObject *o
        cdef int32_t s
        cdef uint64_t h
        if t < 0:
            raise ValueError(f"ttl: must be >= 0 seconds, got {ttl}")
        if ttl is not None and t == 0.0:
            self.pop(key, None)
            return
        h = _mix(<uint64_t>hash(key) ^ self._sketch.seed)
        if t > 0.0:
            exp = self._now() + t
        o = PyDict_GetItem(self._map, key)
        if o != NULL:
            s = <int32_t>(<object>o)
            self._vals[s] = value
            self._exp[s] = exp
            self._sketch._increment_h(h)
            self._touch(s)
            return
        self._sketch._increment_h(h)
        s = self._free
        self._free = self._next[s]
        self._keys[s] = key
        self._vals[s] = value
        self._exp[s] = exp
        self._hash[s] = h
        self._map[key] = s
        self._push(s, WINDOW)
        self._evict()

    def check_vitality(self, key):
        """Whether ``key`` is present and fresh (no access counted)."""
        cdef PyObject *o = PyDict_GetItem(self._map, key)
        cdef int32_t s
        if o == NULL:
            return False
        s = <int32_t>(<object>o)
        return not (self._exp[s] != 0.0 and self._exp[s] <= self._now())

    def remaining_ttl(self, key):
        """Seconds left for ``key``, ``None`` without TTL; ``KeyError`` if absent or expired."""
        cdef PyObject *o = PyDict_GetItem(self._map, key)
        cdef int32_t s
        cdef double left
        if o == NULL:
            raise KeyError(key)
        s = <int32_t>(<object>o)
        if self._exp[s] == 0.0:
            return None
        left = self._exp[s] - self._now()
        if left <= 0:
            raise KeyError(key)
        return left

    def pop(self, key, default=_MISSING):
        """Remove ``key`` and return its value (``default`` or ``KeyError`` if absent)."""
        cdef PyObject *o = PyDict_GetItem(self._map, key)
        cdef int32_t s
        if o == NULL:
            if default is _MISSING:
                raise KeyError(key)
            return default
        s = <int32_t>(<object>o)
        value = self._vals[s]
        self._drop(s)
        return value

    def expire(self):
        """Remove every expired entry; returns how many."""
        cdef double now = self._now()
        cdef int32_t s
        cdef list doomed = [s for s in self._map.values() if self._exp[s] != 0.0 and self._exp[s] <= now]
        for s in doomed:
            self._drop(s)
        return len(doomed)

    def clear(self):
        """Remove every entry (the frequency history stays)."""
        for s in list(self._map.values()):
            self._drop(s)

    def __len__(self):
        return len(self._map)

    def __contains__(self, key):
        return self.check_vitality(key)

    def __iter__(self):
        return iter(list(self._map))

    def segment_sizes(self):
        """``(window, probation, protected)`` entry counts."""
        return (self._size[WINDOW], self._size[PROBATION], self._size[PROTECTED])

    def limits(self):
        """``(maxsize, window capacity, protected capacity)``."""
        return (self._cap, self._wcap, self._pcap)

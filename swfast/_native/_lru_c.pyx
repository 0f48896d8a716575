# cython: freethreading_compatible = False, cdivision = True
"""Compiled LRU+TTL kernel behind :class:`swfast.cache.L1Cache`; twin: ``_lru_py.py``.

Layout: one open-addressing table (linear probing, backward-shift deletion, load <= 1/2)
whose slots hold key, value, hash, expiry and the LRU links as slot numbers, so a hit
touches one slot and its two list neighbours and no per-entry Python object exists. When
backward-shift deletion moves a slot, its neighbours' links are fixed; growing the table
re-inserts entries in recency order.

Concurrency: every operation is atomic on CPython with the GIL. Python code can run inside
an operation only in a key's ``__eq__`` (the lookup then restarts if the table changed, as
CPython's dict does), in an injected clock or ``sizeof`` (called before the table is touched),
and in destructors of removed objects (run only after the table is consistent again).
The module does not declare free-threading support, so importing it on a free-threaded
build keeps the GIL enabled.
"""
from cpython.object cimport PyObject, PyObject_RichCompareBool, Py_EQ
from cpython.ref cimport Py_INCREF, Py_DECREF
from cpython.exc cimport PyErr_Clear
from libc.stdint cimport int32_t, int64_t, uint8_t, uint64_t
from libc.stdlib cimport free
from libc.math cimport INFINITY, isnan
from swfast._native._clock cimport mono as _mono

import sys

from swfast.errors import CacheKeyError, ConfigurationError

cdef extern from "Python.h":
    # Declared without an exception clause so the hot path tests for -1 itself.
    Py_hash_t PyObject_Hash(object o)

cdef object _MISSING = object()
_NO_COPY = ("an L1 cache cannot be copied or pickled (it owns its table); build a new one and "
            "update() it from items() instead")


cdef int _unhashable(object key) except -1:
    PyErr_Clear()  # PyObject_Hash left its own TypeError set
    raise CacheKeyError(
        f"key: unhashable type {type(key).__name__!r}; use a hashable key (str, int, bytes or a tuple of them)"
    ) from None


cdef struct Slot:
    PyObject *key       # NULL: empty
    PyObject *value
    Py_hash_t hash
    double expire       # INFINITY: no TTL
    int32_t prev        # towards the most recent end (head)
    int32_t next        # towards the least recent end (tail)


cdef enum:
    PENDING = 32  # references released per operation without touching a Python list


cdef inline uint8_t _tag(Py_hash_t h) noexcept nogil:
    return <uint8_t>(((<uint64_t>h * 0x9E3779B97F4A7C15ULL) >> 57) | 0x80)


# --------------------------------------------------------------------------- fast clock bound
# A hit on an entry with a TTL needs to know that "now < expiry". Reading CLOCK_MONOTONIC costs
# ~25 ns here; the CPU's constant-rate counter (TSC on x86-64, CNTVCT on arm64) costs ~7 ns.
# From one (ticks, monotonic) reference and a calibrated *upper* bound on seconds per tick we
# get an upper bound on the monotonic time now. If that bound is still before the expiry the
# entry is certainly fresh; otherwise the precise clock decides. So the answer is always
# exactly what CLOCK_MONOTONIC would give, and the precise clock is read about once a ms.
cdef extern from *:
    """
    #include <stdlib.h>
    #include <string.h>
    #ifdef __linux__
    #include <sys/mman.h>
    #endif
    /* Tables of 2 MiB or more ask for transparent huge pages: random probes into a
       10 MiB table otherwise miss the TLB on most accesses. */
    static void *swf_calloc_table(size_t n) {
    #if defined(__linux__) && defined(MADV_HUGEPAGE)
        if (n >= ((size_t)1 << 21)) {
            void *p = NULL;
            size_t align = (size_t)1 << 21, sz = (n + align - 1) & ~(align - 1);
            if (posix_memalign(&p, align, sz) != 0) return NULL;
            madvise(p, sz, MADV_HUGEPAGE);
            memset(p, 0, sz);
            return p;
        }
    #endif
        return calloc(n, 1);
    }
    """
    void *swf_calloc_table(size_t n) nogil

cdef extern from *:
    """
    #if defined(__x86_64__) || defined(__i386__)
    #include <x86intrin.h>
    static inline unsigned long long swf_ticks(void) { return __rdtsc(); }
    #define SWF_HAVE_TICKS 1
    #elif defined(__aarch64__)
    static inline unsigned long long swf_ticks(void) {
        unsigned long long v; __asm__ __volatile__("mrs %0, cntvct_el0" : "=r"(v)); return v;
    }
    #define SWF_HAVE_TICKS 1
    #else
    static inline unsigned long long swf_ticks(void) { return 0; }
    #define SWF_HAVE_TICKS 0
    #endif
    """
    unsigned long long swf_ticks() nogil
    int SWF_HAVE_TICKS
    void swf_prefetch "__builtin_prefetch"(const void *p) nogil

cdef double _ref_mono = 0.0, _cal_mono = 0.0
cdef unsigned long long _ref_t1 = 0, _ref_t2 = 0, _cal_t1 = 0, _cal_t2 = 0, _window = 0
cdef double _spt_upper = 0.0  # upper bound on seconds per tick; 0 until calibrated
cdef double _spt_lower = 0.0  # lower bound on seconds per tick


cdef double _refresh_clock() noexcept nogil:
    """Read CLOCK_MONOTONIC between two counter reads and make it the new reference.

    The first calls also calibrate: two references >= 2 ms apart bound the seconds per tick
    from both sides (the counter reads bracket each clock read, so a preemption between reads
    only widens the bounds); a sample with bounds wider than 1 % is discarded.
    """
    global _ref_mono, _ref_t1, _ref_t2, _cal_mono, _cal_t1, _cal_t2, _spt_upper, _spt_lower, _window
    cdef unsigned long long t1 = swf_ticks()
    cdef double m = _mono()
    cdef unsigned long long t2 = swf_ticks()
    cdef double lo, hi
    if SWF_HAVE_TICKS and _spt_upper == 0.0 and t2 >= t1:
        if _cal_t1 == 0 or t1 <= _cal_t2:
            _cal_t1 = t1
            _cal_t2 = t2
            _cal_mono = m
        elif m - _cal_mono > 0.002:
            lo = (m - _cal_mono) / <double>(t2 - _cal_t1)
            hi = (m - _cal_mono) / <double>(t1 - _cal_t2)
            if hi <= lo * 1.01:
                # 0.1 % more each way: NTP slews CLOCK_MONOTONIC by at most 0.05 %
                _spt_lower = lo / 1.001
                _spt_upper = hi * 1.001
                _window = <unsigned long long>(0.001 / _spt_upper)  # re-anchor every ~1 ms
            else:
                _cal_t1 = t1
                _cal_t2 = t2
                _cal_mono = m
    _ref_t1 = t1
    _ref_t2 = t2
    _ref_mono = m
    return m


cdef inline double _mono_upper() noexcept nogil:
    """A value >= CLOCK_MONOTONIC now (never below it); cheap on the common path."""
    cdef unsigned long long t = swf_ticks()
    if _spt_upper > 0.0 and t >= _ref_t1 and t - _ref_t1 < _window:
        return _ref_mono + <double>(t - _ref_t1) * _spt_upper + 1e-6  # 1 us for cross-CPU skew
    return _refresh_clock()


cdef inline double _mono_lower() noexcept nogil:
    """A value <= CLOCK_MONOTONIC now, at most a few us below it: expiries computed from it
    are never later than ``now + ttl`` (an entry may expire a few us early, never late)."""
    cdef unsigned long long t = swf_ticks()
    if _spt_lower > 0.0 and t >= _ref_t2 and t - _ref_t2 < _window:
        return _ref_mono + <double>(t - _ref_t2) * _spt_lower - 1e-6
    return _refresh_clock()


def _clock_probe():
    """``(lower, upper, calibrated)``: the kernel's bounds on CLOCK_MONOTONIC, read in that
    order (for tests: lower <= time.monotonic() read after it, upper >= one read before it)."""
    cdef double lo = _mono_lower()
    cdef double hi = _mono_upper()
    return lo, hi, _spt_upper > 0.0


cdef class LRUCore:
    """Bounded LRU map with optional per-entry TTL and byte budget; O(1) operations."""

    cdef Slot *tab
    cdef uint8_t *ctrl      # per slot: 0 empty, else a 7-bit hash tag | 0x80 (256 KiB per 2^18 slots)
    cdef int64_t *sizes
    cdef PyObject *pending[PENDING]
    cdef int npending
    cdef size_t mask
    cdef Py_ssize_t count, _maxsize
    cdef int32_t head, tail
    cdef double default_ttl
    cdef int64_t _max_bytes, total_bytes
    cdef object _sizeof, _clock
    cdef list _junk
    cdef uint64_t version
    cdef public long long hits, misses, evictions, expirations

    def __cinit__(self, *args, **kwargs):
        self.tab = NULL
        self.ctrl = NULL
        self.sizes = NULL
        self.npending = 0
        self._junk = []

    def __init__(self, Py_ssize_t maxsize, ttl=None, max_bytes=None, size_fn=None, clock=None):
        if maxsize < 1 or maxsize > 0x3FFFFFFF:
            raise ValueError(f"maxsize: must be between 1 and {0x3FFFFFFF}, got {maxsize}")
        cdef double t = _check_ttl(ttl, INFINITY)
        cdef int64_t mb = -1
        if max_bytes is not None:
            if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 1:
                raise ValueError(f"max_bytes: must be an int >= 1 or None, got {max_bytes!r}")
            mb = max_bytes
            if size_fn is None:
                size_fn = sys.getsizeof
        if size_fn is not None and not callable(size_fn):
            raise TypeError(f"sizeof: must be callable, got {type(size_fn).__name__}")
        if clock is not None and not callable(clock):
            raise TypeError(f"clock: must be a callable returning seconds, got {type(clock).__name__}")
        junk = self._release_all()
        self._maxsize = maxsize
        self.default_ttl = t
        self._max_bytes = mb
        self._sizeof = size_fn
        self._clock = clock
        self._alloc(16)
        del junk

    def __dealloc__(self):
        cdef size_t i
        if self.tab != NULL:
            for i in range(self.mask + 1):
                if self.tab[i].key != NULL:
                    Py_DECREF(<object>self.tab[i].key)
                    Py_DECREF(<object>self.tab[i].value)
        self._free_tables()

    # ---------------------------------------------------------------- storage
    cdef void _free_tables(self) noexcept:
        """Free the three arrays (their references must already be released)."""
        free(self.tab)
        free(self.ctrl)
        free(self.sizes)
        self.tab = NULL
        self.ctrl = NULL
        self.sizes = NULL

    cdef int _alloc(self, size_t n) except -1:
        """Install an empty table of ``n`` slots (a power of two); the caller owns the old one."""
        self.tab = <Slot *> swf_calloc_table(n * sizeof(Slot))
        self.ctrl = <uint8_t *> swf_calloc_table(n * sizeof(uint8_t))
        self.sizes = <int64_t *> swf_calloc_table(n * sizeof(int64_t))
        if self.tab == NULL or self.ctrl == NULL or self.sizes == NULL:
            self._free_tables()
            raise MemoryError()
        self.mask = n - 1
        self.count = 0
        self.head = -1
        self.tail = -1
        self.total_bytes = 0
        self.version += 1
        return 0

    cdef int _grow(self) except -1:
        """Double the table, re-inserting entries from least to most recent (no Python code)."""
        cdef Slot *old = self.tab
        cdef uint8_t *old_ctrl = self.ctrl
        cdef int64_t *old_sizes = self.sizes
        cdef int32_t e = self.tail
        cdef Py_ssize_t n = self.count
        cdef int64_t b = self.total_bytes
        cdef size_t i
        self._alloc((self.mask + 1) * 2)
        while e != -1:
            i = <size_t>old[e].hash & self.mask
            while self.ctrl[i] != 0:
                i = (i + 1) & self.mask
            self.tab[i] = old[e]
            self.ctrl[i] = old_ctrl[e]
            self.sizes[i] = old_sizes[e]
            _push_front(self, <int32_t>i)
            e = old[e].prev
        self.count = n
        self.total_bytes = b
        free(old)
        free(old_ctrl)
        free(old_sizes)
        return 0

    cdef Py_hash_t _hash_of(self, object key) except? -1:
        cdef Py_hash_t h = PyObject_Hash(key)
        if h == -1:
            _unhashable(key)
        return h

    cdef inline double _now(self) except? -1.0:
        if self._clock is None:
            return _mono()
        return float(self._clock())

    cdef int _drop(self, int32_t e) except -1:
        """Remove the entry in slot ``e``; its key and value go to the junk list."""
        cdef size_t i = <size_t>e, j = <size_t>e, k
        cdef int32_t p, n
        _unlink(self, e)
        self._defer(self.tab[e].key)
        self._defer(self.tab[e].value)
        self.total_bytes -= self.sizes[e]
        # backward-shift deletion keeps linear probing free of tombstones
        while True:
            j = (j + 1) & self.mask
            if self.ctrl[j] == 0:
                break
            k = <size_t>self.tab[j].hash & self.mask
            if (i <= j and (k <= i or k > j)) or (i > j and k <= i and k > j):
                self.tab[i] = self.tab[j]
                self.ctrl[i] = self.ctrl[j]
                self.sizes[i] = self.sizes[j]
                p = self.tab[i].prev
                n = self.tab[i].next
                if p != -1:
                    self.tab[p].next = <int32_t>i
                else:
                    self.head = <int32_t>i
                if n != -1:
                    self.tab[n].prev = <int32_t>i
                else:
                    self.tail = <int32_t>i
                i = j
        self.tab[i].key = NULL
        self.tab[i].value = NULL
        self.ctrl[i] = 0
        self.sizes[i] = 0
        self.count -= 1
        self.version += 1
        return 0

    cdef int _evict_tail(self) except -1:
        cdef int32_t t
        self._drop(self.tail)
        self.evictions += 1
        t = self.tail
        if t != -1:
            swf_prefetch(self.tab[t].key)  # the next victim's key, released on its eviction
            t = self.tab[t].prev
            if t != -1:
                swf_prefetch(&self.tab[t])
        return 0

    cdef inline int _defer(self, PyObject *obj) except -1:
        """Take over a reference to release once the table is consistent again."""
        if self.npending < PENDING:
            self.pending[self.npending] = obj
            self.npending += 1
        else:
            self._junk.append(<object>obj)
            Py_DECREF(<object>obj)
        return 0

    cdef inline void _release(self):
        # Destructors may re-enter the cache: detach the batch before releasing it.
        cdef PyObject *batch[PENDING]
        cdef int i, n = self.npending
        if n:
            for i in range(n):
                batch[i] = self.pending[i]
            self.npending = 0
            for i in range(n):
                Py_DECREF(<object>batch[i])
        if self._junk:
            self._junk.clear()  # list.clear() empties the list before releasing

    # ---------------------------------------------------------------- seed API
    def fast_get(self, key, default=None):
        """Value of ``key`` if present and fresh (marking it most recent), else ``default``."""
        cdef Py_hash_t h = PyObject_Hash(key)
        if h == -1:
            _unhashable(key)
        cdef double now = 0.0
        cdef bint py_clock = self._clock is not None
        if py_clock:
            now = self._now()
        cdef Py_ssize_t e = _find(self, key, h)
        if e < 0:
            self.misses += 1
            return default
        cdef double exp = self.tab[e].expire
        if exp != INFINITY:
            if not py_clock and _mono_upper() >= exp:
                now = _mono()
            elif not py_clock:
                now = -INFINITY  # certainly fresh
            if now >= exp:
                self._drop(<int32_t>e)
                self.expirations += 1
                self.misses += 1
                self._release()
                return default
        _touch(self, <int32_t>e)
        self.hits += 1
        return <object>self.tab[e].value

    def fast_set(self, key, value, ttl=None):
        """Store ``value`` under ``key`` as most recent; ``ttl`` seconds (None: the default TTL).

        ``ttl=0`` stores nothing (and removes an existing entry). Raises ``TypeError`` for an
        unhashable key and ``ValueError`` for a negative TTL or an entry over ``max_bytes``;
        the cache is unchanged after any error.
        """
        if self.count >= self._maxsize:
            swf_prefetch(&self.tab[self.tail])  # the victim: overlap its miss with the lookup
            swf_prefetch(&self.ctrl[self.tail])
        cdef Py_hash_t h = PyObject_Hash(key)
        if h == -1:
            _unhashable(key)
        swf_prefetch(&self.tab[<size_t>h & self.mask])  # where the new entry will most likely go
        cdef double t = self.default_ttl if ttl is None else _check_ttl(ttl, INFINITY)
        cdef int64_t size = 0
        cdef double expire = INFINITY
        cdef Py_ssize_t e
        cdef size_t i
        cdef PyObject *old
        if self._sizeof is not None:
            size = _check_size(self._sizeof(value), self._max_bytes)
        if t != INFINITY and t > 0.0:
            expire = (_mono_lower() if self._clock is None else self._now()) + t
        e = _find(self, key, h)  # the last point where Python code may run
        if t == 0.0:
            if e >= 0:
                self._drop(<int32_t>e)
                self._release()
            return
        if e >= 0:
            old = self.tab[e].value
            Py_INCREF(value)
            self.tab[e].value = <PyObject *>value
            self._defer(old)
            self.tab[e].expire = expire
            self.total_bytes += size - self.sizes[e]
            self.sizes[e] = size
            _touch(self, <int32_t>e)
            while self._max_bytes >= 0 and self.total_bytes > self._max_bytes:
                if self.tail == self.head:
                    break
                if self.tail == e:  # cannot happen: e is the most recent
                    break
                self._evict_tail()
                e = self.head
            self._release()
            return
        while self.count >= self._maxsize or (
            self._max_bytes >= 0 and self.count > 0 and self.total_bytes + size > self._max_bytes
        ):
            self._evict_tail()
        if <size_t>(self.count + 1) * 2 > self.mask + 1:
            self._grow()
        i = <size_t>h & self.mask
        while self.ctrl[i] != 0:
            i = (i + 1) & self.mask
        Py_INCREF(key)
        Py_INCREF(value)
        self.tab[i].key = <PyObject *>key
        self.tab[i].value = <PyObject *>value
        self.tab[i].hash = h
        self.tab[i].expire = expire
        self.ctrl[i] = _tag(h)
        self.sizes[i] = size
        _push_front(self, <int32_t>i)
        self.count += 1
        self.total_bytes += size
        self.version += 1
        self._release()

    def check_vitality(self, key):
        """True if ``key`` is present and fresh; does not change recency or statistics."""
        cdef Py_hash_t h = PyObject_Hash(key)
        if h == -1:
            _unhashable(key)
        cdef double now = self._now() if self._clock is not None else 0.0
        cdef Py_ssize_t e = _find(self, key, h)
        if e < 0:
            return False
        if self.tab[e].expire == INFINITY:
            return True
        if self._clock is None:
            now = _mono()
        return now < self.tab[e].expire

    def remaining_ttl(self, key):
        """Seconds until ``key`` expires, None if it never does; ``KeyError`` if absent or stale."""
        cdef Py_hash_t h = PyObject_Hash(key)
        if h == -1:
            _unhashable(key)
        cdef double now = self._now()
        cdef Py_ssize_t e = _find(self, key, h)
        if e < 0 or now >= self.tab[e].expire:
            raise KeyError(key)
        if self.tab[e].expire == INFINITY:
            return None
        return self.tab[e].expire - now

    def pop(self, key, default=_MISSING):
        """Remove ``key`` and return its value if fresh; else ``default`` (``KeyError`` if not given)."""
        cdef Py_hash_t h = PyObject_Hash(key)
        if h == -1:
            _unhashable(key)
        cdef double now = self._now() if self._clock is not None else 0.0
        cdef Py_ssize_t e = _find(self, key, h)
        cdef object value
        cdef bint fresh
        if e >= 0:
            value = <object>self.tab[e].value
            if self.tab[e].expire != INFINITY and self._clock is None:
                now = _mono()
            fresh = self.tab[e].expire == INFINITY or now < self.tab[e].expire
            self._drop(<int32_t>e)
            self._release()
            if fresh:
                return value
            self.expirations += 1
        if default is _MISSING:
            raise KeyError(key)
        return default

    def __getitem__(self, key):
        value = self.fast_get(key, _MISSING)
        if value is _MISSING:
            raise KeyError(key)
        return value

    def __setitem__(self, key, value):
        self.fast_set(key, value)

    def __delitem__(self, key):
        self.pop(key)

    def __contains__(self, key):
        return self.check_vitality(key)

    def __len__(self):
        return self.count

    def _order(self):
        """Keys from least to most recently used, stale ones included."""
        cdef list out = []
        cdef int32_t e = self.tail
        while e != -1:
            out.append(<object>self.tab[e].key)
            e = self.tab[e].prev
        return out

    def items(self):
        """Snapshot of fresh ``(key, value)`` pairs, least recent first; recency unchanged."""
        cdef double now = self._now()
        cdef list out = []
        cdef int32_t e = self.tail
        while e != -1:
            if now < self.tab[e].expire:
                out.append((<object>self.tab[e].key, <object>self.tab[e].value))
            e = self.tab[e].prev
        return out

    def keys(self):
        """Snapshot of fresh keys, least recent first."""
        return [kv[0] for kv in self.items()]

    def values(self):
        """Snapshot of fresh values, least recent first."""
        return [kv[1] for kv in self.items()]

    def __iter__(self):
        return iter(self.keys())

    def expire(self):
        """Remove every stale entry now; returns how many were removed."""
        cdef double now = self._now()
        cdef list stale = []
        cdef int32_t e = self.tail
        cdef object k
        while e != -1:
            if now >= self.tab[e].expire:
                stale.append(<object>self.tab[e].key)
            e = self.tab[e].prev
        # slots move during deletion, so remove by key (stored keys: identity hits, no __eq__)
        for k in stale:
            self._drop(<int32_t>_find(self, k, self._hash_of(k)))
        self.expirations += len(stale)
        self._release()
        return len(stale)

    cdef list _release_all(self):
        cdef list junk = []
        cdef size_t i
        if self.tab != NULL:
            for i in range(self.mask + 1):
                if self.tab[i].key != NULL:
                    junk.append(<object>self.tab[i].key)
                    junk.append(<object>self.tab[i].value)
                    Py_DECREF(<object>self.tab[i].key)
                    Py_DECREF(<object>self.tab[i].value)
                    self.tab[i].key = NULL
            self._free_tables()
        return junk

    def clear(self):
        """Remove every entry (statistics are kept)."""
        junk = self._release_all()
        self._alloc(16)
        del junk

    def resize(self, Py_ssize_t maxsize):
        """Change the entry bound, evicting least recent entries if needed."""
        if maxsize < 1 or maxsize > 0x3FFFFFFF:
            raise ValueError(f"maxsize: must be between 1 and {0x3FFFFFFF}, got {maxsize}")
        while self.count > maxsize:
            self._evict_tail()
        self._maxsize = maxsize
        self._release()

    @property
    def maxsize(self):
        return self._maxsize

    @property
    def max_bytes(self):
        """The byte bound (``None``: unbounded); assigning evicts least recent entries down to it."""
        return None if self._max_bytes < 0 else self._max_bytes

    @max_bytes.setter
    def max_bytes(self, value):
        self.set_max_bytes(value)

    def set_max_bytes(self, max_bytes):
        """Change the byte bound at run time, evicting least recent entries until it holds.

        ``None`` removes the bound (sizes stay accounted). A cache built without
        ``max_bytes`` or ``sizeof`` never measured its values, so it cannot take a bound later.
        """
        cdef int64_t mb = -1
        if max_bytes is not None:
            if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 1:
                raise ConfigurationError("max_bytes", f"must be an int >= 1 or None, got {max_bytes!r}")
            if self._sizeof is None:
                raise ConfigurationError("max_bytes", "this cache was built without max_bytes or sizeof, so its "
                                                      "values were never measured; build it with max_bytes")
            mb = max_bytes
        while mb >= 0 and self.total_bytes > mb and self.count > 0:
            self._evict_tail()
        self._max_bytes = mb
        self._release()

    def __reduce__(self):
        raise TypeError(_NO_COPY)

    def __copy__(self):
        raise TypeError(_NO_COPY)

    def __deepcopy__(self, memo):
        raise TypeError(_NO_COPY)

    @property
    def ttl(self):
        return None if self.default_ttl == INFINITY else self.default_ttl

    @property
    def currsize_bytes(self):
        return self.total_bytes

    def _validate(self):
        """Check internal invariants; raises AssertionError describing the first violation."""
        cdef int32_t e = self.head, prev = -1
        cdef Py_ssize_t n = 0, occupied = 0
        cdef int64_t b = 0
        cdef size_t i, k
        while e != -1:
            assert n <= self.count, "cycle in the recency list"
            assert self.tab[e].key != NULL, f"empty slot {e} linked"
            assert self.tab[e].prev == prev, f"broken back link at {e}"
            b += self.sizes[e]
            prev = e
            e = self.tab[e].next
            n += 1
        assert prev == self.tail, "tail mismatch"
        assert n == self.count, f"list length {n} != size {self.count}"
        assert self.count <= self._maxsize, f"size {self.count} > maxsize {self._maxsize}"
        assert b == self.total_bytes, f"bytes {b} != accounted {self.total_bytes}"
        for i in range(self.mask + 1):
            if self.tab[i].key != NULL:
                occupied += 1
                k = <size_t>self.tab[i].hash & self.mask
                while k != i:  # every slot between home and here is occupied
                    assert self.tab[k].key != NULL, f"probe chain of slot {i} broken at {k}"
                    k = (k + 1) & self.mask
        assert occupied == self.count, f"table holds {occupied} != size {self.count}"
        return True


cdef inline Py_ssize_t _find(LRUCore self, object key, Py_hash_t h) except -2:
    """Slot of ``key``, or -1."""
    cdef size_t i
    cdef uint64_t ver
    cdef uint8_t c, tag = _tag(h)
    cdef object stored
    cdef int r
    while True:
        i = <size_t>h & self.mask
        ver = self.version
        while True:
            c = self.ctrl[i]
            if c == 0:
                return -1
            if c != tag:
                i = (i + 1) & self.mask
                continue
            if self.tab[i].key == <PyObject *>key:
                return <Py_ssize_t>i
            if self.tab[i].hash == h:
                stored = <object>self.tab[i].key
                r = PyObject_RichCompareBool(stored, key, Py_EQ)
                if self.version != ver:
                    break  # the table changed under __eq__: look again
                if r:
                    return <Py_ssize_t>i
            i = (i + 1) & self.mask


cdef inline void _unlink(LRUCore self, int32_t e) noexcept:
    cdef int32_t p = self.tab[e].prev, n = self.tab[e].next
    if p != -1:
        self.tab[p].next = n
    else:
        self.head = n
    if n != -1:
        self.tab[n].prev = p
    else:
        self.tail = p


cdef inline void _push_front(LRUCore self, int32_t e) noexcept:
    self.tab[e].prev = -1
    self.tab[e].next = self.head
    if self.head != -1:
        self.tab[self.head].prev = e
    else:
        self.tail = e
    self.head = e


cdef inline void _touch(LRUCore self, int32_t e) noexcept:
    if self.head != e:
        _unlink(self, e)
        _push_front(self, e)


cdef double _check_ttl(object ttl, double none_value) except? -1.0:
    if ttl is None:
        return none_value
    if isinstance(ttl, bool) or not isinstance(ttl, (int, float)):
        if hasattr(ttl, "total_seconds"):
            ttl = ttl.total_seconds()
        else:
            raise TypeError(f"ttl: expected seconds as int or float (or a timedelta), got {type(ttl).__name__}")
    cdef double t = float(ttl)
    if isnan(t) or t < 0.0:
        raise ValueError(f"ttl: must be >= 0 seconds (0 stores nothing), got {ttl!r}")
    return t


cdef int64_t _check_size(object size, int64_t limit) except -1:
    if isinstance(size, bool) or not isinstance(size, int):
        raise TypeError(f"sizeof: must return an int, got {type(size).__name__}")
    if size < 0:
        raise ValueError(f"sizeof: returned a negative size {size}")
    if limit >= 0 and size > limit:
        raise ValueError(f"value: size {size} is larger than max_bytes={limit}; store a smaller value or raise max_bytes")
    return size

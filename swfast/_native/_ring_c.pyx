# cython: freethreading_compatible = False, cdivision = True
"""Compiled consistent-hash ring; the pure-Python twin is ``_ring_py.py``.

Keys and virtual-node labels are hashed with MurmurHash3 x86_32 (the algorithm of
``mmh3.hash(..., signed=False)``) under a fixed seed, so a key maps to the same node in every
process and on every platform. Each node owns ``round(vnodes * weight)`` points on a 32-bit
ring (label ``f"{name}#{i}"``); a key belongs to the owner of the first point at or after its
hash, wrapping at the top. Ties between equal points go to the node whose name sorts first.

Lookup is O(1) on average: a 65,537-entry index maps the top 16 bits of a hash to the first
point of that bucket, and a short forward scan finishes the search.

Thread safety: every method runs without releasing the GIL; membership changes build new
arrays and swap them in one step, so concurrent lookups on CPython with the GIL see either the
old ring or the new one. Not declared free-threading compatible.
"""
from libc.stdint cimport uint8_t, uint32_t, uint64_t, int64_t
from libc.stdlib cimport malloc, free, qsort
from cpython.unicode cimport PyUnicode_AsUTF8AndSize
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE

cdef extern from *:
    """
    static inline uint32_t sw_rotl32(uint32_t x, int r) { return (x << r) | (x >> (32 - r)); }
    static uint32_t sw_murmur3_32(const char *data, Py_ssize_t len, uint32_t seed) {
        const uint8_t *d = (const uint8_t *)data;
        Py_ssize_t nblocks = len / 4, i;
        uint32_t h1 = seed, k1;
        const uint32_t c1 = 0xcc9e2d51u, c2 = 0x1b873593u;
        for (i = 0; i < nblocks; i++) {
            const uint8_t *p = d + i * 4;
            k1 = (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
            k1 *= c1; k1 = sw_rotl32(k1, 15); k1 *= c2;
            h1 ^= k1; h1 = sw_rotl32(h1, 13); h1 = h1 * 5u + 0xe6546b64u;
        }
        const uint8_t *tail = d + nblocks * 4;
        k1 = 0;
        switch (len & 3) {
            case 3: k1 ^= (uint32_t)tail[2] << 16; /* fall through */
            case 2: k1 ^= (uint32_t)tail[1] << 8;  /* fall through */
            case 1: k1 ^= (uint32_t)tail[0];
                    k1 *= c1; k1 = sw_rotl32(k1, 15); k1 *= c2; h1 ^= k1;
        }
        h1 ^= (uint32_t)len;
        h1 ^= h1 >> 16; h1 *= 0x85ebca6bu; h1 ^= h1 >> 13; h1 *= 0xc2b2ae35u; h1 ^= h1 >> 16;
        return h1;
    }
    static int sw_cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
        return (x > y) - (x < y);
    }
    """
    uint32_t sw_murmur3_32(const char *data, Py_ssize_t len, uint32_t seed) nogil
    int sw_cmp_u64(const void *a, const void *b) nogil

DEFAULT_SEED = 0x5357_4641  # "SWFA"
DEFAULT_VNODES = 1000
DEF INDEX_BITS = 16
DEF INDEX_SIZE = 65537


cdef inline uint32_t _hash_obj(object key, uint32_t seed) except? 0xFFFFFFFF:
    cdef const char *buf
    cdef Py_ssize_t n
    if type(key) is str:
        buf = PyUnicode_AsUTF8AndSize(key, &n)
        return sw_murmur3_32(buf, n, seed)
    if isinstance(key, bytes):
        return sw_murmur3_32(PyBytes_AS_STRING(key), PyBytes_GET_SIZE(key), seed)
    if isinstance(key, str):
        buf = PyUnicode_AsUTF8AndSize(key, &n)
        return sw_murmur3_32(buf, n, seed)
    raise TypeError(f"key: ring keys must be str or bytes, got {type(key).__name__}; convert it with str()")


def hash32(key, seed=DEFAULT_SEED):
    """MurmurHash3 x86_32 of ``key`` (str as UTF-8, or bytes), unsigned."""
    return _hash_obj(key, <uint32_t>seed)


cdef class _Table:
    """Immutable sorted points, their owners and the bucket index."""
    cdef uint32_t *points
    cdef uint32_t *owners
    cdef uint32_t *index
    cdef Py_ssize_t n
    cdef tuple names

    def __dealloc__(self):
        free(self.points)
        free(self.owners)
        free(self.index)


cdef class HashRing:
    """Consistent-hash ring with virtual nodes and weights.

    Args:
        seed: MurmurHash3 seed; every process must use the same one.
        vnodes: virtual nodes per unit of weight (≥ 1).
    """
    cdef dict _weights
    cdef _Table _t
    cdef readonly uint32_t seed
    cdef readonly int vnodes

    def __init__(self, seed=DEFAULT_SEED, vnodes=DEFAULT_VNODES):
        if vnodes < 1:
            raise ValueError(f"vnodes: must be >= 1, got {vnodes}")
        self.seed = <uint32_t>seed
        self.vnodes = vnodes
        self._weights = {}
        self._rebuild()

    def add(self, name, weight=1.0):
        """Add node ``name`` (or change its weight) and rebuild the ring."""
        if not isinstance(name, str) or not name:
            raise TypeError(f"name: node names must be non-empty str, got {name!r}")
        weight = float(weight)
        if not weight > 0 or weight != weight or weight == float("inf"):
            raise ValueError(f"weight: must be a finite number > 0, got {weight!r}")
        self._weights[name] = weight
        self._rebuild()

    def remove(self, name):
        """Remove node ``name``; raises ``KeyError`` if absent."""
        del self._weights[name]
        self._rebuild()

    def nodes(self):
        """Node names in sorted order."""
        return self._t.names

    def weight(self, name):
        """The weight of node ``name``."""
        return self._weights[name]

    def __len__(self):
        return len(self._weights)

    def __contains__(self, name):
        return name in self._weights

    def point_count(self):
        """Total number of virtual-node points on the ring."""
        return self._t.n

    cdef _rebuild(self):
        cdef tuple names = tuple(sorted(self._weights))
        cdef list counts = [max(1, int(round(self.vnodes * self._weights[nm]))) for nm in names]
        cdef Py_ssize_t total = sum(counts), k = 0, i, j
        cdef _Table t = _Table()
        cdef uint64_t *tmp
        cdef bytes label
        cdef uint32_t b
        t.names = names
        t.n = total
        t.points = <uint32_t *>malloc(max(total, 1) * sizeof(uint32_t))
        t.owners = <uint32_t *>malloc(max(total, 1) * sizeof(uint32_t))
        t.index = <uint32_t *>malloc(INDEX_SIZE * sizeof(uint32_t))
        tmp = <uint64_t *>malloc(max(total, 1) * sizeof(uint64_t))
        if t.points == NULL or t.owners == NULL or t.index == NULL or tmp == NULL:
            free(tmp)
            raise MemoryError()
        try:
            for i in range(len(names)):
                for j in range(<Py_ssize_t>counts[i]):
                    label = f"{names[i]}#{j}".encode()
                    tmp[k] = (<uint64_t>sw_murmur3_32(label, len(label), self.seed) << 32) | <uint64_t>i
                    k += 1
            qsort(tmp, total, sizeof(uint64_t), sw_cmp_u64)
            for i in range(total):
                t.points[i] = <uint32_t>(tmp[i] >> 32)
                t.owners[i] = <uint32_t>(tmp[i] & 0xFFFFFFFFu)
        finally:
            free(tmp)
        j = 0
        for i in range(INDEX_SIZE - 1):
            b = <uint32_t>i
            while j < total and (t.points[j] >> INDEX_BITS) < b:
                j += 1
            t.index[i] = <uint32_t>j
        t.index[INDEX_SIZE - 1] = <uint32_t>total
        self._t = t

    cdef inline Py_ssize_t _slot(self, _Table t, uint32_t h):
        cdef Py_ssize_t i = t.index[h >> INDEX_BITS]
        cdef Py_ssize_t end = t.index[(h >> INDEX_BITS) + 1]
        while i < end and t.points[i] < h:
            i += 1
        if i == t.n:
            i = 0
        return i

    def lookup(self, key):
        """Name of the node owning ``key`` (str or bytes); ``LookupError`` on an empty ring."""
        cdef _Table t = self._t
        if t.n == 0:
            raise LookupError("ring: no nodes; add one with add(name)")
        return t.names[t.owners[self._slot(t, _hash_obj(key, self.seed))]]

    def lookup_many(self, keys):
        """Owner names for every key, in order (one call for a batch)."""
        cdef _Table t = self._t
        cdef list out = []
        cdef tuple names = t.names
        cdef uint32_t seed = self.seed
        if t.n == 0:
            raise LookupError("ring: no nodes; add one with add(name)")
        for key in keys:
            out.append(names[t.owners[self._slot(t, _hash_obj(key, seed))]])
        return out

    def preference(self, key, count):
        """Up to ``count`` distinct node names in ring order from ``key``'s position."""
        cdef _Table t = self._t
        cdef list out = []
        cdef Py_ssize_t i, steps = 0
        if t.n == 0:
            return out
        i = self._slot(t, _hash_obj(key, self.seed))
        while len(out) < count and steps < t.n:
            nm = t.names[t.owners[i]]
            if nm not in out:
                out.append(nm)
            i += 1
            if i == t.n:
                i = 0
            steps += 1
        return out

    def assign_bounded(self, keys, factor):
        """Place ``keys`` with bounded loads (Mirrokni, Thorup, Zadimoghaddam 2018).

        Each node takes at most ``ceil(factor * len(keys) * weight / total_weight)`` keys; a key
        whose ring owner is full walks forward to the next node with room. Deterministic for a
        given key order. Returns the owner names in order.
        """
        cdef _Table t = self._t
        cdef list ks = list(keys)
        cdef Py_ssize_t m = len(ks), nn = len(t.names), i, o
        cdef double f = float(factor), total_w
        cdef list out = []
        if t.n == 0:
            raise LookupError("ring: no nodes; add one with add(name)")
        if not f >= 1.0:
            raise ValueError(f"factor: must be >= 1.0, got {factor!r}")
        total_w = sum(self._weights.values())
        cdef list caps = []
        for nm in t.names:
            c = f * m * self._weights[nm] / total_w
            caps.append(int(c) + (1 if c > int(c) else 0))
        cdef list loads = [0] * nn
        for key in ks:
            i = self._slot(t, _hash_obj(key, self.seed))
            while True:
                o = t.owners[i]
                if <Py_ssize_t>loads[o] < <Py_ssize_t>caps[o]:
                    loads[o] += 1
                    out.append(t.names[o])
                    break
                i += 1
                if i == t.n:
                    i = 0
        return out

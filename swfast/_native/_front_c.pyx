# cython: freethreading_compatible = False, cdivision = False
"""Compiled front of the tiered cache: the L1-hit path of ``smart_get``; twin ``_front_py.py``.

The manager (``swfast.cache.manager.TieredCache``) subclasses :class:`TierFront`. An L1 hit is
served here without entering Python bytecode; everything else calls one of the two callbacks
the owner sets explicitly (no method looked up by name): ``_on_soft(key, value, loader, ttl)``
for a soft-TTL hit and ``_on_miss(key, loader, ttl, default, l1_failed)`` for misses, usage
tracking and L1 failures.
"""

cdef object _MISS = object()


cdef class TierFront:
    """Holds the L1 getter, the hit counter and the two slow-path callbacks."""
    cdef public object _l1_get
    cdef public object _on_soft
    cdef public object _on_miss
    cdef public object _soft_type
    cdef public object tracker
    cdef public Py_ssize_t l1_hits

    def smart_get(self, key, loader=None, *, ttl=None, default=None):
        """The value of ``key`` from the highest tier holding it, else ``loader()`` (stored).

        Args:
            key: the key (str for L2/L3).
            loader: called once per miss across concurrent callers; its exceptions propagate
                to every waiter and are not cached.
            ttl: lifetime of a loaded value (seconds, timedelta or ``"2h5m"``).
            default: returned on a miss without a loader.
        """
        cdef object v
        if self.tracker is None:
            try:
                v = self._l1_get(key, _MISS)
            except Exception:
                return self._on_miss(key, loader, ttl, default, True)
            if v is not _MISS:
                if type(v) is self._soft_type:
                    return self._on_soft(key, v, loader, ttl)
                self.l1_hits += 1
                return v
        return self._on_miss(key, loader, ttl, default, False)

# cython: freethreading_compatible = False, cdivision = False
"""Compiled front of the tiered cache: the L1-hit path of ``smart_get``; twin ``_front_py.py``.

The manager (``swfast.cache.manager.TieredCache``) subclasses :class:`TierFront`. An L1 hit is
served here without entering Python bytecode; everything else (soft-TTL hits, misses, usage
tracking, L1 failures) calls back into the manager's ``_soft_hit`` and ``_miss_path``.
"""

cdef object _MISS = object()


cdef class TierFront:
    """Holds the L1 getter and the hit counter; subclasses provide the slow paths."""
    cdef public object _l1_get
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
                return self._miss_path(key, loader, ttl, default, True)
            if v is not _MISS:
                if type(v) is self._soft_type:
                    return self._soft_hit(key, v, loader, ttl)
                self.l1_hits += 1
                return v
        return self._miss_path(key, loader, ttl, default, False)

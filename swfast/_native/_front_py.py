"""Pure-Python twin of the tiered-cache front (``_front_c.pyx``): the L1-hit path of ``smart_get``.

The manager subclasses :class:`TierFront` and sets the two slow-path callbacks explicitly:
``_on_soft(key, value, loader, ttl)`` (soft-TTL hits) and ``_on_miss(key, loader, ttl, default,
l1_failed)`` (misses, usage tracking, L1 failures).
"""
from __future__ import annotations

from typing import Any, Callable

_MISS = object()


class TierFront:
    """Holds the L1 getter, the hit counter and the two slow-path callbacks."""

    _l1_get: Callable[[Any, Any], Any]
    _on_soft: Callable[[Any, Any, Any, Any], Any]
    _on_miss: Callable[[Any, Any, Any, Any, bool], Any]
    _soft_type: type
    tracker: Any
    l1_hits: int

    def smart_get(self, key: Any, loader: Callable[[], Any] | None = None, *, ttl: Any = None,
                  default: Any = None) -> Any:
        """The value of ``key`` from the highest tier holding it, else ``loader()`` (stored).

        Args:
            key: the key (str for L2/L3).
            loader: called once per miss across concurrent callers; its exceptions propagate
                to every waiter and are not cached.
            ttl: lifetime of a loaded value (seconds, timedelta or ``"2h5m"``).
            default: returned on a miss without a loader.
        """
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


__all__ = ["TierFront"]

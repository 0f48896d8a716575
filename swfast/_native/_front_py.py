"""Pure-Python twin of the tiered-cache front (``_front_c.pyx``): the L1-hit path of ``smart_get``.

The manager subclasses :class:`TierFront`; soft-TTL hits, misses, usage tracking and L1
failures call back into its ``_soft_hit`` and ``_miss_path``.
"""
from __future__ import annotations

from typing import Any, Callable

_MISS = object()


class TierFront:
    """Holds the L1 getter and the hit counter; subclasses provide the slow paths."""

    _l1_get: Callable[[Any, Any], Any]
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
                return self._miss_path(key, loader, ttl, default, True)  # type: ignore[attr-defined]
            if v is not _MISS:
                if type(v) is self._soft_type:
                    return self._soft_hit(key, v, loader, ttl)  # type: ignore[attr-defined]
                self.l1_hits += 1
                return v
        return self._miss_path(key, loader, ttl, default, False)  # type: ignore[attr-defined]


__all__ = ["TierFront"]

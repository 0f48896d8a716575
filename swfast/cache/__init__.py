"""The tiered cache: L1 (in-process, compiled LRU+TTL or opt-in W-TinyLFU), L2 (Redis over a
compiled consistent-hash ring, or a Redis Cluster), L3 (SQLite, MAC-checked), the
:class:`TieredCache` manager, cross-process invalidation, distribution and analytics.

Names load on first access, so ``import swfast.cache`` stays cheap and never imports redis.
"""
from __future__ import annotations

from .._lazy import attach

TYPE_CHECKING = False

_EXPORTS = {
    "AsyncDistributedCache": "l2_async",
    "CacheAnalyzer": "analytics",
    "CacheStats": "l1",
    "DistributedCache": "l2",
    "Distribution": "ring",
    "InvalidationBus": "invalidation",
    "InvalidationReport": "policy",
    "KeyPattern": "pattern",
    "L1Cache": "l1",
    "PersistentCache": "l3",
    "PlacementPolicy": "policy",
    "RebalanceReport": "ring",
    "Serializer": "serializer",
    "TaggedSerializer": "serializer",
    "TieredCache": "manager",
    "TinyLFUCache": "tinylfu",
    "UsageTracker": "usage",
    "cached": "decorators",
    "make_key": "decorators",
    "parse_ttl": "policy",
    "register_metrics": "analytics",
}

if TYPE_CHECKING:  # pragma: no cover
    from .analytics import CacheAnalyzer as CacheAnalyzer
    from .analytics import register_metrics as register_metrics
    from .decorators import cached as cached
    from .decorators import make_key as make_key
    from .invalidation import InvalidationBus as InvalidationBus
    from .l1 import CacheStats as CacheStats
    from .l1 import L1Cache as L1Cache
    from .l2 import DistributedCache as DistributedCache
    from .l2_async import AsyncDistributedCache as AsyncDistributedCache
    from .l3 import PersistentCache as PersistentCache
    from .manager import TieredCache as TieredCache
    from .pattern import KeyPattern as KeyPattern
    from .policy import InvalidationReport as InvalidationReport
    from .policy import PlacementPolicy as PlacementPolicy
    from .policy import parse_ttl as parse_ttl
    from .ring import Distribution as Distribution
    from .ring import RebalanceReport as RebalanceReport
    from .serializer import Serializer as Serializer
    from .serializer import TaggedSerializer as TaggedSerializer
    from .tinylfu import TinyLFUCache as TinyLFUCache
    from .usage import UsageTracker as UsageTracker

__getattr__, __dir__ = attach(__name__, _EXPORTS)

__all__ = sorted(_EXPORTS)

"""Cache, resilience, monitoring and the top-level package from their documented paths."""
from __future__ import annotations

import swfast
from swfast.cache import L1Cache, PersistentCache, TieredCache, cached
from swfast.errors import ConfigurationError, ValidationError
from swfast.monitoring import REGISTRY, Counter, Gauge, Histogram
from swfast.resilience import CircuitBreaker, RateLimiter, Retrying, fallback, retry


def metrics() -> bytes:
    requests = Counter("user_requests_total", "Requests.", labelnames=("method",))
    requests.labels("get").inc()
    requests.labels(method="post").inc(2.0)
    Gauge("user_inflight", "In flight.", labelnames=("pool",)).labels("a").set(3.0)
    Histogram("user_latency_seconds", "Latency.", labelnames=("route",)).labels("/").observe(0.1)
    return REGISTRY.render_text()


def resilient(breaker: CircuitBreaker, limiter: RateLimiter) -> int:
    @retry(on=OSError, attempts=3)
    def load(n: int) -> int:
        return n

    result: int = breaker.call(load, 2)
    return result if limiter.try_acquire() else 0


def caches(directory: str) -> TieredCache:
    l1 = L1Cache(100, ttl=1.0)
    l1.fast_set("k", 1)
    return TieredCache(l1=l1, l3=PersistentCache(directory))


def memoized(cache: TieredCache) -> int:
    @cache.cached("square:{n}", ttl=60)
    def square(n: int) -> int:
        return n * n

    @cache.cached(ttl="1m")
    async def asquare(n: int) -> int:
        return n * n

    coro = asquare(3)  # still a coroutine of int
    coro.close()
    return square(4)


def l1_memo() -> int:
    @cached
    def double(n: int) -> int:
        return 2 * n

    info = double.cache_info()
    double.cache_clear()
    return double(2) + info["hits"] + info["misses"] + double.in_flight()


enabled: bool = swfast.USE_EXTENSIONS
version: str = swfast.__version__

__all__ = ["ConfigurationError", "Retrying", "ValidationError", "caches", "enabled", "fallback", "l1_memo", "memoized", "metrics",
           "resilient", "version"]

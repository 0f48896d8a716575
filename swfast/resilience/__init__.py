"""Resilience: circuit breaker, retry with budgets, rate limiting, fallback and degradation.

Every component works for sync and async callers, reports to the metrics core and logs under
``swfast.resilience``. The arithmetic (token buckets, backoff, breaker windows) is compiled in
:mod:`swfast._native`. Importing this package imports no optional dependency (Redis is loaded
only by the distributed components, when constructed).
"""
from __future__ import annotations

from .backoff import (
    STRATEGIES,
    BackoffStrategy,
    ConstantBackoff,
    DecorrelatedJitterBackoff,
    EqualJitterBackoff,
    ExponentialBackoff,
    FibonacciBackoff,
    FullJitterBackoff,
    LinearBackoff,
    create_backoff,
)
from .breaker import BreakerGuard, CircuitBreaker
from .distributed import RedisRateLimiter
from .history import BoundedHistory, CircuitState, HistoryStore, Transition
from .ratelimit import KeyedRateLimiter, RateLimiter

__all__ = [
    "STRATEGIES",
    "BackoffStrategy",
    "BoundedHistory",
    "BreakerGuard",
    "CircuitBreaker",
    "CircuitState",
    "ConstantBackoff",
    "DecorrelatedJitterBackoff",
    "EqualJitterBackoff",
    "ExponentialBackoff",
    "FibonacciBackoff",
    "FullJitterBackoff",
    "HistoryStore",
    "KeyedRateLimiter",
    "LinearBackoff",
    "RateLimiter",
    "RedisRateLimiter",
    "Transition",
    "create_backoff",
]

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
from .budget import RetryBudget
from .degradation import DegradationLevel, DegradationManager
from .distributed import RedisRateLimiter
from .fallback import Fallback, fallback
from .history import BoundedHistory, CircuitState, HistoryStore, Transition
from .ratelimit import KeyedRateLimiter, RateLimiter
from .shared_state import RedisBreakerState
from .retry import (
    DEFAULT_OPERATION_TIMEOUT,
    Attempt,
    AttemptStats,
    RetryContext,
    Retrying,
    aattempt_retry,
    attempt_retry,
    retry,
    retry_context,
    set_active,
    set_testing,
    track_attempts,
)

__all__ = [
    "Attempt",
    "AttemptStats",
    "BackoffStrategy",
    "BoundedHistory",
    "BreakerGuard",
    "CircuitBreaker",
    "CircuitState",
    "ConstantBackoff",
    "DEFAULT_OPERATION_TIMEOUT",
    "DecorrelatedJitterBackoff",
    "DegradationLevel",
    "DegradationManager",
    "EqualJitterBackoff",
    "ExponentialBackoff",
    "Fallback",
    "FibonacciBackoff",
    "FullJitterBackoff",
    "HistoryStore",
    "KeyedRateLimiter",
    "LinearBackoff",
    "RateLimiter",
    "RedisBreakerState",
    "RedisRateLimiter",
    "RetryBudget",
    "RetryContext",
    "Retrying",
    "STRATEGIES",
    "Transition",
    "aattempt_retry",
    "attempt_retry",
    "create_backoff",
    "fallback",
    "retry",
    "retry_context",
    "set_active",
    "set_testing",
    "track_attempts",
]

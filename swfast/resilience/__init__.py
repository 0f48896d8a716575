"""Resilience: circuit breaker, retry with budgets, rate limiting, fallback and degradation.

Every component works for sync and async callers, reports to the metrics core and logs under
``swfast.resilience``. The arithmetic (token buckets, backoff, breaker windows) is compiled in
:mod:`swfast._native`. Importing this package imports no optional dependency (Redis is loaded
only by the distributed components, when constructed), and names load on first access
(``import swfast.resilience`` costs about a millisecond; each component pulls in only its own
module).
"""
from __future__ import annotations

from .._lazy import attach

TYPE_CHECKING = False

_EXPORTS = {
    "Attempt": "retry",
    "AttemptStats": "retry",
    "BackoffStrategy": "backoff",
    "BoundedHistory": "history",
    "BreakerGuard": "breaker",
    "BreakerMetrics": "breaker",
    "CircuitBreaker": "breaker",
    "CircuitState": "history",
    "ConstantBackoff": "backoff",
    "DEFAULT_OPERATION_TIMEOUT": "retry",
    "DecorrelatedJitterBackoff": "backoff",
    "DegradationLevel": "degradation",
    "DegradationManager": "degradation",
    "EqualJitterBackoff": "backoff",
    "ExponentialBackoff": "backoff",
    "Fallback": "fallback",
    "FibonacciBackoff": "backoff",
    "FullJitterBackoff": "backoff",
    "HistoryStore": "history",
    "KeyedRateLimiter": "ratelimit",
    "LinearBackoff": "backoff",
    "RateLimiter": "ratelimit",
    "RedisBreakerState": "shared_state",
    "RedisRateLimiter": "distributed",
    "RetryBudget": "budget",
    "RetryContext": "retry",
    "Retrying": "retry",
    "STRATEGIES": "backoff",
    "Transition": "history",
    "aattempt_retry": "retry",
    "attempt_retry": "retry",
    "create_backoff": "backoff",
    "fallback": "fallback",
    "retry": "retry",
    "retry_context": "retry",
    "set_active": "retry",
    "set_testing": "retry",
    "track_attempts": "retry",
}

if TYPE_CHECKING:  # pragma: no cover
    from .backoff import BackoffStrategy as BackoffStrategy
    from .backoff import ConstantBackoff as ConstantBackoff
    from .backoff import DecorrelatedJitterBackoff as DecorrelatedJitterBackoff
    from .backoff import EqualJitterBackoff as EqualJitterBackoff
    from .backoff import ExponentialBackoff as ExponentialBackoff
    from .backoff import FibonacciBackoff as FibonacciBackoff
    from .backoff import FullJitterBackoff as FullJitterBackoff
    from .backoff import LinearBackoff as LinearBackoff
    from .backoff import STRATEGIES as STRATEGIES
    from .backoff import create_backoff as create_backoff
    from .breaker import BreakerGuard as BreakerGuard
    from .breaker import BreakerMetrics as BreakerMetrics
    from .breaker import CircuitBreaker as CircuitBreaker
    from .budget import RetryBudget as RetryBudget
    from .degradation import DegradationLevel as DegradationLevel
    from .degradation import DegradationManager as DegradationManager
    from .distributed import RedisRateLimiter as RedisRateLimiter
    from .fallback import Fallback as Fallback
    from .fallback import fallback as fallback
    from .history import BoundedHistory as BoundedHistory
    from .history import CircuitState as CircuitState
    from .history import HistoryStore as HistoryStore
    from .history import Transition as Transition
    from .ratelimit import KeyedRateLimiter as KeyedRateLimiter
    from .ratelimit import RateLimiter as RateLimiter
    from .retry import Attempt as Attempt
    from .retry import AttemptStats as AttemptStats
    from .retry import DEFAULT_OPERATION_TIMEOUT as DEFAULT_OPERATION_TIMEOUT
    from .retry import RetryContext as RetryContext
    from .retry import Retrying as Retrying
    from .retry import aattempt_retry as aattempt_retry
    from .retry import attempt_retry as attempt_retry
    from .retry import retry as retry
    from .retry import retry_context as retry_context
    from .retry import set_active as set_active
    from .retry import set_testing as set_testing
    from .retry import track_attempts as track_attempts
    from .shared_state import RedisBreakerState as RedisBreakerState

__getattr__, __dir__ = attach(__name__, _EXPORTS)


def _keep_functions() -> None:
    """``retry``, ``retry_context`` and ``fallback`` name both a submodule and an exported
    function; importing the submodule must not replace the function on the package (as the
    eager imports ensured)."""
    import sys
    import types

    class _Package(types.ModuleType):
        def __setattr__(self, name: str, value: object) -> None:
            if name in _EXPORTS and isinstance(value, types.ModuleType):
                return  # the import system binding the submodule: keep (or load) the function
            super().__setattr__(name, value)

    sys.modules[__name__].__class__ = _Package


_keep_functions()

__all__ = sorted(_EXPORTS)

"""The one error tree of swfast.

Every exception swfast raises on purpose derives from :class:`SwfastError`; leaves also derive
from the natural builtin, so ``except ValueError`` keeps working for callers who do not know
swfast. Leaves carry data (the argument name, the key, the remaining wait) rather than only text.
"""
from __future__ import annotations


class SwfastError(Exception):
    """Root of every error swfast raises on purpose."""


class ConfigurationError(SwfastError, ValueError):
    """A constructor or ``configure`` argument is invalid.

    Attributes:
        param: name of the offending argument.
    """

    def __init__(self, param: str, message: str) -> None:
        super().__init__(f"{param}: {message}")
        self.param = param


class ValidationError(SwfastError, ValueError):
    """Input data failed validation.

    Attributes:
        path: where in the data the failure is (``"payload.priority"``), ``""`` for the root.
        keyword: the rule that failed (``"type"``, ``"enum"``, ...), if known.
    """

    def __init__(self, message: str, *, path: str = "", keyword: str = "") -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.keyword = keyword


class SchemaError(SwfastError, ValueError):
    """A schema itself is invalid or uses a keyword swfast does not support."""


class CacheError(SwfastError):
    """Base of cache errors."""


class CacheKeyError(CacheError, TypeError):
    """A cache key has the wrong type (for example an unhashable one)."""


class CacheValueTooLarge(CacheError, ValueError):
    """A key or value is larger than the configured limit; nothing was written.

    Attributes:
        size: size of the rejected item in bytes (or units of ``sizeof``).
        limit: the configured limit.
    """

    def __init__(self, message: str, *, size: int = 0, limit: int = 0) -> None:
        super().__init__(message)
        self.size = size
        self.limit = limit


class ServiceUnavailable(SwfastError, ConnectionError):
    """A backing service (Redis, Kafka, a GPU) cannot be reached."""


class ResilienceError(SwfastError):
    """Base of resilience errors."""


class CircuitOpenError(ResilienceError):
    """The circuit breaker is open; the protected function was not called.

    Attributes:
        name: the breaker's name.
        remaining: seconds until the breaker will admit a probe (0 when forced open).
    """

    def __init__(self, name: str, remaining: float) -> None:
        super().__init__(f"circuit {name!r} is open; retry in {remaining:.3f}s")
        self.name = name
        self.remaining = remaining


class RetryError(ResilienceError):
    """Retries were exhausted.

    Attributes:
        attempts: how many attempts ran.
        last_error: the exception of the last attempt (also ``__cause__``).
    """

    def __init__(self, message: str, *, attempts: int, last_error: BaseException | None) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.last_error = last_error


class RateLimitExceeded(ResilienceError):
    """A rate limiter refused the request within the allowed wait."""


class SecurityError(SwfastError):
    """Base of security errors."""


class InvalidToken(SecurityError, ValueError):
    """A token is malformed, expired, or fails verification."""


class IntegrityError(SecurityError, ValueError):
    """Ciphertext or data failed its integrity check."""


class KeyNotFound(SecurityError, KeyError):
    """No key with that id is in the key ring (possibly retired)."""


class AuthenticationError(SecurityError):
    """Authentication failed."""


class PermissionDenied(SecurityError, PermissionError):
    """The subject lacks the permission."""


class UnsupportedVersion(IntegrityError):
    """An envelope or token carries a format version this build does not know."""


class UnknownKeyId(KeyNotFound, IntegrityError):
    """A ciphertext or token names a key id absent from the key ring (unknown or retired).

    Attributes:
        key_id: the key id that was looked up.
    """

    def __init__(self, key_id: object, message: str = "") -> None:
        super().__init__(message or f"key id {key_id!r} is not in the key ring (unknown or retired)")
        self.key_id = key_id

    def __str__(self) -> str:
        return str(self.args[0])


class KeyExhausted(SecurityError, RuntimeError):
    """A key reached its usage limit (2**32 AES-GCM encryptions); rotate the key ring."""


class TokenRevoked(InvalidToken):
    """The token (or its refresh family) was revoked."""


class TokenReuseDetected(TokenRevoked):
    """A rotated refresh token was presented again; its whole family is now revoked."""


class AccountLocked(AuthenticationError):
    """Too many failed attempts: the user is throttled until ``retry_after`` seconds pass.

    Attributes:
        retry_after: seconds until attempts are accepted again.
    """

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SessionExpired(AuthenticationError):
    """The session is unknown, revoked, or past its idle or absolute timeout."""


class UnknownAuthMethod(SecurityError, LookupError):
    """No authentication method is registered under that name."""


class RoleCycleError(SecurityError, ValueError):
    """A role inheritance would create a cycle (roles form a partial order)."""


class MessagingError(SwfastError):
    """Base of messaging errors."""


class NotConnected(MessagingError, ConnectionError):
    """The messaging service is not connected (never connected, or already disconnected)."""


class BrokerUnavailable(MessagingError, ServiceUnavailable):
    """The Kafka cluster cannot be reached.

    Attributes:
        bootstrap_servers: the servers that were tried.
    """

    def __init__(self, message: str, *, bootstrap_servers: str = "") -> None:
        super().__init__(message)
        self.bootstrap_servers = bootstrap_servers


class KafkaDeliveryError(MessagingError):
    """A message was not delivered (the broker or the client reported a failure).

    Attributes:
        code: the client's error name (``"_MSG_TIMED_OUT"``, ``"MSG_SIZE_TOO_LARGE"``, ...).
        topic: the destination topic.
    """

    def __init__(self, message: str, *, code: str = "", topic: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.topic = topic


class ResourceError(SwfastError):
    """Base of resource-management errors."""


class ShapeError(SwfastError, ValueError):
    """An array is empty or array shapes do not fit together.

    Attributes:
        shapes: the offending shapes, in argument order.
    """

    def __init__(self, message: str, *, shapes: tuple[tuple[int, ...], ...] = ()) -> None:
        super().__init__(message)
        self.shapes = shapes


def describe_type(value: object) -> str:
    """Return the qualified type name of ``value`` for error messages."""
    t = type(value)
    mod = t.__module__
    return t.__qualname__ if mod == "builtins" else f"{mod}.{t.__qualname__}"



# --- resources ---
class BudgetExceeded(ResourceError):
    """A lease does not fit its budget; nothing was reserved.

    Attributes:
        budget: the budget's name (``"cpu"``, ``"memory"``, ``"gpu:0"``, ...).
        requested: the amount asked for (CPUs or bytes).
        available: what the budget had left.
        capacity: the budget's total.
        owner: who asked.
        owner_held: what ``owner`` already holds from the budget.
    """

    def __init__(self, budget: str, requested: float, available: float, capacity: float,
                 owner: str, owner_held: float, unit: str = "") -> None:
        u = f" {unit}" if unit else ""

        def n(v: float) -> str:
            return f"{int(v)}" if float(v).is_integer() else f"{v:g}"
        super().__init__(
            f"{budget}: {owner!r} asked for {n(requested)}{u} but only {n(available)}{u} of "
            f"{n(capacity)}{u} is free ({owner!r} already holds {n(owner_held)}{u}); release "
            f"leases, ask for less, or raise the budget")
        self.budget = budget
        self.requested = requested
        self.available = available
        self.capacity = capacity
        self.owner = owner
        self.owner_held = owner_held


class NoGPUError(ResourceError):
    """No usable GPU: CuPy or NVML is missing, or no device is visible (CPU paths keep working)."""

__all__ = [
    "AccountLocked",
    "AuthenticationError",
    "BrokerUnavailable",
    "BudgetExceeded",
    "CacheError",
    "CacheKeyError",
    "CacheValueTooLarge",
    "CircuitOpenError",
    "ConfigurationError",
    "IntegrityError",
    "InvalidToken",
    "KafkaDeliveryError",
    "KeyExhausted",
    "KeyNotFound",
    "MessagingError",
    "NoGPUError",
    "NotConnected",
    "PermissionDenied",
    "RateLimitExceeded",
    "ResilienceError",
    "ResourceError",
    "RetryError",
    "RoleCycleError",
    "SchemaError",
    "SecurityError",
    "ServiceUnavailable",
    "SessionExpired",
    "ShapeError",
    "SwfastError",
    "TokenReuseDetected",
    "TokenRevoked",
    "UnknownAuthMethod",
    "UnknownKeyId",
    "UnsupportedVersion",
    "ValidationError",
    "describe_type",
]


# --- monitoring ---
class MonitoringError(SwfastError):
    """A monitoring component was misused (unknown metric, conflicting kinds)."""


class MetricNotFound(MonitoringError, LookupError):
    """``get_metric`` was asked for a name (or labels) nothing was recorded under."""

    def __init__(self, name: str, message: str = "") -> None:
        self.name = name
        super().__init__(message or f"name: no metric {name!r} has been recorded; record it first "
                                    f"with collect_metric({name!r}, value)")

__all__ += ["MetricNotFound", "MonitoringError"]

# --- logging ---
class LoggingError(SwfastError):
    """Base of swfast.logging errors (raised at configuration time; run-time failures are counted drops)."""


class LogFileInUse(LoggingError, OSError):
    """Another process already writes this log file: route its records through one writer instead."""


# --- cache serialization (issue 10, defect 9) ---
class CacheSerializationError(CacheError, TypeError):
    """A value cannot be stored in L2/L3 so that it reads back unchanged; nothing was written.

    Attributes:
        where: the offending element inside the value, e.g. ``"[2]['a']: tuple"``.
    """

    def __init__(self, message: str, *, where: str = "") -> None:
        super().__init__(message)
        self.where = where


__all__ += ["CacheSerializationError"]

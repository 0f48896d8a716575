"""Per-user throttling of failed attempts (RFC 4226 §7.3, OWASP authentication guidance).

After ``max_failures`` failures within ``window_s`` the user is locked for ``lockout_s``: checks
raise :class:`~swfast.errors.AccountLocked` with the remaining wait, and the lockout is logged as
a ``lockout`` security event. Counts are per user, not per session or client, so rotating
sessions does not reset them.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import deque
from typing import Any, Callable

from .._durations import Duration, seconds
from ..errors import AccountLocked, ConfigurationError
from .events import security_event


class FailureThrottle:
    """Failure counter with lockout. Thread-safe.

    Args:
        clock: wall clock in seconds (injected in tests).
        max_failures: failures that trigger a lockout.
        window_s: how far back failures count (seconds, a ``timedelta`` or a string like ``"5m"``).
        lockout_s: lockout duration (same forms).
        reason: label for the lockout event (``"mfa_failures"``, ``"password_failures"``).
    """

    def __init__(
        self, *, clock: Callable[[], float] = time.time, max_failures: int = 5, window_s: Duration = 300.0,
        lockout_s: Duration = 300.0, reason: str = "failures",
    ) -> None:
        if max_failures < 1:
            raise ConfigurationError("max_failures", "must be >= 1")
        self._clock = clock
        self.window_s: float = seconds(window_s, param="window_s", allow_zero=False)  # type: ignore[assignment]
        self.lockout_s: float = seconds(lockout_s, param="lockout_s", allow_zero=False)  # type: ignore[assignment]
        self.max_failures, self.reason = max_failures, reason
        self._lock = threading.Lock()
        self._failures: dict[Any, deque[float]] = {}
        self._locked_until: dict[Any, float] = {}

    def check(self, user: Any) -> None:
        """Raise ``AccountLocked`` while ``user`` is locked out."""
        now = self._clock()
        until = self._locked_until.get(user)
        if until is not None:
            if now < until:
                security_event("lockout", "refused", user=user, level=logging.WARNING, reason=self.reason)
                raise AccountLocked(f"too many failed attempts; retry in {until - now:.0f}s", retry_after=until - now)
            with self._lock:
                self._locked_until.pop(user, None)

    def failure(self, user: Any) -> bool:
        """Count a failure; True when it locked the user out."""
        now = self._clock()
        with self._lock:
            failures = self._failures.setdefault(user, deque())
            failures.append(now)
            while failures and failures[0] <= now - self.window_s:
                failures.popleft()
            if len(failures) < self.max_failures:
                return False
            self._locked_until[user] = now + self.lockout_s
            del self._failures[user]
        security_event("lockout", "locked", user=user, level=logging.WARNING, reason=self.reason)
        return True

    def success(self, user: Any) -> None:
        """Forget the user's failures after a successful attempt."""
        with self._lock:
            self._failures.pop(user, None)

    def reset(self, user: Any) -> None:
        """Clear failures and any lockout (an administrator unlock)."""
        with self._lock:
            self._failures.pop(user, None)
            self._locked_until.pop(user, None)


__all__ = ["FailureThrottle"]

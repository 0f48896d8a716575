"""Server-side sessions with idle and absolute timeouts (OWASP Session Management).

Ids are 256 random bits from :mod:`secrets` (base64url). A new id is issued at login
(:meth:`SessionManager.create`) and at every privilege change (:meth:`SessionManager.regenerate`,
which invalidates the old id: the session-fixation defence). A session expires after
``idle_timeout_s`` without use or ``absolute_timeout_s`` after creation, whichever is first.
"""
from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable

from .._durations import Duration, seconds
from ..errors import ConfigurationError, SessionExpired
from .events import security_event


@dataclass(frozen=True)
class Session:
    """One session; the id is a bearer secret, so ``repr`` shows only its first characters."""

    session_id: str = field(repr=False)
    user: Any
    created_at: float
    last_seen: float
    data: "dict[str, Any]" = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"Session(id={self.session_id[:6]}..., created_at={self.created_at}, last_seen={self.last_seen})"


class SessionManager:
    """Create, look up, regenerate, list and revoke sessions. Thread-safe.

    Args:
        clock: wall clock in seconds (a fake clock in tests).
        idle_timeout_s: inactivity limit (seconds, a ``timedelta`` or a string like ``"30m"``).
        absolute_timeout_s: lifetime limit from creation (same forms, e.g. ``"12h"``).
        id_bytes: random bytes per id (>= 16, i.e. 128 bits).
    """

    def __init__(
        self, *, clock: Callable[[], float] = time.time, idle_timeout_s: Duration = 1800.0,
        absolute_timeout_s: Duration = 12 * 3600.0, id_bytes: int = 32,
    ) -> None:
        if id_bytes < 16:
            raise ConfigurationError("id_bytes", "session ids need at least 16 random bytes (128 bits)")
        self._clock = clock
        self.idle_timeout_s: float = seconds(idle_timeout_s, param="idle_timeout_s", allow_zero=False)  # type: ignore[assignment]
        self.absolute_timeout_s: float = seconds(  # type: ignore[assignment]
            absolute_timeout_s, param="absolute_timeout_s", allow_zero=False)
        self._id_bytes = id_bytes
        self._lock = threading.Lock()
        self._sessions: dict[str, Session] = {}
        self._by_user: dict[Any, dict[str, None]] = {}  # insertion-ordered id sets

    def _new_id(self) -> str:
        while True:
            sid = secrets.token_urlsafe(self._id_bytes)
            if sid not in self._sessions:
                return sid

    def create(self, user: Any, **data: Any) -> Session:
        """Start a session for ``user`` (at login) with a fresh id."""
        now = self._clock()
        with self._lock:
            session = Session(self._new_id(), user, now, now, dict(data))
            self._sessions[session.session_id] = session
            self._by_user.setdefault(user, {})[session.session_id] = None
        security_event("session", "created", user=user)
        return session

    def _expired(self, session: Session, now: float) -> bool:
        return now - session.last_seen >= self.idle_timeout_s or now - session.created_at >= self.absolute_timeout_s

    def _drop(self, sid: str) -> "Session | None":
        session = self._sessions.pop(sid, None)
        if session is not None:
            ids = self._by_user.get(session.user)
            if ids is not None:
                ids.pop(sid, None)
                if not ids:
                    del self._by_user[session.user]
        return session

    def get(self, session_id: str, *, touch: bool = True) -> Session:
        """Return the live session and refresh its idle timer.

        Raises:
            SessionExpired: unknown, revoked or timed out (expired sessions are removed).
        """
        now = self._clock()
        with self._lock:
            session = self._sessions.get(session_id) if isinstance(session_id, str) else None
            if session is None:
                raise SessionExpired("session: unknown or revoked")
            if self._expired(session, now):
                self._drop(session_id)
                security_event("session", "expired", user=session.user)
                raise SessionExpired("session: expired")
            if touch:
                session = replace(session, last_seen=now)
                self._sessions[session_id] = session
            return session

    def regenerate(self, session_id: str, **data: Any) -> Session:
        """Issue a new id for a live session (privilege change); the old id stops working."""
        self.get(session_id, touch=False)
        now = self._clock()
        with self._lock:
            old = self._drop(session_id)
            if old is None:
                raise SessionExpired("session: unknown or revoked")
            session = Session(self._new_id(), old.user, old.created_at, now, {**old.data, **data})
            self._sessions[session.session_id] = session
            self._by_user.setdefault(old.user, {})[session.session_id] = None
        security_event("session", "regenerated", user=old.user)
        return session

    def revoke(self, session_id: str) -> bool:
        """End one session (logout); True when it existed."""
        with self._lock:
            session = self._drop(session_id)
        if session is not None:
            security_event("session", "revoked", user=session.user)
        return session is not None

    def list_sessions(self, user: Any) -> list[Session]:
        """The user's live sessions (expired ones are purged), in the order their ids were issued."""
        now = self._clock()
        with self._lock:
            out = []
            for sid in list(self._by_user.get(user, ())):
                session = self._sessions[sid]
                if self._expired(session, now):
                    self._drop(sid)
                else:
                    out.append(session)
        return out

    def revoke_user(self, user: Any) -> int:
        """End every session of ``user`` (password change, compromise); returns how many."""
        with self._lock:
            ids = list(self._by_user.get(user, ()))
            for sid in ids:
                self._drop(sid)
        security_event("session", "revoked_all", user=user, count=len(ids))
        return len(ids)

    def manage_sessions(self, action: str, **kwargs: Any) -> Any:
        """Dispatch ``create``/``get``/``regenerate``/``revoke``/``list``/``revoke_user``."""
        actions: dict[str, Callable[..., Any]] = {
            "create": self.create, "get": self.get, "regenerate": self.regenerate,
            "revoke": self.revoke, "list": self.list_sessions, "revoke_user": self.revoke_user,
        }
        fn = actions.get(action)
        if fn is None:
            raise ConfigurationError("action", f"must be one of {sorted(actions)}")
        return fn(**kwargs)

    def __len__(self) -> int:
        return len(self._sessions)


__all__ = ["Session", "SessionManager"]

"""Authentication manager with pluggable methods, MFA and sessions.

A method is any callable ``method(credentials) -> user id or None`` registered under a name;
password, token and API-key methods ship here. Fail closed: an unknown method raises
:class:`~swfast.errors.UnknownAuthMethod`, and a method that returns nothing or raises makes
authentication fail with :class:`~swfast.errors.AuthenticationError`. Every attempt is a
security event (pseudonymous user, no secrets). With a :class:`TOTPVerifier`, enrolled users
must also pass an ``otp`` code. A successful login starts a session with a fresh id.
"""
from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional

from ..errors import AuthenticationError, ConfigurationError, InvalidToken, UnknownAuthMethod
from .events import security_event
from .passwords import PasswordHasher
from .sessions import Session, SessionManager
from .throttle import FailureThrottle

AuthMethod = Callable[[Mapping[str, Any]], Optional[Any]]


@dataclass(frozen=True)
class AuthResult:
    """Outcome of a successful :meth:`AuthManager.authenticate`."""

    user: Any
    method: str
    session: "Session | None" = None
    claims: "dict[str, Any]" = field(default_factory=dict)


class PasswordAuth:
    """``{"username", "password"}`` against stored Argon2id PHC hashes.

    Args:
        hasher: the password hasher.
        lookup: ``user -> PHC string or None``.
        update: ``(user, new_phc)`` called to upgrade a hash below policy after a good login.
    """

    def __init__(self, hasher: PasswordHasher, lookup: Callable[[Any], "str | None"],
                 update: "Callable[[Any, str], None] | None" = None) -> None:
        self.hasher, self.lookup, self.update = hasher, lookup, update

    def __call__(self, credentials: Mapping[str, Any]) -> Any:
        user, password = credentials.get("username"), credentials.get("password")
        if user is None or password is None:
            return None
        stored = self.lookup(user)
        if stored is None:
            return self.hasher.verify_unknown_user(password) or None
        if not self.hasher.verify(stored, password):
            return None
        if self.update is not None and self.hasher.needs_rehash(stored):
            self.update(user, self.hasher.hash(password))
            security_event("password", "rehashed", user=user)
        return user


class TokenAuth:
    """``{"token"}``: a bearer access token verified by a :class:`TokenManager`."""

    def __init__(self, tokens: Any) -> None:
        self.tokens = tokens

    def __call__(self, credentials: Mapping[str, Any]) -> Any:
        token = credentials.get("token")
        if token is None:
            return None
        try:
            claims = self.tokens.validate_token(token)
        except InvalidToken:
            return None
        return claims.get("sub")


class ApiKeyAuth:
    """``{"api_key"}``: keys are stored only as SHA-256 digests (high-entropy keys need no KDF)."""

    def __init__(self) -> None:
        self._digests: dict[bytes, Any] = {}

    @staticmethod
    def _digest(api_key: str) -> bytes:
        return hashlib.sha256(b"swfast-api-key\x00" + api_key.encode("utf-8", "surrogatepass")).digest()

    def add_key(self, user: Any) -> str:
        """Create a random API key for ``user``; it is returned once and only its digest is kept."""
        import secrets

        api_key = "swk_" + secrets.token_urlsafe(32)
        self._digests[self._digest(api_key)] = user
        return api_key

    def revoke_key(self, api_key: str) -> bool:
        """Forget a key; True when it existed."""
        return self._digests.pop(self._digest(api_key), None) is not None

    def __call__(self, credentials: Mapping[str, Any]) -> Any:
        api_key = credentials.get("api_key")
        if not isinstance(api_key, str) or len(api_key) > 256:
            return None
        return self._digests.get(self._digest(api_key))


class AuthManager:
    """``authenticate``/``verify_token``/``manage_sessions`` over pluggable methods. Thread-safe.

    Args:
        sessions: session manager (one with defaults when omitted).
        tokens: token manager used by :meth:`verify_token` (and the ``"token"`` method).
        mfa: a TOTP verifier; enrolled users must pass ``credentials["otp"]``.
        throttle: per-user lockout after repeated failures, keyed by ``credentials["username"]``
            (5 failures in 5 minutes lock for 5 minutes by default; ``None`` disables it).
        clock: wall clock for the default session manager and throttle (injected in tests).
    """

    _DEFAULT: Any = object()

    def __init__(
        self, *, sessions: "SessionManager | None" = None, tokens: Any = None, mfa: Any = None,
        throttle: Any = _DEFAULT, clock: Callable[[], float] = time.time,
    ) -> None:
        self.sessions = sessions if sessions is not None else SessionManager(clock=clock)
        self.tokens = tokens
        self.mfa = mfa
        self.throttle: "FailureThrottle | None" = (
            FailureThrottle(clock=clock, reason="auth_failures") if throttle is AuthManager._DEFAULT else throttle
        )
        self._methods: dict[str, AuthMethod] = {}
        if tokens is not None:
            self.register_method("token", TokenAuth(tokens))

    def register_method(self, name: str, method: AuthMethod) -> None:
        """Register ``method`` under ``name`` (replacing any previous one)."""
        if not isinstance(name, str) or not name or not callable(method):
            raise ConfigurationError("method", "need a non-empty name and a callable method")
        self._methods[name] = method

    def methods(self) -> list[str]:
        """Registered method names."""
        return sorted(self._methods)

    def authenticate(self, method: str, credentials: Mapping[str, Any], *, create_session: bool = True) -> AuthResult:
        """Authenticate with the named method; returns the user and a new session.

        Raises:
            UnknownAuthMethod: no method has that name.
            AccountLocked: the user is throttled after repeated password or MFA failures.
            AuthenticationError: anything else (wrong credentials, missing OTP, a failing method).
        """
        fn = self._methods.get(method)
        if fn is None:
            security_event("auth", "unknown_method", level=logging.WARNING, method=str(method)[:32])
            raise UnknownAuthMethod(f"method: unknown authentication method {method!r}; registered: {self.methods()}")
        claimed = credentials.get("username")
        throttle = self.throttle if claimed is not None else None
        if throttle is not None:
            throttle.check(claimed)
        try:
            user = fn(credentials)
        except Exception as exc:  # noqa: BLE001 - fail closed on any method error
            security_event("auth", "error", level=logging.WARNING, method=method, error=type(exc).__name__)
            self._failed(throttle, claimed)
            raise AuthenticationError("authentication failed") from None
        if user is None:
            security_event("auth", "failure", user=claimed, method=method, level=logging.WARNING)
            self._failed(throttle, claimed)
            raise AuthenticationError("authentication failed")
        if self.mfa is not None and self.mfa.is_enrolled(user):
            code = credentials.get("otp")
            if not (isinstance(code, str) and self.mfa.verify(user, code)):  # AccountLocked propagates
                security_event("auth", "mfa_failure", user=user, method=method, level=logging.WARNING)
                raise AuthenticationError("authentication failed")
        if throttle is not None:
            throttle.success(claimed)
        security_event("auth", "success", user=user, method=method)
        session = self.sessions.create(user) if create_session else None
        return AuthResult(user, method, session)

    @staticmethod
    def _failed(throttle: "FailureThrottle | None", claimed: Any) -> None:
        if throttle is not None:
            throttle.failure(claimed)

    def verify_token(self, token: "str | bytes") -> dict[str, Any]:
        """Validate an access token and return its claims (raises ``InvalidToken``)."""
        if self.tokens is None:
            raise ConfigurationError("tokens", "AuthManager was built without a TokenManager")
        return self.tokens.validate_token(token)  # type: ignore[no-any-return]

    def change_privileges(self, session_id: str, **data: Any) -> Session:
        """Record a privilege change (role granted, MFA step-up) under a new session id.

        The old id stops working (session-fixation defence, OWASP); ``data`` is merged into the
        session's data.

        Raises:
            SessionExpired: the session is unknown, revoked or timed out.
        """
        session = self.sessions.regenerate(session_id, **data)
        security_event("auth", "privilege_change", user=session.user)
        return session

    def manage_sessions(self, action: str, **kwargs: Any) -> Any:
        """Delegate to :meth:`SessionManager.manage_sessions`."""
        return self.sessions.manage_sessions(action, **kwargs)


__all__ = ["ApiKeyAuth", "AuthManager", "AuthMethod", "AuthResult", "PasswordAuth", "TokenAuth"]

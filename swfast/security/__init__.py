"""Security: tokens, authentication, sessions, MFA, passwords, RBAC, encryption and keys.

Names load lazily on first access, so ``import swfast.security`` imports neither
``cryptography`` nor ``redis``; each module imports them inside the classes that need them.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "ApiKeyAuth": "auth",
    "AuthManager": "auth",
    "AuthResult": "auth",
    "Argon2Params": "passwords",
    "DataEncryptor": "encryption",
    "Ed25519Key": "signing",
    "FailureThrottle": "throttle",
    "HMACKey": "signing",
    "KeyRing": "keys",
    "KeySet": "signing",
    "MemoryRevocationStore": "revocation",
    "OWASP_ARGON2": "passwords",
    "PasswordAuth": "auth",
    "PasswordHasher": "passwords",
    "RBAC": "rbac",
    "RedisRevocationStore": "revocation",
    "SecretBytes": "secret",
    "Session": "sessions",
    "SessionManager": "sessions",
    "TOTPVerifier": "mfa",
    "TokenAuth": "auth",
    "TokenManager": "tokens",
    "TokenPair": "tokens",
    "hotp": "mfa",
    "provisioning_uri": "mfa",
    "pseudonym": "events",
    "security_event": "events",
    "totp": "mfa",
    "wipe": "secret",
}

if TYPE_CHECKING:  # pragma: no cover
    from .auth import ApiKeyAuth, AuthManager, AuthResult, PasswordAuth, TokenAuth
    from .encryption import DataEncryptor
    from .events import pseudonym, security_event
    from .keys import KeyRing
    from .mfa import TOTPVerifier, hotp, provisioning_uri, totp
    from .passwords import OWASP_ARGON2, Argon2Params, PasswordHasher
    from .rbac import RBAC
    from .revocation import MemoryRevocationStore, RedisRevocationStore
    from .secret import SecretBytes, wipe
    from .sessions import Session, SessionManager
    from .signing import Ed25519Key, HMACKey, KeySet
    from .throttle import FailureThrottle
    from .tokens import TokenManager, TokenPair


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'swfast.security' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


__all__ = sorted(_EXPORTS)

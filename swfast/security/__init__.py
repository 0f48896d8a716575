"""Security: tokens, authentication, sessions, MFA, passwords, RBAC, encryption and keys.

Names load lazily on first access, so ``import swfast.security`` imports neither
``cryptography`` nor ``redis``; each module imports them inside the classes that need them.
"""
from __future__ import annotations

TYPE_CHECKING = False  # keep typing off the import path

from .._lazy import attach

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
    from .auth import ApiKeyAuth as ApiKeyAuth
    from .auth import AuthManager as AuthManager
    from .auth import AuthResult as AuthResult
    from .auth import PasswordAuth as PasswordAuth
    from .auth import TokenAuth as TokenAuth
    from .encryption import DataEncryptor as DataEncryptor
    from .events import pseudonym as pseudonym
    from .events import security_event as security_event
    from .keys import KeyRing as KeyRing
    from .mfa import TOTPVerifier as TOTPVerifier
    from .mfa import hotp as hotp
    from .mfa import provisioning_uri as provisioning_uri
    from .mfa import totp as totp
    from .passwords import OWASP_ARGON2 as OWASP_ARGON2
    from .passwords import Argon2Params as Argon2Params
    from .passwords import PasswordHasher as PasswordHasher
    from .rbac import RBAC as RBAC
    from .revocation import MemoryRevocationStore as MemoryRevocationStore
    from .revocation import RedisRevocationStore as RedisRevocationStore
    from .secret import SecretBytes as SecretBytes
    from .secret import wipe as wipe
    from .sessions import Session as Session
    from .sessions import SessionManager as SessionManager
    from .signing import Ed25519Key as Ed25519Key
    from .signing import HMACKey as HMACKey
    from .signing import KeySet as KeySet
    from .throttle import FailureThrottle as FailureThrottle
    from .tokens import TokenManager as TokenManager
    from .tokens import TokenPair as TokenPair

__getattr__, __dir__ = attach(__name__, _EXPORTS)


__all__ = sorted(_EXPORTS)

"""User code importing security names from their documented path (mypy --strict must pass)."""
from __future__ import annotations

from typing import Any, assert_type

from swfast.security import (
    RBAC,
    DataEncryptor,
    HMACKey,
    KeyRing,
    KeySet,
    PasswordHasher,
    SessionManager,
    TokenManager,
    TokenPair,
    TOTPVerifier,
)


def issue(manager: TokenManager, subject: str) -> TokenPair:
    return manager.issue_tokens(subject)


def build() -> tuple[TokenManager, RBAC, DataEncryptor]:
    keys = KeySet(HMACKey.generate("k1"))
    manager = TokenManager(keys, algorithms=["HS256"], issuer="me", audience="api")
    claims = manager.validate_token(issue(manager, "u").access)
    assert_type(claims, dict[str, Any])
    rbac = RBAC()
    allowed: bool = rbac.check_permission("u", "read")
    ring = KeyRing()
    ids: list[int] = ring.generate_keys()
    assert allowed or ids
    return manager, rbac, DataEncryptor(ring)


__all__ = ["PasswordHasher", "SessionManager", "TOTPVerifier", "build"]

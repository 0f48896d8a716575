"""Security without a server: signed tokens with rotation, RBAC, authenticated encryption.

Needs the ``security`` extra (``pip install "swfast[security]"``: cryptography, orjson).
Run: ``python examples/security.py``
"""
from __future__ import annotations

from swfast.errors import IntegrityError
from swfast.security import RBAC, DataEncryptor, HMACKey, KeyRing, KeySet, TokenManager


def main() -> None:
    # Tokens: HS256 under a key id; validation checks signature, iss, aud, exp/nbf/iat, token use.
    keys = KeySet(HMACKey.generate("2026-01"))
    tokens = TokenManager(keys, algorithms=["HS256"], issuer="swfast-example", audience="model-api")
    pair = tokens.issue_tokens("user-42", claims={"scope": "predict"})
    claims = tokens.validate_token(pair.access)
    print("subject:", claims["sub"], "scope:", claims["scope"])
    # Key rotation: a new primary signs, the old key still verifies tokens that name it.
    keys.add(HMACKey.generate("2026-02"), primary=True)
    print("old token still valid after rotation:", tokens.validate_token(pair.access)["sub"] == "user-42")
    rotated = tokens.refresh_token(pair.refresh)  # one-time refresh; reuse revokes the family
    print("refreshed:", tokens.validate_token(rotated.access)["sub"])

    # RBAC: roles inherit permissions; checks run on a compiled closure.
    rbac = RBAC()
    for role in ("viewer", "editor", "admin"):
        rbac.create_role(role)
    rbac.add_inheritance("editor", "viewer")
    rbac.add_inheritance("admin", "editor")
    rbac.grant_permission("viewer", "model:read")
    rbac.grant_permission("editor", "model:write")
    rbac.assign_role("sara", "editor")
    print("sara can read:", rbac.check_permission("sara", "model:read"),
          "| can delete:", rbac.check_permission("sara", "model:delete"))

    # Encryption: AES-256-GCM envelopes bound to their context (aad).
    ring = KeyRing()
    ring.generate_keys()
    encryptor = DataEncryptor(ring)
    sealed = encryptor.encrypt_data(b"api-secret", aad={"user": 1})
    print("decrypted:", encryptor.decrypt_data(sealed, aad={"user": 1}))
    try:
        encryptor.decrypt_data(sealed, aad={"user": 2})  # moved to another record: refused
    except IntegrityError:
        print("wrong context refused")


if __name__ == "__main__":
    main()

"""Shared fixtures and small peer adapters for the security benchmarks (asv and quick).

Peers: PyJWT (tokens), raw ``cryptography`` AESGCM and Ed25519 (the floors), pycasbin (RBAC),
argon2-cffi (passwords), and a hand-written HMAC + base64 + orjson token (the Python floor).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import random
import time
from typing import Any

SECRET = bytes(range(32))
ISSUER, AUDIENCE = "urn:bench", "api"
N_ROLES, LEVELS, N_PERMS = 1000, 10, 10_000

CASBIN_MODEL = """
[request_definition]
r = sub, obj

[policy_definition]
p = sub, obj

[role_definition]
g = _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub) && r.obj == p.obj
"""


def token_manager(alg: str = "HS256") -> Any:
    from swfast.security import Ed25519Key, HMACKey, KeySet, TokenManager

    key = HMACKey("k1", SECRET) if alg == "HS256" else Ed25519Key.generate("e1")
    return TokenManager(KeySet(key), algorithms=[alg], issuer=ISSUER, audience=AUDIENCE), key


class PyJWTAdapter:
    """PyJWT encode+decode with the equivalent checks (exp required, iss, aud)."""

    def __init__(self, alg: str, key: Any) -> None:
        import jwt

        self.jwt, self.alg = jwt, alg
        if alg == "HS256":
            self.sign_key = self.verify_key = SECRET
        else:
            self.sign_key, self.verify_key = key._private, key.public_key

    def roundtrip(self) -> dict[str, Any]:
        now = int(time.time())
        token = self.jwt.encode({"iss": ISSUER, "aud": AUDIENCE, "sub": "u1", "iat": now, "exp": now + 900,
                                 "jti": "j", "token_use": "access"}, self.sign_key, algorithm=self.alg,
                                headers={"kid": "k1"})
        return self.jwt.decode(token, self.verify_key, algorithms=[self.alg], audience=AUDIENCE, issuer=ISSUER,
                               options={"require": ["exp"]})  # type: ignore[no-any-return]


def handwritten_hs256_roundtrip() -> bytes:
    """HMAC + base64 + orjson with no checks: the Python floor for a token round trip."""
    import orjson

    header = b"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    body = base64.urlsafe_b64encode(orjson.dumps({"sub": "u1", "exp": int(time.time()) + 900})).rstrip(b"=")
    msg = header + b"." + body
    sig = base64.urlsafe_b64encode(hmac.digest(SECRET, msg, "sha256")).rstrip(b"=")
    token = msg + b"." + sig
    h, p, s = token.split(b".")
    expected = base64.urlsafe_b64encode(hmac.digest(SECRET, h + b"." + p, "sha256")).rstrip(b"=")
    assert hmac.compare_digest(expected, s)
    return orjson.loads(base64.urlsafe_b64decode(p + b"=" * (-len(p) % 4)))  # type: ignore[no-any-return]


def raw_ed25519() -> Any:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    private = Ed25519PrivateKey.generate()
    public = private.public_key()
    msg = os.urandom(180)

    def roundtrip() -> None:
        public.verify(private.sign(msg), msg)

    return roundtrip


def raw_aesgcm(size: int = 1024) -> Any:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    aead = AESGCM(os.urandom(32))
    data = os.urandom(size)

    def roundtrip() -> bytes:
        nonce = os.urandom(12)
        return aead.decrypt(nonce, aead.encrypt(nonce, data, b"ctx"), b"ctx")

    return roundtrip


def rbac_policy(seed: int = 1) -> tuple[list[tuple[str, str]], list[tuple[str, str]], str, str]:
    """1000 roles in 10 levels, each inheriting one role of the next level; 10 permissions per role.

    Returns (inheritance edges child->parent, grants role->perm, user's role, a permission the
    user holds through the deepest level).
    """
    rng = random.Random(seed)
    per_level = N_ROLES // LEVELS
    levels = [[f"role{lvl}_{i}" for i in range(per_level)] for lvl in range(LEVELS)]
    edges = [(role, rng.choice(levels[lvl + 1])) for lvl in range(LEVELS - 1) for role in levels[lvl]]
    perms = [f"perm:{i}" for i in range(N_PERMS)]
    grants = [(role, perms[(lvl * per_level + i) * (N_PERMS // N_ROLES) + j])
              for lvl in range(LEVELS) for i, role in enumerate(levels[lvl]) for j in range(N_PERMS // N_ROLES)]
    user_role = levels[0][0]
    chain = [user_role]
    parents = dict(edges)
    while chain[-1] in parents:
        chain.append(parents[chain[-1]])
    deep_role = chain[LEVELS - 2]  # 8 inheritance levels above the user's role (casbin's limit is 10)
    target = next(p for r, p in grants if r == deep_role)
    return edges, grants, user_role, target


def swfast_rbac(index: Any = None) -> Any:
    from swfast.security import RBAC

    edges, grants, user_role, target = rbac_policy()
    rbac = RBAC(max_depth=LEVELS, index=index)
    for child, parent in edges:
        rbac.add_inheritance(child, parent)
    for role, perm in grants:
        rbac.grant_permission(role, perm)
    rbac.assign_role("alice", user_role)
    assert rbac.check_permission("alice", target) and not rbac.check_permission("alice", "perm:missing")
    return rbac, target


def casbin_enforcer() -> Any:
    import logging

    import casbin

    logging.getLogger("casbin").setLevel(logging.WARNING)
    edges, grants, user_role, target = rbac_policy()
    model = casbin.Model()
    model.load_model_from_text(CASBIN_MODEL)
    enforcer = casbin.Enforcer(model, enable_log=False)
    enforcer.add_grouping_policies([[c, p] for c, p in edges] + [["alice", user_role]])
    enforcer.add_policies([[r, p] for r, p in grants])
    assert enforcer.enforce("alice", target) and not enforcer.enforce("alice", "perm:missing")
    return enforcer, target


def owasp_argon2_cffi() -> Any:
    import argon2

    return argon2.PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1, hash_len=32, salt_len=16)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class JoserfcAdapter:
    """joserfc HS256 encode + decode + claims validation (exp essential, iss, aud)."""

    def __init__(self) -> None:
        import warnings

        from joserfc import jwt
        from joserfc.jwk import OctKey

        warnings.filterwarnings("ignore", module="joserfc")
        self.jwt = jwt
        self.key = OctKey.import_key(SECRET)
        self.registry = jwt.JWTClaimsRegistry(
            exp={"essential": True}, iss={"essential": True, "value": ISSUER},
            aud={"essential": True, "value": AUDIENCE},
        )

    def roundtrip(self) -> dict[str, Any]:
        now = int(time.time())
        token = self.jwt.encode({"alg": "HS256", "kid": "k1"}, {"iss": ISSUER, "aud": AUDIENCE, "sub": "u1",
                                "iat": now, "exp": now + 900, "jti": "j", "token_use": "access"}, self.key)
        decoded = self.jwt.decode(token, self.key)
        self.registry.validate(decoded.claims)
        return decoded.claims  # type: ignore[no-any-return]


def pyotp_now() -> Any:
    import pyotp

    totp = pyotp.TOTP(base64.b32encode(SECRET[:20]).decode())
    return totp.now


def multifernet_rotate() -> Any:
    from cryptography.fernet import Fernet, MultiFernet

    old, new = Fernet(Fernet.generate_key()), Fernet(Fernet.generate_key())
    token = old.encrypt(os.urandom(1024))
    rotator = MultiFernet([new, old])
    return lambda: rotator.rotate(token)

"""Outside clients as references for the security area: PyJWT and joserfc (both directions,
HS256, EdDSA and the RFC 9864 ``Ed25519`` name, and the same verdict on non-canonical
base64url spellings), pyotp for HOTP/TOTP, argon2-cffi for Argon2id PHC strings."""
from __future__ import annotations

import base64
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from _security_helpers import NOW, FakeClock  # noqa: E402

from swfast.errors import InvalidToken
from swfast.security import Ed25519Key, HMACKey, KeySet, PasswordHasher, TokenManager
from swfast.security.mfa import hotp, provisioning_uri, totp
from swfast.security.passwords import Argon2Params

jwt = pytest.importorskip("jwt")
joserfc_jwt = pytest.importorskip("joserfc.jwt")
joserfc_jwk = pytest.importorskip("joserfc.jwk")
SECRET = bytes(range(32))
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _manager(key: "HMACKey | Ed25519Key", algorithms: "list[str]") -> TokenManager:
    return TokenManager(KeySet(key), algorithms=algorithms, issuer="urn:i", audience="api", clock=FakeClock())


def _claims() -> dict:
    return {"iss": "urn:i", "aud": "api", "sub": "u1", "iat": int(NOW), "exp": int(NOW) + 600, "big": 2**80}


def _respell(segment: str) -> list[str]:
    tail = len(segment) % 4
    if tail not in (2, 3):
        return []
    free = 15 if tail == 2 else 3
    base = _ALPHABET.index(segment[-1]) & ~free
    return [segment[:-1] + _ALPHABET[base | x] for x in range(free + 1) if _ALPHABET[base | x] != segment[-1]]


def _variants(token: str) -> list[str]:
    parts = token.split(".")
    return [".".join(parts[:i] + [seg] + parts[i + 1:]) for i in range(3) for seg in _respell(parts[i])]


def _joserfc_key(key: "HMACKey | Ed25519Key"):  # type: ignore[no-untyped-def]
    if isinstance(key, HMACKey):
        return joserfc_jwk.OctKey.import_key(SECRET)
    from cryptography.hazmat.primitives import serialization

    pem = key._private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption())
    return joserfc_jwk.OKPKey.import_key(pem)


def _pyjwt_accepts(token: str, key: "HMACKey | Ed25519Key") -> bool:
    verify = SECRET if isinstance(key, HMACKey) else key.public_key
    try:
        jwt.decode(token, verify, algorithms=["HS256", "EdDSA"], audience="api",
                   options={"verify_exp": False, "verify_iat": False})
    except jwt.PyJWTError:
        return False
    return True


def _joserfc_accepts(token: str, key: "HMACKey | Ed25519Key", alg: str) -> bool:
    try:
        joserfc_jwt.decode(token, _joserfc_key(key), algorithms=[alg])
    except Exception:  # noqa: BLE001 - joserfc raises several error types for a bad token
        return False
    return True


KEYS = [("HS256", lambda: HMACKey("k1", SECRET)), ("EdDSA", lambda: Ed25519Key.generate("e1"))]


@pytest.mark.parametrize("alg, make", KEYS, ids=[k[0] for k in KEYS])
def test_both_directions_with_pyjwt_and_joserfc(alg: str, make) -> None:  # type: ignore[no-untyped-def]
    key = make()
    mgr = _manager(key, [alg])
    ours = mgr.generate_token("alice", claims={"big": 2**80})
    assert _pyjwt_accepts(ours, key) and _joserfc_accepts(ours, key, alg)
    verify = SECRET if alg == "HS256" else key.public_key
    assert jwt.decode(ours, verify, algorithms=[alg], audience="api",
                      options={"verify_exp": False, "verify_iat": False})["big"] == 2**80
    assert joserfc_jwt.decode(ours, _joserfc_key(key), algorithms=[alg]).claims["big"] == 2**80
    sign = SECRET if alg == "HS256" else key._private
    theirs = jwt.encode(_claims(), sign, algorithm=alg, headers={"kid": key.kid})
    assert mgr.validate_token(theirs)["big"] == 2**80
    theirs2 = joserfc_jwt.encode({"alg": alg, "kid": key.kid}, _claims(), _joserfc_key(key), algorithms=[alg])
    assert mgr.validate_token(theirs2)["big"] == 2**80


@pytest.mark.parametrize("alg, make", KEYS, ids=[k[0] for k in KEYS])
def test_non_canonical_spellings_rejected_like_the_references(alg: str, make) -> None:  # type: ignore[no-untyped-def]
    key = make()
    mgr = _manager(key, [alg])
    sign = SECRET if alg == "HS256" else key._private
    for token in (mgr.generate_token("alice", claims={"p": "x"}), mgr.generate_token("bob", claims={"p": "xy"}),
                  jwt.encode(_claims(), sign, algorithm=alg, headers={"kid": key.kid})):
        variants = _variants(token)
        assert variants
        for bad in variants:
            with pytest.raises(InvalidToken):
                mgr.validate_token(bad)
            assert not _joserfc_accepts(bad, key, alg)
            # PyJWT's verdict agrees on the signature segment (it decodes header/payload leniently)
            if bad.split(".")[2] != token.split(".")[2]:
                assert not _pyjwt_accepts(bad, key)


def test_rfc9864_ed25519_with_joserfc() -> None:
    key = Ed25519Key.generate("e1", alg="Ed25519")
    mgr = _manager(key, ["Ed25519"])
    ours = mgr.generate_token("alice")
    from joserfc.jws import JWSRegistry

    if "Ed25519" not in JWSRegistry.algorithms:
        pytest.skip("this joserfc has no RFC 9864 Ed25519 algorithm")
    assert joserfc_jwt.decode(ours, _joserfc_key(key), algorithms=["Ed25519"]).claims["sub"] == "alice"
    theirs = joserfc_jwt.encode({"alg": "Ed25519", "kid": "e1"}, _claims(), _joserfc_key(key), algorithms=["Ed25519"])
    assert mgr.validate_token(theirs)["sub"] == "u1"


# -- pyotp ----------------------------------------------------------------------------------------
def test_hotp_totp_match_pyotp() -> None:
    pyotp = pytest.importorskip("pyotp")
    import hashlib

    secret = bytes(range(1, 21))
    b32 = base64.b32encode(secret).decode()
    for algorithm, digest in (("sha1", hashlib.sha1), ("sha256", hashlib.sha256), ("sha512", hashlib.sha512)):
        for digits in (6, 8):
            ref = pyotp.HOTP(b32, digits=digits, digest=digest)
            for counter in (0, 1, 7, 2**31, 2**40 + 3):
                assert hotp(secret, counter, digits=digits, algorithm=algorithm) == ref.at(counter)
            tref = pyotp.TOTP(b32, digits=digits, digest=digest, interval=30)
            for at in (0, 59, NOW, NOW + 29.9, 2**33):
                assert totp(secret, at, digits=digits, algorithm=algorithm) == tref.at(int(at))
    uri = provisioning_uri(secret, "alice@example.com", issuer="swfast")
    parsed = pyotp.parse_uri(uri)
    assert parsed.secret == b32 and parsed.now() == totp(secret, __import__("time").time())


# -- argon2-cffi ------------------------------------------------------------------------------------
def test_argon2id_phc_interop_with_argon2_cffi() -> None:
    argon2 = pytest.importorskip("argon2")
    params = Argon2Params(memory_kib=1024, iterations=1, lanes=1)
    ours = PasswordHasher(params, policy=params)
    theirs = argon2.PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1, hash_len=32, salt_len=16,
                                   type=argon2.Type.ID)
    for password in ("correct horse", "پسورد-فارسی", ""):
        phc = ours.hash(password)
        assert theirs.verify(phc, password)
        with pytest.raises(argon2.exceptions.VerifyMismatchError):
            theirs.verify(phc, password + "x")
        other = theirs.hash(password)
        assert ours.verify(other, password) and not ours.verify(other, password + "x")

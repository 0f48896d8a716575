"""Quick security benchmarks for CI: ratios against PyJWT, raw AESGCM/Ed25519, pycasbin, argon2-cffi.

Peers: PyJWT and joserfc (tokens), raw Ed25519/AESGCM floors, pycasbin, argon2-cffi, pyotp,
MultiFernet.rotate. Goals (issue 7): HS256 generate+validate <= 9 us and >= 6x PyJWT; EdDSA within 1.2x of raw
Ed25519 sign+verify; encrypt+decrypt 1 KiB within 1.3x of raw AESGCM; check_permission
<= 500 ns with 1000 roles / 10 levels / 10000 permissions and >= 100x pycasbin's enforce.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import _security_peers as peers  # noqa: E402


def _run(benchmark, group: str, impl: str, fn, **pedantic) -> None:  # type: ignore[no-untyped-def]
    benchmark.group = group
    benchmark.extra_info["impl"] = impl
    if pedantic:
        benchmark.pedantic(fn, **pedantic)
    else:
        benchmark(fn)


@pytest.fixture
def twin_codec(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run the token manager on the pure-Python base64url twin."""
    import swfast.security.tokens as tokens
    from swfast._native import _jws_py

    monkeypatch.setattr(tokens, "b64url_encode", _jws_py.b64url_encode)
    monkeypatch.setattr(tokens, "b64url_decode", _jws_py.b64url_decode)


def _hs256_roundtrip():  # type: ignore[no-untyped-def]
    mgr, _ = peers.token_manager("HS256")
    gen, val = mgr.generate_token, mgr.validate_token
    return lambda: val(gen("u1"))


def test_hs256_swfast(benchmark) -> None:  # type: ignore[no-untyped-def]
    _run(benchmark, "security.token_hs256_gen_validate", "swfast", _hs256_roundtrip())


def test_hs256_swfast_py(benchmark, twin_codec) -> None:  # type: ignore[no-untyped-def]
    _run(benchmark, "security.token_hs256_gen_validate", "swfast-py", _hs256_roundtrip())


def test_hs256_pyjwt(benchmark) -> None:  # type: ignore[no-untyped-def]
    _run(benchmark, "security.token_hs256_gen_validate", "pyjwt", peers.PyJWTAdapter("HS256", None).roundtrip)


def test_hs256_handwritten_floor(benchmark) -> None:  # type: ignore[no-untyped-def]
    _run(benchmark, "security.token_hs256_gen_validate", "hand-hmac-b64-orjson(no checks)",
         peers.handwritten_hs256_roundtrip)


def test_eddsa_swfast(benchmark) -> None:  # type: ignore[no-untyped-def]
    mgr, _ = peers.token_manager("EdDSA")
    gen, val = mgr.generate_token, mgr.validate_token
    _run(benchmark, "security.token_eddsa_gen_validate", "swfast", lambda: val(gen("u1")))


def test_eddsa_pyjwt(benchmark) -> None:  # type: ignore[no-untyped-def]
    _, key = peers.token_manager("EdDSA")
    _run(benchmark, "security.token_eddsa_gen_validate", "pyjwt", peers.PyJWTAdapter("EdDSA", key).roundtrip)


def test_eddsa_raw_floor(benchmark) -> None:  # type: ignore[no-untyped-def]
    _run(benchmark, "security.token_eddsa_gen_validate", "raw-ed25519-sign+verify", peers.raw_ed25519())


def test_encrypt_1k_swfast(benchmark) -> None:  # type: ignore[no-untyped-def]
    from swfast.security import DataEncryptor

    enc = DataEncryptor()
    data = os.urandom(1024)
    e, d = enc.encrypt_data, enc.decrypt_data
    _run(benchmark, "security.encrypt_decrypt_1k", "swfast", lambda: d(e(data, b"ctx"), b"ctx"))


def test_encrypt_1k_raw(benchmark) -> None:  # type: ignore[no-untyped-def]
    _run(benchmark, "security.encrypt_decrypt_1k", "raw-aesgcm", peers.raw_aesgcm())


def test_check_permission_swfast(benchmark) -> None:  # type: ignore[no-untyped-def]
    rbac, target = peers.swfast_rbac()
    check = rbac.check_permission
    _run(benchmark, "security.check_permission_1000roles", "swfast", lambda: check("alice", target))


def test_check_permission_swfast_py(benchmark) -> None:  # type: ignore[no-untyped-def]
    from swfast._native._rbac_py import PermissionIndex

    rbac, target = peers.swfast_rbac(PermissionIndex())
    check = rbac.check_permission
    _run(benchmark, "security.check_permission_1000roles", "swfast-py", lambda: check("alice", target))


def test_check_permission_casbin(benchmark) -> None:  # type: ignore[no-untyped-def]
    enforcer, target = peers.casbin_enforcer()
    _run(benchmark, "security.check_permission_1000roles", "pycasbin", lambda: enforcer.enforce("alice", target),
         rounds=6, iterations=1, warmup_rounds=1)


def test_argon2id_owasp_swfast(benchmark) -> None:  # type: ignore[no-untyped-def]
    from swfast.security import PasswordHasher

    hasher = PasswordHasher()
    _run(benchmark, "security.argon2id_owasp_hash", "swfast", lambda: hasher.hash("correct horse battery"),
         rounds=5, iterations=1)


def test_argon2id_owasp_argon2_cffi(benchmark) -> None:  # type: ignore[no-untyped-def]
    hasher = peers.owasp_argon2_cffi()
    _run(benchmark, "security.argon2id_owasp_hash", "argon2-cffi", lambda: hasher.hash("correct horse battery"),
         rounds=5, iterations=1)


def test_hs256_joserfc(benchmark) -> None:  # type: ignore[no-untyped-def]
    _run(benchmark, "security.token_hs256_gen_validate", "joserfc", peers.JoserfcAdapter().roundtrip)


def test_totp_now_swfast(benchmark) -> None:  # type: ignore[no-untyped-def]
    import time

    from swfast.security import totp

    secret = peers.SECRET[:20]
    _run(benchmark, "security.totp_now", "swfast", lambda: totp(secret, time.time()))


def test_totp_now_pyotp(benchmark) -> None:  # type: ignore[no-untyped-def]
    _run(benchmark, "security.totp_now", "pyotp", peers.pyotp_now())


def test_reencrypt_1k_swfast(benchmark) -> None:  # type: ignore[no-untyped-def]
    from swfast.security import DataEncryptor, KeyRing

    ring = KeyRing()
    ring.generate_keys()
    enc = DataEncryptor(ring)
    old = enc.encrypt_data(os.urandom(1024))
    ring.rotate_keys()
    _run(benchmark, "security.rotate_reencrypt_1k", "swfast", lambda: enc.reencrypt(old))


def test_reencrypt_1k_multifernet(benchmark) -> None:  # type: ignore[no-untyped-def]
    _run(benchmark, "security.rotate_reencrypt_1k", "multifernet", peers.multifernet_rotate())


def test_encrypt_1k_swfast_py(benchmark) -> None:  # type: ignore[no-untyped-def]
    from cryptography.exceptions import InvalidTag

    from swfast._native._envelope_py import EnvelopeCodec
    from swfast.security import DataEncryptor, KeyRing
    from swfast.security.encryption import _aad_bytes, _integrity_failure

    ring = KeyRing()
    ring.generate_keys()
    helper = DataEncryptor(ring)
    codec = EnvelopeCodec(ring, ring._by_header, ring._encrypt_slot_slow, helper._check_envelope, _aad_bytes,
                          InvalidTag, _integrity_failure)
    data = os.urandom(1024)
    e, d = codec.encrypt_data, codec.decrypt_data
    _run(benchmark, "security.encrypt_decrypt_1k", "swfast-py", lambda: d(e(data, b"ctx"), b"ctx"))

"""Security regressions of issue 11: canonical base64url, exact big-integer claims, KeyRing
limits and tampered key files, the RFC 9864 ``Ed25519`` name, durations, HS256 without extras.

Token-level tests run on both kernel implementations: ``tokens`` is rebound to the compiled
codec or its twin through the ``impl`` fixture.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent))
from _security_helpers import NOW, FakeClock, b64, forge_hs256  # noqa: E402

from swfast.errors import ConfigurationError, IntegrityError, InvalidToken, KeyExhausted, ValidationError
from swfast.security import DataEncryptor, Ed25519Key, HMACKey, KeyRing, KeySet, TokenManager
from swfast.security import tokens as tokens_mod

SECRET = bytes(range(32))
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


@pytest.fixture
def codec(impl, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """The token module using one implementation of the base64url kernel."""
    k = impl.load("jws")
    monkeypatch.setattr(tokens_mod, "b64url_decode", k.b64url_decode)
    monkeypatch.setattr(tokens_mod, "b64url_encode", k.b64url_encode)
    return k


def _manager(key: "HMACKey | Ed25519Key", algorithms: "list[str] | None" = None) -> TokenManager:
    return TokenManager(KeySet(key), algorithms=algorithms or [key.alg], issuer="urn:i", audience="api",
                        clock=FakeClock())


def respellings(segment: str) -> list[str]:
    """Every other spelling of ``segment`` that differs only in the unused bits of its last character."""
    tail = len(segment) % 4
    if tail not in (2, 3):
        return []
    free = 15 if tail == 2 else 3
    base = _ALPHABET.index(segment[-1]) & ~free
    return [segment[:-1] + _ALPHABET[base | x] for x in range(free + 1) if _ALPHABET[base | x] != segment[-1]]


# -- 18: non-canonical base64url ----------------------------------------------------------------
@pytest.mark.parametrize("text", ["QR", "QRd", "AB", "AAB", "_-_", "___", "AAAAQR"])
def test_kernel_rejects_unused_bits(impl, text: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError):
        impl.load("jws").b64url_decode(text)


@settings(deadline=None, max_examples=200)
@given(st.binary(min_size=1, max_size=70))
def test_kernel_accepts_exactly_one_spelling(data: bytes) -> None:
    from swfast._native import _jws_c, _jws_py

    for k in (_jws_c, _jws_py):
        text = k.b64url_encode(data)
        assert k.b64url_decode(text) == data
        for other in respellings(text):
            with pytest.raises(ValueError):
                k.b64url_decode(other)


@pytest.mark.parametrize("make", [lambda: HMACKey("k1", SECRET), lambda: Ed25519Key.generate("e1"),
                                  lambda: Ed25519Key.generate("e2", alg="Ed25519")],
                         ids=["HS256", "EdDSA", "Ed25519"])
def test_every_segment_must_be_canonical(codec, make) -> None:  # type: ignore[no-untyped-def]
    mgr = _manager(make())
    # payload lengths that leave a 2- and a 3-character tail in every segment that can have one
    for pad in ("", "x", "xy"):
        token = mgr.generate_token("alice", claims={"p": pad})
        assert mgr.validate_token(token)["p"] == pad
        parts = token.split(".")
        tried = 0
        for i in range(3):
            for seg in respellings(parts[i]):
                bad = ".".join(parts[:i] + [seg] + parts[i + 1:])
                tried += 1
                with pytest.raises(InvalidToken):
                    mgr.validate_token(bad)
        if len(parts[2]) % 4:
            assert tried >= 3  # the signature alone has 3 (HS256) or 15 (Ed25519) other spellings


def test_non_canonical_header_with_valid_mac_rejected(codec) -> None:  # type: ignore[no-untyped-def]
    """A key holder cannot mint a second spelling of a header either (the MAC covers the text)."""
    import base64
    import hashlib
    import hmac

    mgr = _manager(HMACKey("k1", SECRET))
    header = json.dumps({"alg": "HS256", "kid": "k1"}).encode()
    payload = json.dumps({"iss": "urn:i", "aud": "api", "sub": "u", "exp": NOW + 60}).encode()
    for h_seg in [b64(header)] + respellings(b64(header)):
        signing_input = f"{h_seg}.{b64(payload)}"
        sig = base64.urlsafe_b64encode(hmac.new(SECRET, signing_input.encode(), hashlib.sha256).digest())
        token = f"{signing_input}.{sig.rstrip(b'=').decode()}"
        if h_seg == b64(header):
            assert mgr.validate_token(token)["sub"] == "u"
        else:
            with pytest.raises(InvalidToken):
                mgr.validate_token(token)


# -- 19: integers beyond 64 bits -----------------------------------------------------------------
import swfast._json as swfast_json  # noqa: E402

BIG = {"big": 2**70, "neg": -(2**80) - 1, "u64": 2**64 - 1, "i64": -(2**63), "nested": [{"n": 10**30}],
       "s": "digits 12345678901234567890 in a string"}


@pytest.mark.parametrize("with_orjson", [True, False])
def test_big_integer_claims_exact(codec, monkeypatch: pytest.MonkeyPatch, with_orjson: bool) -> None:  # type: ignore[no-untyped-def]
    if not with_orjson:
        monkeypatch.setattr(tokens_mod, "_orjson", None)
        monkeypatch.setattr(swfast_json, "_orjson_dumps", None)  # the shared encoder tokens write with
    for key in (HMACKey("k1", SECRET), Ed25519Key.generate("e1")):
        mgr = _manager(key)
        got = mgr.validate_token(mgr.generate_token("alice", claims=BIG))
        for name, value in BIG.items():
            assert got[name] == value and type(got[name]) is type(value)
        assert type(got["nested"][0]["n"]) is int
        # a token written by another library with a big integer reads back exact too
        token = forge_hs256(SECRET, {"alg": "HS256", "kid": "k1"},
                            {"iss": "urn:i", "aud": "api", "exp": int(NOW) + 60, "n": 2**100 + 1})
        if key.alg == "HS256":
            assert mgr.validate_token(token)["n"] == 2**100 + 1


@pytest.mark.parametrize("with_orjson", [True, False])
@pytest.mark.parametrize("bad", [float("nan"), float("inf"), {"k": object()}, {1: "non-str key"}])
def test_unencodable_claims_refused(monkeypatch: pytest.MonkeyPatch, with_orjson: bool, bad: object) -> None:
    if not with_orjson:
        monkeypatch.setattr(tokens_mod, "_orjson", None)
        monkeypatch.setattr(swfast_json, "_orjson_dumps", None)  # the shared encoder tokens write with
    mgr = _manager(HMACKey("k1", SECRET))
    with pytest.raises(ValidationError):
        mgr.generate_token("alice", claims={"x": bad})


# -- 20: KeyRing max_uses -------------------------------------------------------------------------
@pytest.mark.parametrize("n", [1, 2, 5])
def test_max_uses_is_exact_and_refusals_not_counted(n: int) -> None:
    ring = KeyRing(max_uses=n, auto_rotate=False)
    (kid,) = ring.generate_keys()
    enc = DataEncryptor(ring)
    sealed = [enc.encrypt_data(b"m%d" % i) for i in range(n)]
    assert ring.uses(kid) == n
    for _ in range(3):
        with pytest.raises(KeyExhausted):
            enc.encrypt_data(b"refused")
    assert ring.uses(kid) == n
    assert [enc.decrypt_data(s) for s in sealed] == [b"m%d" % i for i in range(n)]


def test_max_uses_one_with_auto_rotation_does_not_recurse() -> None:
    ring = KeyRing(max_uses=1)
    ring.generate_keys()
    enc = DataEncryptor(ring)
    sealed = [enc.encrypt_data(b"%d" % i) for i in range(50)]
    ids = {DataEncryptor.key_id_of(s) for s in sealed}
    assert len(ids) == 50 and all(ring.uses(k) == 1 for k in ids)
    assert [enc.decrypt_data(s) for s in sealed] == [b"%d" % i for i in range(50)]


def test_max_uses_survives_store_and_load(tmp_path: Path) -> None:
    master = os.urandom(32)
    ring = KeyRing(max_uses=3, auto_rotate=False)
    (kid,) = ring.generate_keys()
    DataEncryptor(ring).encrypt_data(b"a")
    ring.store_keys(tmp_path / "k", master)
    loaded = KeyRing.load_keys(tmp_path / "k", master, max_uses=3, auto_rotate=False)
    enc = DataEncryptor(loaded)
    enc.encrypt_data(b"b")
    enc.encrypt_data(b"c")
    with pytest.raises(KeyExhausted):
        enc.encrypt_data(b"d")
    assert loaded.uses(kid) == 3


# -- 21: tampered key files ----------------------------------------------------------------------
MASTER = bytes(range(100, 132))


@pytest.fixture(scope="module")
def key_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, list[int]]:
    ring = KeyRing()
    ring.generate_keys(2)
    ring.rotate_keys()
    path = tmp_path_factory.mktemp("ring") / "keys.json"
    ring.store_keys(path, MASTER)
    return path.read_bytes(), ring.key_ids()


def _load(tmp_path: Path, raw: bytes) -> KeyRing:
    path = tmp_path / "t.json"
    path.write_bytes(raw)
    return KeyRing.load_keys(path, MASTER)


@pytest.mark.parametrize("raw", [
    b'{"body": 1, "mac": "00"}', b'{"body": "x", "mac": 5}', b'"just a string"', b"[1, 2]", b"null", b"",
    b"[" * 100_000, b'{"body": "' + b"[" * 100_000 + b'", "mac": "00"}', b"\xff\xfe\x00", b'{"mac": "\\ud800"}',
])
def test_malformed_key_files_raise_integrity_error(tmp_path: Path, raw: bytes) -> None:
    with pytest.raises(IntegrityError):
        _load(tmp_path, raw)


def test_deeply_nested_body_with_valid_mac(tmp_path: Path) -> None:
    """Even a correctly authenticated body (an attacker holding the master key) fails cleanly."""
    from swfast.security.keys import _mac

    for body in ("[" * 100_000, json.dumps({"format": "swfast-keyring-v1", "keys": [{"id": "x"}]}),
                 json.dumps({"format": "swfast-keyring-v1", "keys": 3}), json.dumps([1])):
        with pytest.raises(IntegrityError):
            _load(tmp_path, json.dumps({"body": body, "mac": _mac(MASTER, body)}).encode())


@settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzz_byte_flips_and_truncations(tmp_path: Path, key_file: tuple[bytes, list[int]], data: st.DataObject) -> None:
    raw, ids = key_file
    mode = data.draw(st.sampled_from(["flip", "truncate", "replace", "insert"]))
    pos = data.draw(st.integers(0, len(raw) - 1))
    if mode == "flip":
        bit = data.draw(st.integers(0, 7))
        bad = raw[:pos] + bytes([raw[pos] ^ (1 << bit)]) + raw[pos + 1:]
    elif mode == "truncate":
        bad = raw[:pos]
    elif mode == "replace":
        bad = raw[:pos] + bytes([data.draw(st.integers(0, 255))]) + raw[pos + 1:]
    else:
        bad = raw[:pos] + data.draw(st.binary(min_size=1, max_size=8)) + raw[pos:]
    try:
        ring = _load(tmp_path, bad)
    except IntegrityError:
        return
    assert ring.key_ids() == ids  # only a change JSON ignores (whitespace) may load, unchanged


def test_missing_key_file_is_not_integrity_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        KeyRing.load_keys(tmp_path / "absent", MASTER)


# -- 22: RFC 9864 "Ed25519" ----------------------------------------------------------------------
def test_ed25519_name_accepted_beside_eddsa(codec) -> None:  # type: ignore[no-untyped-def]
    key = Ed25519Key.generate("e1", alg="Ed25519")
    mgr = _manager(key, ["Ed25519"])
    token = mgr.generate_token("alice")
    header = json.loads(codec.b64url_decode(token.split(".")[0]))
    assert header["alg"] == "Ed25519"
    assert mgr.validate_token(token)["sub"] == "alice"
    # the same key verifies tokens written under either name, when the manager allows the name
    old = Ed25519Key(key.kid, key._private)
    both = _manager(old, ["EdDSA", "Ed25519"])
    assert both.validate_token(token)["sub"] == "alice"
    assert both.validate_token(both.generate_token("bob"))["sub"] == "bob"
    only_eddsa = _manager(old, ["EdDSA"])
    with pytest.raises(InvalidToken):
        only_eddsa.validate_token(token)
    with pytest.raises(ConfigurationError):
        Ed25519Key.generate("e3", alg="ed25519")
    # an HMAC key is never reachable through the Ed25519 name
    hs = _manager(HMACKey("k1", SECRET), ["HS256", "Ed25519"])
    forged = forge_hs256(SECRET, {"alg": "Ed25519", "kid": "k1"}, {"iss": "urn:i", "aud": "api", "exp": NOW + 60})
    with pytest.raises(InvalidToken):
        hs.validate_token(forged)


# -- 4: durations ---------------------------------------------------------------------------------
def test_token_durations_accept_every_form() -> None:
    clock = FakeClock()
    mgr = TokenManager(KeySet(HMACKey("k1", SECRET)), algorithms=["HS256"], issuer="urn:i", audience="api",
                       clock=clock, access_ttl_s="15m", refresh_ttl_s=timedelta(days=14), leeway_s="30s")
    assert (mgr.access_ttl_s, mgr.refresh_ttl_s, mgr.leeway_s) == (900.0, 14 * 86400.0, 30.0)
    claims = mgr.validate_token(mgr.generate_token("a", ttl_s="1h"))
    assert claims["exp"] - claims["iat"] == 3600
    claims = mgr.validate_token(mgr.generate_token("a", ttl_s=timedelta(minutes=2)))
    assert claims["exp"] - claims["iat"] == 120
    for param, value in (("access_ttl_s", "soon"), ("refresh_ttl_s", [1]), ("leeway_s", "2m"), ("access_ttl_s", 0)):
        with pytest.raises(ConfigurationError, match=param):
            TokenManager(KeySet(HMACKey("k1", SECRET)), algorithms=["HS256"], issuer="urn:i", audience="api",
                         **{param: value})
    with pytest.raises(ConfigurationError, match="ttl_s"):
        mgr.generate_token("a", ttl_s=object())  # type: ignore[arg-type]


def test_other_security_durations() -> None:
    from swfast.security import FailureThrottle, SessionManager, TOTPVerifier

    sm = SessionManager(idle_timeout_s="30m", absolute_timeout_s=timedelta(hours=12))
    assert (sm.idle_timeout_s, sm.absolute_timeout_s) == (1800.0, 43200.0)
    th = FailureThrottle(window_s="5m", lockout_s=timedelta(minutes=10))
    assert (th.window_s, th.lockout_s) == (300.0, 600.0)
    mfa = TOTPVerifier(store={}, encryptor=object(), step="30s", failure_window_s="5m", lockout_s="1m")
    assert mfa.step == 30 and mfa.throttle.lockout_s == 60.0
    for bad in ({"idle_timeout_s": "x"}, {"absolute_timeout_s": None}, {"idle_timeout_s": -1}):
        with pytest.raises(ConfigurationError, match=next(iter(bad))):
            SessionManager(**bad)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="lockout_s"):
        FailureThrottle(lockout_s="never")
    with pytest.raises(ConfigurationError, match="step"):
        TOTPVerifier(store={}, encryptor=object(), step="1.5s")


# -- 3: HS256 with the standard library only -------------------------------------------------------
def test_hs256_needs_only_the_standard_library() -> None:
    script = textwrap.dedent("""
        import importlib.abc, sys
        class Block(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("cryptography", "orjson", "redis", "numba"):
                    raise ModuleNotFoundError(f"No module named {name!r}", name=name)
                return None
        sys.meta_path.insert(0, Block())
        from swfast.security import HMACKey, KeySet, TokenManager
        from swfast.errors import ConfigurationError
        mgr = TokenManager(KeySet(HMACKey("k1", bytes(range(32)))), algorithms=["HS256"],
                           issuer="i", audience="a")
        t = mgr.generate_token("alice", claims={"n": 2**70})
        assert mgr.validate_token(t)["n"] == 2**70
        assert mgr.refresh_token(mgr.issue_tokens("bob").refresh).access
        der = bytes([0x30, 0x2a]) + bytes(42)  # a DER SEQUENCE, like an Ed25519 SubjectPublicKeyInfo
        try:
            HMACKey("k2", der)
        except ConfigurationError:
            pass
        else:
            raise SystemExit("a DER structure was accepted as an HMAC secret")
        assert not any(m.split(".")[0] in ("cryptography", "orjson") for m in sys.modules)
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_missing_cryptography_or_redis_names_the_extra() -> None:
    """Issue 11 item 3: Argon2id, Ed25519, AES-GCM and KeyRing say ``pip install "swfast[security]"``."""
    script = textwrap.dedent("""
        import importlib.abc, os, sys
        class Block(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("cryptography", "redis"):
                    raise ModuleNotFoundError(f"No module named {name!r}", name=name)
                return None
        sys.meta_path.insert(0, Block())
        from swfast._optional import MissingDependency
        from swfast.security.encryption import DataEncryptor, aead_open, aead_seal
        from swfast.security.keys import KeyRing
        from swfast.security.passwords import PasswordHasher, argon2id_raw
        from swfast.security.revocation import RedisRevocationStore
        from swfast.security.signing import Ed25519Key
        calls = {
            "hash": lambda: PasswordHasher().hash("pw"),
            "verify": lambda: PasswordHasher().verify("$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA", "pw"),
            "raw": lambda: argon2id_raw(b"pw", b"saltsalt", length=32, iterations=1, lanes=1, memory_kib=64),
            "ed25519": lambda: Ed25519Key.generate(),
            "seal": lambda: aead_seal(bytes(32), bytes(12), b"x"),
            "open": lambda: aead_open(bytes(32), bytes(12), bytes(17)),
            "encryptor": lambda: DataEncryptor(),
            "keyring": lambda: KeyRing().rotate_keys(),
            "load": lambda: KeyRing.load_keys("/nonexistent", master_key=bytes(32)),
            "revocation": lambda: RedisRevocationStore(url="redis://127.0.0.1:1/0"),
        }
        for name, call in calls.items():
            try:
                call()
            except MissingDependency as exc:
                want = "swfast[redis]" if name == "revocation" else "swfast[security]"
                assert want in str(exc), (name, str(exc))
            except BaseException as exc:
                raise SystemExit(f"{name}: {type(exc).__name__}: {exc}")
            else:
                raise SystemExit(f"{name}: worked without cryptography")
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)})
    assert out.returncode == 0, out.stderr + out.stdout
    assert out.stdout.strip() == "ok"


def test_stdlib_der_check_matches_cryptography() -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    from swfast.security.signing import _looks_like_der

    for private in (ed25519.Ed25519PrivateKey.generate(), ec.generate_private_key(ec.SECP256R1()),
                    rsa.generate_private_key(65537, 2048)):
        pub = private.public_key().public_bytes(serialization.Encoding.DER,
                                                serialization.PublicFormat.SubjectPublicKeyInfo)
        priv = private.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption())
        assert _looks_like_der(pub) and _looks_like_der(priv)
    assert not _looks_like_der(bytes(range(32))) and not _looks_like_der(b"\x30\x05abc")

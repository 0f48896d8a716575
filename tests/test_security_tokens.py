"""Tokens: RELIABILITY.md §4 TK-1..TK-15, PyJWT interop both ways, refresh rotation."""
from __future__ import annotations

import builtins
import io
import json
import logging
import os
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent))
from _security_helpers import NOW, FakeClock, b64, forge_hs256  # noqa: E402

from swfast.errors import ConfigurationError, InvalidToken, TokenReuseDetected, TokenRevoked, UnknownKeyId
from swfast.security import Ed25519Key, HMACKey, KeySet, MemoryRevocationStore, TokenManager

jwt = pytest.importorskip("jwt")
SECRET = bytes(range(32))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def hs(clock: FakeClock) -> TokenManager:
    return TokenManager(KeySet(HMACKey("k1", SECRET)), algorithms=["HS256"], issuer="urn:expected",
                        audience="api", clock=clock, leeway_s=30)


@pytest.fixture
def ed(clock: FakeClock) -> TokenManager:
    return TokenManager(KeySet(Ed25519Key.generate("e1")), algorithms=["EdDSA"], issuer="urn:expected",
                        audience="api", clock=clock)


def claims(**over: object) -> dict:
    base = {"iss": "urn:expected", "aud": "api", "sub": "u1", "iat": int(NOW), "exp": int(NOW) + 600,
            "jti": "j1", "token_use": "access"}
    base.update(over)
    return {k: v for k, v in base.items() if v is not ...}


HEADER = {"alg": "HS256", "kid": "k1", "typ": "JWT"}


def test_roundtrip_hs256_and_eddsa(hs: TokenManager, ed: TokenManager) -> None:
    for mgr in (hs, ed):
        token = mgr.generate_token("alice", claims={"scope": "read"})
        got = mgr.validate_token(token)
        assert got["sub"] == "alice" and got["scope"] == "read" and got["token_use"] == "access"
        assert mgr.validate_token(token.encode())["sub"] == "alice"


def test_forged_token_accepted_when_well_formed(hs: TokenManager) -> None:
    assert hs.validate_token(forge_hs256(SECRET, HEADER, claims()))["jti"] == "j1"


# -- interop ------------------------------------------------------------------------------------
def test_pyjwt_verifies_ours_and_we_verify_pyjwts_hs256(hs: TokenManager) -> None:
    ours = hs.generate_token("alice")
    got = jwt.decode(ours, SECRET, algorithms=["HS256"], audience="api", issuer="urn:expected",
                     options={"verify_exp": False, "verify_iat": False})
    assert got["sub"] == "alice"
    theirs = jwt.encode(claims(), SECRET, algorithm="HS256", headers={"kid": "k1"})
    assert hs.validate_token(theirs)["sub"] == "u1"


def test_pyjwt_interop_eddsa(clock: FakeClock) -> None:
    key = Ed25519Key.generate("e1")
    mgr = TokenManager(KeySet(key), algorithms=["EdDSA"], issuer="urn:expected", audience="api", clock=clock)
    ours = mgr.generate_token("bob")
    got = jwt.decode(ours, key.public_key, algorithms=["EdDSA"], audience="api",
                     options={"verify_exp": False, "verify_iat": False})
    assert got["sub"] == "bob"
    theirs = jwt.encode(claims(), key._private, algorithm="EdDSA", headers={"kid": "e1"})
    assert mgr.validate_token(theirs)["sub"] == "u1"
    verifier = TokenManager(KeySet(key.public_only()), algorithms=["EdDSA"], issuer="urn:expected",
                            audience="api", clock=clock)
    assert verifier.validate_token(ours)["sub"] == "bob"


# -- TK-1 alg none ------------------------------------------------------------------------------
@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
@pytest.mark.parametrize("sig", ["", "garbage", b64(b"x" * 32)])
def test_tk1_alg_none_rejected(hs: TokenManager, alg: str, sig: str) -> None:
    for header in ({"alg": alg}, {"alg": alg, "kid": "k1"}):
        token = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims()).encode())}.{sig}"
        with pytest.raises(InvalidToken):
            hs.validate_token(token)


# -- TK-2 algorithm confusion -------------------------------------------------------------------
def _public_forms():
    from cryptography.hazmat.primitives import serialization as s
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    for private in (ed25519.Ed25519PrivateKey.generate(), ec.generate_private_key(ec.SECP256R1()),
                    rsa.generate_private_key(public_exponent=65537, key_size=2048)):
        pub = private.public_key()
        yield pub.public_bytes(s.Encoding.PEM, s.PublicFormat.SubjectPublicKeyInfo)
        yield pub.public_bytes(s.Encoding.DER, s.PublicFormat.SubjectPublicKeyInfo)
        yield pub.public_bytes(s.Encoding.OpenSSH, s.PublicFormat.OpenSSH)
        yield private.private_bytes(s.Encoding.PEM, s.PrivateFormat.PKCS8, s.NoEncryption())
        yield private.private_bytes(s.Encoding.DER, s.PrivateFormat.PKCS8, s.NoEncryption())
    import jwt.algorithms as ja

    yield ja.OKPAlgorithm.to_jwk(ed25519.Ed25519PrivateKey.generate().public_key()).encode()
    yield b'{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}'
    yield b"ssh-dss AAAAB3NzaC1kc3MAAACBAP" + b"A" * 40


def test_tk2_hmac_loader_refuses_asymmetric_keys() -> None:
    forms = list(_public_forms())
    assert len(forms) >= 17
    for form in forms:
        with pytest.raises(ConfigurationError, match="asymmetric|secret"):
            HMACKey("x", form)


def test_tk2_hs256_signed_with_public_key_rejected(clock: FakeClock) -> None:
    from cryptography.hazmat.primitives import serialization as s

    key = Ed25519Key.generate("svc")
    for algorithms in (["EdDSA"], ["HS256", "EdDSA"]):
        mgr = TokenManager(KeySet(key.public_only()), algorithms=algorithms, issuer="urn:expected",
                           audience="api", clock=clock)
        pub = key.public_key
        forms = [pub.public_bytes(s.Encoding.PEM, s.PublicFormat.SubjectPublicKeyInfo),
                 pub.public_bytes(s.Encoding.DER, s.PublicFormat.SubjectPublicKeyInfo),
                 pub.public_bytes(s.Encoding.OpenSSH, s.PublicFormat.OpenSSH),
                 pub.public_bytes(s.Encoding.Raw, s.PublicFormat.Raw)]
        for form in forms:
            token = forge_hs256(form, {"alg": "HS256", "kid": "svc"}, claims())
            with pytest.raises(InvalidToken):
                mgr.validate_token(token)


# -- TK-3 / TK-4 allow-list and one key one alg --------------------------------------------------
def test_tk3_allow_list_mandatory_and_case_sensitive(hs: TokenManager) -> None:
    with pytest.raises(ConfigurationError):
        TokenManager(KeySet(HMACKey("k1", SECRET)), algorithms=[], issuer="i", audience="a")
    with pytest.raises(TypeError):
        TokenManager(KeySet(HMACKey("k1", SECRET)), issuer="i", audience="a")  # type: ignore[call-arg]
    with pytest.raises(ConfigurationError):
        TokenManager(KeySet(HMACKey("k1", SECRET)), algorithms=["RS256"], issuer="i", audience="a")
    for alg in ("hs256", "Hs256", "HS384", "HS512", "RS256", "ES256"):
        with pytest.raises(InvalidToken):
            hs.validate_token(forge_hs256(SECRET, {"alg": alg, "kid": "k1"}, claims()))


def test_tk4_header_alg_must_match_key(clock: FakeClock) -> None:
    ks = KeySet(HMACKey("k1", SECRET), Ed25519Key.generate("e1"))
    mgr = TokenManager(ks, algorithms=["HS256", "EdDSA"], issuer="urn:expected", audience="api", clock=clock)
    with pytest.raises(InvalidToken, match="match"):
        mgr.validate_token(forge_hs256(SECRET, {"alg": "EdDSA", "kid": "k1"}, claims()))
    assert mgr.validate_token(forge_hs256(SECRET, {"alg": "HS256", "kid": "k1"}, claims()))


# -- TK-5 kid injection ---------------------------------------------------------------------------
@pytest.mark.parametrize("kid", ["../../dev/null", "' OR 1=1 --", "x" * 10_000, 7, None, "unknown", ["k1"], {"a": 1}])
def test_tk5_kid_injection_in_memory_only(hs: TokenManager, kid: object, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_io(*a: object, **k: object) -> None:
        raise AssertionError("kid lookup touched the file system")

    token = forge_hs256(SECRET, {"alg": "HS256", "kid": kid}, claims())
    monkeypatch.setattr(builtins, "open", no_io)
    monkeypatch.setattr(io, "open", no_io)
    monkeypatch.setattr(os, "open", no_io)
    with pytest.raises(InvalidToken):
        hs.validate_token(token)


# -- TK-6 time claims -----------------------------------------------------------------------------
@pytest.mark.parametrize("over", [
    {"exp": ...}, {"exp": int(NOW) - 31}, {"exp": str(int(NOW) + 600)}, {"exp": True},
    {"exp": None}, {"nbf": int(NOW) + 31}, {"iat": int(NOW) + 31}, {"nbf": "0"}, {"iat": [1]},
])
def test_tk6_time_claims_rejected(hs: TokenManager, over: dict) -> None:
    with pytest.raises(InvalidToken):
        hs.validate_token(forge_hs256(SECRET, HEADER, claims(**over)))


@pytest.mark.parametrize("raw_exp", [b"NaN", b"1e309", b"-Infinity", b"Infinity"])
def test_tk6_non_finite_exp(hs: TokenManager, raw_exp: bytes) -> None:
    body = json.dumps(claims(exp=0)).encode().replace(b'"exp": 0', b'"exp": ' + raw_exp)
    with pytest.raises(InvalidToken):
        hs.validate_token(forge_hs256(SECRET, HEADER, None, raw_payload=body))


def test_tk6_leeway_bounded(hs: TokenManager, clock: FakeClock) -> None:
    assert hs.validate_token(forge_hs256(SECRET, HEADER, claims(exp=int(NOW) - 29, nbf=int(NOW) + 29)))
    with pytest.raises(ConfigurationError):
        TokenManager(KeySet(HMACKey("k1", SECRET)), algorithms=["HS256"], issuer="i", audience="a", leeway_s=61)
    token = hs.generate_token("u")
    clock.advance(hs.access_ttl_s + 31)
    with pytest.raises(InvalidToken, match="expired"):
        hs.validate_token(token)


# -- TK-7 iss/aud exact ---------------------------------------------------------------------------
@pytest.mark.parametrize("over", [
    {"iss": "urn:"}, {"iss": "urn:expected2"}, {"iss": ...}, {"iss": ["urn:expected"]},
    {"aud": "ap"}, {"aud": ["other", "x"]}, {"aud": ...}, {"aud": []}, {"aud": [1]}, {"aud": {"a": 1}},
])
def test_tk7_iss_aud_exact(hs: TokenManager, over: dict) -> None:
    with pytest.raises(InvalidToken):
        hs.validate_token(forge_hs256(SECRET, HEADER, claims(**over)))


def test_tk7_aud_list_containing_service_accepted(hs: TokenManager) -> None:
    assert hs.validate_token(forge_hs256(SECRET, HEADER, claims(aud=["other", "api"])))


# -- TK-8 crit / TK-9 size ------------------------------------------------------------------------
@pytest.mark.parametrize("extra", [{"crit": ["exp"]}, {"crit": ["x-custom"], "x-custom": 1}, {"zip": "DEF"},
                                   {"b64": False, "crit": ["b64"]}, {"jku": "http://evil"}, {"jwk": {"kty": "oct"}}])
def test_tk8_crit_and_unknown_headers_rejected(hs: TokenManager, extra: dict) -> None:
    with pytest.raises(InvalidToken):
        hs.validate_token(forge_hs256(SECRET, {**HEADER, **extra}, claims()))


def test_tk9_oversized_rejected_before_parsing(hs: TokenManager, monkeypatch: pytest.MonkeyPatch) -> None:
    import swfast.security.tokens as tokens_mod

    token = forge_hs256(SECRET, HEADER, claims(pad="x" * 9000))
    assert len(token) > 8192

    def boom(raw: bytes) -> None:
        raise AssertionError("parsed an oversized token")

    monkeypatch.setattr(tokens_mod, "_loads", boom)
    with pytest.raises(InvalidToken, match="longer"):
        hs.validate_token(token)
    with pytest.raises(InvalidToken, match="longer"):
        hs.validate_token(token.encode())


# -- TK-10 type confusion -------------------------------------------------------------------------
def test_tk10_access_refresh_not_swappable(hs: TokenManager) -> None:
    pair = hs.issue_tokens("u1")
    with pytest.raises(InvalidToken, match="refresh"):
        hs.validate_token(pair.refresh)
    with pytest.raises(InvalidToken):
        hs.refresh_token(pair.access)
    with pytest.raises(InvalidToken):
        hs.validate_token(forge_hs256(SECRET, HEADER, claims(token_use="id")))


# -- TK-11 refresh rotation with reuse detection --------------------------------------------------
def test_tk11_reuse_revokes_family_and_logs(hs: TokenManager, caplog: pytest.LogCaptureFixture) -> None:
    p1 = hs.issue_tokens("carol", claims={"role": "x"})
    p2 = hs.refresh_token(p1.refresh)
    assert hs.validate_token(p2.access)["role"] == "x"
    with caplog.at_level(logging.WARNING, logger="swfast.security"):
        with pytest.raises(TokenReuseDetected):
            hs.refresh_token(p1.refresh)
    assert any("token_reuse" in r.getMessage() for r in caplog.records)
    assert "carol" not in caplog.text
    for token, use in ((p2.refresh, "refresh"), (p2.access, "access"), (p1.access, "access")):
        with pytest.raises(TokenRevoked):
            hs.validate_token(token, token_use=use)
    with pytest.raises(InvalidToken):
        hs.refresh_token(p2.refresh)


def test_tk11_chain_of_rotations(hs: TokenManager) -> None:
    pair = hs.issue_tokens("dave")
    for _ in range(5):
        pair = hs.refresh_token(pair.refresh)
    assert hs.validate_token(pair.access)["sub"] == "dave"


# -- TK-12 revocation (memory here; Redis in test_security_redis.py) -------------------------------
def test_tk12_revoke_then_reject(hs: TokenManager) -> None:
    token = hs.generate_token("erin")
    hs.revoke_token(token)
    with pytest.raises(TokenRevoked):
        hs.validate_token(token)
    pair = hs.issue_tokens("erin")
    hs.revoke_token(pair.refresh)  # logout revokes the family
    with pytest.raises(TokenRevoked):
        hs.validate_token(pair.access)
    hs.revoke_token("not-a-token")


def test_memory_store_purges_expired(clock: FakeClock) -> None:
    store = MemoryRevocationStore(clock=clock)
    for i in range(3000):
        store.revoke(f"j{i}", NOW - 1)
    store.revoke("live", NOW + 100)
    assert store.is_revoked("live", None)
    assert len(store._revoked) < 3000


# -- TK-13 malformed input ------------------------------------------------------------------------
MALFORMED = [
    "", ".", "..", "...", "a.b", "a.b.c.d", "a.b.c.d.e", "@@@.@@@.@@@", "eyJ.eyJ.x", "====.====.====",
    b64(b"not json") + "." + b64(b"{}") + ".x", b64(b"[1,2]") + "." + b64(b"{}") + ".x",
    b64(b'"str"') + "." + b64(b"{}") + ".x", b64(b"null") + ".." , b64(b"{\"alg\":\"HS256\"}") + ".a.b",
    "a" * 5 + "." + "b" * 5 + "." + "c" * 5, "\u00e9.\u00e9.\u00e9", "a b.c d.e f",
]


@pytest.mark.parametrize("token", MALFORMED)
def test_tk13_malformed_tokens(hs: TokenManager, token: str) -> None:
    with pytest.raises(InvalidToken):
        hs.validate_token(token)


@pytest.mark.parametrize("bad", [None, 123, 1.5, ["a.b.c"], {"t": 1}, bytearray(b"a.b.c"), b"\xff.\xfe.\xfd"])
def test_tk13_non_string_tokens(hs: TokenManager, bad: object) -> None:
    with pytest.raises(InvalidToken):
        hs.validate_token(bad)  # type: ignore[arg-type]


def test_tk13_payload_shapes_signed_correctly(clock: FakeClock) -> None:
    big = TokenManager(KeySet(HMACKey("k1", SECRET)), algorithms=["HS256"], issuer="urn:expected",
                       audience="api", clock=clock, max_token_bytes=3_000_000)
    bodies = [b"[1,2,3]", b"not json", b"1" * 1_000_000, b"{\"exp\":" + b"9" * 1_000_000 + b"}",
              b"[" * 100_000 + b"]" * 100_000, b"{\"a\":" * 50_000 + b"1" + b"}" * 50_000, b"\xff\xfe"]
    for body in bodies:
        with pytest.raises(InvalidToken):
            big.validate_token(forge_hs256(SECRET, HEADER, None, raw_payload=body))
    headers = [b"[1]", b"{\"alg\":" * 50_000, b"{\"kid\":" + b"9" * 1_000_000 + b"}", b"null"]
    for header in headers:
        with pytest.raises(InvalidToken):
            big.validate_token(forge_hs256(SECRET, None, claims(), raw_header=header))


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=200), st.binary(max_size=200),
                 st.lists(st.text(alphabet="ABCDEFabcdef0123456789-_=+/.", max_size=40), min_size=1, max_size=5)
                 .map(".".join)))
def test_tk13_fuzz_only_invalid_token(token: object) -> None:
    mgr = TokenManager(KeySet(HMACKey("k1", SECRET)), algorithms=["HS256", "EdDSA"], issuer="urn:expected",
                       audience="api")
    with pytest.raises(InvalidToken):
        mgr.validate_token(token)  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
                    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c, max_size=3),
                    max_leaves=10),
       st.sampled_from(["header", "payload"]))
def test_tk13_fuzz_signed_json_values(value: object, where: str) -> None:
    mgr = TokenManager(KeySet(HMACKey("k1", SECRET)), algorithms=["HS256"], issuer="urn:expected",
                       audience="api")
    if where == "header":
        token = forge_hs256(SECRET, value, claims())
    else:
        token = forge_hs256(SECRET, HEADER, value)
    with pytest.raises(InvalidToken):
        mgr.validate_token(token)


def test_tk13_tampered_signature_and_payload(hs: TokenManager) -> None:
    token = hs.generate_token("u")
    h, p, s = token.split(".")
    for bad in (f"{h}.{p}.{s[:-1]}", f"{h}.{p}.{s}A", f"{h}.{p[:-2]}xx.{s}", f"{h}.{p}.",
                f"{h}.{p}.{s[:-1]}{'A' if s[-1] != 'A' else 'B'}"):
        with pytest.raises(InvalidToken):
            hs.validate_token(bad)


# -- TK-15 signing-key rotation -------------------------------------------------------------------
def test_tk15_signing_key_rotation(clock: FakeClock) -> None:
    ks = KeySet(HMACKey("old", SECRET))
    mgr = TokenManager(ks, algorithms=["HS256"], issuer="urn:expected", audience="api", clock=clock)
    old_token = mgr.generate_token("u")
    ks.add(HMACKey("new", bytes(reversed(SECRET))), primary=True)
    new_token = mgr.generate_token("u")
    assert json.loads(__import__("base64").urlsafe_b64decode(new_token.split(".")[0] + "=="))["kid"] == "new"
    assert mgr.validate_token(old_token)["sub"] == "u"
    ks.retire("old")
    with pytest.raises(InvalidToken):
        mgr.validate_token(old_token)
    assert mgr.validate_token(new_token)
    with pytest.raises(ConfigurationError):
        ks.retire("new")
    with pytest.raises(UnknownKeyId):
        ks.retire("old")


def test_registered_claims_cannot_be_overridden(hs: TokenManager) -> None:
    with pytest.raises(ConfigurationError):
        hs.generate_token("u", claims={"exp": 1})
    with pytest.raises(ConfigurationError):
        hs.generate_token("u", token_use="id")


def test_key_objects_hide_material() -> None:
    key = HMACKey("k1", SECRET)
    assert SECRET.hex() not in repr(key) and "redacted" in str(key)
    import pickle

    with pytest.raises(TypeError):
        pickle.dumps(key)
    with pytest.raises(ConfigurationError):
        HMACKey("k", b"short")
    with pytest.raises(ConfigurationError):
        HMACKey("k", "a-str-secret-that-is-long-enough-xxxxxxx")  # type: ignore[arg-type]


def test_tk2_der_keys_refused_whatever_their_last_bytes() -> None:
    """DER ends in arbitrary bytes (sometimes whitespace values): many fresh keys, all refused."""
    from cryptography.hazmat.primitives import serialization as s
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519

    for _ in range(100):
        for private in (ec.generate_private_key(ec.SECP256R1()), ed25519.Ed25519PrivateKey.generate()):
            for form in (private.public_key().public_bytes(s.Encoding.DER, s.PublicFormat.SubjectPublicKeyInfo),
                         private.private_bytes(s.Encoding.DER, s.PrivateFormat.PKCS8, s.NoEncryption())):
                with pytest.raises(ConfigurationError):
                    HMACKey("x", form)


def test_random_secrets_are_never_refused() -> None:
    for _ in range(3000):
        HMACKey("k", os.urandom(32))
    HMACKey("k", b"{" + os.urandom(40))
    assert HMACKey.generate().can_sign


def test_kid_reused_with_another_algorithm_is_not_confused(clock: FakeClock) -> None:
    ks = KeySet(HMACKey("k", SECRET), HMACKey("other", bytes(reversed(SECRET))))
    mgr = TokenManager(ks, algorithms=["HS256", "EdDSA"], issuer="urn:expected", audience="api", clock=clock)
    old = mgr.generate_token("u")  # caches the HS256 header of kid "k"
    ks.set_primary("other")
    ks.retire("k")
    ks.add(Ed25519Key.generate("k"), primary=True)
    with pytest.raises(InvalidToken):
        mgr.validate_token(old)
    fresh = mgr.generate_token("u")
    assert json.loads(__import__("base64").urlsafe_b64decode(fresh.split(".")[0] + "=="))["alg"] == "EdDSA"
    assert mgr.validate_token(fresh)["sub"] == "u"

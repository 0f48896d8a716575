"""Passwords, MFA, sessions and the auth manager: RELIABILITY.md §4 PW-1..5, MFA-1..5, AU-1..2."""
from __future__ import annotations

import base64
import logging
import sys
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from _security_helpers import FakeClock, nist_records, vectors_dir  # noqa: E402

from swfast.errors import (AccountLocked, AuthenticationError, ConfigurationError, SessionExpired,
                           UnknownAuthMethod, ValidationError)
from swfast.security import (OWASP_ARGON2, ApiKeyAuth, Argon2Params, AuthManager, HMACKey, KeySet, PasswordAuth,
                             PasswordHasher, SessionManager, TokenManager, TOTPVerifier, hotp, totp)
from swfast.security.mfa import generate_secret
from swfast.security.passwords import argon2id_raw, parse_params

VECTORS = vectors_dir("cryptography_vectors")
CHEAP = Argon2Params(memory_kib=64, iterations=1)


@pytest.fixture(scope="module")
def cheap() -> PasswordHasher:
    return PasswordHasher(CHEAP, policy=CHEAP)


# -- passwords -------------------------------------------------------------------------------------
def test_pw1_owasp_phc_format_and_distinct_salts(cheap: PasswordHasher) -> None:
    owasp = PasswordHasher()
    phc = owasp.hash("correct horse")
    params = parse_params(phc)
    assert phc.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert params is not None and params.at_least(OWASP_ARGON2) and params.lanes == 1 and params.salt_len == 16
    assert owasp.verify(phc, "correct horse") and not owasp.verify(phc, "wrong")
    hashes = {cheap.hash("same password") for _ in range(1000)}
    assert len(hashes) == 1000
    with pytest.raises(ConfigurationError):
        PasswordHasher(CHEAP)  # below the OWASP policy


@pytest.mark.parametrize("bad", ["", "garbage", "$argon2id$v=19$m=64,t=1,p=1$$", "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNo",
                                 "$argon2id$v=19$m=999999999,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA", None, 12, b"bytes"])
def test_pw2_malformed_hash_returns_false(cheap: PasswordHasher, bad: object) -> None:
    assert cheap.verify(bad, "pw") is False  # type: ignore[arg-type]


def test_pw2_unknown_user_costs_a_verification(cheap: PasswordHasher, monkeypatch: pytest.MonkeyPatch) -> None:
    from cryptography.hazmat.primitives.kdf import argon2

    calls = []
    real = argon2.Argon2id.verify_phc_encoded
    monkeypatch.setattr(argon2.Argon2id, "verify_phc_encoded",
                        staticmethod(lambda raw, phc, **k: (calls.append(phc), real(raw, phc, **k))[1]))
    store = {"alice": cheap.hash("pw")}
    method = PasswordAuth(cheap, store.get)
    assert method({"username": "nobody", "password": "pw"}) is None
    assert method({"username": "alice", "password": "bad"}) is None
    assert len(calls) == 2  # the unknown user also ran one Argon2id verification


def test_pw3_rehash_on_login_below_policy() -> None:
    weak = PasswordHasher(CHEAP, policy=CHEAP)
    stronger = Argon2Params(memory_kib=128, iterations=2)
    hasher = PasswordHasher(stronger, policy=stronger)
    store = {"bob": weak.hash("pw")}
    assert hasher.needs_rehash(store["bob"]) and not weak.needs_rehash(store["bob"])
    auth = AuthManager()
    auth.register_method("password", PasswordAuth(hasher, store.get, store.__setitem__))
    assert auth.authenticate("password", {"username": "bob", "password": "pw"}).user == "bob"
    assert parse_params(store["bob"]) == Argon2Params(128, 2, 1, 16, 32)
    assert not hasher.needs_rehash(store["bob"])
    assert PasswordHasher().needs_rehash(store["bob"]) and PasswordHasher().needs_rehash("junk")


def test_pw4_long_passwords_refused_before_hashing(cheap: PasswordHasher) -> None:
    with pytest.raises(ValidationError, match="4096"):
        cheap.hash("x" * 4097)
    phc = cheap.hash("x" * 4096)
    assert cheap.verify(phc, "x" * 4096)
    assert cheap.verify(phc, "x" * 5000) is False
    with pytest.raises(ValidationError):
        cheap.hash(12)  # type: ignore[arg-type]


def test_pw5_rfc9106_argon2id_vectors() -> None:
    records = nist_records(VECTORS / "KDF" / "argon2id.txt")
    assert len(records) == 6
    for r in records:
        out = argon2id_raw(bytes.fromhex(r.get("PASS", "")), bytes.fromhex(r["SALT"]), length=int(r["LENGTH"]),
                           iterations=int(r["ITER"]), lanes=int(r["LANES"]), memory_kib=int(r["MEMCOST"]),
                           secret=bytes.fromhex(r["SECRET"]) if r.get("SECRET") else None,
                           ad=bytes.fromhex(r["AD"]) if r.get("AD") else None)
        assert out.hex() == r["OUTPUT"], r["COUNT"]


# -- MFA -------------------------------------------------------------------------------------------
def test_mfa1_rfc6238_and_rfc4226_vectors() -> None:
    records = nist_records(VECTORS / "twofactor" / "rfc-6238.txt")
    assert len(records) == 18
    for r in records:
        code = totp(r["SECRET"].encode(), int(r["TIME"]), digits=8, algorithm=r["MODE"].lower())
        assert code == r["TOTP"] and isinstance(code, str)
    assert totp(b"12345678901234567890", 1111111109, digits=8) == "07081804"
    hotps = nist_records(VECTORS / "twofactor" / "rfc-4226.txt")
    assert len(hotps) == 10
    for r in hotps:
        assert hotp(r["SECRET"].encode(), int(r["COUNTER"])) == r["HOTP"]


def _enrolled(clock: FakeClock, **kw: object) -> tuple[TOTPVerifier, bytes]:
    verifier = TOTPVerifier(clock=clock, **kw)  # type: ignore[arg-type]
    uri = verifier.enroll("alice")
    b32 = parse_qs(urlparse(uri).query)["secret"][0]
    return verifier, base64.b32decode(b32 + "=" * (-len(b32) % 8))


def test_mfa2_window_one_step() -> None:
    clock = FakeClock(1_700_000_015.0)
    for offset, ok in ((-1, True), (0, True), (1, True), (-2, False), (2, False)):
        verifier, secret = _enrolled(clock, max_failures=100)
        assert verifier.verify("alice", totp(secret, clock() + 30 * offset)) is ok, offset


def test_mfa3_replay_rejected() -> None:
    clock = FakeClock(1_700_000_015.0)
    verifier, secret = _enrolled(clock)
    code = totp(secret, clock())
    assert verifier.verify("alice", code)
    assert not verifier.verify("alice", code)
    clock.advance(30)
    assert verifier.verify("alice", totp(secret, clock()))
    assert not verifier.verify("alice", totp(secret, clock() - 30))  # older step after a newer one


def test_mfa4_throttle_per_user_logged(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock(1_700_000_015.0)
    verifier, secret = _enrolled(clock)
    verifier.enroll("bob")
    with caplog.at_level(logging.WARNING, logger="swfast.security"):
        for _ in range(5):
            assert not verifier.verify("alice", "abcdef")  # never a valid code
        with pytest.raises(AccountLocked) as info:
            verifier.verify("alice", totp(secret, clock()))
    assert info.value.retry_after > 0
    assert "kind=lockout" in caplog.text and "alice" not in caplog.text
    assert verifier.verify("bob", "abcdef") is False  # bob is not locked: no AccountLocked
    clock.advance(301)
    assert verifier.verify("alice", totp(secret, clock()))


def test_mfa5_secret_strength_at_rest_and_uri() -> None:
    clock = FakeClock()
    store: dict[str, bytes] = {}
    verifier = TOTPVerifier(clock=clock, store=store, issuer="Acme Co")
    uri = verifier.enroll("alice", account="alice@example.com")
    parsed = urlparse(uri)
    query = parse_qs(parsed.query)
    secret = base64.b32decode(query["secret"][0] + "=" * (-len(query["secret"][0]) % 8))
    assert parsed.scheme == "otpauth" and parsed.netloc == "totp" and len(secret) >= 20
    assert query["issuer"] == ["Acme Co"] and query["digits"] == ["6"] and query["period"] == ["30"]
    assert secret not in store["alice"] and len(store["alice"]) > len(secret)
    store["mallory"] = store["alice"]  # an envelope moved to another user does not decrypt
    from swfast.errors import IntegrityError

    with pytest.raises(IntegrityError):
        verifier.verify("mallory", "123456")
    with pytest.raises(ConfigurationError):
        generate_secret(10)


# -- sessions --------------------------------------------------------------------------------------
def test_au1_session_ids_entropy_and_uniqueness() -> None:
    sm = SessionManager(clock=FakeClock())
    ids = {sm.create("u").session_id for _ in range(100_000)}
    assert len(ids) == 100_000
    assert all(len(base64.urlsafe_b64decode(i + "=" * (-len(i) % 4))) >= 16 for i in list(ids)[:100])
    with pytest.raises(ConfigurationError):
        SessionManager(id_bytes=8)


def test_au1_fixation_and_timeouts() -> None:
    clock = FakeClock()
    sm = SessionManager(clock=clock, idle_timeout_s=100, absolute_timeout_s=1000)
    s1 = sm.create("alice", role="user")
    s2 = sm.regenerate(s1.session_id, role="admin")
    assert s2.session_id != s1.session_id and s2.data["role"] == "admin"
    with pytest.raises(SessionExpired):
        sm.get(s1.session_id)
    for _ in range(10):  # keep it alive with activity until the absolute timeout
        clock.advance(99)
        sm.get(s2.session_id)
    clock.advance(99)
    with pytest.raises(SessionExpired):
        sm.get(s2.session_id)
    s3 = sm.create("alice")
    clock.advance(100)
    with pytest.raises(SessionExpired):
        sm.get(s3.session_id)
    assert s3.session_id[:6] in repr(s3) and s3.session_id not in repr(s3)


def test_sessions_list_and_revoke() -> None:
    clock = FakeClock()
    sm = SessionManager(clock=clock)
    a = [sm.create("alice") for _ in range(3)]
    sm.create("bob")
    assert [s.session_id for s in sm.manage_sessions("list", user="alice")] == [s.session_id for s in a]
    assert sm.revoke(a[0].session_id) and not sm.revoke(a[0].session_id)
    assert sm.revoke_user("alice") == 2 and sm.list_sessions("alice") == [] and len(sm) == 1
    with pytest.raises(ConfigurationError):
        sm.manage_sessions("explode")


# -- auth manager ----------------------------------------------------------------------------------
def test_au2_unknown_method_and_fail_closed(caplog: pytest.LogCaptureFixture) -> None:
    auth = AuthManager()
    with pytest.raises(UnknownAuthMethod, match="unknown authentication method"):
        auth.authenticate("kerberos", {})

    def broken(credentials: object) -> str:
        raise RuntimeError("db down, password=hunter2")

    auth.register_method("broken", broken)
    with caplog.at_level(logging.INFO, logger="swfast.security"):
        with pytest.raises(AuthenticationError):
            auth.authenticate("broken", {"password": "hunter2"})
    assert "hunter2" not in caplog.text and "kind=auth outcome=error" in caplog.text


def test_auth_methods_password_token_api_key_and_mfa(cheap: PasswordHasher, caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock(1_700_000_015.0)
    tokens = TokenManager(KeySet(HMACKey("k", b"s" * 32)), algorithms=["HS256"], issuer="i", audience="a", clock=clock)
    mfa = TOTPVerifier(clock=clock)
    auth = AuthManager(sessions=SessionManager(clock=clock), tokens=tokens, mfa=mfa)
    users = {"alice": cheap.hash("pw"), "bob": cheap.hash("pw2")}
    auth.register_method("password", PasswordAuth(cheap, users.get))
    api = ApiKeyAuth()
    auth.register_method("api_key", api)
    key = api.add_key("svc")
    caplog.set_level(logging.INFO, logger="swfast.security")
    r = auth.authenticate("password", {"username": "alice", "password": "pw"})
    assert r.user == "alice" and r.session is not None and r.method == "password"
    with pytest.raises(AuthenticationError):
        auth.authenticate("password", {"username": "alice", "password": "nope"})
    assert auth.authenticate("token", {"token": tokens.generate_token("alice")}).user == "alice"
    with pytest.raises(AuthenticationError):
        auth.authenticate("token", {"token": "x.y.z"})
    assert auth.verify_token(tokens.generate_token("bob"))["sub"] == "bob"
    assert auth.authenticate("api_key", {"api_key": key}, create_session=False).user == "svc"
    assert api.revoke_key(key)
    with pytest.raises(AuthenticationError):
        auth.authenticate("api_key", {"api_key": key})
    uri = mfa.enroll("bob")
    b32 = parse_qs(urlparse(uri).query)["secret"][0]
    secret = base64.b32decode(b32 + "=" * (-len(b32) % 8))
    with pytest.raises(AuthenticationError):
        auth.authenticate("password", {"username": "bob", "password": "pw2"})
    r = auth.authenticate("password", {"username": "bob", "password": "pw2", "otp": totp(secret, clock())})
    assert r.user == "bob"
    assert auth.manage_sessions("list", user="bob")[0].user == "bob"
    for secret_text in ("pw2", key, "alice"):
        assert secret_text not in caplog.text


def test_concurrent_sessions_threads() -> None:
    sm = SessionManager(clock=time.time)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(300):
                s = sm.create("u")
                sm.get(s.session_id)
                s2 = sm.regenerate(s.session_id)
                sm.list_sessions("u")
                sm.revoke(s2.session_id)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    ts = [threading.Thread(target=work) for _ in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert errors == [] and len(sm) == 0


def test_password_failures_lock_the_user_out(cheap: PasswordHasher, caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    auth = AuthManager(clock=clock)
    users = {"alice": cheap.hash("pw"), "bob": cheap.hash("pw")}
    auth.register_method("password", PasswordAuth(cheap, users.get))
    with caplog.at_level(logging.WARNING, logger="swfast.security"):
        for _ in range(5):
            with pytest.raises(AuthenticationError):
                auth.authenticate("password", {"username": "alice", "password": "guess"})
        with pytest.raises(AccountLocked) as info:
            auth.authenticate("password", {"username": "alice", "password": "pw"})  # even the right one
    assert 0 < info.value.retry_after <= 300
    assert "kind=lockout outcome=locked" in caplog.text and "alice" not in caplog.text
    assert auth.authenticate("password", {"username": "bob", "password": "pw"}).user == "bob"
    clock.advance(301)
    assert auth.authenticate("password", {"username": "alice", "password": "pw"}).user == "alice"
    for _ in range(4):  # a success resets the count
        with pytest.raises(AuthenticationError):
            auth.authenticate("password", {"username": "alice", "password": "guess"})
    auth.authenticate("password", {"username": "alice", "password": "pw"})
    with pytest.raises(AuthenticationError):
        auth.authenticate("password", {"username": "alice", "password": "guess"})
    assert auth.authenticate("password", {"username": "alice", "password": "pw"}).user == "alice"
    unthrottled = AuthManager(throttle=None)
    unthrottled.register_method("password", PasswordAuth(cheap, users.get))
    for _ in range(7):
        with pytest.raises(AuthenticationError):
            unthrottled.authenticate("password", {"username": "alice", "password": "guess"})


def test_failure_throttle_window() -> None:
    from swfast.security.throttle import FailureThrottle

    clock = FakeClock()
    throttle = FailureThrottle(clock=clock, max_failures=3, window_s=10, lockout_s=20)
    assert not throttle.failure("u")
    clock.advance(11)  # the first failure left the window
    assert not throttle.failure("u") and not throttle.failure("u")
    assert throttle.failure("u")
    with pytest.raises(AccountLocked):
        throttle.check("u")
    throttle.reset("u")
    throttle.check("u")
    with pytest.raises(ConfigurationError):
        FailureThrottle(max_failures=0)


def test_privilege_change_issues_new_session_id(cheap: PasswordHasher) -> None:
    clock = FakeClock()
    auth = AuthManager(clock=clock)
    auth.register_method("password", PasswordAuth(cheap, {"alice": cheap.hash("pw")}.get))
    first = auth.authenticate("password", {"username": "alice", "password": "pw"}).session
    second = auth.authenticate("password", {"username": "alice", "password": "pw"}).session
    assert first is not None and second is not None and first.session_id != second.session_id
    elevated = auth.change_privileges(first.session_id, role="admin")
    assert elevated.session_id != first.session_id and elevated.data == {"role": "admin"}
    with pytest.raises(SessionExpired):
        auth.manage_sessions("get", session_id=first.session_id)
    assert auth.manage_sessions("get", session_id=elevated.session_id).user == "alice"

"""Cross-cutting security checks: constant-time compares (TK-14), lazy imports, events, key scans."""
from __future__ import annotations

import ast
import base64
import logging
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SENSITIVE = re.compile(r"(mac|sig|signature|digest|otp|code|hash|tag|secret|password|token|phc)", re.I)


def _names(node: ast.AST) -> list[str]:
    """Identifiers in ``node``, except inside ``len(...)`` (a length is not secret)."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "len":
        return []
    out = []
    for sub in ast.iter_child_nodes(node):
        out.extend(_names(sub))
    if isinstance(node, ast.Name):
        out.append(node.id)
    elif isinstance(node, ast.Attribute):
        out.append(node.attr)
    return out


def variable_time_compares(source: str) -> list[tuple[int, str]]:
    """Lines where ``==``/``!=`` compares something named like a MAC, signature, token, OTP or hash."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare) and any(isinstance(op, (ast.Eq, ast.NotEq)) for op in node.ops):
            operands = [node.left, *node.comparators]
            names = [n for operand in operands for n in _names(operand)]
            hits = [n for n in names if SENSITIVE.search(n)]
            if hits:
                found.append((node.lineno, ",".join(hits)))
    return found


def test_checker_catches_variable_time_compares() -> None:
    bad = "def f(mac, expected):\n    return mac == expected\n\ndef g(a):\n    return a.signature != b'x'\n"
    assert [line for line, _ in variable_time_compares(bad)] == [2, 5]
    assert variable_time_compares("import hmac\nok = hmac.compare_digest(mac, other)\nx = (a == b)\n") == []
    assert variable_time_compares("ok = len(mac) == 32\n") == []
    assert len(variable_time_compares("ok = token == 'abc'\n")) == 1


def test_tk14_no_variable_time_compares_in_security_code() -> None:
    files = sorted((ROOT / "swfast" / "security").glob("*.py")) + sorted((ROOT / "swfast" / "_native").glob("_rbac*"))
    assert len(files) >= 10
    offenders = {}
    for path in files:
        hits = variable_time_compares(path.read_text()) if path.suffix == ".py" else []
        if hits:
            offenders[path.name] = hits
    assert offenders == {}, f"use hmac.compare_digest instead of ==/!= for secrets: {offenders}"


def test_import_is_lazy() -> None:
    code = ("import sys, swfast, swfast.security as s\n"
            "s.RBAC; s.TokenManager; s.KeyRing; s.SessionManager; s.AuthManager; s.TOTPVerifier; s.PasswordHasher\n"
            "bad = [m for m in ('cryptography', 'redis', 'numba', 'confluent_kafka') if m in sys.modules]\n"
            "assert not bad, bad\n"
            "assert s.__all__ == sorted(s.__all__)\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_events_logged_pseudonymous_and_counted(caplog: pytest.LogCaptureFixture) -> None:
    from swfast.monitoring.metrics import REGISTRY
    from swfast.security import pseudonym, security_event

    counter = REGISTRY.counter("swfast_security_events_total", "", ("kind", "outcome"))
    before = counter.labels("auth", "failure").get()
    with caplog.at_level(logging.INFO, logger="swfast.security"):
        security_event("auth", "failure", user="alice@example.com", method="password")
    assert counter.labels("auth", "failure").get() == before + 1
    assert "alice" not in caplog.text and pseudonym("alice@example.com") in caplog.text
    assert pseudonym("a") == pseudonym("a") != pseudonym("b") and pseudonym(None) == "-"
    record = caplog.records[-1]
    assert record.name == "swfast.security" and record.security_event["kind"] == "auth"  # type: ignore[attr-defined]


def test_full_flow_leaks_no_key_material(caplog: pytest.LogCaptureFixture, tmp_path: Path) -> None:
    """Drive every component at DEBUG and scan the logs for every key in hex and base64."""
    import os

    from swfast.security import (DataEncryptor, HMACKey, KeyRing, KeySet, RBAC, TokenManager, TOTPVerifier)

    caplog.set_level(logging.DEBUG)
    secret = os.urandom(32)
    tokens = TokenManager(KeySet(HMACKey("k", secret)), algorithms=["HS256"], issuer="i", audience="a")
    pair = tokens.issue_tokens("user-1")
    pair2 = tokens.refresh_token(pair.refresh)
    from swfast.errors import AccountLocked, InvalidToken, PermissionDenied, TokenReuseDetected, TokenRevoked

    with pytest.raises(TokenReuseDetected):
        tokens.refresh_token(pair.refresh)
    with pytest.raises(InvalidToken):
        tokens.refresh_token("x.y.z")
    ring = KeyRing()
    ring.generate_keys()
    enc = DataEncryptor(ring)
    ring.rotate_keys()
    master = os.urandom(32)
    ring.store_keys(tmp_path / "k.json", master)
    mfa = TOTPVerifier(encryptor=enc)
    mfa.enroll("user-1")
    for _ in range(5):
        assert not mfa.verify("user-1", "abcdef")  # never a valid code
    with pytest.raises(AccountLocked):
        mfa.verify("user-1", "abcdef")
    rbac = RBAC()
    with pytest.raises(PermissionDenied):
        rbac.require_permission("user-1", "x")
    materials = [secret, master, *(e.secret.reveal() for e in ring._keys.values())]
    materials.append(enc.decrypt_data(mfa._store["user-1"], mfa._aad("user-1")))
    with pytest.raises(TokenRevoked):
        tokens.validate_token(pair2.access)
    text = caplog.text + repr(ring) + repr(enc) + repr(tokens.keys)
    assert "key_rotation" in text and "lockout" in text and "token_reuse" in text
    for raw in materials:
        for form in (raw.hex(), base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode().rstrip("="),
                     base64.b32encode(raw).decode().rstrip("=")):
            assert form not in text


def test_security_kernels_compiled_unless_disabled() -> None:
    from swfast._native import envelope, jws, rbac
    from swfast._native._compat import NO_EXTENSIONS
    from swfast.security import DataEncryptor

    suffix = "_py" if NO_EXTENSIONS else "_c"
    for mod in (envelope.EnvelopeCodec, jws.b64url_encode, rbac.PermissionIndex):
        assert mod.__module__.endswith(suffix), mod
    assert DataEncryptor.__mro__[1].__module__.endswith("_envelope" + suffix)


def test_reimport_with_extensions_disabled_uses_twins() -> None:
    import os

    code = ("from swfast._native import envelope, jws, rbac\n"
            "mods = [envelope.EnvelopeCodec.__module__, jws.b64url_decode.__module__, rbac.PermissionIndex.__module__]\n"
            "assert all(m.endswith('_py') for m in mods), mods\n"
            "from swfast.security import DataEncryptor, RBAC\n"
            "r = RBAC(); r.grant_permission('a', 'p'); r.assign_role('u', 'a'); assert r.check_permission('u', 'p')\n"
            "e = DataEncryptor(); assert e.decrypt_data(e.encrypt_data(b'x')) == b'x'\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env={**os.environ, "SWFAST_NO_EXTENSIONS": "1"})


def test_event_fields_cannot_inject_log_lines(caplog: pytest.LogCaptureFixture) -> None:
    from swfast.security import security_event

    with caplog.at_level(logging.INFO, logger="swfast.security"):
        security_event("token", "rejected", reason="x\nsecurity event kind=auth outcome=success" + "y" * 200)
    message = caplog.records[-1].getMessage()
    assert "\n" not in message and len(message) < 200

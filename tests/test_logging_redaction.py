"""Redaction: positive and negative corpora (LG-1, LG-2), structured redaction (LG-3), linear work (LG-12).

Both the compiled scanner and its pure-Python twin run every corpus (``impl`` fixture).
"""
from __future__ import annotations

import hashlib
import logging
import random
import subprocess
import sys
import uuid

import pytest

from swfast.logging.redaction import DETECTORS, SensitiveDataFilter

PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
ARABIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
JWT = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4iLCJpYXQiOjE1MTYyMzkwMjJ9"
       ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c")
PEM = ("-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MhgHcTz6sE2I2yPB\n"
       "aFDrBz9vFqU4yYUqzG1Fv1f0Y8wJf6cW2dD3nqg=\n-----END RSA PRIVATE KEY-----")


def _nid(prefix: str) -> str:
    s = sum(int(prefix[i]) * (10 - i) for i in range(9)) % 11
    return prefix + str(s if s < 2 else 11 - s)


def _iban(bban: str) -> str:
    return "IR%02d" % (98 - int(bban + "182700") % 97) + bban


def _luhn_ok(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


# (text, secret that must vanish, label that must appear)
POSITIVE: list[tuple[str, str, str]] = [
    ("contact john.doe@example.com now", "john.doe@example.com", "EMAIL"),
    ("mail: a.b+tag@sub.mail.co.ir.", "a.b+tag@sub.mail.co.ir", "EMAIL"),
    ("<alice_99@corp.example>", "alice_99@corp.example", "EMAIL"),
    ("card 4111 1111 1111 1111 ok", "4111 1111 1111 1111", "CARD"),
    ("card 5555-5555-5555-4444.", "5555-5555-5555-4444", "CARD"),
    ("amex 378282246310005", "378282246310005", "CARD"),
    ("amex 3782 822463 10005", "3782 822463 10005", "CARD"),
    ("visa:4012888888881881", "4012888888881881", "CARD"),
    ("کارت ۶۰۳۷-۹۹۱۲-۳۴۵۶-۷۸۹۳ ثبت شد", "۶۰۳۷-۹۹۱۲-۳۴۵۶-۷۸۹۳", "CARD"),
    ("کارت ۶۰۳۷ ۹۹۱۲ ۳۴۵۶ ۷۸۹۳", "۶۰۳۷ ۹۹۱۲ ۳۴۵۶ ۷۸۹۳", "CARD"),
    ("card " + "6037991234567893".translate(ARABIC), "6037991234567893".translate(ARABIC), "CARD"),
    ("card " + "6037-9912-3456-7893".translate(ARABIC), "6037-9912-3456-7893".translate(ARABIC), "CARD"),
    ("شماره کارت۶۰۳۷۹۹۱۲۳۴۵۶۷۸۹۳", "۶۰۳۷۹۹۱۲۳۴۵۶۷۸۹۳", "CARD"),
    (f"jwt {JWT}", JWT, "JWT"),
    (f"token in url ?x={JWT}&y=1", JWT, "JWT"),
    ("Authorization: Bearer abcDEF123456.xyz-_~+/=", "abcDEF123456.xyz-_~+/=", "SECRET"),
    ("header bearer 9f8e7d6c5b4a39281706", "9f8e7d6c5b4a39281706", "BEARER"),
    ("key AKIAIOSFODNN7EXAMPLE in config", "AKIAIOSFODNN7EXAMPLE", "AWS_KEY"),
    ("sts ASIAY34FZKBOKMUTVV7A", "ASIAY34FZKBOKMUTVV7A", "AWS_KEY"),
    ("GET /login?user=bob&password=hunter2&next=/", "hunter2", "SECRET"),
    ("GET /api?token=tk_live_abc123&x=1", "tk_live_abc123", "SECRET"),
    ("GET /api?api_key=AbC123xyz", "AbC123xyz", "SECRET"),
    ("GET /api?secret=s3cr3t-v4lue", "s3cr3t-v4lue", "SECRET"),
    ("verify?otp=492817", "492817", "SECRET"),
    ("password = 'correct horse'", "correct horse", "SECRET"),
    ("db_password: Pa55w0rd!", "Pa55w0rd!", "SECRET"),
    ("--password=topsecret1", "topsecret1", "SECRET"),
    ('{"password": "hunter2", "user": "bob"}', "hunter2", "SECRET"),
    ('{"client_secret":"cs_9x8y7z"}', "cs_9x8y7z", "SECRET"),
    ("{'api_key': 'k-123-456'}", "k-123-456", "SECRET"),
    ("X-Api-Key: abcdef0123456789", "abcdef0123456789", "SECRET"),
    ("aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
     "SECRET"),
    ("https://user:p%40ss@host/path", "user:p%40ss", "URL_CREDENTIALS"),
    ("redis://:s3cret@cache:6379/0", ":s3cret", "URL_CREDENTIALS"),
    ("clone https://ghp_abcdefghijklmnop@github.com/x/y", "ghp_abcdefghijklmnop", "URL_CREDENTIALS"),
    (f"key:\n{PEM}\nend", "MIIEowIBAAKCAQEA0Z3VS5JJcds3xfn", "PRIVATE_KEY"),
    ("-----BEGIN PRIVATE KEY-----\nMIIBVQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----",
     "MIIBVQIBADANBgkqhkiG9w0BAQEFAASC", "PRIVATE_KEY"),
    ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA", "b3BlbnNzaC1rZXktdjEAAAAA", "PRIVATE_KEY"),
    ("national id 0012345679", "0012345679", "NATIONAL_ID"),
    ("کد ملی " + "0012345679".translate(PERSIAN), "0012345679".translate(PERSIAN), "NATIONAL_ID"),
    (f"nid {_nid('448765432')}", _nid("448765432"), "NATIONAL_ID"),
    (f"کد ملی {_nid('123456789')}", _nid("123456789"), "NATIONAL_ID"),
    (f"id={_nid('272345678')}".replace("id=", "nid="), _nid("272345678"), "NATIONAL_ID"),
    ("iban IR050170000000123456789012", "IR050170000000123456789012", "IBAN"),
    ("شبا IR05 0170 0000 0012 3456 7890 12", "IR05 0170 0000 0012 3456 7890 12", "IBAN"),
    (f"sheba {_iban('0190000000101975503006')}", _iban("0190000000101975503006"), "IBAN"),
    (f"sheba {_iban('0120000000003134567890').lower()}", _iban("0120000000003134567890").lower(), "IBAN"),
    ("call +98 912 345 6789 today", "+98 912 345 6789", "PHONE"),
    ("call +989123456789", "+989123456789", "PHONE"),
    ("call 0098 912 345 6789", "0098 912 345 6789", "PHONE"),
    ("call 09123456789", "09123456789", "PHONE"),
    ("call 0912-345-6789", "0912-345-6789", "PHONE"),
    ("تماس ۰۹۱۲۳۴۵۶۷۸۹", "۰۹۱۲۳۴۵۶۷۸۹", "PHONE"),
    ("تماس " + "09351234567".translate(ARABIC), "09351234567".translate(ARABIC), "PHONE"),
]


def _negative_corpus() -> list[str]:
    rng = random.Random(1405)
    out: list[str] = []
    while len(out) < 200:  # Luhn-invalid 16-digit order ids
        n = str(rng.randint(2 * 10**15, 7 * 10**15 - 1))
        if not _luhn_ok(n):
            out.append(f"order {n} shipped")
    out += ["order 4111111111111112"]
    out += [f"request {uuid.UUID(int=rng.getrandbits(128), version=4)}" for _ in range(200)]
    out += [f"sha256 {hashlib.sha256(str(i).encode()).hexdigest()}" for i in range(150)]
    out += [f"ts={rng.randint(1_000_000_000, 2_000_000_000)}" for _ in range(150)]
    out += [f"created {rng.randint(1_000_000_000_000, 1_999_999_999_999)} ms" for _ in range(150)]
    out += [f"v{rng.randint(0, 30)}.{rng.randint(0, 99)}.{rng.randint(0, 999)}" for _ in range(50)]
    out += [f"version {rng.randint(0, 9)}.{rng.randint(0, 99)}.{rng.randint(0, 99)}-rc.{rng.randint(1, 9)}"
            for _ in range(50)]
    for _ in range(150):
        a, b, c = rng.randint(1, 9999), rng.randint(1300, 1404), rng.randint(1, 12)
        out.append(f"سفارش شماره {a} در تاریخ {b}/{c:02d}/۱۲ ثبت شد و مبلغ {a * 1000:,} ریال پرداخت شد".translate(PERSIAN))
    out += [f"{rng.randint(1, 255)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}:8080"
            for _ in range(50)]
    out += [f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:00:00Z latency "
            f"{rng.random() * 100:.3f} ms" for _ in range(50)]
    out += ["user bob logged in from the mobile app", "key_id=k-2024-01 rotated", "passed 12 of 13 tests",
            "token bucket refilled 50 tokens", "the password policy changed", "pid 12345 exited with 0",
            "price 1,250,000 toman", "page 3 of 12", "batch 1234 5678 done", "tel ext 1234"]
    return out


NEGATIVE = _negative_corpus()


@pytest.fixture
def flt(impl, monkeypatch: pytest.MonkeyPatch) -> SensitiveDataFilter:  # type: ignore[no-untyped-def]
    import swfast.logging.redaction as red

    monkeypatch.setattr(red, "_scan", impl.load("redscan").scan)
    return SensitiveDataFilter()


def test_every_detector_has_positive_cases() -> None:
    labels = {label for _, _, label in POSITIVE}
    assert {d.upper() for d in DETECTORS} <= labels


@pytest.mark.parametrize("text,secret,label", POSITIVE, ids=[f"{p[2]}-{i}" for i, p in enumerate(POSITIVE)])
def test_positive_corpus_zero_misses(flt: SensitiveDataFilter, text: str, secret: str, label: str) -> None:
    out = flt.redact_text(text)
    assert secret not in out, out
    assert f"[REDACTED:{label}]" in out, out


def test_negative_corpus_false_positive_rate(flt: SensitiveDataFilter) -> None:
    hits = [t for t in NEGATIVE if flt.redact_text(t) != t]
    assert len(NEGATIVE) >= 1000
    assert len(hits) / len(NEGATIVE) <= 0.01, hits[:20]


def test_twin_and_kernel_agree(impl) -> None:  # type: ignore[no-untyped-def]
    py = impl.load("redscan") if impl.name == "py" else None
    from swfast._native import _redscan_py

    other = impl.load("redscan")
    keys = SensitiveDataFilter()._text_key
    rng = random.Random(7)
    alphabet = "a1@.- :=\"'eyJ4+9۶IR/Bearerpassword\n-----BEGIN PRIVATE KEY"
    texts = [t for t, _, _ in POSITIVE] + NEGATIVE[:200]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60))) for _ in range(3000)]
    for text in texts:
        assert other.scan(text, 0xFFFF, keys) == _redscan_py.scan(text, 0xFFFF, keys), text
    del py


ADVERSARIAL = {
    "a-run-at": "a" * 100_000 + "@",
    "at-run": "a@" * 50_000,
    "dot-local": "a." * 50_000 + "@x.io",
    "digits": "1" * 100_000,
    "spaced-digits": "1 " * 50_000,
    "dashed-4": "4111-" * 20_000,
    "eyJ-run": "eyJ" * 33_333,
    "eyJ-dots": "eyJa." * 20_000,
    "jwt-headers": "eyJhbGciOiJIUzI1NiJ9." * 4_761,
    "jwt-triples": "eyJhbGciOiJIUzI1NiJ9.eyJ.x " * 3_703,
    "key-eq": "password=" * 11_111,
    "key-colon-spaces": "token:       " * 7_692,
    "quote-open": 'secret="' + "x" * 99_990,
    "pem-no-end": "-----BEGIN PRIVATE KEY-----" * 3_703,
    "pem-headers": "-----BEGIN " * 9_090,
    "url": "http://" * 14_285,
    "url-at": "http://" + "a:b@" * 24_998,
    "iban": "IR" + "1 " * 49_999,
    "plus98": "+98 " * 25_000,
    "bearer": "Bearer " * 14_285,
    "persian-digits": "۶" * 100_000,
}


@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_adversarial_100kb_linear_work(flt: SensitiveDataFilter, name: str) -> None:
    text = ADVERSARIAL[name]
    assert 99_000 <= len(text) <= 100_100
    steps = flt.scan_steps(text)
    assert steps <= 40 * len(text), steps  # linear: a backtracking matcher would need ~n^2
    flt.redact_text(text)  # and the full redaction completes


def test_steps_grow_linearly(flt: SensitiveDataFilter) -> None:
    small = flt.scan_steps("a@" * 5_000 + "1 " * 5_000 + "eyJ" * 3_000)
    big = flt.scan_steps("a@" * 50_000 + "1 " * 50_000 + "eyJ" * 30_000)
    assert big <= 11 * small


def _record(msg: object, args: object = None, exc_info: object = None, **extra: object) -> logging.LogRecord:
    rec = logging.LogRecord("t", logging.INFO, __file__, 1, msg, args, exc_info)  # type: ignore[arg-type]
    rec.__dict__.update(extra)
    return rec


STRUCT_KEYS = ["password", "passwd", "secret", "token", "authorization", "cookie", "api_key", "private_key",
               "card", "cvv", "otp", "Password", "API-KEY", "apiKey", "user_password", "X-Auth-Token"]


@pytest.mark.parametrize("key", STRUCT_KEYS)
def test_structured_keys_redacted_recursively(flt: SensitiveDataFilter, key: str) -> None:
    value = {"outer": [{"inner": ({key: "plain-value-1"},)}], key: "plain-value-2"}
    rec = _record("payload %s", ({key: "plain-value-3"},), payload=value, **{key: "plain-value-4"})
    flt.filter(rec)
    dumped = repr(rec.__dict__) + rec.getMessage()
    assert "plain-value" not in dumped
    assert value["outer"][0]["inner"][0][key] == "plain-value-1"  # type: ignore[index]  # caller's object untouched


def test_message_args_exception_and_stack(flt: SensitiveDataFilter) -> None:
    try:
        raise ValueError("bad card 4111111111111111 for a@b.com")
    except ValueError:
        rec = _record("card %s for %s", ("4111111111111111", "a@b.com"), exc_info=sys.exc_info())
    rec.stack_info = "Stack:\n  token=abcdef"
    flt.filter(rec)
    assert rec.args is None and rec.exc_info is None
    text = rec.getMessage() + rec.exc_text + rec.stack_info + repr(rec.__dict__["_swfast_exc"])  # type: ignore[operator]
    for secret in ("4111111111111111", "a@b.com", "abcdef"):
        assert secret not in text
    assert "[REDACTED:CARD]" in rec.getMessage()


def test_stdlib_call_never_loses_the_record(flt: SensitiveDataFilter) -> None:
    """Upstream U6: a handler with the processor lost `log.info("card %s for %s", ...)`."""
    import io

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(flt)
    log = logging.Logger("swfast.test.u6", logging.INFO)  # not in the manager: only our handler
    log.addHandler(handler)
    log.info("card %s for %s", "4111111111111111", "a@b.com")
    log.info("wrong args %s %s", "one")
    log.info(object())
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3 and "[REDACTED:CARD]" in lines[0] and "4111" not in stream.getvalue()


def test_unknown_objects_fail_closed(flt: SensitiveDataFilter) -> None:
    class Secretive:
        def __repr__(self) -> str:
            return "Secretive(password=hunter2)"

    rec = _record("x", obj=Secretive(), nums=4111111111111111, small=42, raw=b"token=abc123")
    flt.filter(rec)
    assert "hunter2" not in rec.obj and rec.nums == "[REDACTED:CARD]" and rec.small == 42  # type: ignore[attr-defined]
    assert "abc123" not in rec.raw  # type: ignore[attr-defined]


def test_configurable_detectors_and_patterns() -> None:
    only_email = SensitiveDataFilter(detectors=["email"])
    assert only_email.redact_text("a@b.com 4111111111111111") == "[REDACTED:EMAIL] 4111111111111111"
    no_phone = SensitiveDataFilter(exclude=["phone"])
    assert no_phone.redact_text("09123456789") == "09123456789"
    custom = SensitiveDataFilter(patterns={"ticket": r"TCK-\d{6}"})
    assert custom.redact_text("see TCK-123456") == "see [REDACTED:TICKET]"
    from swfast.errors import ConfigurationError

    with pytest.raises(ConfigurationError):
        SensitiveDataFilter(detectors=["nope"])
    with pytest.raises(ConfigurationError):
        SensitiveDataFilter(patterns={"x": "("})
    with pytest.raises(ConfigurationError):
        SensitiveDataFilter(mode="hash")


def test_pseudonymise_is_stable_across_processes_with_a_key() -> None:
    flt = SensitiveDataFilter(mode="pseudonymise", key="k1")
    out = flt.redact_text("user a@b.com")
    assert out.startswith("user [EMAIL:") and "a@b.com" not in out
    assert flt.redact_text("user a@b.com") == out
    code = ("from swfast.logging.redaction import SensitiveDataFilter as F;"
            "print(F(mode='pseudonymise', key='k1').redact_text('user a@b.com'))")
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert other == out
    assert SensitiveDataFilter(mode="pseudonymise", key="k2").redact_text("user a@b.com") != out


def test_structlog_event_dict(flt: SensitiveDataFilter) -> None:
    out = flt.redact_event_dict({"event": "login a@b.com", "password": "x", "n": 1})
    assert out == {"event": "login [REDACTED:EMAIL]", "password": "[REDACTED:SECRET]", "n": 1}


def _fast_record(msg: object, args: object, extras: dict[str, object]) -> logging.LogRecord:
    rec = logging.LogRecord("app", logging.INFO, __file__, 1, msg, args, None)  # type: ignore[arg-type]
    rec.__dict__.update(extras)
    return rec


class _StrKey(str):
    """A str subclass as an attribute name: the kernels leave such records to the general path."""

    def __hash__(self) -> int:
        return str.__hash__(self)


FAST_CASES: list[tuple[object, object, dict[str, object]]] = [
    ("user %s placed order %d", ("bob", 1234), {"k0": "value-0", "k1": 1, "k2": 2.5, "k3": None, "k4": True}),
    ("plain", None, {}),
    ("مبلغ ۱۲۰۰۰ تومان", None, {"city": "تهران", "n": 7}),
    ("paid with %s", ("4111 1111 1111 1111",), {"k": "v"}),
    ("ok", None, {"note": "mail me at a.b@example.com"}),
    ("ok", None, {"password": "hunter2hunter2"}),
    ("ok", None, {"apiKey": "plain-looking"}),
    ("ok", None, {"amount": 6037991234567893}),
    ("ok", None, {"amount": -10**9}),
    ("ok", None, {"amount": 10**30}),
    ("ok", None, {"nested": {"token": "abc123abc"}}),
    ("ok", None, {"items": ["token=abc123abc"]}),
    ("ok", None, {"raw": b"password=hunter2"}),
    ("dict %(who)s", ({"who": "a@b.example"},), {}),
    ("ids %s", ([1, 2],), {}),
    ("bad %d", ("x",), {"k": "token=abc123abc"}),
    ("multi", None, {"a": "first line", "b": "-----BEGIN PRIVATE KEY-----", "c": "MIIE-----END PRIVATE KEY-----"}),
    ("url https://u:p4ss@h.example/x", None, {"trace": "AKIAIOSFODNN7EXAMPLE"}),
    ("-----BEGIN RSA PRIVATE KEY----- cut short", None, {"mail": "c.d@example.com", "n": 1}),
    ("ok", None, {"a": "-----BEGIN PRIVATE KEY-----", "b": "e.f@example.com"}),
    ("str-subclass key", None, {_StrKey("note"): "mail g.h@example.com"}),
]
FAST_SECRETS = ("4111 1111 1111 1111", "a.b@example.com", "hunter2hunter2", "abc123abc", "a@b.example", "p4ss",
                "AKIAIOSFODNN7EXAMPLE", "6037991234567893", "c.d@example.com", "e.f@example.com", "g.h@example.com")


def _processed(flt: SensitiveDataFilter, case: tuple[object, object, dict[str, object]], reorder: bool) -> dict[str, object]:
    rec = _fast_record(*case)
    if reorder:  # a record whose dict does not start with the standard attributes
        rec.__dict__ = dict(reversed(list(rec.__dict__.items())))
    flt.process(rec)
    return {k: v for k, v in rec.__dict__.items() if k not in ("created", "msecs", "relativeCreated")}


@pytest.mark.parametrize("reorder", [False, True])
def test_clean_record_fast_path_matches_the_general_path(impl, monkeypatch, reorder: bool) -> None:  # type: ignore[no-untyped-def]
    """The one-call check for clean records never changes a result: every case gives the same
    record through the fast path (both kernels) as through the general path alone."""
    from swfast.logging import redaction

    kernel = impl.load("redscan").clean_record
    taken: list[bool] = []

    def counting(*a: object) -> bool:
        taken.append(kernel(*a))
        return taken[-1]

    fast_flt, slow_flt = SensitiveDataFilter(key=b"k"), SensitiveDataFilter(key=b"k")
    for case in FAST_CASES:
        monkeypatch.setattr(redaction, "_clean_record", lambda *a: False)
        slow = _processed(slow_flt, case, reorder)
        monkeypatch.setattr(redaction, "_clean_record", counting)
        _processed(fast_flt, case, reorder)  # first sight of the keys: they get cached
        fast = _processed(fast_flt, case, reorder)
        assert fast == slow, case
        leaked = [secret for secret in FAST_SECRETS if secret in repr(fast)]
        assert not leaked, (case, leaked)
    assert sum(taken) >= 3, "the clean cases should take the fast path"
    assert not all(taken)


def test_clean_record_twin_and_kernel_agree(impl) -> None:  # type: ignore[no-untyped-def]
    from swfast._native import _redscan_py
    from swfast.logging._common import _FIRST, _N_STANDARD, RESERVED

    kernel = impl.load("redscan").clean_record
    flt = SensitiveDataFilter()
    for case in FAST_CASES:
        for key in case[2]:
            flt.is_sensitive_key(key)
        for rec in (_fast_record(*case), _fast_record(*case)):
            if rec is not None and len(rec.__dict__) % 2:
                rec.__dict__ = dict(reversed(list(rec.__dict__.items())))
            try:
                msg = rec.getMessage()
            except TypeError:
                continue
            args = (rec.__dict__, _N_STANDARD, _FIRST, RESERVED, flt._key_cache, msg, flt._mask, flt._text_key)
            assert kernel(*args) == _redscan_py.clean_record(*args), case
    assert not kernel({"k": "v"}, _N_STANDARD, _FIRST, RESERVED, {}, "m", flt._mask, flt._text_key)  # key not cached

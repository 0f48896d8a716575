"""Processors (process_log, enrich_data), configure()/SWFAST_LOG, structlog, security events (LG-11)."""
from __future__ import annotations

import base64
import io
import json
import logging
import logging.config
import os
import subprocess
import sys
import types
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import parse_qs, urlparse

import pytest

import swfast
from swfast.errors import ConfigurationError
from swfast.logging import (
    ENV_VAR, FileLogHandler, JSONLogFormatter, LogProcessor, ProcessingHandler, SensitiveDataFilter, bind_context,
    configure, structlog_processors)


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _rec(msg: str = "m %s", args: Any = ("a",), **extra: Any) -> logging.LogRecord:
    rec = logging.LogRecord("p", logging.INFO, __file__, 1, msg, args, None)
    rec.__dict__.update(extra)
    return rec


@pytest.fixture
def root_restored() -> Iterator[logging.Logger]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield root
    for h in list(root.handlers):
        if h not in handlers:
            root.removeHandler(h)
            h.close()
    root.setLevel(level)


def test_process_log_works_on_a_copy_and_runs_once() -> None:
    proc = LogProcessor(service="svc", version="1.2")
    payload = {"password": "p1", "list": ["a@b.com"]}
    rec = _rec("mail %s", ("a@b.com",), payload=payload)
    out = proc.process_log(rec)
    assert out is not None and out is not rec
    assert rec.args == ("a@b.com",) and rec.payload is payload and payload == {"password": "p1", "list": ["a@b.com"]}
    assert out.getMessage() == "mail [REDACTED:EMAIL]" and out.payload == {  # type: ignore[attr-defined]
        "password": "[REDACTED:SECRET]", "list": ["[REDACTED:EMAIL]"]}
    assert out.service == "svc" and out.version == "1.2" and out.pid == os.getpid() and out.host  # type: ignore[attr-defined]
    assert proc.process_log(out) is out  # already processed: not again


def test_fan_out_children_get_their_own_copy() -> None:
    class Mutating(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            record.msg = "mutated"
            record.extra_field = "added"  # type: ignore[attr-defined]

    cap = Capture()
    fan = ProcessingHandler([Mutating(), cap])
    fan.handle(_rec())
    assert cap.records[0].getMessage() == "m a" and not hasattr(cap.records[0], "extra_field")


def test_enrich_from_context_vars() -> None:
    cap = Capture()
    log = logging.Logger("ctx", logging.INFO)
    log.addHandler(ProcessingHandler([cap]))
    with bind_context(request_id="r-1", trace_id="t-1"):
        with bind_context(session_id="s-1"):
            log.info("inside")
        log.info("outer", extra={"request_id": "explicit"})
    log.info("after")
    a, b, c = cap.records
    assert (a.request_id, a.trace_id, a.session_id) == ("r-1", "t-1", "s-1")  # type: ignore[attr-defined]
    assert b.request_id == "explicit" and not hasattr(b, "session_id")  # type: ignore[attr-defined]
    assert not hasattr(c, "request_id")


def test_processor_as_dictconfig_filter_and_handlers(tmp_path: Path) -> None:
    path = tmp_path / "dc.log"
    logging.config.dictConfig({
        "version": 1, "disable_existing_loggers": False,
        "filters": {"swfast": {"()": "swfast.logging.LogProcessor"}},
        "formatters": {"json": {"()": "swfast.logging.JSONLogFormatter"}},
        "handlers": {"file": {"()": "swfast.logging.FileLogHandler", "filename": str(path), "max_bytes": "1 MB",
                              "filters": ["swfast"], "formatter": "json"}},
        "loggers": {"dc.app": {"handlers": ["file"], "level": "INFO", "propagate": False}},
    })
    log = logging.getLogger("dc.app")
    log.info("card %s", "4111 1111 1111 1111")
    for h in list(log.handlers):
        log.removeHandler(h)
        h.close()
    line = json.loads(path.read_text())
    assert line["message"] == "card [REDACTED:CARD]" and "host" in line


def test_configure_from_env_and_no_duplicates(tmp_path: Path, root_restored: logging.Logger) -> None:
    path = tmp_path / "env.log"
    env = {ENV_VAR: f"level=DEBUG;format=json;sinks=file:{path}?max_bytes=10MB&backup_count=3;service=api"}
    first = configure(env=env)
    second = configure(env=env)  # replaces, never stacks
    installed = [h for h in root_restored.handlers if getattr(h, "_swfast_configured", False)]
    assert installed == [second] and first not in root_restored.handlers
    assert root_restored.level == logging.DEBUG
    logging.getLogger("cfg.test").debug("token=%s", "abc")
    second.flush()
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    assert [x["message"] for x in lines] == ["token=[REDACTED:SECRET]"] and lines[0]["service"] == "api"
    fh = second.handlers[0]
    assert isinstance(fh, FileLogHandler) and fh.max_bytes == 10_000_000 and fh.backup_count == 3


def test_configure_explicit_arguments_win_and_text_format(root_restored: logging.Logger) -> None:
    stream = io.StringIO()
    h = logging.StreamHandler(stream)
    from swfast.logging import TextLogFormatter

    h.setFormatter(TextLogFormatter(colors=False))
    configure("INFO", "text", [h], env={ENV_VAR: "level=ERROR;format=ecs"})
    logging.getLogger("cfg.text").info("hello\nforged %s", "a@b.com")
    assert stream.getvalue().count("\n") == 1 and "[REDACTED:EMAIL]" in stream.getvalue()


@pytest.mark.parametrize("kwargs,param", [({"level": "LOUD"}, "level"), ({"format": "xml"}, "format"),
                                          ({"sinks": ["pigeon"]}, "sinks"), ({"sinks": ["file:"]}, "sinks")])
def test_configure_bad_arguments(kwargs: dict[str, Any], param: str, root_restored: logging.Logger) -> None:
    with pytest.raises(ConfigurationError) as info:
        configure(env={}, **kwargs)
    assert info.value.param == param


def test_configure_bad_env(root_restored: logging.Logger) -> None:
    with pytest.raises(ConfigurationError, match=ENV_VAR):
        configure(env={ENV_VAR: "level"})
    with pytest.raises(ConfigurationError, match="colour"):
        configure(env={ENV_VAR: "colour=1"})


def test_swfast_logger_has_a_null_handler_and_stdlib_is_not_shadowed() -> None:
    assert any(isinstance(h, logging.NullHandler) for h in logging.getLogger("swfast").handlers)
    import swfast.cache.l2 as l2
    import swfast.logging

    assert l2.log.__class__ is logging.Logger and swfast.logging.__name__ == "swfast.logging"
    assert logging.__file__ and "swfast" not in logging.__file__
    code = "import swfast, swfast.logging, logging; print(logging.__name__, hasattr(logging, 'getLogger'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}).stdout
    assert out.split() == ["logging", "True"]


def test_import_is_lazy() -> None:
    code = ("import sys, swfast.logging; "
            "print(sorted(m for m in ('swfast.logging.kafka_handler', 'confluent_kafka', 'swfast.logging.redaction') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}).stdout
    assert out.strip() == "[]"


def test_structlog_processors_redact_and_enrich() -> None:
    structlog = pytest.importorskip("structlog")
    out = io.StringIO()
    structlog.configure(processors=[*structlog_processors(LogProcessor(service="svc")),
                                    structlog.processors.JSONRenderer()],
                        logger_factory=structlog.PrintLoggerFactory(out), cache_logger_on_first_use=False)
    try:
        with bind_context(request_id="r9"):
            structlog.get_logger().info("login a@b.com", password="hunter2", card="4111111111111111")
    finally:
        structlog.reset_defaults()
    event = json.loads(out.getvalue())
    assert event["event"] == "login [REDACTED:EMAIL]" and event["password"] == "[REDACTED:SECRET]"
    assert event["card"] == "[REDACTED:SECRET]" and event["request_id"] == "r9" and event["service"] == "svc"


# ------------------------------------------------------------------ security events (LG-11)
def _forms(secret: bytes | str) -> list[bytes]:
    raw = secret.encode() if isinstance(secret, str) else secret
    forms = [raw, raw.hex().encode(), base64.b64encode(raw), base64.urlsafe_b64encode(raw).rstrip(b"="),
             base64.b32encode(raw).rstrip(b"=")]
    return [f for f in forms if len(f) >= 6]


def test_security_scenarios_leak_no_secret_in_any_encoding(root_restored: logging.Logger) -> None:
    pytest.importorskip("cryptography")
    from swfast.errors import AccountLocked, AuthenticationError, PermissionDenied
    from swfast.security import (
        RBAC, Argon2Params, AuthManager, HMACKey, KeyRing, KeySet, PasswordAuth, PasswordHasher, TokenManager,
        TOTPVerifier)

    stream = io.StringIO()
    plain = io.StringIO()
    sink = logging.StreamHandler(stream)
    sink.setFormatter(JSONLogFormatter())
    configure("DEBUG", "json", [sink], env={})
    raw_handler = logging.StreamHandler(plain)  # a plain stdlib handler beside ours sees redacted events too
    logging.getLogger("swfast.security").addHandler(raw_handler)
    secrets_seen: list[bytes | str] = []
    try:
        cheap = Argon2Params(memory_kib=64, iterations=1)
        hasher = PasswordHasher(cheap, policy=cheap)
        password = "Tr0ub4dor&3-correct-horse"
        secrets_seen.append(password)
        users = {"alice@example.com": hasher.hash(password)}
        hmac_key = b"k" * 16 + b"\x01\x02secret-hmac-key"
        secrets_seen.append(hmac_key)
        tokens = TokenManager(KeySet(HMACKey("k1", hmac_key)), algorithms=["HS256"], issuer="i", audience="a")
        mfa = TOTPVerifier(max_failures=3)
        auth = AuthManager(tokens=tokens)
        auth.register_method("password", PasswordAuth(hasher, users.get))
        auth.authenticate("password", {"username": "alice@example.com", "password": password})
        for who, pw in (("alice@example.com", password + "x"), ("mallory@example.com", "guess-1")):
            try:
                auth.authenticate("password", {"username": who, "password": pw})
            except AuthenticationError:
                pass
        secrets_seen.append("guess-1")
        uri = mfa.enroll("alice@example.com")
        totp_secret = parse_qs(urlparse(uri).query)["secret"][0]
        secrets_seen += [totp_secret, base64.b32decode(totp_secret + "=" * (-len(totp_secret) % 8))]
        for _ in range(4):
            try:
                mfa.verify("alice@example.com", "000000")
            except AccountLocked:
                pass
        pair = tokens.issue_tokens("alice@example.com")
        secrets_seen += [pair.access, pair.refresh]
        auth.authenticate("token", {"token": pair.access})
        tokens.refresh_token(pair.refresh)
        try:
            tokens.refresh_token(pair.refresh)  # reuse: the family is revoked and logged
        except Exception:  # noqa: BLE001
            pass
        rbac = RBAC()
        try:
            rbac.require_permission("alice@example.com", "admin:write")
        except PermissionDenied:
            pass
        ring = KeyRing()
        ring.rotate_keys()
        ring.rotate_keys()
        for entry in ring._keys.values():
            secrets_seen.append(entry.secret.reveal())
        logging.getLogger("app").info("user %s logged in with password=%s", "alice@example.com", password)
        logging.getLogger("app").info("totp uri %s", uri)
    finally:
        logging.getLogger("swfast.security").removeHandler(raw_handler)
    output = (stream.getvalue() + plain.getvalue()).encode()
    lines = stream.getvalue().splitlines()
    assert sum(1 for x in lines if json.loads(x).get("logger") == "swfast.security") >= 8
    assert b"alice@example.com" not in output and b"mallory" not in output  # pseudonyms only
    for secret in secrets_seen:
        if not secret:
            continue
        for form in _forms(secret):
            assert form not in output, (secret, form)
    kinds = {json.loads(x)["security_event"]["kind"] for x in lines if "security_event" in json.loads(x)}
    assert {"auth", "mfa", "lockout", "permission_denied", "key_rotation"} <= kinds


def test_security_pseudonyms_stable_with_the_shared_key() -> None:
    code = ("from swfast.security import pseudonym; from swfast.logging import SensitiveDataFilter as F; "
            "print(pseudonym('alice'), F(mode='pseudonymise').pseudonym('alice'))")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "SWFAST_LOG_PSEUDONYM_KEY": "fleet-key"}
    a = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env).stdout.split()
    b = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env).stdout.split()
    assert a == b and a[0] == a[1] and len(a[0]) == 16


def test_filter_instances_are_independent() -> None:
    a, b = SensitiveDataFilter(detectors=["email"]), SensitiveDataFilter(detectors=["card"])
    assert a.redact_text("a@b.com") != b.redact_text("a@b.com")


PROCESS_CASES: list[tuple[object, tuple[object, ...] | None, dict[str, object], dict[str, object]]] = [
    ("user %s placed order %d", ("bob", 1234), {"k0": "value-0", "k1": 1, "k2": 2.5}, {}),
    ("plain", None, {}, {"request_id": "req-1", "trace_id": "4bf92f3577b34da6"}),
    ("ctx value is secret", None, {}, {"request_id": "a.b@example.com"}),
    ("ctx key is secret", None, {}, {"token": "abc123abc123"}),
    ("record wins over ctx", None, {"request_id": "own"}, {"request_id": "a.b@example.com"}),
    ("card %s", ("4111 1111 1111 1111",), {"k": "v"}, {"request_id": "r"}),
    ("ok", None, {"password": "hunter2hunter2"}, {}),
    ("ok", None, {"nested": {"token": "abc123abc123"}}, {}),
    ("bad %d", ("x",), {}, {}),
    ({"msg": "not a str"}, None, {}, {}),
    ("big int", None, {"n": 6037991234567893}, {}),
]
PROCESS_SECRETS = ("a.b@example.com", "abc123abc123", "4111 1111 1111 1111", "hunter2hunter2", "6037991234567893")


def test_process_log_fast_path_matches_the_general_path(impl, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """One kernel call for the clean common record: the same processed copy (same fields, same
    order) as the general path, the caller's record untouched, secrets never through."""
    from swfast.logging import processors

    kernel = impl.load("redscan").process_clean
    taken: list[bool] = []

    def counting(*a: object) -> object:
        out = kernel(*a)
        taken.append(out is not None)
        return out

    fast_proc, slow_proc = LogProcessor(service="svc", version="1.2"), LogProcessor(service="svc", version="1.2")
    for msg, args, extras, ctx in PROCESS_CASES:
        rec = logging.LogRecord("app", logging.INFO, __file__, 1, msg, args, None)
        rec.__dict__.update(extras)
        before = dict(rec.__dict__)
        with bind_context(**ctx):
            monkeypatch.setattr(processors, "_process_clean", lambda *a: None)
            slow = slow_proc.process_log(rec)
            monkeypatch.setattr(processors, "_process_clean", counting)
            fast_proc.process_log(rec)  # first sight of the keys: they get cached
            fast = fast_proc.process_log(rec)
        assert rec.__dict__ == before, "the caller's record must not change"
        assert fast is not None and slow is not None and fast is not rec
        assert list(fast.__dict__.items()) == list(slow.__dict__.items()), (msg, extras, ctx)
        shown = JSONLogFormatter().format(fast)
        assert not [s for s in PROCESS_SECRETS if s in shown], shown
    assert sum(taken) >= 3 and not all(taken)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_process_fields_follow_a_fork() -> None:
    proc = LogProcessor(service="svc")
    rec = logging.LogRecord("app", logging.INFO, __file__, 1, "hello", None, None)
    assert proc.process_log(rec).pid == os.getpid()  # type: ignore[union-attr]
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        try:
            out = proc.process_log(rec)
            os.write(write, str(out.pid if out is not None else -1).encode())  # type: ignore[attr-defined]
        finally:
            os._exit(0)
    os.close(write)
    got = os.read(read, 64).decode()
    os.close(read)
    _, status = os.waitpid(child, 0)
    assert status == 0 and got == str(child)
    assert proc.process_log(rec).pid == os.getpid()  # type: ignore[union-attr]


def _fused_formatter(impl: Any, proc: LogProcessor) -> tuple[JSONLogFormatter, list[bool]]:
    """``JSONLogFormatter(processor=proc)`` running ``impl``'s fused kernel and renderer, and the
    list of its outcomes (True: the fused line, False: declined to the general path)."""
    from swfast._native import _logjson_py
    from swfast.logging import processors
    from swfast.logging._common import _FIRST, _N_STANDARD, RESERVED

    fmt = JSONLogFormatter(processor=proc)
    if impl.name == "py":
        fmt._renderer = _logjson_py.RecordRenderer(logging.LogRecord, *fmt._renderer_args())  # type: ignore[attr-defined]
    fused = impl.load("redscan").FusedJSON(proc, fmt._renderer, processors.log_context, sys.modules,  # type: ignore[attr-defined]
                                           processors._FORKS, logging.LogRecord, _N_STANDARD, _FIRST, RESERVED)
    taken: list[bool] = []

    def counting(record: logging.LogRecord, as_str: bool = False) -> object:
        out = fused.render(record, as_str)
        if out is not None:
            taken.append(out is not False)
        return out

    fmt._fused = counting  # type: ignore[attr-defined]
    return fmt, taken


def test_formatter_with_a_processor_renders_what_the_processed_copy_renders(impl, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """``JSONLogFormatter(processor=…)`` enriches and redacts while rendering; the fused kernel
    (no copy) gives the same line as rendering the processed copy, as bytes (``render``) and as
    str (``format``), and never changes the record."""
    proc = LogProcessor(service="svc", version="1.2")
    fused, taken = _fused_formatter(impl, proc)
    plain = JSONLogFormatter()
    for msg, args, extras, ctx in [*PROCESS_CASES, ("ctx reserved name", None, {}, {"message": "x", "msg": "y"})]:
        rec = logging.LogRecord("app", logging.INFO, __file__, 1, msg, args, None)
        rec.__dict__.update(extras)
        before = dict(rec.__dict__)
        with bind_context(**ctx):
            fused.render(rec)  # first sight of the keys: they get cached
            line = fused.render(rec)
            text = fused.format(rec)
            want = plain.render(proc.process_log(rec))  # type: ignore[arg-type]
        assert rec.__dict__ == before
        assert type(text) is str and text.encode() == line
        assert json.loads(line) == json.loads(want) and list(json.loads(line)) == list(json.loads(want)), (msg, ctx)
        assert not [s for s in PROCESS_SECRETS if s.encode() in line], line
    assert sum(taken) >= 3 and not all(taken)
    handler = logging.StreamHandler(io.StringIO())
    handler.setFormatter(fused)
    log = logging.Logger("fused")
    log.addHandler(handler)
    log.info("paid with %s", "4111 1111 1111 1111")
    assert "[REDACTED:CARD]" in handler.stream.getvalue()  # type: ignore[attr-defined]
    with pytest.raises(ConfigurationError, match="processor"):
        JSONLogFormatter(processor=LogProcessor(steps=[lambda r: r]))
    with pytest.raises(ConfigurationError, match="processor"):
        JSONLogFormatter(processor=object())  # type: ignore[arg-type]


def test_fused_formatter_edge_records_match_the_processed_copy(impl) -> None:  # type: ignore[no-untyped-def]
    """The fused kernel's own branches give the processed copy's line: a dict with a deleted
    slot among the standard attributes (no shortcut over them), more str values than its fixed
    text table holds, the cached timestamp second crossing a boundary (the clock injected as
    ``record.created``), a ``created`` out of range, a processor changed after the formatter
    was made (steps, service, redactor), and a context value that is not a dict."""
    from swfast.logging import processors

    proc = LogProcessor(service="svc", version="1.2")
    fused, taken = _fused_formatter(impl, proc)
    plain = JSONLogFormatter()

    def same(rec: logging.LogRecord) -> None:
        before = dict(rec.__dict__)
        fused.render(rec)
        line, text = fused.render(rec), fused.format(rec)
        want = plain.render(proc.process_log(rec))  # type: ignore[arg-type]
        assert rec.__dict__ == before and text.encode() == line
        assert json.loads(line) == json.loads(want) and list(json.loads(line)) == list(json.loads(want)), rec.__dict__

    holed = _rec("holed %s", ("x",), k="v")
    del holed.__dict__["funcName"]  # a deleted slot before the extras (or a shorter split table)
    holed.__dict__["late"] = "value"
    same(holed)
    shuffled = _rec("shuffled %d", (5,), k="v")
    shuffled.__dict__ = dict(reversed(list(shuffled.__dict__.items())))  # no standard layout: looked up by name
    same(shuffled)
    made = logging.makeLogRecord({"msg": "made %s", "args": ("x",), "k": "v", "levelname": "INFO"})
    same(made)
    odd_level = _rec("odd level", None)
    odd_level.levelname = 20  # type: ignore[assignment]
    same(odd_level)
    many = _rec("many", None, **{f"s{i}": f"text {i}" for i in range(40)}, last="a.b@example.com")
    same(many)
    assert b"a.b@example.com" not in fused.render(many)
    many_clean = _rec("many", None, **{f"s{i}": f"text {i}" for i in range(40)})
    taken.clear()
    same(many_clean)
    assert taken[-1] is True
    lines = []
    for created in (1_700_000_000.999, 1_700_000_001.0, 1_700_000_001.0004, 1_699_999_999.5, 1_700_000_001.25):
        rec = _rec("tick", None, k=1)
        rec.created = created
        same(rec)
        lines.append(json.loads(fused.render(rec))["timestamp"])
    assert lines == ["2023-11-14T22:13:20.999Z", "2023-11-14T22:13:21.000Z", "2023-11-14T22:13:21.000Z",
                     "2023-11-14T22:13:19.500Z", "2023-11-14T22:13:21.250Z"]
    for created in (-1.5, float("nan"), 1e18):
        rec = _rec("odd clock", None)
        rec.created = created
        taken.clear()
        same(rec)
        assert not any(taken)
    rec = _rec("changed", None, k="v")
    proc.service = "other"
    assert json.loads(fused.render(rec))["service"] == "other"
    proc.redactor = SensitiveDataFilter(patterns={"ORDER": r"order-\d+"})
    assert b"[REDACTED:ORDER]" in fused.render(_rec("order-42", None))
    proc.redactor = SensitiveDataFilter()
    proc.steps.append(lambda r: None)  # a step added later: the general path (which may drop)
    assert b"UNPROCESSABLE" in fused.render(rec)
    proc.steps.clear()
    token = processors.log_context.set(types.MappingProxyType({"request_id": "r"}))
    try:
        taken.clear()
        got = json.loads(fused.render(_rec("not a dict", None)))
        assert got["message"] == "not a dict" and got["request_id"] == "r" and taken == []
    finally:
        processors.log_context.reset(token)


def test_an_active_opentelemetry_span_adds_its_ids_and_no_span_keeps_the_fast_path(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """With the real OTel SDK loaded, a record logged inside a span carries its trace and span ids
    (the general path); outside any span the fused kernels still run (loading OTel must not
    turn the fast path off for the whole process)."""
    trace = pytest.importorskip("opentelemetry.trace")
    from opentelemetry.sdk.trace import TracerProvider

    from swfast.logging import processors

    calls: list[bool] = []
    kernel = processors._process_render

    def counting(*a: object) -> object:
        out = kernel(*a)
        calls.append(out is not None)
        return out

    monkeypatch.setattr(processors, "_process_render", counting)
    proc, fmt = LogProcessor(service="svc"), JSONLogFormatter()
    fused = JSONLogFormatter(processor=proc)
    fused_calls: list[object] = []
    fused_render = fused._fused  # type: ignore[attr-defined]
    assert fused_render is not None

    def counting_fused(record: logging.LogRecord, as_str: bool = False) -> object:
        out = fused_render(record, as_str)
        fused_calls.append(out)
        return out

    fused._fused = counting_fused  # type: ignore[attr-defined]
    tracer = TracerProvider().get_tracer("swfast-test")
    with tracer.start_as_current_span("request") as span:
        ctx = span.get_span_context()
        inside = json.loads(fused.format(_rec()))
        processed = proc.process_log(_rec())
    assert fused_calls == [None] and calls == []  # both kernels decline: the span's ids need the general path
    assert inside["trace_id"] == f"{ctx.trace_id:032x}" and inside["span_id"] == f"{ctx.span_id:016x}"
    assert processed is not None and processed.trace_id == inside["trace_id"]  # type: ignore[attr-defined]
    outside = json.loads(fused.format(_rec()))
    assert isinstance(fused_calls[-1], str) and "trace_id" not in outside and outside["service"] == "svc"
    assert proc.render_json(_rec(), fmt) is not None and calls == [True]  # the other fused kernel runs too
    assert "opentelemetry.trace" in sys.modules and trace.get_current_span().get_span_context().is_valid is False
    assert json.loads(fmt.format(proc.process_log(_rec()))).get("trace_id") is None  # type: ignore[arg-type]


PERCENT_CASES: list[tuple[str, tuple[object, ...]]] = [
    ("user %s placed order %d", ("bob", 1234)), ("%s", ("",)), ("%d%%", (-9223372036854775808,)),
    ("%i items", (0,)), ("%d", (9223372036854775807,)), ("%d", (2**64,)), ("%d", (True,)), ("%s", (3,)),
    ("%s", (1.5,)), ("%d", (2.5,)), ("سلام %s و %d", ("دنیا", 7)), ("%s ✓", ("ascii",)), ("ascii %s", ("😀",)),
    ("%5d", (1,)), ("%-s", ("a",)), ("%r", ("a",)), ("%(k)s", ("a",)), ("100%", ("a",)), ("%s %s", ("a",)),
    ("no conversion", ("a",)), ("%%s %s", ("a",)), ("%s" * 20, tuple("abcdefghijklmnopqrst")),
    ("%s%d%s", ("a", -1, "\u2028")), ("%ld", (5,)), ("%s", (None,)),
]


def test_message_formatting_in_the_kernel_is_msg_percent_args(impl) -> None:  # type: ignore[no-untyped-def]
    """The clean-record kernels format ``msg % args`` themselves for plain %s/%d/%%; the message
    is exactly what ``%`` gives, and every other form (or a failing one) is ``%``'s business."""
    from swfast.logging._common import _FIRST, _N_STANDARD, RESERVED

    kernel = impl.load("redscan").process_clean
    red = SensitiveDataFilter()
    fmt, taken = _fused_formatter(impl, LogProcessor(service="svc"))
    for msg, args in PERCENT_CASES:
        rec = logging.LogRecord("app", logging.INFO, __file__, 1, msg, args, None)
        try:
            want: str | None = msg % args
        except (TypeError, ValueError):
            want = None
        out = kernel(rec, logging.LogRecord, {}, (), _N_STANDARD, _FIRST, RESERVED, red._key_cache, red._mask,
                     red._text_key)
        if out is not None:
            assert want is not None and out.msg == want and type(out.msg) is str, (msg, args)
        else:
            assert want is None, (msg, args)
        line = json.loads(fmt.format(rec))
        assert want is None or line["message"] == want, (msg, args)
    assert taken.count(True) >= 15


def test_fused_formatter_matches_the_processed_copy_on_random_records(impl) -> None:  # type: ignore[no-untyped-def]
    """Seeded random records (messages with and without %-conversions, extras of every scalar
    type, reserved and taken names, non-ASCII text, secrets, context fields): the fused line is
    the processed copy's line, as bytes and as str, and the record is never changed."""
    import random

    rnd = random.Random(20261207)
    proc = LogProcessor(service="svc", version="1.2")
    fused, taken = _fused_formatter(impl, proc)
    plain = JSONLogFormatter()
    words = ["order", "user", "سلام", "naïve", "✓", "a.b@example.com", "token=abc123abc123", "4111 1111 1111 1111",
             "x\"y", "tab\there", "line\nbreak", "100%", "%%", "value-7"]
    keys = ["k", "user_id", "message", "timestamp", "level", "msg", "host", "service", "password", "ключ", "n", "f"]
    values: list[object] = [1, -5, 2**40, 2**70, 0.5, True, None, "v", "سلام", "a.b@example.com", [1, 2],
                            {"a": "b"}, b"raw", float("nan"), float("-inf"), [float("inf")]]
    for _ in range(300):
        parts, args = [], []
        for _ in range(rnd.randint(0, 4)):
            kind = rnd.random()
            if kind < 0.3:
                parts.append("%s")
                args.append(rnd.choice(words))
            elif kind < 0.5:
                parts.append("%d")
                args.append(rnd.choice([0, -1, 7, 2**63 - 1, 2**64]))
            else:
                parts.append(rnd.choice(words))
        msg = " ".join(parts) or "empty"
        rec = logging.LogRecord("app", logging.INFO, __file__, 1, msg, tuple(args) or None, None)
        rec.created = rnd.choice([1_700_000_000.0, 1_700_000_000.9995, 1_700_000_001.25])
        for _ in range(rnd.randint(0, 5)):
            rec.__dict__[rnd.choice(keys) + rnd.choice(["", "2"])] = rnd.choice(values)
        ctx = {rnd.choice(["request_id", "trace_id", "host", "msg"]): rnd.choice(["r-1", "a.b@example.com"])
               for _ in range(rnd.randint(0, 2))}
        before = dict(rec.__dict__)
        with bind_context(**ctx):
            fused.render(rec)
            line, text = fused.render(rec), fused.format(rec)
            want = plain.render(proc.process_log(rec))  # type: ignore[arg-type]
        assert rec.__dict__.keys() == before.keys() and all(
            rec.__dict__[k] is before[k] for k in before), "the caller's record must not change"
        assert text.encode("utf-8", "surrogatepass") == line
        assert json.loads(line) == json.loads(want), (msg, args, ctx, line, want)
        assert list(json.loads(line)) == list(json.loads(want))
        assert not [s for s in PROCESS_SECRETS if s.encode() in line], line
    assert taken.count(True) > 30 and taken.count(False) > 30


def test_fused_formatter_is_shared_safely_between_threads(impl) -> None:  # type: ignore[no-untyped-def]
    """One formatter used by several threads, each in its own context: every line carries its
    own thread's context fields and message (the kernel reads the context variable per call)."""
    import threading

    proc = LogProcessor(service="svc")
    fused, _ = _fused_formatter(impl, proc)
    bad: list[str] = []

    def work(n: int) -> None:
        with bind_context(request_id=f"req-{n}"):
            for i in range(300):
                rec = _rec("thread %d item %d", (n, i), k=f"v{n}")
                line = json.loads(fused.format(rec) if i % 2 else fused.render(rec))
                if (line["request_id"], line["message"], line["k"]) != (f"req-{n}", f"thread {n} item {i}", f"v{n}"):
                    bad.append(str(line))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert bad == []

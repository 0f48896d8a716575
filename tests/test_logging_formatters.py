"""JSON and text formatters: fields, robustness, injection (RELIABILITY LG-5, LG-6), ECS preset."""
from __future__ import annotations

import datetime as dt
import decimal
import io
import json
import logging
import logging.config
import sys
import uuid

import pytest

from swfast.logging import JSONLogFormatter, TextLogFormatter

INJECTIONS = ["a\nWARNING:root:User login failed for: 'administrator'", "b\r\nc", "c\rd", "d\u2028e",
              "e\u2029f", "f\x85g", "g\x00h", "h\x1b[31mred\x1b[0m", "i\x0bj\x0ck"]


def _record(msg: object = "hello %s", args: object = ("world",), level: int = logging.INFO,
            exc_info: object = None, **extra: object) -> logging.LogRecord:
    rec = logging.LogRecord("app.module", level, "/src/app/mod.py", 42, msg, args, exc_info,  # type: ignore[arg-type]
                            func="handler")
    rec.__dict__.update(extra)
    return rec


class BadRepr:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")

    def __str__(self) -> str:
        raise RuntimeError("no str")


def test_json_default_fields_and_every_extra() -> None:
    out = json.loads(JSONLogFormatter().format(_record(user="alice", request_id=7, nested={"a": [1, 2]})))
    assert out["message"] == "hello world"
    assert out["level"] == "INFO" and out["logger"] == "app.module"
    assert out["timestamp"].endswith("Z") and len(out["timestamp"]) == len("2026-01-01T00:00:00.000Z")
    assert out["user"] == "alice" and out["request_id"] == 7 and out["nested"] == {"a": [1, 2]}


def test_timestamp_is_record_created_in_utc_with_milliseconds() -> None:
    rec = _record()
    rec.created = 1_700_000_000.1239
    out = json.loads(JSONLogFormatter().format(rec))
    assert out["timestamp"] == "2023-11-14T22:13:20.123Z"


def test_reserved_fields_cannot_be_overwritten_by_extras() -> None:
    rec = _record()
    rec.__dict__.update(timestamp="forged", level="DEBUG", logger="forged")
    out = json.loads(JSONLogFormatter().format(rec))
    assert out["message"] == "hello world" and out["level"] == "INFO" and out["timestamp"] != "forged"
    assert out["logger"] == "app.module"
    assert out["extra.timestamp"] == "forged" and out["extra.level"] == "DEBUG" and out["extra.logger"] == "forged"


def test_any_object_serialises_and_persian_is_readable() -> None:
    rec = _record("سلام %s", ("دنیا",), when=dt.datetime(2024, 1, 2, 3, 4, 5), price=decimal.Decimal("1.10"),
                  raw=b"\xff\x00ab", tags={"x"}, uid=uuid.UUID(int=1), bad=BadRepr(), big=2**80,
                  keys={1: "a"})
    line = JSONLogFormatter().format(rec)
    assert "سلام دنیا" in line  # not \u escaped
    out = json.loads(line)
    assert out["when"] == "2024-01-02T03:04:05" and out["price"] == "1.10" and out["tags"] == ["x"]
    assert out["bad"].startswith("<unrepresentable") and int(out["big"]) == 2**80
    line.encode("utf-8")  # valid UTF-8


def test_cyclic_extra_does_not_raise() -> None:
    cyc: list[object] = []
    cyc.append(cyc)
    out = json.loads(JSONLogFormatter().format(_record(cyc=cyc)))
    assert out["message"] == "hello world"


def test_bad_percent_args_keep_the_record() -> None:
    out = json.loads(JSONLogFormatter().format(_record("card %s %s", ("only-one",))))
    assert "card %s %s" in out["message"] and "only-one" in out["message"]
    out = json.loads(JSONLogFormatter().format(_record(BadRepr(), None)))
    assert "unrepresentable" in out["message"]


def test_exception_is_structured_and_stack_info_kept() -> None:
    try:
        raise ValueError("broken")
    except ValueError:
        rec = _record(exc_info=sys.exc_info())
    rec.stack_info = "Stack (most recent call last):\n  here"
    out = json.loads(JSONLogFormatter().format(rec))
    assert out["exception"]["type"] == "ValueError" and out["exception"]["message"] == "broken"
    assert "Traceback" in out["exception"]["traceback"] and "raise ValueError" in out["exception"]["traceback"]
    assert out["stack_info"].startswith("Stack")


@pytest.mark.parametrize("text", INJECTIONS)
def test_json_one_object_per_line_under_injection(text: str) -> None:
    fmt = JSONLogFormatter()
    lines = "\n".join(fmt.format(_record(text, None, extra_field=text)) for _ in range(3)).split("\n")
    assert len(lines) == 3
    for line in lines:
        assert json.loads(line)["message"] == text


@pytest.mark.parametrize("text", INJECTIONS)
def test_text_one_physical_line_under_injection(text: str) -> None:
    line = TextLogFormatter(colors=False).format(_record(text, None, field=text))
    assert len(line.splitlines()) == 1 and "\x1b" not in line and "\x00" not in line
    assert "\nWARNING:root:" not in line


def test_text_traceback_on_the_same_line() -> None:
    try:
        raise KeyError("k")
    except KeyError:
        rec = _record(exc_info=sys.exc_info())
    line = TextLogFormatter(colors=False).format(rec)
    assert len(line.splitlines()) == 1 and "Traceback" in line and "\\n" in line


def test_text_colours_only_when_asked() -> None:
    assert "\x1b[" not in TextLogFormatter(colors=False).format(_record())
    coloured = TextLogFormatter(colors=True).format(_record("x\x1b[2J", None))
    assert "\x1b[32mINFO\x1b[0m" in coloured and "\x1b[2J" not in coloured


def test_rename_map_cannot_break() -> None:
    out = json.loads(JSONLogFormatter(rename={"timestamp": "@t", "message": "msg"}).format(_record(msg2=1)))
    assert "@t" in out and out["msg"] == "hello world"
    from swfast.errors import ConfigurationError

    with pytest.raises(ConfigurationError):
        JSONLogFormatter(rename={"exc_info": "x"})
    with pytest.raises(ConfigurationError):
        JSONLogFormatter(preset="logstash")


def test_ecs_preset_matches_ecs_logging() -> None:
    ecs_logging = pytest.importorskip("ecs_logging")
    try:
        raise ZeroDivisionError("boom")
    except ZeroDivisionError:
        rec = _record("failed %s", ("x",), level=logging.ERROR, exc_info=sys.exc_info())
    rec.__dict__["http.request.method"] = "get"
    rec.__dict__["user"] = "u1"
    ours = json.loads(JSONLogFormatter(preset="ecs").format(rec))
    theirs = json.loads(ecs_logging.StdlibFormatter().format(rec))
    assert ours == theirs


def test_dictconfig_builds_both_formatters() -> None:
    stream = io.StringIO()
    logging.config.dictConfig({
        "version": 1, "disable_existing_loggers": False,
        "formatters": {"j": {"()": "swfast.logging.JSONLogFormatter"},
                       "t": {"()": "swfast.logging.TextLogFormatter", "colors": False}},
        "handlers": {"h": {"class": "logging.StreamHandler", "formatter": "j", "stream": stream}},
        "loggers": {"dictcfg.test": {"handlers": ["h"], "level": "INFO", "propagate": False}},
    })
    logging.getLogger("dictcfg.test").info("hi %d", 3, extra={"k": "v"})
    assert json.loads(stream.getvalue())["k"] == "v"
    logging.getLogger("dictcfg.test").handlers.clear()


def test_native_renderer_and_twin_agree(impl) -> None:  # type: ignore[no-untyped-def]
    from swfast._native import _logjson_py
    from swfast.logging._common import _FIRST, _N_STANDARD, RESERVED
    from swfast.logging.formatters import dumps

    kernel = impl.load("logjson")
    values: list[object] = ["plain", "سلام\n\"q\"\\\x00\x1f\u2028", "\ud800lone", 0, -1, 9, 10, -10, 1234567890,
                            -2**63, -2**63 - 1, 2**63 - 1, 2**63, 2**80,
                            1.5, 1e-05, float("nan"), float("inf"), True, False, None, [1, "a"], {"k": {"n": 1}},
                            b"\xff", {1, 2}, dt.date(2024, 1, 2), BadRepr()]
    names = ("timestamp", "level", "logger", "message")
    for i, value in enumerate(values):
        rec = _record(v=value, level=logging.WARNING)
        rec.__dict__["logger"] = "clash"
        rec.__dict__[7] = "int key"  # type: ignore[index]
        args = (rec.__dict__, _N_STANDARD, _FIRST, RESERVED, frozenset(names), names, "2024-01-01T00:00:00.000Z",
                "INFO", "app", "msg \"x\"", dumps)
        ours, twin = kernel.render(*args), _logjson_py.render(*args)
        assert json.loads(ours) == json.loads(twin), (i, ours, twin)
        assert json.loads(ours)["extra.logger"] == "clash" and json.loads(ours)["7"] == "int key"
    plain = _record()  # a dict that does not start with the standard attributes is checked key by key
    odd = dict(reversed(list(plain.__dict__.items())), extra_k=1)
    args2 = (odd, _N_STANDARD, _FIRST, RESERVED, frozenset(), names, "t", "INFO", "app", "m", dumps)
    assert json.loads(kernel.render(*args2)) == json.loads(_logjson_py.render(*args2))
    assert json.loads(kernel.render(*args2))["extra_k"] == 1


def _strict(line: bytes) -> object:
    def refuse(name: str) -> object:
        raise AssertionError(f"not JSON: {name} in {line!r}")

    return json.loads(line, parse_constant=refuse)


def test_every_line_is_strict_json_with_non_finite_floats(impl) -> None:  # type: ignore[no-untyped-def]
    """NaN and infinities are written ``null`` on every path: orjson, the stdlib fallback that an
    int beyond 64 bits forces (it wrote ``NaN``/``Infinity``, which no JSON parser accepts), the
    compiled renderer and its twin, nested or not."""
    from swfast._native import _logjson_py
    from swfast.logging.formatters import JSONLogFormatter as Fmt
    from swfast.logging.formatters import dumps

    cases: list[dict[str, object]] = [
        {"x": float("nan")}, {"x": float("inf"), "big": 2**70}, {"x": [float("-inf"), {"y": float("nan")}], "big": -2**70},
        {"x": (1.5, float("nan")), "big": 2**64, "ok": 0.25},
    ]
    for case in cases:
        assert _strict(dumps(case)) == {k: _expected(v) for k, v in case.items()}
    fmt = Fmt()
    twin = Fmt()
    twin._renderer = _logjson_py.RecordRenderer(logging.LogRecord, *twin._renderer_args())  # type: ignore[attr-defined]
    kernel_fmt = Fmt()
    kernel_fmt._renderer = impl.load("logjson").RecordRenderer(logging.LogRecord, *kernel_fmt._renderer_args())  # type: ignore[attr-defined]
    for case in cases:
        lines = []
        for f in (fmt, twin, kernel_fmt):
            rec = _record(level=logging.INFO)
            rec.__dict__.update(case)
            doc = _strict(f.format(rec).encode())
            assert isinstance(doc, dict)
            lines.append({k: doc[k] for k in case})
        assert lines[0] == lines[1] == lines[2] == {k: _expected(v) for k, v in case.items()}


def _expected(v: object) -> object:
    if isinstance(v, float):
        return v if v - v == 0.0 else None
    if isinstance(v, (list, tuple)):
        return [_expected(x) for x in v]
    if isinstance(v, dict):
        return {k: _expected(x) for k, x in v.items()}
    return v


def test_record_renderer_matches_the_general_path(impl) -> None:  # type: ignore[no-untyped-def]
    """The one-call renderer gives the same document as the general path, or declines (None)."""
    from swfast.logging.formatters import JSONLogFormatter as Fmt

    renderer_cls = impl.load("logjson").RecordRenderer
    fmt = Fmt()
    fmt._renderer = renderer_cls(logging.LogRecord, *fmt._renderer_args())  # type: ignore[attr-defined]
    general = Fmt()
    general._renderer = None  # type: ignore[attr-defined]
    try:
        raise ValueError("boom")
    except ValueError:
        info = sys.exc_info()
    cases = [_record(), _record(k="v", n=3, f=0.25, b=True, z=None, nested={"a": [1]}),
             logging.LogRecord("app", logging.INFO, __file__, 1, "user %s order %d", ("bob", 7), None),
             logging.LogRecord("app", logging.INFO, __file__, 1, "bad %d", ("x",), None),
             logging.LogRecord("app", logging.INFO, __file__, 1, {"dict": "msg"}, None, None),
             logging.LogRecord("app", logging.ERROR, __file__, 1, "failed", None, info),
             logging.LogRecord("app", logging.INFO, __file__, 1, "stack", None, None, sinfo="Stack (most recent)"),
             logging.makeLogRecord({"msg": "int created", "created": 0, "levelname": "INFO"}),
             _record(message="clash", timestamp="clash", v="سلام\n\"q\"")]
    for created in (1_700_000_000.0009, 1_700_000_000.999, 1_700_000_001.5):
        rec = _record(k=1)
        rec.created = created
        cases.append(rec)
    declined = 0
    for rec in cases:
        line = fmt._renderer(rec)  # type: ignore[attr-defined]
        declined += line is None
        assert json.loads(fmt.render(rec)) == json.loads(general.render(rec)), rec.__dict__
    assert 0 < declined < len(cases)

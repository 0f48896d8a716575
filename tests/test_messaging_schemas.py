"""Messaging constants, schemas and the compiled validation kernel (no broker needed)."""
from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from _messaging_helpers import VALID_REQUEST, VALID_RESPONSE, mutations, random_values
from swfast.errors import ValidationError
from swfast.messaging import constants as C
from swfast.messaging import message_schemas as S


def test_constants_exact() -> None:
    assert C.MESSAGING_VERSION == "1.0.0"
    assert C.DATA_REQUESTS_TOPIC == "smartwhale.data.requests"
    assert C.DATA_RESPONSES_PREFIX == "smartwhale.data.responses"
    assert C.MODELS_REQUESTS_TOPIC == "smartwhale.models.requests"
    assert C.BALANCE_METRICS_TOPIC == "smartwhale.balance.metrics"
    assert C.BALANCE_EVENTS_TOPIC == "smartwhale.balance.events"
    assert C.SYSTEM_LOGS_TOPIC == "smartwhale.core.logs"
    assert (C.DEFAULT_PARTITIONS, C.DEFAULT_REPLICATION) == (5, 3)
    assert (C.MODEL_TOPIC_PARTITIONS, C.MODEL_TOPIC_REPLICATION) == (3, 2)
    assert [C.PRIORITY_CRITICAL, C.PRIORITY_HIGH, C.PRIORITY_MEDIUM, C.PRIORITY_LOW, C.PRIORITY_BACKGROUND] == [1, 2, 3, 4, 5]
    assert C.DEFAULT_PRIORITY == 3
    assert (C.DEFAULT_OPERATION_TIMEOUT, C.DEFAULT_KAFKA_TIMEOUT) == (30, 10)
    assert (C.DEFAULT_BATCH_SIZE, C.DEFAULT_BUFFER_SIZE) == (100, 1048576)
    assert (C.REQUEST_SOURCE_USER, C.REQUEST_SOURCE_MODEL, C.REQUEST_SOURCE_SYSTEM) == ("user", "model", "system")
    assert C.DEFAULT_REQUEST_SOURCE == "user"
    assert [C.MESSAGE_STATUS_SUCCESS, C.MESSAGE_STATUS_ERROR, C.MESSAGE_STATUS_PENDING,
            C.MESSAGE_STATUS_PARTIAL, C.MESSAGE_STATUS_TIMEOUT] == ["success", "error", "pending", "partial", "timeout"]
    assert [C.ERROR_INVALID_REQUEST, C.ERROR_NO_DATA_FOUND, C.ERROR_SOURCE_UNAVAILABLE, C.ERROR_PROCESSING_FAILED,
            C.ERROR_TIMEOUT, C.ERROR_UNKNOWN] == ["invalid_request", "no_data_found", "source_unavailable",
                                                "processing_failed", "timeout", "unknown_error"]
    assert sorted(C.__all__) == C.__all__


def test_enum_members() -> None:
    assert [m.name for m in S.DataType] == ["TEXT", "IMAGE", "VIDEO", "AUDIO", "DOCUMENT", "STRUCTURED", "MIXED"]
    assert len(S.DataSource) == 15 and S.DataSource.APARAT.value == "aparat"
    assert len(S.OperationType) == 10 and S.OperationType.SUMMARIZE_DATA.value == "summarize_data"
    assert [int(p) for p in S.Priority] == [1, 2, 3, 4, 5]
    assert [m.value for m in S.RequestSource] == ["user", "model", "system", "scheduled", "api"]


def test_request_round_trip_exact() -> None:
    req = S.DataRequest.from_dict(VALID_REQUEST)
    assert req.metadata.priority is S.Priority.HIGH
    assert req.payload.data_source is S.DataSource.WIKI
    assert req.to_dict() == VALID_REQUEST
    assert json.loads(req.to_json()) == VALID_REQUEST
    assert S.DataRequest.from_json(req.to_json()) == req
    assert S.DataRequest.from_json(req.to_json().decode()) == req
    assert S.MessageMetadata.from_dict(req.metadata.to_dict()) == req.metadata
    assert S.RequestPayload.from_dict(req.payload.to_dict()) == req.payload


def test_response_round_trip_exact() -> None:
    resp = S.DataResponse.from_dict(VALID_RESPONSE)
    assert resp.to_dict() == VALID_RESPONSE
    assert S.DataResponse.from_json(resp.to_json()) == resp
    assert S.ResponsePayload.from_dict(resp.payload.to_dict()) == resp.payload


def test_field_tables_follow_dataclass_order() -> None:
    from dataclasses import fields
    assert [f[0] for f in S.META_FIELDS] == [f.name for f in fields(S.MessageMetadata)]
    assert [f[0] for f in S.REQUEST_FIELDS] == [f.name for f in fields(S.RequestPayload)]
    assert [f[0] for f in S.RESPONSE_FIELDS] == [f.name for f in fields(S.ResponsePayload)]


def test_minimal_dicts_take_defaults_and_fresh_containers() -> None:
    minimal = {"metadata": {"request_id": VALID_REQUEST["metadata"]["request_id"],
                            "timestamp": "2026-01-01T00:00:00Z"}, "payload": {"operation": "verify_data"}}
    a, b = S.DataRequest.from_dict(minimal), S.DataRequest.from_dict(minimal)
    assert a == b and a.payload.parameters == {} and a.payload.parameters is not b.payload.parameters
    assert a.metadata.priority is S.Priority.MEDIUM and a.payload.data_type is S.DataType.TEXT
    assert a.to_dict()["payload"]["timeout"] == C.DEFAULT_OPERATION_TIMEOUT
    r = S.DataResponse.from_dict({"metadata": minimal["metadata"], "payload": {"operation": "fetch_data"}})
    assert r.payload.status == "success" and r.payload.metrics == {} and r.payload.page_info is None


def test_to_json_equals_orjson_and_json_of_to_dict() -> None:
    req = S.DataRequest.from_dict(VALID_REQUEST)
    assert req.to_json() == json.dumps(VALID_REQUEST, separators=(",", ":")).encode()
    from swfast.messaging import _codec
    assert req.to_json() == _codec._std(req.to_dict())
    resp = S.DataResponse.from_dict(VALID_RESPONSE)
    assert resp.to_json() == _codec._std_dumps(VALID_RESPONSE)


def test_slotted() -> None:
    for cls in (S.MessageMetadata, S.RequestPayload, S.ResponsePayload, S.DataRequest, S.DataResponse):
        assert "__slots__" in cls.__dict__
    with pytest.raises(AttributeError):
        S.MessageMetadata().nope = 1  # type: ignore[attr-defined]


def test_create_helpers() -> None:
    req = S.create_data_request("m1", "search_data", "document", "news", {"q": 1}, priority=1, ttl=5, tags=["t"])
    assert req.payload.operation is S.OperationType.SEARCH_DATA
    assert req.payload.response_topic == "smartwhale.data.responses.m1"
    assert req.metadata.priority is S.Priority.CRITICAL
    assert S.is_valid_data_request(req)
    t0 = datetime.fromisoformat(req.metadata.timestamp)
    assert (datetime.fromisoformat(req.metadata.expires_at) - t0).total_seconds() == 5  # type: ignore[arg-type]
    assert t0.tzinfo is not None
    resp = S.create_data_response(req.metadata.request_id, "m1", S.OperationType.SEARCH_DATA, data=[1], total_items=1)
    assert resp.metadata.request_id == req.metadata.request_id == resp.metadata.correlation_id
    assert resp.payload.total_items == 1 and S.is_valid_data_response(resp)
    with pytest.raises(ValidationError) as ei:
        S.create_data_request("m1", "nope")
    assert ei.value.path == "payload.operation"
    with pytest.raises(ValidationError) as ei:
        S.create_data_request("m1", "fetch_data", priority=9)
    assert ei.value.path == "metadata.priority"
    with pytest.raises(ValidationError) as ei:
        S.create_data_response("not-a-uuid", "m1", "fetch_data")
    assert ei.value.path == "metadata.request_id"
    with pytest.raises(ValidationError):
        S.create_data_response(req.metadata.request_id, "m1", "fetch_data", bogus=1)


def _with(base: dict[str, Any], part: str, key: str, value: Any) -> dict[str, Any]:
    msg = copy.deepcopy(base)
    if value is _DELETE:
        del msg[part][key]
    else:
        msg[part][key] = value
    return msg


_DELETE = object()

BAD_REQUESTS = [
    ("payload", "operation", "launch", "payload.operation", "enum"),
    ("payload", "data_type", "smell", "payload.data_type", "enum"),
    ("payload", "data_source", "myspace", "payload.data_source", "enum"),
    ("metadata", "request_source", "alien", "metadata.request_source", "enum"),
    ("metadata", "request_id", "1234", "metadata.request_id", "format"),
    ("metadata", "request_id", 12345, "metadata.request_id", "format"),
    ("metadata", "timestamp", "2026-11-24T12:00:00", "metadata.timestamp", "timezone"),
    ("metadata", "timestamp", "yesterday", "metadata.timestamp", "format"),
    ("metadata", "expires_at", "2026-11-24T11:59:59+00:00", "metadata.expires_at", "order"),
    ("metadata", "expires_at", "2026-11-24T12:30:00", "metadata.expires_at", "timezone"),
    ("metadata", "ttl", -1, "metadata.ttl", "minimum"),
    ("metadata", "retry_count", -2, "metadata.retry_count", "minimum"),
    ("metadata", "retry_count", True, "metadata.retry_count", "type"),
    ("metadata", "priority", 0, "metadata.priority", "range"),
    ("metadata", "priority", 6, "metadata.priority", "range"),
    ("metadata", "priority", "high", "metadata.priority", "type"),
    ("payload", "operation", _DELETE, "payload.operation", "required"),
    ("metadata", "request_id", _DELETE, "metadata.request_id", "required"),
    ("payload", "tags", ["a", 3], "payload.tags", "type"),
    ("payload", "timeout", 0, "payload.timeout", "minimum"),
    ("payload", "parameters", [], "payload.parameters", "type"),
    ("payload", "require_fresh", 1, "payload.require_fresh", "type"),
]


@pytest.mark.parametrize("part,key,value,path,keyword", BAD_REQUESTS)
def test_validate_request_names_field(part: str, key: str, value: Any, path: str, keyword: str) -> None:
    msg = _with(VALID_REQUEST, part, key, value)
    assert not S.is_valid_data_request(msg)
    with pytest.raises(ValidationError) as ei:
        S.validate_data_request(msg)
    assert (ei.value.path, ei.value.keyword) == (path, keyword)
    assert path in str(ei.value)
    with pytest.raises(ValidationError):
        S.DataRequest.from_dict(msg)


def test_validate_response_fields() -> None:
    for key, value, keyword in [("status", "meh", "enum"), ("total_items", -1, "minimum"),
                                ("processing_time", "fast", "type"), ("cached", None, "type"),
                                ("operation", _DELETE, "required")]:
        msg = _with(VALID_RESPONSE, "payload", key, value)
        with pytest.raises(ValidationError) as ei:
            S.validate_data_response(msg)
        assert (ei.value.path, ei.value.keyword) == (f"payload.{key}", keyword)
        assert not S.is_valid_data_response(msg)


def test_unknown_field_policy() -> None:
    msg = _with(VALID_REQUEST, "payload", "future_field", 1)
    assert S.is_valid_data_request(msg)  # ignored by default (forward compatible)
    assert S.DataRequest.from_dict(msg).to_dict() == VALID_REQUEST  # and dropped
    assert not S.is_valid_data_request(msg, strict=True)
    with pytest.raises(ValidationError) as ei:
        S.validate_data_request(msg, strict=True)
    assert (ei.value.path, ei.value.keyword) == ("payload.future_field", "unknown")
    top = dict(VALID_REQUEST, extra=1)
    with pytest.raises(ValidationError):
        S.validate_data_request(top, strict=True)


def test_timestamp_zones_and_order() -> None:
    for ts in ("2026-11-24T12:00:00Z", "2026-11-24 12:00:00.5+03:30", "2026-11-24T12:00:00-0100"):
        msg = _with(VALID_REQUEST, "metadata", "timestamp", ts)
        msg["metadata"]["expires_at"] = None
        assert S.is_valid_data_request(msg), ts
    # expires_at equal to timestamp is allowed, earlier in absolute time is not (offsets respected)
    msg = _with(VALID_REQUEST, "metadata", "timestamp", "2026-11-24T12:00:00+01:00")
    msg["metadata"]["expires_at"] = "2026-11-24T11:00:00Z"
    assert S.is_valid_data_request(msg)
    msg["metadata"]["expires_at"] = "2026-11-24T10:59:59Z"
    assert not S.is_valid_data_request(msg)


def test_expired_detection() -> None:
    req = S.DataRequest.from_dict(VALID_REQUEST)
    exp = req.metadata.expires_at_us()
    assert exp is not None
    assert not req.is_expired(now_us=exp) and req.is_expired(now_us=exp + 1)
    assert S.DataRequest.from_dict(_with(VALID_REQUEST, "metadata", "expires_at", None)).is_expired() is False


def test_is_valid_accepts_json_forms_and_never_raises() -> None:
    raw = json.dumps(VALID_REQUEST)
    assert S.is_valid_data_request(raw) and S.is_valid_data_request(raw.encode())
    assert S.is_valid_data_request(memoryview(raw.encode()))
    for bad in (b"", b"\xff\xfe", "[1,", "null", 3, None, object(), {"metadata": None}, float("nan")):
        assert S.is_valid_data_request(bad) is False
        assert S.is_valid_data_response(bad) is False
    with pytest.raises(ValidationError) as ei:
        S.DataRequest.from_json(b"{nope")
    assert ei.value.keyword == "json"


# ---------------------------------------------------------------- kernel, both implementations

def test_kernel_convert(impl: Any) -> None:
    mod = impl.load("msgvalid")
    err, meta, payload = _checker(mod).convert(VALID_REQUEST)
    assert err is None and meta is not None and payload is not None
    assert meta[4] is S.Priority.HIGH and payload[0] is S.OperationType.FETCH_DATA
    assert payload[3] is S.DataSource.WIKI and payload[4] is VALID_REQUEST["payload"]["parameters"]
    bad = _with(VALID_REQUEST, "metadata", "priority", 0)
    assert _checker(mod).convert(bad) == (_checker(mod).check(bad), None, None)


def _checker(mod: Any, response: bool = False) -> Any:
    return mod.Checker(S.META_FIELDS, S.RESPONSE_FIELDS if response else S.REQUEST_FIELDS, S._ENUMS, S._ENUM_NAMES)


def test_kernel_valid(impl: Any) -> None:
    mod = impl.load("msgvalid")
    assert _checker(mod).check(VALID_REQUEST) is None
    assert _checker(mod, True).check(VALID_RESPONSE) is None


def test_kernel_parse_timestamp_matches_datetime(impl: Any) -> None:
    mod = impl.load("msgvalid")
    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
    for ts, iso in (("0001-01-01T00:00:00+00:00", None), ("1969-12-31T23:59:59.999999Z", "1969-12-31T23:59:59.999999+00:00"),
                    ("2000-02-29T12:34:56.000001-07:30", None), ("9999-12-31T23:59:59+00:00", None),
                    ("2026-11-24T12:00:00.123456789+05:45", "2026-11-24T12:00:00.123456+05:45")):
        want = (datetime.fromisoformat(iso or ts) - epoch) // timedelta(microseconds=1)
        assert mod.parse_timestamp(ts) == want, ts
    for bad in ("2026-13-01T00:00:00Z", "2026-04-31T00:00:00Z", "2100-02-29T00:00:00Z", "2026-11-24T12:00:00+24:00",
                "2026-11-24T12:00:00+05", "2026-11-24T12:00:00Zjunk", "2026-11-24", "\ud800" * 25, 20261124, None):
        assert mod.parse_timestamp(bad) is None
    assert mod.parse_ts("2026-11-24T12:00:00.5")[0] == mod.TS_NO_ZONE


def test_kernel_uuid(impl: Any) -> None:
    mod = impl.load("msgvalid")
    assert mod.is_uuid("0B6A7F0E-8D43-4C1E-9A51-2F1C4E5D6A7B")
    for bad in ("0b6a7f0e8d434c1e9a512f1c4e5d6a7b", "0b6a7f0e-8d43-4c1e-9a51-2f1c4e5d6a7g", "é" * 36, None, b"x" * 36):
        assert not mod.is_uuid(bad)


def test_kernel_fuzz_differential(impl: Any) -> None:
    """100,000 mutated messages and arbitrary values: never raises, and c == py exactly."""
    from swfast._native import _msgvalid_py as ref
    mod = impl.load("msgvalid")
    checkers = [(_checker(mod), _checker(ref)), (_checker(mod, True), _checker(ref, True))]
    n = 0
    for i, msg in enumerate(mutations(1234, 70_000)):
        ours, theirs = checkers[i % 2]
        strict = i % 5 == 0
        assert ours.check(msg, strict) == theirs.check(msg, strict)
        if i % 7 == 0:
            assert ours.convert(msg, strict) == theirs.convert(msg, strict)
        n += 1
    for value in random_values(99, 30_000):
        ours, theirs = checkers[n % 2]
        assert ours.check(value) == theirs.check(value)
        assert ours.check(value) is not None or isinstance(value, dict)
        n += 1
    assert n == 100_000


def test_is_valid_fuzz_bytes_never_raise() -> None:
    for value in random_values(7, 3_000):
        assert S.is_valid_data_request(value) in (True, False)
        blob = value if isinstance(value, bytes) else json.dumps(value, default=str).encode("utf-8", "replace")
        assert S.is_valid_data_response(blob) in (True, False)


def test_is_valid_survives_hostile_objects() -> None:
    class Hostile:
        def __repr__(self) -> str:
            raise RuntimeError("no repr")

        def __str__(self) -> str:
            raise RuntimeError("no str")

    msg = _with(VALID_REQUEST, "metadata", "request_id", Hostile())
    assert S.is_valid_data_request(msg) is False
    msg = _with(VALID_REQUEST, "payload", "operation", Hostile())
    assert S.is_valid_data_request(msg) is False
    assert S.is_valid_data_request({Hostile(): 1, "metadata": {}, "payload": {}}, strict=True) is False


# ---------------------------------------------------------------- JSON encoder kernel, both implementations

def _encoder(mod: Any, dumps: Any) -> Any:
    from dataclasses import fields
    return mod.Encoder(S.MessageMetadata, [f.name for f in fields(S.MessageMetadata)], S.RequestPayload,
                       [f.name for f in fields(S.RequestPayload)], dumps)


def test_encoder_matches_orjson_bytes(impl: Any) -> None:
    orjson = pytest.importorskip("orjson")
    enc = _encoder(impl.load("msgenc"), orjson.dumps)
    req = S.DataRequest.from_dict(VALID_REQUEST)
    req.payload.parameters = {"s": 'é"\\\n\x01\x1f\t', "l": [1, -2, 2**63 - 1, -(2**63), True, None, 2.5, (3,)],
                              "d": {"nested": {"deep": [{}]}}, "f": 0.1}
    out = enc.encode(req.metadata, req.payload)
    assert out == orjson.dumps(S.DataRequest.from_dict(req.to_dict()).to_dict())


def test_encoder_fuzz_same_json_as_fallback(impl: Any) -> None:
    """Random nested values: the output decodes to what the fallback's output decodes to."""
    orjson = pytest.importorskip("orjson")
    import random
    enc = _encoder(impl.load("msgenc"), orjson.dumps)
    rng = random.Random(5)

    def value(depth: int) -> Any:
        r = rng.random()
        if depth > 3 or r < 0.55:
            return rng.choice([None, True, False, rng.randint(-10**12, 10**12), rng.random() * 10 ** rng.randint(-9, 9),
                               "".join(chr(rng.choice([rng.randint(0, 0x7f), rng.randint(0x80, 0xd7ff)])) for _ in range(rng.randint(0, 8)))])
        if r < 0.8:
            return [value(depth + 1) for _ in range(rng.randint(0, 4))]
        return {str(rng.randint(0, 99)): value(depth + 1) for _ in range(rng.randint(0, 4))}

    req = S.DataRequest.from_dict(VALID_REQUEST)
    for _ in range(3000):
        req.payload.parameters = {"v": value(0)}
        req.payload.context = {"w": value(0)}
        out = enc.encode(req.metadata, req.payload)
        assert orjson.loads(out) == orjson.loads(orjson.dumps(
            {"metadata": req.metadata.to_dict(), "payload": req.payload.to_dict()}))


def test_encoder_falls_back_like_dumps(impl: Any) -> None:
    orjson = pytest.importorskip("orjson")
    enc = _encoder(impl.load("msgenc"), orjson.dumps)
    req = S.DataRequest.from_dict(VALID_REQUEST)
    for bad in ({"big": 2**70}, {1: "non-str key"}, {"s": "\ud800"}, {"o": object()}):
        req.payload.parameters = bad
        with pytest.raises(TypeError):
            enc.encode(req.metadata, req.payload)
    req.payload.parameters = {"nan": float("nan"), "deep": [[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]}
    assert orjson.loads(enc.encode(req.metadata, req.payload))["payload"]["parameters"]["nan"] is None

    class Sub(S.RequestPayload):
        __slots__ = ()

    sub = Sub(S.OperationType.FETCH_DATA)
    assert orjson.loads(enc.encode(req.metadata, sub))["payload"]["operation"] == "fetch_data"


def test_encoder_escapes_at_every_position(impl: Any) -> None:
    """The word-at-a-time scan for characters to escape, at every offset and length."""
    orjson = pytest.importorskip("orjson")
    enc = _encoder(impl.load("msgenc"), orjson.dumps)
    req = S.DataRequest.from_dict(VALID_REQUEST)
    for special in ('"', "\\", "\n", "\x00", "\x1f", "\x7f", "é", " ", "!", "#", "[", "]", "\u2028"):
        for n in range(0, 19):
            for pos in range(n):
                text = "a" * pos + special + "b" * (n - pos - 1)
                req.payload.model_id = text
                req.payload.parameters = {text: [text]}
                assert enc.encode(req.metadata, req.payload) == orjson.dumps(req.to_dict()), repr(text)


def test_encoder_rejects_non_slotted(impl: Any) -> None:
    mod = impl.load("msgenc")

    class Plain:
        pass

    with pytest.raises(TypeError, match="slot"):
        mod.Encoder(Plain, ["x"], Plain, ["x"], json.dumps)


def test_selectors_load_the_compiled_kernels_unless_disabled() -> None:
    import subprocess
    import sys

    from swfast._native import msgenc, msgvalid
    from swfast._native._compat import NO_EXTENSIONS
    want = "_py" if NO_EXTENSIONS else "_c"
    assert msgvalid._kernel.__name__.endswith("_msgvalid" + want)
    assert msgenc.Encoder.__module__.endswith("_msgenc" + want)
    code = ("from swfast._native import msgenc, msgvalid;"
            "print(msgvalid._kernel.__name__, msgenc.Encoder.__module__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**__import__("os").environ, "SWFAST_NO_EXTENSIONS": "1"})
    assert out.stdout.split() == ["swfast._native._msgvalid_py", "swfast._native._msgenc_py"], out.stderr

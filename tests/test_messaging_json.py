"""The strict JSON reader and the fused typed decode (``Checker.decode``), both implementations.

The reference is ``json.loads`` held to the documented strict rules plus the dict validator
(``Checker.convert``): the compiled reader must give the same values (types included) or fail
whenever it fails, and ``decode`` must equal ``convert(loads(...))`` with the same error paths.
"""
from __future__ import annotations

import json
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _messaging_helpers import VALID_REQUEST, VALID_RESPONSE, mutations, random_values
from swfast._native import _msgjson_py
from swfast._native import _msgvalid_py as ref
from swfast.errors import ValidationError
from swfast.messaging import message_schemas as S


def _outcome(loads: Any, data: Any) -> tuple[str, str]:
    try:
        return "ok", repr(loads(data))  # repr: 1 != 1.0 and -0.0 != 0.0 here
    except (ValueError, TypeError):
        return "err", ""


def _checker(mod: Any, response: bool) -> Any:
    return mod.Checker(S.META_FIELDS, S.RESPONSE_FIELDS if response else S.REQUEST_FIELDS, S._ENUMS, S._ENUM_NAMES)


def _decoded(result: tuple[Any, Any, Any]) -> Any:
    err, meta, payload = result
    if err is not None and err[1] == "json":
        return err[:2]  # the reader's message wording is its own; path and keyword are shared
    return repr((err, meta, payload))


def _reference(checker: Any, data: Any, strict: bool) -> Any:
    try:
        value = _msgjson_py.loads(data)
    except (ValueError, TypeError):
        return ("", "json")
    return repr(checker.convert(value, strict))


EDGE_CASES: list[Any] = [
    b"", b" ", b"null", b"true", b"false", b"nul", b"tru", b"0", b"-0", b"-0.0", b"01", b"1.", b".5", b"-",
    b"1e5", b"1E+2", b"1e-2", b"2.5e", b"1e400", b"-1e400", b"1e-400", b"NaN", b"Infinity", b"-Infinity",
    b"123456789012345678", b"1234567890123456789", b"-9223372036854775809", b"9" * 400, b"9" * 5000,
    b"0.1000000000000000055511151231257827", b"[1,]", b"[,1]", b"{,}", b'{"a":1,}', b'{"a" 1}', b"[1 2]",
    b'"\\ud83d\\ude00"', b'"\\ud800"', b'"\\udc00"', b'"\\ud800\\u0041"', b'"\\ud800x"', b'"\\uD83D\\uDE00"',
    b'"\\u00e9\\n\\t\\r\\b\\f\\/\\\\\\""', b'"\\x"', b'"\\u12"', b'"\\u12g4"', b'"\x01"', b'"\x7f"',
    b'"\xff"', b'"\xed\xa0\x80"', b'"\xc3\xa9"', "\"é\"".encode(), b"\xef\xbb\xbf{}", b" \t\r\n[ 1 , 2 ] \n",
    b"\x0b1", b"[" * 512 + b"]" * 512, b"[" * 513 + b"]" * 513, b"[" * 5000, b'{"a":' * 600 + b"1" + b"}" * 600,
    b'{"a":1,"a":2}', b'{"a":1}x', "\"\ud800\"", "[1]", bytearray(b"[1]"), memoryview(b"[2]"), 3, None,
]


@pytest.mark.parametrize("data", EDGE_CASES, ids=range(len(EDGE_CASES)))
def test_loads_edge_cases_match_reference(impl: Any, data: Any) -> None:
    assert _outcome(impl.load("msgvalid").loads, data) == _outcome(_msgjson_py.loads, data)


def test_loads_strict_rules() -> None:
    for bad in (b"NaN", b"1e400", b'"\\ud800"', b'"\xff"', b'"\x01"', b"[" * 513 + b"]" * 513, b"1 2"):
        assert _outcome(_msgjson_py.loads, bad)[0] == "err", bad
    assert _msgjson_py.loads(b"9" * 30) == int("9" * 30)
    assert _msgjson_py.loads(b'"\\ud83d\\ude00"') == "\U0001F600"


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(value=_json_values, ascii_only=st.booleans(), indent=st.sampled_from([None, 1, "\t"]))
def test_loads_differential_values(impl: Any, value: Any, ascii_only: bool, indent: Any) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only, indent=indent)
    ours = _outcome(impl.load("msgvalid").loads, text.encode("utf-8", "surrogatepass"))
    assert ours == _outcome(_msgjson_py.loads, text.encode("utf-8", "surrogatepass"))
    assert _outcome(impl.load("msgvalid").loads, text) == _outcome(_msgjson_py.loads, text)


@settings(max_examples=400, deadline=None)
@given(blob=st.binary(max_size=40) | st.text(alphabet='{}[],:"\\ \t0123456789.eE+-truefalsnu', max_size=30)
       .map(lambda s: s.encode()))
def test_loads_differential_junk(impl: Any, blob: bytes) -> None:
    assert _outcome(impl.load("msgvalid").loads, blob) == _outcome(_msgjson_py.loads, blob)


def _mutate_bytes(rng: random.Random, blob: bytes) -> bytes:
    out = bytearray(blob)
    for _ in range(rng.randint(1, 3)):
        pos = rng.randrange(len(out) + 1)
        r = rng.random()
        if r < 0.4 and pos < len(out):
            out[pos] = rng.choice(b'{}[],:"\\ 0e-.\x00\xff')
        elif r < 0.7 and pos < len(out):
            del out[pos]
        else:
            out[pos:pos] = rng.choice([b",", b'"', b"\\u00", b"  ", b'"x":1,', b"]", b"{", b"\\ud800"])
    return bytes(out)


def test_decode_differential_corpus(impl: Any) -> None:
    """The fuzz corpus as JSON (plus byte-level damage): decode == convert(strict loads), c and py."""
    mod = impl.load("msgvalid")
    rng = random.Random(42)
    checkers = [(_checker(mod, False), _checker(ref, False)), (_checker(mod, True), _checker(ref, True))]
    n = 0
    for i, msg in enumerate(mutations(4321, 6_000)):
        ours, theirs = checkers[i % 2]
        strict = i % 3 == 0
        blob = json.dumps(msg, default=str, separators=(",", ":") if i % 2 else (", ", ": ")).encode("utf-8", "surrogatepass")
        if i % 4 == 0:
            blob = _mutate_bytes(rng, blob)
        got = _decoded(ours.decode(blob, strict))
        assert got == _reference(theirs, blob, strict), blob
        assert got == _decoded(theirs.decode(blob, strict))
        n += 1
    for value in random_values(5, 1_500):
        ours, theirs = checkers[n % 2]
        blob = value if isinstance(value, bytes) else json.dumps(value, default=str).encode("utf-8", "surrogatepass")
        assert _decoded(ours.decode(blob)) == _reference(theirs, blob, False)
        n += 1


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_decode_differential_hypothesis(impl: Any, data: Any) -> None:
    """Field values from hypothesis, keys shuffled, escaped or duplicated."""
    mod = impl.load("msgvalid")
    response = data.draw(st.booleans())
    msg = json.loads(json.dumps(VALID_RESPONSE if response else VALID_REQUEST))
    for part in ("metadata", "payload"):
        keys = list(msg[part])
        for key in data.draw(st.lists(st.sampled_from(keys), max_size=3)):
            msg[part][key] = data.draw(_json_values)
        items = list(msg[part].items())
        data.draw(st.randoms()).shuffle(items)
        msg[part] = dict(items)
    text = json.dumps(msg, ensure_ascii=data.draw(st.booleans()))
    if data.draw(st.booleans()):  # escape a key's first letter: "\u0072equest_id"
        key = data.draw(st.sampled_from(list(msg["metadata"])))
        text = text.replace(f'"{key}"', '"\\u%04x%s"' % (ord(key[0]), key[1:]), 1)
    if data.draw(st.booleans()):  # a duplicate member: the last one wins, as in a dict
        text = text[:-1] + ', "payload": ' + json.dumps(msg["payload"]) + "}"
    strict = data.draw(st.booleans())
    blob = text.encode("utf-8", "surrogatepass")
    checker, twin = _checker(mod, response), _checker(ref, response)
    assert _decoded(checker.decode(blob, strict)) == _reference(twin, blob, strict)
    assert _decoded(checker.decode(text, strict)) == _reference(twin, text, strict)


def test_decode_shapes(impl: Any) -> None:
    mod = impl.load("msgvalid")
    checker = _checker(mod, False)
    good = json.dumps(VALID_REQUEST)
    assert checker.decode(good) == checker.convert(VALID_REQUEST)
    assert checker.decode(good.replace('"request_id"', '"request\\u005fid"')) == checker.convert(VALID_REQUEST)
    assert checker.decode(b"[]")[0][:2] == ("", "type")
    assert checker.decode(b'{"payload": {}, "metadata": null}')[0][:2] == ("metadata", "required")
    assert checker.decode(b'{"metadata": {}, "metadata": {}, "payload": {}}')[0][:2] == ("metadata.request_id", "required")
    assert checker.decode(good[:-1] + ', "x": [1, {"y": 2}]}', True)[0][:2] == ("x", "unknown")
    assert checker.decode(good.replace('"ttl"', '"zz": {"a": [1]}, "ttl"'), True)[0][:2] == ("metadata.zz", "unknown")
    assert checker.decode(good.replace('"priority": 2', '"priority": 2.0'))[0][:2] == ("metadata.priority", "type")
    assert checker.decode(good[:-1])[0][:2] == ("", "json")
    assert checker.decode(object())[0][:2] == ("", "json")


def test_from_json_and_is_valid_use_the_strict_reader() -> None:
    good = json.dumps(VALID_REQUEST)
    assert S.DataRequest.from_json(good) == S.DataRequest.from_dict(VALID_REQUEST)
    for bad in (good.replace('"fa"', '"\\ud800"'), good.replace("20", "NaN"), good[:-1]):
        with pytest.raises(ValidationError) as ei:
            S.DataRequest.from_json(bad)
        assert ei.value.keyword == "json" and ei.value.path == ""
        assert S.is_valid_data_request(bad) is False and S.is_valid_data_request(bad.encode()) is False
    with pytest.raises(ValidationError) as ei:
        S.validate_data_response(json.dumps(dict(VALID_RESPONSE, payload={})).encode())
    assert ei.value.path == "payload.operation"


def test_build_constructs_the_bound_classes(impl: Any) -> None:
    mod = impl.load("msgvalid")
    checker = _checker(mod, False)
    with pytest.raises(RuntimeError):
        checker.build(b"{}")
    checker.bind(S.MessageMetadata, S.RequestPayload, S.DataRequest)
    err, obj = checker.build(json.dumps(VALID_REQUEST))
    assert err is None and type(obj) is S.DataRequest and obj == S.DataRequest.from_dict(VALID_REQUEST)
    assert obj.to_dict() == VALID_REQUEST and obj.metadata.priority is S.Priority.HIGH
    assert checker.build(b"[")[1] is None and checker.build(b"[")[0][1] == "json"

    class Plain:  # not a slotted dataclass: built by calling it
        def __init__(self, metadata: Any, payload: Any) -> None:
            self.metadata, self.payload = metadata, payload

    checker.bind(S.MessageMetadata, S.RequestPayload, Plain)
    assert type(checker.build(json.dumps(VALID_REQUEST))[1]) is Plain


def test_from_json_of_a_subclass_builds_the_subclass() -> None:
    from dataclasses import dataclass

    @dataclass(slots=True)
    class MyRequest(S.DataRequest):
        pass

    obj = MyRequest.from_json(json.dumps(VALID_REQUEST))
    assert type(obj) is MyRequest and obj.to_dict() == VALID_REQUEST


def test_decode_enum_values_read_raw_match_the_reference(impl: Any) -> None:
    """Enum values are matched on raw bytes in the compiled path; odd values must still agree."""
    mod = impl.load("msgvalid")
    enums = [*S._ENUMS, {'a"b': "Q", "x\\y": "B", "é": "E", "ok": "K"}]
    odd = len(S._ENUMS)
    fields = [("op", mod.K_ENUM, True, odd, None), ("alt", mod.K_OPT_ENUM, False, odd, None)]
    ours = mod.Checker(S.META_FIELDS, fields, enums, [*S._ENUM_NAMES, "Odd"])
    theirs = ref.Checker(S.META_FIELDS, fields, enums, [*S._ENUM_NAMES, "Odd"])
    with pytest.raises(ValueError):
        mod.Checker(S.META_FIELDS, fields, S._ENUMS, S._ENUM_NAMES)  # enum index out of range
    meta = json.dumps(VALID_REQUEST["metadata"])
    for op in ('"ok"', '"ok" ', '"é"', '"\\u00e9"', '"a\\"b"', '"a"b"', '"x\\\\y"', '"x\\y"', '"okk"', '"o"', "1",
               "null", '"ok", "op": "nope"', '"nope", "op": "ok"', '"ok", "alt": "é"'):
        blob = ('{"metadata": %s, "payload": {"op": %s}}' % (meta, op)).encode()
        assert _decoded(ours.decode(blob)) == _reference(theirs, blob, False), op

"""validate_input, sanitize_data, check_constraints, check_compatibility, generate_schema."""
from __future__ import annotations

import json
import random
import time
from typing import Any

import pytest
from test_utils_schema import GOOD, MESSAGE_SCHEMA

from swfast.errors import ConfigurationError, SchemaError, ValidationError
from swfast.utils import (
    check_compatibility,
    check_constraints,
    compile_schema,
    generate_schema,
    sanitize_data,
    validate_input,
)


# ---------------------------------------------------------------- validate_input (SV-4, SV-7)
def test_parses_and_validates_text() -> None:
    raw = json.dumps(GOOD)
    assert validate_input(raw, MESSAGE_SCHEMA) == GOOD
    assert validate_input(raw.encode(), compile_schema(MESSAGE_SCHEMA)) == GOOD
    with pytest.raises(ValidationError) as info:
        validate_input(json.dumps(dict(GOOD, priority=7)), MESSAGE_SCHEMA)
    assert (info.value.path, info.value.keyword) == ("priority", "maximum")


@pytest.mark.parametrize("raw, keyword", [
    ('{"a": NaN}', "finite"), ('[Infinity]', "finite"), ('[-Infinity]', "finite"),
    ('{"a": 1, "a": 2}', "duplicateKeys"), ("{not json", "json"), (b"\xff\xfe", "json"),
    ("[" * 100_000 + "]" * 100_000, "maxDepth"),
])
def test_hostile_documents_give_clean_errors(raw: Any, keyword: str) -> None:
    t0 = time.perf_counter()
    with pytest.raises(ValidationError) as info:
        validate_input(raw, max_size=10**7)
    assert info.value.keyword == keyword
    assert time.perf_counter() - t0 < 5


def test_size_nesting_and_duplicate_policy() -> None:
    with pytest.raises(ValidationError) as info:
        validate_input('"' + "x" * (10 * 1024 * 1024) + '"')
    assert info.value.keyword == "maxSize"
    assert validate_input('{"a": 1, "a": 2}', duplicate_keys="last") == {"a": 2}
    deep: Any = 1
    for _ in range(600):
        deep = [deep]
    with pytest.raises(ValidationError, match="max_nesting"):
        validate_input(deep)
    assert validate_input(deep, max_nesting=1000) is deep
    assert validate_input("12345678901234567890123456789") == 12345678901234567890123456789
    with pytest.raises(ConfigurationError):
        validate_input("{}", duplicate_keys="first")
    with pytest.raises(SchemaError):
        validate_input("{}", {"type": "nope"})


def test_never_raises_unexpected_exceptions_on_garbage() -> None:
    rnd = random.Random(7)
    v = compile_schema(MESSAGE_SCHEMA)
    alphabet = '{}[]",:0123456789.eE+-tfnaul \\x'
    for _ in range(3000):
        raw = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 30)))
        try:
            validate_input(raw, v)
        except ValidationError:
            pass
        blob = bytes(rnd.getrandbits(8) for _ in range(rnd.randint(0, 20)))
        try:
            validate_input(blob, v)
        except ValidationError:
            pass


# ---------------------------------------------------------------- sanitize_data (SV-9)
def test_sanitize_persian_and_controls() -> None:
    dirty = {"na\x00me": "علي\x07 كريمي", "tags": ["مي روم", "۱۲۳"], "n": 5, "ok": None,
             "nested": {"t": "نیم\u200cفاصله\u200f"}}
    clean = sanitize_data(dirty)
    assert clean == {"name": "علی کریمی", "tags": ["می‌روم", "۱۲۳"], "n": 5, "ok": None,
                     "nested": {"t": "نیم\u200cفاصله"}}
    assert sanitize_data(clean) == clean
    assert sanitize_data({"d": "۱۲۳"}, digits="en") == {"d": "123"}
    assert sanitize_data(("a\x00",)) == ("a",)
    assert sanitize_data("x\x00y", normalize=False) == "xy"


def test_sanitize_limits() -> None:
    with pytest.raises(ValidationError) as info:
        sanitize_data({"a": ["x" * 11]}, max_string_length=10)
    assert (info.value.path, info.value.keyword) == ("a[0]", "maxLength")
    deep: Any = "x"
    for _ in range(20):
        deep = [deep]
    with pytest.raises(ValidationError, match="max_nesting"):
        sanitize_data(deep, max_nesting=10)


# ---------------------------------------------------------------- check_constraints
RULES = {
    "age": {"required": True, "type": int, "min": 0, "max": 150},
    "name": {"type": str, "min_length": 1, "max_length": 5, "pattern": "^[a-z]+$"},
    "role": {"choices": ["admin", "user"]},
    "meta.code": {"check": lambda v: v % 2 == 0, "message": "code must be even"},
}


def test_constraints_pass_and_fail() -> None:
    check_constraints({"age": 30, "name": "ali", "role": "user", "meta": {"code": 4}}, RULES)
    with pytest.raises(ValidationError) as info:
        check_constraints({"name": "ALI", "role": "root", "meta": {"code": 3}}, RULES)
    errs = info.value.errors  # type: ignore[attr-defined]
    assert [(e.path, e.keyword) for e in errs] == [
        ("age", "required"), ("name", "pattern"), ("role", "choices"), ("meta.code", "check")]
    assert "code must be even" in str(errs[-1])
    with pytest.raises(ValidationError) as info:
        check_constraints({"age": -1, "name": "toolongname"}, RULES, fail_fast=True)
    assert info.value.errors == [info.value]  # type: ignore[attr-defined]
    with pytest.raises(ValidationError, match="type"):
        check_constraints({"age": "30"}, RULES)


def test_raising_check_and_unknown_rule() -> None:
    def boom(v: Any) -> bool:
        raise RuntimeError("kaput")

    with pytest.raises(ValidationError, match="kaput"):
        check_constraints({"x": 1}, {"x": {"check": boom}})
    with pytest.raises(ConfigurationError, match="maximum"):
        check_constraints({"x": 1}, {"x": {"maximum": 3}})


# ---------------------------------------------------------------- SV-8 compatibility
BASE = {"type": "object", "required": ["id", "kind"],
        "properties": {"id": {"type": "integer", "minimum": 0},
                       "kind": {"enum": ["a", "b", "c"]},
                       "note": {"type": ["string", "null"], "maxLength": 100}}}


def _with(**changes: Any) -> dict[str, Any]:
    new = json.loads(json.dumps(BASE))
    for k, v in changes.items():
        new[k] = v
    return new


def test_adding_optional_field_is_compatible() -> None:
    new = _with(properties=dict(BASE["properties"], extra={"type": "string"}))
    res = check_compatibility(BASE, new)
    assert res and res.reasons == [] and any("extra" in w for w in res.warnings)
    assert check_compatibility(BASE, BASE)
    assert check_compatibility(BASE, _with(required=["id"]))  # loosening is fine


@pytest.mark.parametrize("new, fragment", [
    (_with(required=["id", "kind", "note"]), "'note' became required"),
    (_with(properties=dict(BASE["properties"], note={"type": "string"})), "narrowed"),
    (_with(properties=dict(BASE["properties"], kind={"enum": ["a", "b"]})), "removed member"),
    (_with(properties=dict(BASE["properties"], id={"type": "integer", "minimum": 1})),
     "tightened"),
    (_with(additionalProperties=False), "additionalProperties"),
    (_with(properties=dict(BASE["properties"], id={"type": "string"})), "narrowed"),
    (_with(allOf=[{"required": ["note"]}]), "cannot be proven"),
])
def test_breaking_changes_are_reported(new: dict[str, Any], fragment: str) -> None:
    res = check_compatibility(BASE, new)
    assert not res
    assert any(fragment in r for r in res.reasons), res.reasons


def test_removing_a_field_under_closed_schema() -> None:
    old = _with(additionalProperties=False)
    props = {k: v for k, v in BASE["properties"].items() if k != "note"}
    new = _with(additionalProperties=False, properties=props)
    res = check_compatibility(old, new)
    assert not res and "removed" in res.reasons[0]


# ---------------------------------------------------------------- generate_schema
def test_generate_schema_accepts_samples_and_infers_required() -> None:
    samples = [
        {"id": "0b8a3f3e-2c1d-4b7a-9f7e-1a2b3c4d5e6f", "n": 1, "tags": ["x"], "at":
         "2024-01-01T00:00:00Z", "opt": None},
        {"id": "1b8a3f3e-2c1d-4b7a-9f7e-1a2b3c4d5e6f", "n": 2.5, "tags": [], "at":
         "2024-02-01T10:00:00+03:30"},
    ]
    schema = generate_schema(samples)
    assert schema["$schema"].endswith("2020-12/schema")
    assert schema["required"] == ["at", "id", "n", "tags"]
    assert schema["properties"]["id"]["format"] == "uuid"
    assert schema["properties"]["n"] == {"type": "number"}
    assert schema["properties"]["at"]["format"] == "date-time"
    v = compile_schema(schema)
    for s in samples:
        assert v.is_valid(s)
    assert not v.is_valid({"id": "x", "n": "1", "tags": [], "at": ""})
    assert generate_schema(5, single=True)["type"] == "integer"
    mixed = generate_schema([1, "a", None])
    assert set(mixed["type"]) == {"integer", "string", "null"}
    with pytest.raises(ValueError):
        generate_schema([])
    with pytest.raises(TypeError):
        generate_schema([object()])

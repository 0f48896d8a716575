"""Utilities regressions of issue 11: prefixItems in schema evolution, exact multipleOf with huge
integers, the shared duration grammar. Kernel tests run on both implementations (``impl``)."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from _schema_helpers import compile_with
from hypothesis import given, settings
from hypothesis import strategies as st

from swfast.errors import ValidationError
from swfast.utils.compatibility import check_compatibility
from swfast.utils.timeutils import parse_duration


# ---------------------------------------------------------------- 14: prefixItems
TUPLE = {"type": "array", "prefixItems": [{"type": "string"}, {"type": "number"}], "items": {"type": "integer"}}


@pytest.mark.parametrize("new, compatible", [
    ({"type": "array", "items": {"type": "integer"}}, False),  # prefix dropped: "a" must now be an int
    ({"type": "array", "prefixItems": [{"type": "string"}], "items": {"type": "integer"}}, False),  # 2nd: number -> int
    ({"type": "array", "prefixItems": [{"type": "string"}, {"type": "number"}, {"type": "integer"}],
      "items": {"type": "integer"}}, True),  # longer prefix, same constraints
    ({"type": "array", "prefixItems": [{"type": "string"}, {"type": "number"}, {"type": "string"}],
      "items": {"type": "integer"}}, False),  # element 2 was an integer
    ({"type": "array", "prefixItems": [{"type": ["string", "null"]}, {"type": "number"}]}, True),  # loosened
    (TUPLE, True),
    ({"type": "array"}, True),
])
def test_prefix_items_evolution(new: dict[str, Any], compatible: bool) -> None:
    got = check_compatibility(TUPLE, new)
    assert got.compatible is compatible, got.reasons


@settings(deadline=None, max_examples=60)
@given(st.lists(st.one_of(st.text(max_size=3), st.integers(), st.floats(allow_nan=False, allow_infinity=False)),
                max_size=5))
def test_compatible_verdicts_hold_on_data(items: list[Any]) -> None:
    """Whenever the checker says compatible, old-valid data stays new-valid (jsonschema as oracle)."""
    jsonschema = pytest.importorskip("jsonschema")
    news = [{"type": "array", "items": {"type": "integer"}},
            {"type": "array", "prefixItems": [{"type": "string"}], "items": {"type": "integer"}},
            {"type": "array", "prefixItems": [{"type": "string"}, {"type": "number"}, {"type": "integer"}],
             "items": {"type": "integer"}}, {"type": "array", "items": {"type": "number"}}]
    old_ok = jsonschema.Draft202012Validator(TUPLE).is_valid(items)
    for new in news:
        if old_ok and check_compatibility(TUPLE, new).compatible:
            assert jsonschema.Draft202012Validator(new).is_valid(items), (new, items)


# ---------------------------------------------------------------- 15: multipleOf, huge integers
@pytest.mark.parametrize("divisor", [0.5, 0.25, 2.0, 0.125, 2.0**-20])  # exact binary fractions
def test_multiple_of_float_divisor_huge_integers(impl: Any, divisor: float) -> None:
    v = compile_with({"multipleOf": divisor}, impl.load("jsonschema").Node)
    for exp in (400, 1100, 5000):
        big = 10**exp
        assert v.is_valid(big), (divisor, exp)
        assert v.is_valid(-big)
        assert not v.errors(big)
    assert compile_with({"multipleOf": 2.0}, impl.load("jsonschema").Node).is_valid(3 * 2**2000)
    odd = compile_with({"multipleOf": 2.0}, impl.load("jsonschema").Node)
    assert not odd.is_valid(2**2000 + 1)
    assert odd.errors(2**2000 + 1)[0].keyword == "multipleOf"
    assert not compile_with({"multipleOf": 0.3}, impl.load("jsonschema").Node).is_valid(10**400 + 1)


# ---------------------------------------------------------------- 4: one duration grammar
def test_parse_duration_shares_the_parameter_grammar() -> None:
    from swfast._durations import seconds

    for text in ("2h5m", "1d 3h", "1.5h", "250ms", ".5s", "1w", "3us", "3µs", "10M"):
        assert parse_duration(text) == timedelta(seconds=seconds(text, param="x"))  # type: ignore[arg-type]
    assert parse_duration("-1h") == timedelta(hours=-1)
    with pytest.raises(ValidationError):
        parse_duration("soon")

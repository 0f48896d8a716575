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


# ---------------------------------------------------------------- 17: stable variance (Numba)
def _adversarial(n: int, first: float = 0.0, offset: float = 1e8) -> Any:
    import numpy as np

    return np.concatenate([[first], offset + (np.arange(n - 1) % 7)]).astype(np.float64)


@pytest.mark.parametrize("engine", ["numba", "numpy"])
@pytest.mark.parametrize("n", [5, 4097, 100_003])
def test_variance_matches_numpy_on_far_first_value(engine: str, n: int) -> None:
    np = pytest.importorskip("numpy")
    if engine == "numba":
        pytest.importorskip("numba")
    from swfast._native.stats import load

    mod = load(engine)
    for a in (_adversarial(n), _adversarial(n, first=-3e9, offset=1e9), _adversarial(n, first=1e12, offset=0.5),
              np.random.default_rng(n).normal(1e3, 1.0, n), np.random.default_rng(n).exponential(1e-6, n)):
        want_m2 = float(np.var(a)) * a.size
        s, m2, lo, hi = mod.moments(a)
        assert m2 == pytest.approx(want_m2, rel=1e-12)
        assert s == pytest.approx(float(a.sum()), rel=1e-13)
        assert (lo, hi) == (a.min(), a.max())
        ds, dm2, dlo, dhi, _ = mod.describe(a, np.array([0, a.size // 2, a.size - 1]))
        assert dm2 == pytest.approx(want_m2, rel=1e-12) and (dlo, dhi) == (lo, hi)


@pytest.mark.parametrize("engine", ["numba", "numpy"])
def test_public_variance_matches_numpy(engine: str) -> None:
    np = pytest.importorskip("numpy")
    if engine == "numba":
        pytest.importorskip("numba")
    from swfast.utils.mathstats import statistical_analysis

    a = _adversarial(200_001)
    for ddof in (0, 1):
        got = statistical_analysis(a, engine=engine, ddof=ddof)
        assert got["engine"] == engine
        assert got["variance"] == pytest.approx(float(np.var(a, ddof=ddof)), rel=1e-12)
        assert got["std"] == pytest.approx(float(np.std(a, ddof=ddof)), rel=1e-12)
        assert got["mean"] == pytest.approx(float(np.mean(a)), rel=1e-14)

"""SV-2: differential tests against ``jsonschema`` on generated valid data and mutations."""
from __future__ import annotations

import os
from typing import Any

import pytest
from _schema_helpers import compile_with, suite_groups, unsupported_reason
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

jsonschema = pytest.importorskip("jsonschema")
hjs = pytest.importorskip("hypothesis_jsonschema")

from test_utils_schema import GOOD, MESSAGE_SCHEMA  # noqa: E402

SUITE_FILES = ["type", "enum", "const", "minimum", "multipleOf", "maxLength", "pattern",
               "items", "prefixItems", "properties", "patternProperties",
               "additionalProperties", "required", "uniqueItems", "contains", "oneOf", "anyOf",
               "allOf", "not", "if-then-else", "dependentRequired", "propertyNames", "ref"]


def _pick_suite_schemas() -> list[tuple[Any, list[Any]]]:
    out: list[tuple[Any, list[Any]]] = []
    seen: set[str] = set()
    for stem, group in suite_groups("draft2020-12"):
        if stem in SUITE_FILES and stem not in seen and unsupported_reason(group["schema"]) is None:
            seen.add(stem)
            out.append((group["schema"], [t["data"] for t in group["tests"]]))
    return out


_MSG_SEEDS = [GOOD, dict(GOOD, ttl=5, payload={"priority": 1, "x": "y", "n": None})]
SCHEMAS = [(MESSAGE_SCHEMA, _MSG_SEEDS), *_pick_suite_schemas()]
#: Examples per schema: 120 in CI; SWFAST_DIFF_EXAMPLES=10000 for the full SV-2 run.
EXAMPLES = int(os.environ.get("SWFAST_DIFF_EXAMPLES", "120"))

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=6),
    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=4), c, max_size=4),
    max_leaves=12,
)


SMALL = st.sampled_from([0, 1, -1, 1.0, 1.5, 2**64, "", "a", "1", None, True, False, [], {}])


def _mutate(draw: Any, value: Any) -> Any:
    """Change one place of ``value``: drop, replace or add a key or item, at any depth."""
    if isinstance(value, dict) and value and draw(st.integers(0, 3)):
        key = draw(st.sampled_from(sorted(value)))
        out = dict(value)
        how = draw(st.integers(0, 3))
        if how == 0:
            del out[key]
        elif how == 1:
            out[key] = draw(SMALL | JSON)
        elif how == 2:
            out[draw(st.text(max_size=3))] = draw(SMALL)
        else:
            out[key] = _mutate(draw, out[key])
        return out
    if isinstance(value, list) and value and draw(st.integers(0, 3)):
        out_l = list(value)
        i = draw(st.integers(0, len(out_l) - 1))
        how = draw(st.integers(0, 2))
        if how == 0:
            out_l[i] = draw(SMALL | JSON)
        elif how == 1:
            out_l.append(out_l[i])
        else:
            out_l[i] = _mutate(draw, out_l[i])
        return out_l
    return draw(SMALL | JSON)


def _strategy(schema: Any, seeds: list[Any]) -> Any:
    try:
        generated = hjs.from_schema(schema)
    except Exception:  # hypothesis-jsonschema cannot build every schema (recursive $ref)
        generated = JSON

    @st.composite
    def gen(draw: Any) -> Any:
        src = draw(st.integers(0, 2))
        if src == 0:
            try:  # hypothesis-jsonschema 0.23 breaks on objects with new hypothesis releases
                v = draw(generated)
            except (AttributeError, hjs._canonicalise.HypothesisRefResolutionError):
                v = draw(JSON)
        else:
            v = draw(st.sampled_from(seeds))
        for _ in range(draw(st.integers(0, 2))):
            v = _mutate(draw, v)
        return v

    return gen()


def _spec_equal(a: Any, b: Any) -> bool:
    """Independent JSON equality for the oracle: numbers by value, bools apart from numbers."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_spec_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_spec_equal(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def _at(data: Any, parts: tuple[Any, ...]) -> Any:
    for p in parts:
        data = data[p]
    return data


def _jsonschema_unique_defect(ours: Any, data: Any) -> bool:
    """jsonschema 4.26's ``uniq`` sorts with Python equality, so ``[[1], [True], [1]]`` passes
    there although ``[1]`` repeats (its ``equal`` only checks neighbours after a sort in which
    ``[1] == [True]``). Accept our verdict when an independent pairwise check finds the repeat."""
    errs = ours.errors(data)
    for e in errs:
        if e.keyword == "uniqueItems":
            arr = _at(data, e.path_parts)
            if any(_spec_equal(arr[i], arr[j]) for i in range(len(arr))
                   for j in range(i + 1, len(arr))):
                return True
    return False


@pytest.mark.parametrize("index", range(len(SCHEMAS)))
def test_verdicts_match_jsonschema(impl: Any, index: int) -> None:
    schema, seeds = SCHEMAS[index]
    ours = compile_with(schema, impl.load("jsonschema").Node)
    theirs = jsonschema.Draft202012Validator(schema)

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=EXAMPLES <= 120,
              suppress_health_check=list(HealthCheck))
    @given(_strategy(schema, seeds))
    def check(data: Any) -> None:
        expected = theirs.is_valid(data)
        if expected and _jsonschema_unique_defect(ours, data):
            expected = False
        assert ours.is_valid(data) == expected, data
        assert (not ours.errors(data)) == expected, data

    check()


def test_enough_schemas_are_compared() -> None:
    assert len(SCHEMAS) >= 21

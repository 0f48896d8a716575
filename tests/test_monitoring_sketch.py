"""Quantile sketch kernel (compiled and twin): accuracy, merging, windows, serialisation."""
from __future__ import annotations

import math
import pickle
import random

import numpy as np
import pytest


def _exact(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[int(math.floor(q * (len(s) - 1)))]


@pytest.fixture
def QS(impl):  # type: ignore[no-untyped-def]
    return impl.load("qsketch").QuantileSketch


QUANTILES = (0.0, 0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0)


@pytest.mark.parametrize("dist", ["lognormal", "uniform", "pareto", "mixed_sign"])
def test_relative_error_within_accuracy_at_every_quantile(QS, dist: str) -> None:
    rng = random.Random(7)
    gen = {
        "lognormal": lambda: rng.lognormvariate(0, 2),
        "uniform": lambda: rng.uniform(1e-3, 1e3),
        "pareto": lambda: rng.paretovariate(1.2),
        "mixed_sign": lambda: rng.gauss(0, 100),
    }[dist]
    values = [gen() for _ in range(20000)]
    sk = QS(0.01)
    for v in values:
        sk.add(v)
    assert sk.count == len(values)
    assert sk.sum == pytest.approx(sum(values))
    for q in QUANTILES:
        exact = _exact(values, q)
        got = sk.quantile(q)
        assert abs(got - exact) <= 0.01 * abs(exact) + 1e-9, (q, got, exact)
    assert sk.quantile(0.0) == min(values) and sk.quantile(1.0) == max(values)


def test_add_many_buffer_and_iterable_agree(QS) -> None:
    arr = np.random.default_rng(1).exponential(0.2, 5000)
    a, b = QS(), QS()
    a.add_many(arr)
    b.add_many(arr.tolist())
    assert a.to_bytes() == b.to_bytes()


def test_merge_equals_single_sketch_and_is_exact(QS) -> None:
    rng = random.Random(3)
    values = [rng.expovariate(1.0) for _ in range(9000)]
    whole = QS()
    parts = [QS() for _ in range(3)]
    for i, v in enumerate(values):
        whole.add(v)
        parts[i % 3].add(v)
    merged = QS()
    for p in parts:
        merged.merge(p)
    assert merged.count == whole.count
    for q in QUANTILES:
        assert merged.quantile(q) == whole.quantile(q)


def test_serialisation_is_identical_across_implementations(QS) -> None:
    from swfast._native import _qsketch_py

    rng = random.Random(5)
    sk = QS()
    twin = _qsketch_py.QuantileSketch()
    for _ in range(3000):
        v = rng.gauss(0, 10)
        sk.add(v)
        twin.add(v)
    assert sk.to_bytes() == twin.to_bytes()
    back = QS.from_bytes(twin.to_bytes())
    assert back.quantiles(QUANTILES) == sk.quantiles(QUANTILES)
    again = pickle.loads(pickle.dumps(sk))
    assert again.quantiles(QUANTILES) == sk.quantiles(QUANTILES)


def test_bin_limit_bounds_memory_and_keeps_high_quantiles(QS) -> None:
    sk = QS(0.01, bin_limit=64)
    values = [10.0 ** (i / 100.0) for i in range(-900, 900)]  # 18 decades
    for v in values:
        sk.add(v)
    assert sk.bins() <= 64
    for q in (0.98, 0.99, 1.0):  # the top 64 buckets hold the top ~3 % here
        exact = _exact(values, q)
        assert abs(sk.quantile(q) - exact) <= 0.01 * exact


def test_collapse_agrees_between_implementations(QS) -> None:
    from swfast._native import _qsketch_py

    rng = random.Random(11)
    a, b = QS(0.02, bin_limit=32), _qsketch_py.QuantileSketch(0.02, bin_limit=32)
    for _ in range(2000):
        v = 10 ** rng.uniform(-6, 6)
        a.add(v)
        b.add(v)
    assert a.to_bytes() == b.to_bytes()


def test_bad_input_is_refused_with_the_argument_named(QS) -> None:
    sk = QS()
    for bad in (math.nan, math.inf, -math.inf):
        with pytest.raises(ValueError, match="value"):
            sk.add(bad)
    with pytest.raises(ValueError, match="values"):
        sk.add_many(np.array([1.0, math.nan]))
    with pytest.raises(ValueError, match="q"):
        sk.quantile(1.5)
    with pytest.raises(ValueError, match="relative_accuracy"):
        QS(0.0)
    with pytest.raises(ValueError, match="bin_limit"):
        QS(0.01, bin_limit=2)
    with pytest.raises(ValueError, match="other"):
        sk.merge(QS(0.05))
    with pytest.raises(ValueError, match="data"):
        QS.from_bytes(b"nope")
    assert math.isnan(QS().quantile(0.5)) and math.isnan(QS().mean)


def test_zero_and_tiny_values_count_as_zero(QS) -> None:
    sk = QS()
    for v in (0.0, 1e-12, -1e-12, 5.0):
        sk.add(v)
    assert sk.quantile(0.5) == 0.0
    assert sk.quantile(1.0) == 5.0
    sk.clear()
    assert sk.count == 0 and math.isnan(sk.min)

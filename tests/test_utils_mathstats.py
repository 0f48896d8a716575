"""Statistics and matrix helpers: Numba kernels and the NumPy twin agree with NumPy."""
from __future__ import annotations

import math
import subprocess
import sys
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from swfast._native import stats as _stats
from swfast.errors import ConfigurationError, ShapeError, ValidationError
from swfast.utils.mathstats import (
    matrix_calculations,
    numerical_operations,
    statistical_analysis,
    warmup,
)

ENGINES = ["numpy", pytest.param("numba", marks=pytest.mark.skipif(
    not _stats.numba_available(), reason="numba engine disabled (SWFAST_NO_EXTENSIONS)"))]
Q = [0, 5, 25, 50, 75, 95, 100]


def _dists() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(3)
    return {
        "normal": rng.standard_normal(200_003),
        "lognormal": rng.lognormal(0, 3, 100_000),
        "few_values": rng.integers(0, 4, 120_000).astype(float),
        "constant": np.full(50_000, 2.5),
        "negative_zero": np.array([-0.0, 0.0, -0.0, 1.0, -1.0] * 20_000),
        "tiny": np.array([3.0]),
        "extremes": np.concatenate([rng.standard_normal(70_000), [1e300, -1e300, 5e-324]]),
    }


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("dist", sorted(_dists()))
def test_matches_numpy_exactly(engine: str, dist: str) -> None:
    a = _dists()[dist]
    r = statistical_analysis(a, percentiles=Q, engine=engine)
    assert r["engine"] == engine and r["count"] == a.size
    assert list(r["percentiles"].values()) == np.percentile(a, Q).tolist()
    assert r["min"] == a.min() and r["max"] == a.max()
    assert math.isclose(r["mean"], a.mean(), rel_tol=1e-9, abs_tol=1e-12)
    with np.errstate(over="ignore"):
        ref_std = a.std()
    if math.isfinite(ref_std):
        assert math.isclose(r["std"], ref_std, rel_tol=1e-7, abs_tol=1e-12)
    r1 = statistical_analysis(a, ddof=1, engine=engine) if a.size > 1 else None
    if r1 is not None and math.isfinite(ref_std):
        assert math.isclose(r1["variance"], a.var(ddof=1), rel_tol=1e-7, abs_tol=1e-12)


@pytest.mark.parametrize("engine", ENGINES)
@settings(max_examples=60, deadline=None, derandomize=True)
@given(a=hnp.arrays(np.float64, st.integers(1, 3000),
                    elements=st.floats(-1e6, 1e6, allow_nan=False)),
       qs=st.lists(st.floats(0, 100), min_size=1, max_size=6, unique=True))
def test_percentiles_property(engine: str, a: np.ndarray, qs: list[float]) -> None:
    r = statistical_analysis(a, percentiles=qs, engine=engine)
    assert np.allclose(list(r["percentiles"].values()), np.percentile(a, qs), rtol=0,
                       atol=1e-9)


@pytest.mark.parametrize("engine", ENGINES)
def test_nan_policies(engine: str) -> None:
    a = np.array([1.0, np.nan, 3.0, 5.0])
    with pytest.raises(ValidationError) as info:
        statistical_analysis(a, engine=engine)
    assert info.value.keyword == "nan"
    r = statistical_analysis(a, nan_policy="omit", engine=engine)
    assert r["count"] == 3 and r["mean"] == 3.0 and r["nan_count"] == 1
    assert r["percentiles"][50.0] == 3.0
    p = statistical_analysis(a, nan_policy="propagate", ewma_alpha=0.5, engine=engine)
    assert math.isnan(p["mean"]) and math.isnan(p["percentiles"][50.0])
    with pytest.raises(ShapeError):
        statistical_analysis([np.nan], nan_policy="omit", engine=engine)
    inf = statistical_analysis([1.0, np.inf], engine=engine)
    assert inf["max"] == np.inf and inf["mean"] == np.inf


@pytest.mark.parametrize("engine", ENGINES)
def test_bad_input(engine: str) -> None:
    with pytest.raises(ShapeError, match=r"\(0,\)"):
        statistical_analysis([], engine=engine)
    with pytest.raises(ConfigurationError, match="percentiles"):
        statistical_analysis([1.0], percentiles=[101], engine=engine)
    with pytest.raises(ConfigurationError, match="nan_policy"):
        statistical_analysis([1.0], nan_policy="ignore", engine=engine)
    with pytest.raises(ConfigurationError, match="ddof"):
        statistical_analysis([1.0], ddof=1, engine=engine)
    with pytest.raises(ValueError):
        statistical_analysis([1.0], engine="gpu")


@pytest.mark.parametrize("engine", ENGINES)
def test_ewma_and_anomalies(engine: str) -> None:
    a = np.array([1.0, 2.0, 3.0, 100.0, 2.0, 1.0] * 10)
    y = numerical_operations("ewma", a, alpha=0.25, engine=engine)
    ref = [a[0]]
    for x in a[1:]:
        ref.append(0.75 * ref[-1] + 0.25 * x)
    assert np.allclose(y, ref)
    idx = numerical_operations("anomalies", a, threshold=2.0, engine=engine)
    assert idx.tolist() == list(range(3, 60, 6))
    r = statistical_analysis(a, ewma_alpha=0.25, zscore_threshold=2.0, engine=engine)
    assert r["ewma"] == pytest.approx(ref[-1]) and r["anomalies"].tolist() == idx.tolist()
    z = numerical_operations("zscore", a, engine=engine)
    assert np.allclose(z, (a - a.mean()) / a.std())
    assert numerical_operations("anomalies", np.ones(5), engine=engine).size == 0


def test_other_numerical_operations() -> None:
    a = np.array([1.0, 2.0, 4.0, 8.0])
    assert numerical_operations("moving_average", a, window=2).tolist() == [1.5, 3.0, 6.0]
    assert numerical_operations("normalize", a).tolist() == [0.0, 1 / 7, 3 / 7, 1.0]
    assert np.isclose(np.linalg.norm(numerical_operations("normalize", a, method="l2")), 1.0)
    assert numerical_operations("cumsum", a).tolist() == [1, 3, 7, 15]
    assert numerical_operations("diff", a).tolist() == [1, 2, 4]
    assert numerical_operations("clip", a, low=2, high=4).tolist() == [2, 2, 4, 4]
    with pytest.raises(ShapeError, match="window"):
        numerical_operations("moving_average", a, window=9)
    with pytest.raises(ConfigurationError):
        numerical_operations("fft", a)
    with pytest.raises(ConfigurationError):
        numerical_operations("ewma", a, alpha=0)


@pytest.mark.parametrize("engine", ENGINES)
def test_matrix_calculations(engine: str) -> None:
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal((20, 8)), rng.standard_normal((30, 8))
    assert np.allclose(matrix_calculations("matmul", a, b.T, engine=engine), a @ b.T)
    n = matrix_calculations("normalize_rows", np.vstack([a, np.zeros(8)]), engine=engine)
    assert np.allclose(np.linalg.norm(n[:-1], axis=1), 1.0) and not n[-1].any()
    sims = matrix_calculations("cosine_similarity", a, b, engine=engine)
    ref = (a / np.linalg.norm(a, axis=1)[:, None]) @ (b / np.linalg.norm(b, axis=1)[:, None]).T
    assert np.allclose(sims, ref)
    vals, idx = matrix_calculations("top_k", sims, k=3, engine=engine)
    assert np.allclose(vals, -np.sort(-sims, axis=1)[:, :3])
    assert np.allclose(np.take_along_axis(sims, idx, axis=1), vals)
    v2, i2 = matrix_calculations("nearest", a, b, k=2, engine=engine)
    assert np.array_equal(i2, idx[:, :2])
    self_sims = matrix_calculations("cosine_similarity", a, engine=engine)
    assert np.allclose(np.diag(self_sims), 1.0)


def test_matrix_shape_errors_name_the_shapes() -> None:
    with pytest.raises(ShapeError, match=r"\(2, 3\) and \(2, 3\)") as info:
        matrix_calculations("matmul", np.ones((2, 3)), np.ones((2, 3)))
    assert info.value.shapes == ((2, 3), (2, 3))
    with pytest.raises(ShapeError, match=r"\(2, 3\).*\(2, 4\)"):
        matrix_calculations("cosine_similarity", np.ones((2, 3)), np.ones((2, 4)))
    with pytest.raises(ShapeError):
        matrix_calculations("normalize_rows", np.ones((0, 3)))
    with pytest.raises(ConfigurationError, match="k"):
        matrix_calculations("top_k", np.ones((2, 3)), k=4)
    with pytest.raises(ConfigurationError):
        matrix_calculations("svd", np.ones((2, 3)))


def test_warmup_reports_engine() -> None:
    assert warmup("numpy") == "numpy"
    if _stats.numba_available():
        assert warmup() == "numba"


def test_import_does_not_load_numba() -> None:
    code = ("import sys, swfast, swfast.utils, swfast.utils.mathstats, swfast.utils.text, "
            "swfast.utils.schema; from swfast.utils import compile_schema; "
            "assert 'numba' not in sys.modules, 'numba imported'; "
            "assert 'redis' not in sys.modules; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr


@settings(max_examples=15, deadline=None, derandomize=True)
@given(a=hnp.arrays(np.float64, st.integers(33_000, 40_000),
                    elements=st.floats(-1e300, 1e300, allow_nan=False),
                    fill=st.sampled_from([0.0, -0.0, 1.0, -2.5, 5e-324, 1e-300, 7e10])),
       seed=st.integers(0, 2**32 - 1))
def test_radix_selection_path_matches_numpy(a: np.ndarray, seed: int) -> None:
    """Arrays above the direct-sort size go through the histogram selection."""
    rng = np.random.default_rng(seed)
    a = a.copy()
    a[: a.size // 3] = rng.standard_normal(a.size // 3) * rng.choice([1e-3, 1.0, 1e6])
    for engine in [e if isinstance(e, str) else e.values[0] for e in ENGINES]:
        if engine == "numba" and not _stats.numba_available():
            continue
        r = statistical_analysis(a, percentiles=Q, engine=engine)
        assert list(r["percentiles"].values()) == np.percentile(a, Q).tolist()

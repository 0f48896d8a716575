"""Statistics and matrix helpers: ``statistical_analysis``, ``numerical_operations``,
``matrix_calculations``.

Kernels come from :mod:`swfast._native.stats`: Numba (compiled lazily on first use with
``cache=True``; call :func:`warmup` to pay the JIT cost up front) or the NumPy twin. Results match
NumPy: percentiles use NumPy's default ``linear`` interpolation, variance its ``ddof``
convention. Matrix products go straight to BLAS through NumPy (the floor, nothing to beat).
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from .._native import stats as _stats
from ..errors import ConfigurationError, ShapeError, ValidationError

DEFAULT_PERCENTILES = (5.0, 25.0, 50.0, 75.0, 95.0)
NAN_POLICIES = ("raise", "omit", "propagate")


def warmup(engine: str = "auto") -> str:
    """Compile the kernels of ``engine`` now; return the engine name actually used."""
    mod = _stats.load(engine)
    mod.warm()
    return str(mod.NAME)


def _vector(data: Any, name: str = "data") -> np.ndarray:
    a = np.ascontiguousarray(data, dtype=np.float64).reshape(-1)
    if a.size == 0:
        raise ShapeError(f"{name}: empty array (shape {np.shape(data)}); pass at least one value",
                         shapes=(tuple(np.shape(data)),))
    return a


def _lerp(lo: np.ndarray, hi: np.ndarray, t: np.ndarray) -> np.ndarray:
    """NumPy's own percentile interpolation (exact at both ends)."""
    with np.errstate(invalid="ignore", over="ignore"):
        diff = hi - lo
        return np.asarray(np.where(t >= 0.5, hi - diff * (1.0 - t), lo + diff * t))


def _ranks(n: int, qs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """NumPy's ``linear`` method: virtual index ``h`` and the ranks around it."""
    h = (n - 1) * (qs / 100.0)
    below = np.floor(h).astype(np.int64)
    above = np.minimum(below + 1, n - 1)
    return h, below, above, np.unique(np.concatenate([below, above]))


def _interpolate(qs: np.ndarray, n: int, ks: np.ndarray, vals: np.ndarray) -> np.ndarray:
    h, below, above, _ = _ranks(n, qs)
    lookup = dict(zip(ks.tolist(), vals.tolist()))
    v_lo = np.array([lookup[k] for k in below.tolist()])
    v_hi = np.array([lookup[k] for k in above.tolist()])
    return _lerp(v_lo, v_hi, h - below)


def _percentiles(mod: Any, a: np.ndarray, qs: np.ndarray, lo: float, hi: float) -> np.ndarray:
    ks = _ranks(a.size, qs)[3]
    if math.isfinite(lo) and math.isfinite(hi):
        vals = mod.select_kth(a, ks, lo, hi)
    else:
        vals = np.partition(a, ks)[ks]
    return _interpolate(qs, a.size, ks, vals)


def statistical_analysis(data: Any, *, percentiles: Sequence[float] = DEFAULT_PERCENTILES,
                         nan_policy: str = "raise", ddof: int = 0,
                         ewma_alpha: float | None = None, zscore_threshold: float | None = None,
                         engine: str = "auto") -> dict[str, Any]:
    """Moments, extremes and percentiles in about two memory passes.

    Args:
        data: numbers (any shape; flattened) convertible to float64.
        percentiles: in ``[0, 100]``; NumPy's ``linear`` interpolation.
        nan_policy: ``"raise"`` (default), ``"omit"`` (drop NaNs first) or ``"propagate"``
            (every statistic NaN, as NumPy returns).
        ddof: delta degrees of freedom of the variance (0: population, 1: sample).
        ewma_alpha: also report ``ewma`` (last value of the exponentially weighted average).
        zscore_threshold: also report ``anomalies``: indices with ``|z| > threshold``.
        engine: ``"auto"``, ``"numba"`` or ``"numpy"``.

    Returns:
        ``count, sum, mean, variance, std, min, max, percentiles ({q: value}), nan_count,
        engine`` and the optional ``ewma``/``anomalies``.

    Raises:
        ShapeError: no values (after omitting NaNs).
        ValidationError: NaN present with ``nan_policy="raise"`` (keyword ``nan``).
        ConfigurationError: a bad policy, percentile, ddof or alpha.
    """
    if nan_policy not in NAN_POLICIES:
        raise ConfigurationError("nan_policy", f"{nan_policy!r}: use one of {NAN_POLICIES}")
    qs = np.asarray(list(percentiles), dtype=np.float64)
    if qs.size and (np.isnan(qs).any() or qs.min() < 0 or qs.max() > 100):
        raise ConfigurationError("percentiles", "each must be within [0, 100]")
    if ewma_alpha is not None and not 0.0 < ewma_alpha <= 1.0:
        raise ConfigurationError("ewma_alpha", "must be in (0, 1]")
    mod = _stats.load(engine)
    a = _vector(data)
    nan_count = 0
    pct: np.ndarray | None = None
    if qs.size:  # one kernel call: moments and the order statistics together
        ks = _ranks(a.size, qs)[3]
        s, m2, lo, hi, vals = mod.describe(a, ks)
        if math.isfinite(s) and math.isfinite(m2):
            pct = _interpolate(qs, a.size, ks, vals)
    else:
        s, m2, lo, hi = mod.moments(a)
    if not (math.isfinite(s) and math.isfinite(m2)):
        nans = np.isnan(a)
        nan_count = int(nans.sum())
        if nan_count:
            if nan_policy == "raise":
                raise ValidationError(f"{nan_count} NaN value(s); drop them or pass "
                                      f"nan_policy='omit' or 'propagate'", path="data",
                                      keyword="nan")
            if nan_policy == "propagate":
                nan = float("nan")
                out = {"count": int(a.size), "sum": nan, "mean": nan, "variance": nan,
                       "std": nan, "min": nan, "max": nan,
                       "percentiles": {float(q): nan for q in qs}, "nan_count": nan_count,
                       "engine": mod.NAME}
                if ewma_alpha is not None:
                    out["ewma"] = nan
                if zscore_threshold is not None:
                    out["anomalies"] = np.empty(0, dtype=np.int64)
                return out
            a = _vector(a[~nans], "data (NaNs omitted)")
            s, m2, lo, hi = mod.moments(a)
        if not (math.isfinite(s) and math.isfinite(m2)):  # infinities: NumPy's answers
            with np.errstate(invalid="ignore", over="ignore"):
                s, lo, hi = float(a.sum()), float(a.min()), float(a.max())
                m2 = float(np.var(a) * a.size)
    n = a.size
    if ddof < 0 or ddof >= n:
        raise ConfigurationError("ddof", f"must be in [0, {n - 1}] for {n} values")
    mean = s / n
    var = m2 / (n - ddof)
    std = math.sqrt(var) if var == var else var
    if pct is None:
        pct = _percentiles(mod, a, qs, lo, hi) if qs.size else np.empty(0)
    out = {"count": n, "sum": s, "mean": mean, "variance": var, "std": std, "min": lo,
           "max": hi, "percentiles": dict(zip(qs.tolist(), pct.tolist())),
           "nan_count": nan_count, "engine": mod.NAME}
    if ewma_alpha is not None:
        out["ewma"] = float(mod.ewma(a, float(ewma_alpha))[-1])
    if zscore_threshold is not None:
        pop_std = math.sqrt(m2 / n)
        out["anomalies"] = mod.zscore_flags(a, mean, pop_std, float(zscore_threshold))
    return out


def numerical_operations(op: str, data: Any, *, engine: str = "auto",
                         **params: Any) -> np.ndarray:
    """Element-wise and running operations on a 1-D series.

    Ops: ``ewma`` (``alpha``), ``zscore``, ``anomalies`` (``threshold``, default 3: indices),
    ``normalize`` (``method``: ``minmax``, ``zscore`` or ``l2``), ``moving_average``
    (``window``), ``cumsum``, ``diff``, ``clip`` (``low``, ``high``).

    Raises:
        ConfigurationError: unknown op or a bad parameter.
        ShapeError: empty input or a window longer than the series.
    """
    mod = _stats.load(engine)
    a = _vector(data)
    if op == "ewma":
        alpha = float(params.get("alpha", 0.3))
        if not 0.0 < alpha <= 1.0:
            raise ConfigurationError("alpha", "must be in (0, 1]")
        return mod.ewma(a, alpha)  # type: ignore[no-any-return]
    if op in ("zscore", "anomalies"):
        s, m2, _, _ = mod.moments(a)
        mean, std = s / a.size, math.sqrt(m2 / a.size)
        if op == "anomalies":
            return mod.zscore_flags(a, mean, std, float(params.get("threshold", 3.0)))  # type: ignore[no-any-return]
        return (a - mean) / std if std else np.zeros_like(a)
    if op == "normalize":
        method = params.get("method", "minmax")
        if method == "minmax":
            lo, hi = float(a.min()), float(a.max())
            return (a - lo) / (hi - lo) if hi > lo else np.zeros_like(a)
        if method == "zscore":
            return numerical_operations("zscore", a, engine=engine)
        if method == "l2":
            norm = float(np.sqrt(np.dot(a, a)))
            return a / norm if norm else a.copy()
        raise ConfigurationError("method", f"{method!r}: use 'minmax', 'zscore' or 'l2'")
    if op == "moving_average":
        w = int(params.get("window", 3))
        if w < 1 or w > a.size:
            raise ShapeError(f"window: {w} does not fit a series of shape {a.shape}",
                             shapes=(a.shape,))
        c = np.cumsum(np.concatenate([[0.0], a]))
        return np.asarray((c[w:] - c[:-w]) / w)
    if op == "cumsum":
        return np.cumsum(a)
    if op == "diff":
        return np.diff(a)
    if op == "clip":
        return np.asarray(np.clip(a, params.get("low"), params.get("high")))
    raise ConfigurationError("op", f"unknown operation {op!r}")


def _matrix(x: Any, name: str) -> np.ndarray:
    m = np.asarray(x, dtype=np.float64)
    if m.ndim == 1:
        m = m[None, :]
    if m.ndim != 2 or m.size == 0:
        raise ShapeError(f"{name}: need a non-empty 1-D or 2-D array, got shape {np.shape(x)}",
                         shapes=(tuple(np.shape(x)),))
    return np.ascontiguousarray(m)


def matrix_calculations(op: str, a: Any, b: Any = None, *, engine: str = "auto",
                        **params: Any) -> Any:
    """Matrix helpers used by other components.

    Ops: ``matmul`` (``a @ b``), ``normalize_rows`` (L2), ``cosine_similarity`` (rows of ``a``
    against rows of ``b``, or of ``a`` against itself), ``top_k`` (``k`` largest per row:
    ``(values, indices)``), ``nearest`` (``k`` most cosine-similar rows of ``b`` for each row
    of ``a``: ``(similarities, indices)``).

    Raises:
        ShapeError: empty inputs or shapes that do not fit (the message names both shapes).
        ConfigurationError: unknown op or a bad ``k``.
    """
    mod = _stats.load(engine)
    if op == "matmul":
        x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
        if x.size == 0 or y.size == 0 or x.ndim == 0 or y.ndim == 0 or \
                x.shape[-1] != y.shape[0 if y.ndim == 1 else -2]:
            raise ShapeError(f"matmul: shapes {x.shape} and {y.shape} do not align "
                             f"(inner dimensions must match)", shapes=(x.shape, y.shape))
        return x @ y
    m = _matrix(a, "a")
    if op == "normalize_rows":
        return mod.normalize_rows(m)
    if op in ("cosine_similarity", "nearest"):
        other = m if b is None else _matrix(b, "b")
        if other.shape[1] != m.shape[1]:
            raise ShapeError(f"{op}: row lengths differ: a has shape {m.shape}, b has shape "
                             f"{other.shape}", shapes=(m.shape, other.shape))
        na = mod.normalize_rows(m)
        sims = na @ (na if b is None else mod.normalize_rows(other)).T
        if op == "cosine_similarity":
            return sims
        m = sims
    if op in ("top_k", "nearest"):
        k = int(params.get("k", 1))
        if not 1 <= k <= m.shape[1]:
            raise ConfigurationError("k", f"must be in [1, {m.shape[1]}] for shape {m.shape}")
        return mod.top_k(m, k)
    raise ConfigurationError("op", f"unknown operation {op!r}")


__all__ = ["matrix_calculations", "numerical_operations", "statistical_analysis", "warmup"]

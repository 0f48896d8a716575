"""NumPy twin of the Numba statistics kernels (``_stats_numba.py``): same names, same results.

Kernels take contiguous float64 arrays and return plain numbers or arrays; NaN policy, shape
checks and percentile interpolation live in :mod:`swfast.utils.mathstats`.
"""
from __future__ import annotations

import itertools
from typing import Any

import numpy as np

NAME = "numpy"


def moments(a: np.ndarray) -> tuple[float, float, float, float]:
    """Return ``(sum, sum of squared deviations from the mean, min, max)`` of a 1-D array."""
    with np.errstate(invalid="ignore", over="ignore"):
        s = float(a.sum())
        mean = s / a.size
        d = a - mean
        return s, float(np.dot(d, d)), float(a.min()), float(a.max())


def select_kth(a: np.ndarray, ks: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Return the order statistics ``sorted(a)[k]`` for each ``k`` in ``ks``."""
    part = np.partition(a, ks)
    return np.asarray(part[ks], dtype=np.float64)


def describe(a: np.ndarray, ks: np.ndarray) -> tuple[float, float, float, float, np.ndarray]:
    """Moments and the order statistics ``ks`` together (NaN statistics with non-finite data)."""
    s, m2, lo, hi = moments(a)
    if not (np.isfinite(s) and np.isfinite(m2)):
        return s, m2, lo, hi, np.full(len(ks), np.nan)
    return s, m2, lo, hi, select_kth(a, np.asarray(ks, dtype=np.int64), lo, hi)


def ewma(a: np.ndarray, alpha: float) -> np.ndarray:
    """Exponentially weighted moving average, ``y[0] = a[0]``."""
    beta = 1.0 - alpha
    out = np.fromiter(itertools.accumulate(a.tolist(), lambda y, x: beta * y + alpha * x),
                      dtype=np.float64, count=a.size)
    return out


def zscore_flags(a: np.ndarray, mean: float, std: float, threshold: float) -> np.ndarray:
    """Indices whose ``|a - mean| / std`` exceeds ``threshold``."""
    if std == 0.0:
        return np.empty(0, dtype=np.int64)
    return np.flatnonzero(np.abs(a - mean) > threshold * std).astype(np.int64)


def normalize_rows(m: np.ndarray) -> np.ndarray:
    """Each row divided by its L2 norm (zero rows stay zero)."""
    norms = np.sqrt(np.einsum("ij,ij->i", m, m))
    norms[norms == 0.0] = 1.0
    return np.asarray(m / norms[:, None])


def top_k(m: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the ``k`` largest values and their column indices, largest first."""
    idx = np.argpartition(-m, k - 1, axis=1)[:, :k]
    vals = np.take_along_axis(m, idx, axis=1)
    order = np.argsort(-vals, axis=1, kind="stable")
    return np.take_along_axis(vals, order, axis=1), np.take_along_axis(idx, order, axis=1)


def warm() -> Any:
    """Nothing to compile for the NumPy twin."""
    return None


__all__ = ["NAME", "describe", "ewma", "moments", "normalize_rows", "select_kth", "top_k", "warm",
           "zscore_flags"]

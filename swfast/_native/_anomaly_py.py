"""Pure-Python twin of ``_anomaly_c``: streaming EWMA/EWMV and robust median/MAD z-scores.

Every score is computed against the state *before* the point is added, then the point updates
the state:

* EWMA z-score (per season bucket, e.g. hour of day): ``(x - mean) / sqrt(var)`` with Finch's
  incremental EWMA/EWMV (``diff = x - mean; mean += alpha*diff; var = (1-alpha)*(var + alpha*diff**2)``).
* robust z-score over the last ``window`` points: ``(x - median) / (1.4826 * MAD)``.

A score is ``0.0`` during warm-up (fewer than ``warmup`` earlier points in the bucket / window)
and ``±inf`` when the baseline has no spread yet the point differs from it.
"""
from __future__ import annotations

import math
from bisect import bisect_left, insort
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

MAD_SCALE = 1.4826


def _z(diff: float, sd: float) -> float:
    if sd > 0.0:
        return diff / sd
    if diff == 0.0:
        return 0.0
    return math.copysign(math.inf, diff)


class AnomalyScorer:
    """Streaming anomaly scores for one series.

    Args:
        alpha: EWMA smoothing factor in (0, 1].
        window: points kept for the median/MAD baseline (>= 3).
        warmup: earlier points required before a score is non-zero (>= 1).
        seasons: number of EWMA baselines (1 = none; 24 = hour of day).
    """

    def __init__(self, alpha: float = 0.1, window: int = 64, warmup: int = 16, seasons: int = 1) -> None:
        if not 0.0 < alpha <= 1.0:
            raise ValueError(f"alpha: must be in (0, 1], got {alpha!r}")
        if window < 3:
            raise ValueError(f"window: must be >= 3, got {window!r}")
        if warmup < 1:
            raise ValueError(f"warmup: must be >= 1, got {warmup!r}")
        if seasons < 1:
            raise ValueError(f"seasons: must be >= 1, got {seasons!r}")
        self.alpha = float(alpha)
        self.window = int(window)
        self.warmup = int(warmup)
        self.seasons = int(seasons)
        self.reset()

    def reset(self) -> None:
        self._mean = [0.0] * self.seasons
        self._var = [0.0] * self.seasons
        self._n = [0] * self.seasons
        self._ring = [0.0] * self.window
        self._pos = 0
        self._filled = 0
        self._sorted: list[float] = []
        self._count = 0

    @property
    def count(self) -> int:
        return self._count

    def mean(self, season: int = 0) -> float:
        return self._mean[self._season(season)]

    def std(self, season: int = 0) -> float:
        return math.sqrt(self._var[self._season(season)])

    def median(self) -> float:
        s = self._sorted
        n = len(s)
        if n == 0:
            return 0.0
        h = n // 2
        return s[h] if n % 2 else (s[h - 1] + s[h]) / 2.0

    def mad(self) -> float:
        s = self._sorted
        n = len(s)
        if n == 0:
            return 0.0
        m = self.median()
        dev = sorted(abs(v - m) for v in s)
        h = n // 2
        return dev[h] if n % 2 else (dev[h - 1] + dev[h]) / 2.0

    def _season(self, season: int) -> int:
        if not 0 <= season < self.seasons:
            raise IndexError(f"season: must be in [0, {self.seasons}), got {season!r}")
        return season

    def update(self, x: float, season: int = 0) -> tuple[float, float]:
        """Score ``x`` against the current baselines, then add it; returns (ewma_z, robust_z)."""
        x = float(x)
        b = self._season(season)
        if math.isnan(x):
            return (math.nan, math.nan)
        mean, var, n = self._mean[b], self._var[b], self._n[b]
        diff = x - mean
        z1 = _z(diff, math.sqrt(var)) if n >= self.warmup else 0.0
        if n == 0:
            self._mean[b] = x
        else:
            incr = self.alpha * diff
            self._mean[b] = mean + incr
            self._var[b] = (1.0 - self.alpha) * (var + diff * incr)
        self._n[b] = n + 1
        z2 = 0.0
        if self._filled >= self.warmup:
            m = self.median()
            z2 = _z(x - m, MAD_SCALE * self.mad())
        s = self._sorted
        if self._filled == self.window:
            del s[bisect_left(s, self._ring[self._pos])]
        else:
            self._filled += 1
        insort(s, x)
        self._ring[self._pos] = x
        self._pos = (self._pos + 1) % self.window
        self._count += 1
        return (z1, z2)

    def score(self, values: Sequence[float] | npt.ArrayLike,
              seasons: Sequence[int] | npt.ArrayLike | None = None
              ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Score many points in order (continuing the stream); returns two float64 arrays."""
        vals = np.ascontiguousarray(values, dtype=np.float64).ravel()
        out1 = np.empty(vals.shape[0])
        out2 = np.empty(vals.shape[0])
        if seasons is None:
            for i, v in enumerate(vals.tolist()):
                out1[i], out2[i] = self.update(v)
        else:
            bk = np.ascontiguousarray(seasons, dtype=np.int64).ravel()
            if bk.shape[0] != vals.shape[0]:
                raise ValueError(f"seasons: length {bk.shape[0]} differs from values' {vals.shape[0]}")
            for i, (v, s) in enumerate(zip(vals.tolist(), bk.tolist())):
                out1[i], out2[i] = self.update(v, s)
        return out1, out2


__all__ = ["MAD_SCALE", "AnomalyScorer"]

"""Peers for the resource-management benchmarks: direct psutil reads, a NumPy/pandas EWMA +
rolling-MAD scorer, a plain-Python power-of-two-choices pick and a semaphore lease."""
from __future__ import annotations

import random
import threading
from typing import Any, Callable

import numpy as np


def psutil_read() -> Callable[[], Any]:
    """What callers do without a sampler: ask psutil on the caller's path."""
    import psutil
    proc = psutil.Process()
    proc.cpu_percent(None)

    def read() -> tuple[float, int]:
        return proc.cpu_percent(None), proc.memory_info().rss
    return read


def pandas_scores(x: np.ndarray, alpha: float = 0.1, window: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """EWMA/EWMV z-scores with pandas ``ewm`` and robust z-scores from a pandas rolling median and
    a NumPy sliding-window MAD (both against the previous ``window`` points)."""
    import pandas as pd
    s = pd.Series(x)
    ew = s.ewm(alpha=alpha, adjust=False)
    mean, var = ew.mean().shift(), ew.var(bias=True).shift()
    z1 = ((s - mean) / np.sqrt(var)).to_numpy()
    med = s.rolling(window).median().shift().to_numpy()
    win = np.lib.stride_tricks.sliding_window_view(x, window)[:-1]
    mad = np.full(x.shape[0], np.nan)
    mad[window:] = np.median(np.abs(win - med[window:, None]), axis=1)
    z2 = (x - med) / (1.4826 * mad)
    return z1, z2


class PythonP2C:
    """Power of two choices in plain Python (random.sample + a score comparison)."""

    def __init__(self, n: int) -> None:
        self.targets = [f"t{i}" for i in range(n)]
        self.active = [0] * n
        self.weight = [1.0] * n
        self._idx = list(range(n))

    def pick(self) -> str:
        a, b = random.sample(self._idx, 2)
        sa = (self.active[a] + 1) / self.weight[a]
        sb = (self.active[b] + 1) / self.weight[b]
        return self.targets[b if sb < sa else a]


def semaphore_lease(n: int = 4) -> Callable[[], None]:
    """A counting semaphore acquire + release: the simplest admission control."""
    sem = threading.BoundedSemaphore(n)

    def cycle() -> None:
        sem.acquire()
        sem.release()
    return cycle

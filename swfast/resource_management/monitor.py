"""ResourceMonitor: a background sampler with a history ring, streaming anomaly scores and
Holt's linear forecast.

The caller never waits on a measurement: :meth:`ResourceMonitor.monitor_usage` returns the
latest :class:`Usage` (a memory read). The first call takes one reading synchronously (CPU
from the process's cumulative CPU time over its age, so it is valid) and starts the sampler
thread; every later reading comes from that thread. Anomaly scores (EWMA/EWMV and median/MAD,
the compiled :mod:`swfast._native.anomaly` kernel) are updated per sample.
"""
from __future__ import annotations

import asyncio
import math
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import numpy.typing as npt

from .._native.anomaly import AnomalyScorer
from ..errors import ConfigurationError
from .cgroup import limits

#: Fields of a :class:`Usage` the history and the anomaly scores keep.
METRICS = ("cpu_percent", "cpu_fraction", "memory_bytes", "memory_fraction", "system_cpu_percent",
           "memory_pressure_percent", "threads")


@dataclass(frozen=True)
class Usage:
    """One reading. ``cpu_percent``: this process, 100 = one CPU busy; ``cpu_fraction``: of the
    CPU budget (0-1); ``memory_bytes``: RSS; ``memory_fraction``: RSS / memory budget;
    ``memory_pressure_percent``: PSI memory ``some avg10``; ``devices``: per-GPU readings."""

    timestamp: float
    cpu_percent: float
    cpu_fraction: float
    memory_bytes: float
    memory_fraction: float
    system_cpu_percent: float
    memory_pressure_percent: float
    threads: float
    devices: tuple[Mapping[str, float], ...] = ()

    def as_dict(self) -> dict[str, float]:
        return {m: float(getattr(self, m)) for m in METRICS}


@dataclass(frozen=True)
class Anomaly:
    """A sample whose EWMA or robust z-score crossed the monitor's ``z_threshold``."""

    timestamp: float
    metric: str
    value: float
    ewma_z: float
    robust_z: float


@dataclass(frozen=True)
class Prediction:
    """Holt's linear forecast of ``metric`` ``horizon_s`` ahead with a ~95 % interval."""

    metric: str
    horizon_s: float
    value: float
    lower: float
    upper: float
    level: float
    trend_per_s: float
    samples: int = 0
    extra: dict[str, float] = field(default_factory=dict)


class HistoryRing:
    """Fixed-capacity ring of (timestamp, metrics...) rows; thread-safe appends and reads."""

    def __init__(self, capacity: int = 3600, metrics: Sequence[str] = METRICS) -> None:
        if capacity < 2:
            raise ConfigurationError("capacity", f"must be >= 2, got {capacity!r}")
        self.metrics = tuple(metrics)
        self._col = {m: i + 1 for i, m in enumerate(self.metrics)}
        self._data = np.zeros((capacity, len(self.metrics) + 1))
        self._n = 0
        self._pos = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return self._n

    def append(self, timestamp: float, values: Mapping[str, float]) -> None:
        row = [timestamp] + [float(values.get(m, math.nan)) for m in self.metrics]
        with self._lock:
            self._data[self._pos] = row
            self._pos = (self._pos + 1) % self._data.shape[0]
            self._n = min(self._n + 1, self._data.shape[0])

    def _ordered(self) -> npt.NDArray[np.float64]:
        cap = self._data.shape[0]
        if self._n < cap:
            return self._data[: self._n].copy()
        return np.concatenate([self._data[self._pos:], self._data[: self._pos]])

    def timestamps(self) -> npt.NDArray[np.float64]:
        with self._lock:
            return self._ordered()[:, 0]

    def series(self, metric: str) -> npt.NDArray[np.float64]:
        """Values of ``metric``, oldest first."""
        col = self._col.get(metric)
        if col is None:
            raise ConfigurationError("metric", f"unknown metric {metric!r}; one of {', '.join(self.metrics)}")
        with self._lock:
            return self._ordered()[:, col]


def holt(values: Sequence[float] | npt.ArrayLike, steps: float, *, alpha: float = 0.5,
         beta: float = 0.3) -> tuple[float, float, float, float]:
    """Holt's linear method: (forecast ``steps`` ahead, level, trend per step, forecast sd).

    The sd is ``sigma * sqrt(1 + sum_{j<h} alpha**2 * (1 + j*beta)**2)`` with sigma the RMS of
    one-step-ahead errors (Hyndman & Athanasopoulos, FPP §8.7).
    """
    y = np.asarray(values, dtype=np.float64)
    y = y[~np.isnan(y)]
    if y.shape[0] == 0:
        raise ConfigurationError("values", "need at least one sample; let the monitor run first")
    level, trend = float(y[0]), float(y[1] - y[0]) if y.shape[0] > 1 else 0.0
    sq, n = 0.0, 0
    for x in y[1:].tolist():
        err = x - (level + trend)
        sq, n = sq + err * err, n + 1
        prev = level
        level = alpha * x + (1 - alpha) * (level + trend)
        trend = beta * (level - prev) + (1 - beta) * trend
    sigma = math.sqrt(sq / n) if n else 0.0
    h = max(1, int(math.ceil(steps)))
    spread = 1.0 + sum((alpha * (1 + j * beta)) ** 2 for j in range(1, h))
    return level + steps * trend, level, trend, sigma * math.sqrt(spread)


class ProcessSampler:
    """Default sampler: psutil (imported on first call) for this process and the host, plus the
    cgroup budgets from :func:`~swfast.resource_management.limits`."""

    def __init__(self, gpu: Any = None) -> None:
        self._proc: Any = None
        self._last: tuple[float, float] | None = None
        self._gpu = gpu
        self._limits_at = -math.inf
        self._lim: Any = None

    def __call__(self) -> dict[str, Any]:
        import psutil
        now = time.monotonic()
        if self._proc is None:
            self._proc = psutil.Process()
            psutil.cpu_percent(None)
        if now - self._limits_at > 5.0:
            self._lim, self._limits_at = limits(), now
        lim = self._lim
        with self._proc.oneshot():
            t = self._proc.cpu_times()
            busy = t.user + t.system
            rss = self._proc.memory_info().rss
            threads = self._proc.num_threads()
            if self._last is None:
                age = max(1e-3, time.time() - self._proc.create_time())
                cpu = 100.0 * busy / age
            else:
                cpu = 100.0 * (busy - self._last[1]) / max(1e-6, now - self._last[0])
        self._last = (now, busy)
        psi = lim.pressure.get("memory")
        out: dict[str, Any] = {
            "cpu_percent": cpu, "cpu_fraction": cpu / 100.0 / max(1, lim.cpu_budget),
            "memory_bytes": float(rss),
            "memory_fraction": rss / lim.memory_budget_bytes if lim.memory_budget_bytes else math.nan,
            "system_cpu_percent": psutil.cpu_percent(None),
            "memory_pressure_percent": psi.some_avg10_percent if psi else math.nan,
            "threads": float(threads),
        }
        if self._gpu is not None:
            out["devices"] = tuple(self._gpu.device_readings())
        return out


class ResourceMonitor:
    """Background sampler + history + anomaly detection + forecasts.

    Args:
        interval_s: seconds between samples.
        history: samples kept in the ring.
        sampler: callable returning a mapping of :data:`METRICS` (default :class:`ProcessSampler`).
        z_threshold: |z| at which a sample is an :class:`Anomaly`.
        alpha / window / warmup: anomaly scorer settings; ``seasonal=True`` keeps 24
            hour-of-day EWMA baselines (UTC hour of the wall clock).
        clock / wall: monotonic and epoch clocks (injectable for tests).
    Thread-safe; nothing starts until :meth:`start` or the first :meth:`monitor_usage`.
    """

    def __init__(self, *, interval_s: float = 1.0, history: int = 3600,
                 sampler: Callable[[], Mapping[str, Any]] | None = None, z_threshold: float = 4.0,
                 alpha: float = 0.1, window: int = 64, warmup: int = 16, seasonal: bool = False,
                 wall: Callable[[], float] = time.time, max_anomalies: int = 1000) -> None:
        if not interval_s > 0:
            raise ConfigurationError("interval_s", f"must be > 0, got {interval_s!r}")
        self.interval_s = float(interval_s)
        self.z_threshold = float(z_threshold)
        self.seasonal = seasonal
        self.history = HistoryRing(history)
        self._sampler = sampler
        self._wall = wall
        self._scorers = {m: AnomalyScorer(alpha, window, warmup, 24 if seasonal else 1) for m in METRICS}
        self._anomalies: deque[Anomaly] = deque(maxlen=max_anomalies)
        self._latest: Usage | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._listeners: list[Callable[[Usage], Any]] = []

    # ------------------------------------------------------------------ sampling
    def add_listener(self, listener: Callable[[Usage], Any]) -> None:
        """Call ``listener(usage)`` after each sample, on the sampler thread."""
        self._listeners.append(listener)

    def sample(self) -> Usage:
        """Take one reading now (on the calling thread), record and score it."""
        if self._sampler is None:
            self._sampler = ProcessSampler()
        raw = dict(self._sampler())
        ts = self._wall()
        values = {m: float(raw.get(m, math.nan)) for m in METRICS}
        usage = Usage(ts, *(values[m] for m in METRICS), devices=tuple(raw.get("devices", ())))
        season = int(ts // 3600) % 24 if self.seasonal else 0
        with self._lock:
            self.history.append(ts, values)
            for m, v in values.items():
                z1, z2 = self._scorers[m].update(v, season)
                if abs(z1) >= self.z_threshold or abs(z2) >= self.z_threshold:
                    self._anomalies.append(Anomaly(ts, m, v, z1, z2))
            self._latest = usage
        for fn in list(self._listeners):
            fn(usage)
        return usage

    def start(self) -> None:
        """Start the sampler thread (idempotent)."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="swfast-resource-monitor", daemon=True)
            self._thread.start()

    def stop(self, timeout: float | None = 5.0) -> None:
        self._stop.set()
        t = self._thread
        if t is not None:
            t.join(timeout)
        self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.sample()
            except Exception:  # noqa: BLE001 - a failing sample must not kill the sampler
                import logging
                logging.getLogger("swfast.resource_management").exception("resource sample failed")

    def monitor_usage(self) -> Usage:
        """The latest reading (a memory read); the first call samples once and starts the thread."""
        latest = self._latest
        if latest is not None:
            return latest
        usage = self.sample()
        self.start()
        return usage

    async def amonitor_usage(self) -> Usage:
        """Async form: the first reading is taken in a worker thread, later ones are memory reads."""
        latest = self._latest
        if latest is not None:
            return latest
        usage = await asyncio.to_thread(self.sample)
        self.start()
        return usage

    # ------------------------------------------------------------------ analysis
    def detect_anomalies(self, metric: str | None = None, *, since: float | None = None) -> list[Anomaly]:
        """Anomalies the stream scored so far (newest last), optionally for one metric / since a time."""
        if metric is not None and metric not in METRICS:
            raise ConfigurationError("metric", f"unknown metric {metric!r}; one of {', '.join(METRICS)}")
        with self._lock:
            found = list(self._anomalies)
        return [a for a in found if (metric is None or a.metric == metric) and (since is None or a.timestamp >= since)]

    def predict_needs(self, horizon_s: float, metric: str = "memory_bytes", *, alpha: float = 0.5,
                      beta: float = 0.3, z: float = 1.96) -> Prediction:
        """Forecast ``metric`` ``horizon_s`` seconds ahead by Holt's linear method over the history."""
        if not horizon_s >= 0 or math.isinf(horizon_s):
            raise ConfigurationError("horizon_s", f"must be a finite number >= 0, got {horizon_s!r}")
        values = self.history.series(metric)
        ts = self.history.timestamps()
        step = float(np.median(np.diff(ts))) if ts.shape[0] > 1 else self.interval_s
        step = step if step > 0 else self.interval_s
        value, level, trend, sd = holt(values, horizon_s / step, alpha=alpha, beta=beta)
        return Prediction(metric, horizon_s, value, value - z * sd, value + z * sd, level, trend / step,
                          int(values.shape[0]))


def score_series(values: Sequence[float] | npt.ArrayLike, *, alpha: float = 0.1, window: int = 64,
                 warmup: int = 16, seasons: Sequence[int] | npt.ArrayLike | None = None,
                 n_seasons: int = 24) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Batch EWMA and robust z-scores of a whole series (the compiled kernel)."""
    scorer = AnomalyScorer(alpha, window, warmup, n_seasons if seasons is not None else 1)
    return scorer.score(values, seasons)  # type: ignore[no-any-return]


__all__ = ["METRICS", "Anomaly", "HistoryRing", "Prediction", "ProcessSampler", "ResourceMonitor", "Usage",
           "holt", "score_series"]

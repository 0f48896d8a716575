"""The simulated model and the chaos schedule the demo drives it with.

The model does a little real CPU work (hashing the normalised text) and waits a latency drawn
from a log-normal distribution; a small share of calls fail. Under ``--chaos`` the schedule
names a phase for each request by its sequence number, so which requests meet a slow or failing
model does not depend on timing: ``warmup`` -> ``model_slow`` -> ``burst_failures`` ->
``cache_fault`` -> ``recovery``.
"""
from __future__ import annotations

import asyncio
import hashlib
import math
import random
from dataclasses import dataclass
from typing import Awaitable, Callable

from ..errors import ConfigurationError

#: Chaos phases in order, with the share of the run each covers.
PHASES: tuple[tuple[str, int], ...] = (
    ("warmup", 20), ("model_slow", 20), ("burst_failures", 20), ("cache_fault", 15), ("recovery", 25),
)  # percent of the run


class ModelError(RuntimeError):
    """The simulated model failed this call (retryable)."""


class PoisonRequest(ValueError):
    """The request can never be served (the model rejects its input): it is dead-lettered."""


@dataclass(frozen=True)
class ChaosSchedule:
    """Maps a request's sequence number to its phase. ``total`` is the run's planned requests."""

    total: int
    enabled: bool = True

    def phase(self, seq: int) -> str:
        if not self.enabled or self.total <= 0:
            return "steady"
        edge = 0
        for name, share in PHASES:
            edge += share
            if seq * 100 < edge * self.total:
                return name
        return PHASES[-1][0]


class SimulatedModel:
    """A model with a latency distribution and occasional failures.

    Args:
        name: model id (the DataResponse's destination).
        median_s: median latency (log-normal).
        sigma: log-normal shape; 0.5 gives p99 about 3.2x the median.
        failure_rate: share of calls that raise :class:`ModelError` in steady state.
        slow_factor: latency multiplier in the ``model_slow`` phase.
        burst_failure_rate: failure share in the ``burst_failures`` phase.
        seed: random seed (runs are reproducible).
        sleep: the coroutine used to wait (tests may pass a fake).
    """

    def __init__(self, name: str, *, median_s: float = 0.002, sigma: float = 0.5, failure_rate: float = 0.01,
                 slow_factor: float = 25.0, burst_failure_rate: float = 0.9, seed: int = 7,
                 sleep: Callable[[float], Awaitable[object]] = asyncio.sleep) -> None:
        if median_s < 0:
            raise ConfigurationError("median_s", "must be >= 0 seconds")
        if not 0.0 <= failure_rate <= 1.0 or not 0.0 <= burst_failure_rate <= 1.0:
            raise ConfigurationError("failure_rate", "must be within 0..1")
        self.name = name
        self.median_s, self.sigma = median_s, sigma
        self.failure_rate, self.burst_failure_rate = failure_rate, burst_failure_rate
        self.slow_factor = slow_factor
        self._rnd = random.Random(f"{seed}:{name}")
        self._sleep = sleep
        self.calls = 0
        self.failures = 0

    def latency(self, phase: str) -> float:
        base = self.median_s * math.exp(self.sigma * self._rnd.gauss(0.0, 1.0)) if self.median_s else 0.0
        return base * self.slow_factor if phase == "model_slow" else base

    async def infer(self, text: str, phase: str = "steady") -> dict[str, object]:
        """Score ``text``: ``{"label", "score", "model"}``; raises :class:`ModelError` sometimes."""
        self.calls += 1
        if text.startswith("\u2620"):  # the poison marker: this input is never served
            raise PoisonRequest("model rejects this input")
        digest = hashlib.blake2b(text.encode(), digest_size=8).digest()  # the CPU part
        for _ in range(8):
            digest = hashlib.blake2b(digest, digest_size=8).digest()
        await self._sleep(self.latency(phase))
        rate = self.burst_failure_rate if phase == "burst_failures" else self.failure_rate
        if self._rnd.random() < rate:
            self.failures += 1
            raise ModelError(f"{self.name}: inference failed")
        score = int.from_bytes(digest[:2], "big") / 65535.0
        return {"label": "positive" if score >= 0.5 else "negative", "score": round(score, 4), "model": self.name}

    @staticmethod
    def lite(text: str, phase: str = "steady") -> dict[str, object]:
        """The degraded fallback answer: a cheap length-based guess, marked as such."""
        return {"label": "neutral", "score": 0.5, "model": "lite", "degraded": True}


__all__ = ["PHASES", "ChaosSchedule", "ModelError", "PoisonRequest", "SimulatedModel"]

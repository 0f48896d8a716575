"""Retry budgets (Finagle's ``RetryBudget``): cap retries to a share of recent requests.

Every request deposits; every retry withdraws. A retry is allowed while the retries of the
last ``ttl`` seconds stay below ``percent_can_retry`` % of the requests of that window plus a
floor of ``min_retries_per_second * ttl``. Under a full outage, total retries therefore stay
at about ``percent/100 * requests + floor`` instead of multiplying every request by the number
of attempts. The counting is the compiled one-second-bucket window of
:mod:`swfast._native.breaker`.

Thread safety: one lock around the arithmetic.
"""
from __future__ import annotations

import math
import threading
import time
from typing import Callable

from .._native import breaker as _k
from .._durations import Duration
from ._validate import duration_positive, non_negative


class RetryBudget:
    """A sliding-window retry budget.

    Args:
        percent_can_retry: retries allowed as a percentage of requests (``>= 0``, e.g. 20).
        min_retries_per_second: floor that lets low-traffic callers retry at all (``>= 0``).
        ttl: window length in seconds (``>= 1``); deposits older than this expire.
        clock: monotonic clock in seconds (tests inject a fake one).
    """

    def __init__(self, *, percent_can_retry: float = 20.0, min_retries_per_second: float = 10.0,
                 ttl: Duration = 10.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.percent_can_retry = non_negative("percent_can_retry", percent_can_retry)
        self.min_retries_per_second = non_negative("min_retries_per_second", min_retries_per_second)
        seconds = duration_positive("ttl", ttl)
        self.ttl = max(1, math.ceil(seconds))
        self._floor = self.min_retries_per_second * self.ttl
        self._window = _k.TimeWindow(self.ttl)
        self._clock = clock
        self._lock = threading.Lock()
        self.denied = 0

    def deposit(self) -> None:
        """Count one request (call once per logical operation, not per attempt)."""
        now = self._clock()
        with self._lock:
            self._window.record(False, False, now)

    def try_withdraw(self) -> bool:
        """Spend one retry if the budget allows it; False (and nothing spent) otherwise."""
        now = self._clock()
        with self._lock:
            calls, retries, _ = self._window.totals(now)
            requests = calls - retries
            if retries + 1 <= self._floor + requests * self.percent_can_retry / 100.0:
                self._window.record(True, False, now)
                return True
            self.denied += 1
            return False

    def balance(self) -> float:
        """Retries still allowed in the current window."""
        now = self._clock()
        with self._lock:
            calls, retries, _ = self._window.totals(now)
        return self._floor + (calls - retries) * self.percent_can_retry / 100.0 - retries


__all__ = ["RetryBudget"]

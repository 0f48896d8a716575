"""asv benchmarks for swfast.resilience against pybreaker, tenacity, stamina, limits, pyrate-limiter.

Run both implementations through asv's ``SWFAST_NO_EXTENSIONS`` matrix; peers are measured in the
same run through the adapters in ``_resilience_peers``.
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

import _resilience_peers as peers  # noqa: E402


def _noop() -> int:
    return 1


class RateLimit:
    params = ["swfast", "python", "limits", "pyrate-limiter"]
    param_names = ["impl"]

    def setup(self, impl: str) -> None:
        make = {"swfast": (peers.swfast_limiter, peers.swfast_keyed),
                "python": (peers.python_limiter, peers.python_keyed),
                "limits": (peers.limits_limiter, peers.limits_keyed),
                "pyrate-limiter": (peers.pyrate_limiter, peers.pyrate_keyed)}[impl]
        self.one, self.keyed = make[0](), make[1]()
        self.keys = [f"tenant-{i}" for i in range(1000)]

    def time_try_acquire(self, impl: str) -> None:
        one = self.one
        for _ in range(1000):
            one()

    def time_keyed_try_acquire(self, impl: str) -> None:
        keyed = self.keyed
        for k in self.keys:
            keyed(k)


class Breaker:
    params = ["bare", "swfast", "pybreaker"]
    param_names = ["impl"]

    def setup(self, impl: str) -> None:
        self.fn = {"bare": lambda: _noop, "swfast": lambda: peers.swfast_breaker(_noop),
                   "pybreaker": lambda: peers.pybreaker_breaker(_noop)}[impl]()

    def time_successful_call(self, impl: str) -> None:
        fn = self.fn
        for _ in range(1000):
            fn()


class Retry:
    params = ["bare", "swfast", "python", "tenacity", "stamina"]
    param_names = ["impl"]

    def setup(self, impl: str) -> None:
        self.fn = {"bare": lambda: _noop, "swfast": lambda: peers.swfast_retry(_noop),
                   "python": lambda: peers.python_retry(_noop), "tenacity": lambda: peers.tenacity_retry(_noop),
                   "stamina": lambda: peers.stamina_retry(_noop)}[impl]()

    def time_successful_call(self, impl: str) -> None:
        fn = self.fn
        for _ in range(1000):
            fn()


class Backoff:
    params = ["swfast", "python"]
    param_names = ["impl"]

    def setup(self, impl: str) -> None:
        if impl == "swfast":
            from swfast.resilience import ExponentialBackoff

            self.delay = ExponentialBackoff().calculate_delay
        else:
            self.delay = peers.python_delay()

    def time_calculate_delay(self, impl: str) -> None:
        delay = self.delay
        for a in range(1, 1001):
            delay(a)


def timeraw_import_resilience() -> str:
    return "import swfast.resilience"

"""Public surface of swfast.resilience: sorted exports, cheap import, error types."""
from __future__ import annotations

import os
import subprocess
import sys

import swfast.resilience as resilience
from swfast.errors import CircuitOpenError, RateLimitExceeded, ResilienceError, RetryError, SwfastError


def test_exports_sorted_and_present() -> None:
    assert resilience.__all__ == sorted(resilience.__all__)
    assert all(hasattr(resilience, name) for name in resilience.__all__)


def test_import_pulls_no_heavy_dependency() -> None:
    code = ("import sys, swfast.resilience; "
            "print(sorted(m for m in ('redis', 'numba', 'cupy', 'pynvml', 'confluent_kafka', 'cryptography') "
            "if m in sys.modules))")
    env = dict(os.environ, PYTHONPATH=os.getcwd())
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_error_tree() -> None:
    for cls in (CircuitOpenError, RetryError, RateLimitExceeded):
        assert issubclass(cls, ResilienceError) and issubclass(cls, SwfastError)
    err = CircuitOpenError("db", 1.5)
    assert err.name == "db" and err.remaining == 1.5 and "db" in str(err)

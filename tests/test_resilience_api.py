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


def test_package_import_is_lazy_and_components_skip_asyncio() -> None:
    """Defect 17: ``import swfast.resilience`` loads no component; retry, rate limiting, the
    breaker and fallback load asyncio only when a coroutine runs (module counts, no timing)."""
    code = (
        "import sys, types, swfast.resilience as r\n"
        "print(sorted(m for m in sys.modules if m.startswith('swfast.resilience.')))\n"
        "import swfast.resilience.retry, swfast.resilience.fallback, swfast.resilience.retry_context\n"
        "from swfast.resilience import CircuitBreaker, RateLimiter, fallback, retry, retry_context\n"
        "print(any(isinstance(f, types.ModuleType) for f in (r.retry, r.fallback, r.retry_context, retry)))\n"
        "print('asyncio' in sys.modules)\n"
    )
    env = dict(os.environ, PYTHONPATH=os.getcwd())
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[:3] == ["[]", "False", "False"], out.stdout


def test_default_async_sleep_is_asyncio_sleep() -> None:
    import asyncio

    from swfast.resilience import RateLimiter, Retrying

    seen: list[int] = []

    async def main() -> None:
        async def flaky() -> int:
            seen.append(1)
            if len(seen) < 2:
                raise OSError("once")
            return 5

        policy = Retrying(on=OSError, attempts=2, backoff=resilience.ConstantBackoff(0.001))
        assert await policy.aattempt_retry(flaky) == 5
        rl = RateLimiter(1000.0, 1)
        await rl.aacquire()
        await rl.aacquire()  # waits ~1 ms through the default sleep

    asyncio.run(main())
    assert len(seen) == 2

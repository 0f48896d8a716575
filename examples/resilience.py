"""Resilience without a server: retry with backoff, a circuit breaker, a rate limiter, a fallback.

Clocks and sleeps are injected so the example runs instantly and prints the same every time.
Run: ``python examples/resilience.py``
"""
from __future__ import annotations

from swfast.errors import CircuitOpenError
from swfast.resilience import CircuitBreaker, ExponentialBackoff, RateLimiter, Retrying, fallback


class Flaky:
    """Fails ``failures`` times, then answers."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise ConnectionError(f"attempt {self.calls} failed")
        return "ok"


def main() -> None:
    # Retry: 5 attempts, exponential backoff; `sleep` records the delays instead of waiting.
    delays: list[float] = []
    retrying = Retrying(on=ConnectionError, attempts=5, backoff=ExponentialBackoff(initial=0.1, max_delay=2.0),
                        sleep=delays.append, name="example")
    flaky = Flaky(failures=2)
    print("retry:", retrying.attempt_retry(flaky), "after", flaky.calls, "calls, delays", delays)

    # Circuit breaker: opens after the failure rate passes 50 % over the last 4 calls.
    breaker = CircuitBreaker("payments", window_size=4, minimum_calls=4, wait_duration_open=30.0)
    for _ in range(4):
        try:
            breaker.call(Flaky(failures=1))
        except ConnectionError:
            pass
    print("breaker state:", breaker.state.name)
    try:
        breaker.call(lambda: "never runs")
    except CircuitOpenError as exc:
        print("refused fast:", type(exc).__name__)

    # Token bucket: 10 operations/s, bursts of 3, on a fake clock.
    now = [0.0]
    limiter = RateLimiter(10.0, burst=3, clock=lambda: now[0], name="example")
    print("burst:", [limiter.try_acquire() for _ in range(4)])  # the 4th is refused
    now[0] += 0.1  # 100 ms later one token is back
    print("after 100 ms:", limiter.try_acquire())

    # Fallback chain: the replica answers when the primary raises.
    def from_replica(user_id: int) -> str:
        return f"user {user_id} (replica)"

    @fallback(from_replica, on=(ConnectionError,))
    def from_primary(user_id: int) -> str:
        raise ConnectionError("primary down")

    print("fallback:", from_primary(7))


if __name__ == "__main__":
    main()

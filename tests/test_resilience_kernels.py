"""Kernel tests for backoff, token bucket and breaker windows, against both implementations."""
from __future__ import annotations

import math
import os
import statistics
import subprocess
import sys
import threading

import pytest

from swfast._native._compat import NO_EXTENSIONS

HUGE = [1000, 10**6, 2**31, 2**32 + 1, 2**62, 2**63 - 1, 2**63, 2**64, 2**200]


# --- backoff -----------------------------------------------------------------------------

def test_exponential_exact_sequence(impl):
    m = impl.load("backoff")
    k = m.BackoffKernel(m.EXPONENTIAL, 1.0, 40.0, 2.0, seed=1)
    assert [k.calculate_delay(i) for i in range(1, 10)] == [1, 2, 4, 8, 16, 32, 40, 40, 40]
    assert k.calculate_delay(50) == 40.0


@pytest.mark.parametrize("kind", ["CONSTANT", "LINEAR", "EXPONENTIAL", "FULL_JITTER", "EQUAL_JITTER",
                                  "DECORRELATED_JITTER", "FIBONACCI"])
def test_no_overflow_for_huge_attempts(impl, kind):
    m = impl.load("backoff")
    k = m.BackoffKernel(getattr(m, kind), 0.5, 60.0, 2.0, step=0.25, jitter=0.0, seed=3)
    for a in HUGE:
        d = k.calculate_delay(a)
        assert math.isfinite(d) and 0.0 <= d <= 60.0, (a, d)
        if kind in ("CONSTANT",):
            assert d == 0.5
        elif kind in ("LINEAR", "EXPONENTIAL", "FIBONACCI"):
            assert d == 60.0, (a, d)


def test_factor_just_above_one_is_exact_and_capped(impl):
    m = impl.load("backoff")
    k = m.BackoffKernel(m.EXPONENTIAL, 1.0, 1e6, 1.0000001, seed=1)
    assert k.calculate_delay(1) == 1.0
    assert k.calculate_delay(2**63) == 1e6
    assert k.calculate_delay(1001) == pytest.approx(1.0000001**1000)


def test_linear_and_fibonacci_sequences(impl):
    m = impl.load("backoff")
    lin = m.BackoffKernel(m.LINEAR, 1.0, 3.0, step=0.5, seed=1)
    assert [lin.calculate_delay(i) for i in range(1, 7)] == [1.0, 1.5, 2.0, 2.5, 3.0, 3.0]
    fib = m.BackoffKernel(m.FIBONACCI, 0.5, 10.0, seed=1)
    assert [fib.calculate_delay(i) for i in range(1, 9)] == [0.5, 1.0, 1.5, 2.5, 4.0, 6.5, 10.0, 10.0]


@pytest.mark.parametrize("bad", [0, -1, -(2**70)])
def test_attempt_below_one_raises(impl, bad):
    m = impl.load("backoff")
    k = m.BackoffKernel(m.EXPONENTIAL, 1.0, 4.0, seed=1)
    with pytest.raises(ValueError, match="attempt"):
        k.calculate_delay(bad)
    with pytest.raises(TypeError, match="attempt"):
        k.calculate_delay(1.5)
    with pytest.raises(TypeError, match="attempt"):
        k.calculate_delay(True)


def test_full_jitter_bounds_and_mean(impl):
    m = impl.load("backoff")
    k = m.BackoffKernel(m.FULL_JITTER, 0.5, 60.0, 2.0, seed=11)
    for attempt in range(1, 12):
        bound = min(60.0, 0.5 * 2 ** (attempt - 1))
        samples = [k.next_delay(attempt, 0.0) for _ in range(1000)]
        assert all(0.0 <= s <= bound for s in samples)
    mean = statistics.fmean(k.next_delay(5, 0.0) for _ in range(4000))
    assert abs(mean - 4.0) <= 0.08 * 4.0


def test_equal_and_proportional_jitter_bounds(impl):
    m = impl.load("backoff")
    eq = m.BackoffKernel(m.EQUAL_JITTER, 1.0, 8.0, 2.0, seed=5)
    assert all(2.0 <= eq.next_delay(3, 0.0) <= 4.0 for _ in range(1000))
    prop = m.BackoffKernel(m.CONSTANT, 0.1, 1.0, jitter=0.5, seed=5)
    samples = [prop.calculate_delay(1) for _ in range(1000)]
    assert all(0.05 <= s <= 0.15 for s in samples)
    assert max(samples) - min(samples) > 0.08


def test_jitter_desynchronises_a_herd(impl):
    # RT-5: 1000 clients fail at the same instant; their second attempts start after delay(1).
    m = impl.load("backoff")
    starts = [m.BackoffKernel(m.FULL_JITTER, 1.0, 10.0, seed=client * 7919 + 1).calculate_delay(1)
              for client in range(1000)]
    assert statistics.pstdev(starts) / statistics.fmean(starts) >= 0.5
    buckets: dict[int, int] = {}
    for s in starts:
        buckets[int(s / 0.01)] = buckets.get(int(s / 0.01), 0) + 1
    assert max(buckets.values()) <= 50


def test_decorrelated_jitter_bounds(impl):
    m = impl.load("backoff")
    k = m.BackoffKernel(m.DECORRELATED_JITTER, 0.1, 10.0, seed=9)
    prev = 0.0
    for a in range(1, 200):
        d = k.next_delay(a, prev)
        assert 0.1 <= d <= min(10.0, max(0.3, prev * 3)) + 1e-12
        prev = d


def test_seeded_streams_are_identical_in_both_impls():
    if NO_EXTENSIONS:
        pytest.skip("compiled kernels disabled")
    from swfast._native import _backoff_c as c, _backoff_py as p
    for kind in range(7):
        a = c.BackoffKernel(kind, 0.2, 30.0, 1.7, step=0.3, jitter=0.25, seed=42)
        b = p.BackoffKernel(kind, 0.2, 30.0, 1.7, step=0.3, jitter=0.25, seed=42)
        for attempt in [*range(1, 60), *HUGE]:
            assert a.calculate_delay(attempt) == b.calculate_delay(attempt), (kind, attempt)


# --- token bucket ------------------------------------------------------------------------

def test_bucket_burst_never_exceeds_capacity_after_idle(impl):
    m = impl.load("bucket")
    b = m.TokenBucket(5.0, 10.0, clock=lambda: 0.0)
    assert sum(b.try_acquire(now=3600.0) for _ in range(100)) == 10
    assert b.available(now=7200.0) == 10.0


def test_bucket_long_run_rate(impl):
    m = impl.load("bucket")
    rate, burst = 7.0, 3.0
    b = m.TokenBucket(rate, burst, clock=lambda: 0.0)
    admitted = 0
    t = 0.0
    while t <= 10.0:
        while b.try_acquire(now=t):
            admitted += 1
        t += 0.001
    assert rate * 10 - 1 <= admitted <= rate * 10 + burst


def test_bucket_frozen_clock_16_threads_exact(impl):
    m = impl.load("bucket")
    b = m.TokenBucket(1000.0, 37.0, clock=lambda: 5.0)
    counts = [0] * 16
    barrier = threading.Barrier(16)

    def worker(i: int) -> None:
        barrier.wait()
        c = 0
        for _ in range(100_000 // 16):
            if b.try_acquire():
                c += 1
        counts[i] = c

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(16)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sum(counts) == 37
    assert b.admitted == 37 and b.admitted + b.rejected == 16 * (100_000 // 16)


def test_bucket_reserve_refund_and_clock_going_back(impl):
    m = impl.load("bucket")
    b = m.TokenBucket(2.0, 4.0, clock=lambda: 0.0)
    assert b.reserve(4, 0.0, now=0.0) == 0.0
    assert b.reserve(2, 0.5, now=0.0) == -1.0
    assert b.reserve(2, 1.0, now=0.0) == 1.0
    assert b.available(now=0.0) == -2.0
    b.refund(2)
    assert b.available(now=0.0) == 0.0
    assert b.available(now=-100.0) == 0.0  # a clock going backwards refills nothing
    b.refund(100)
    assert b.available(now=0.0) == 4.0
    b.set_rate(100.0, now=0.0)
    assert b.rate == 100.0 and b.capacity == 4.0
    assert b.try_acquire(4, now=0.0) and not b.try_acquire(now=0.0) and b.try_acquire(now=0.01)


def test_bucket_live_rate_change_credits_old_rate(impl):
    m = impl.load("bucket")
    b = m.TokenBucket(1.0, 100.0, clock=lambda: 0.0)
    assert b.try_acquire(100, now=0.0)
    b.set_rate(10.0, now=2.0)  # 2 tokens at the old rate
    assert b.available(now=2.0) == pytest.approx(2.0)
    assert b.available(now=3.0) == pytest.approx(12.0)


def test_keyed_buckets(impl):
    m = impl.load("bucket")
    k = m.KeyedBuckets(1.0, 2.0, clock=lambda: 0.0)
    assert [k.try_acquire("a", now=0.0) for _ in range(3)] == [True, True, False]
    assert k.try_acquire("b", now=0.0)
    assert k.reserve("a", 1, 2.0, now=0.0) == 1.0
    k.refund("a", 1)
    k.refund("missing", 1)
    assert k.available("a", now=1.0) == pytest.approx(1.0)
    assert len(k) == 2
    assert k.prune(now=1.0) == 1 and len(k) == 1  # b is full again, a is not
    k.set_rate(10.0, now=1.0)
    assert k.available("a", now=1.1) == pytest.approx(2.0)


def test_keyed_frozen_clock_threads_exact(impl):
    m = impl.load("bucket")
    k = m.KeyedBuckets(1.0, 5.0, clock=lambda: 1.0)
    got = [0] * 8

    def worker(i: int) -> None:
        got[i] = sum(k.try_acquire(j % 4) for j in range(4000))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sum(got) == 4 * 5


# --- windows -----------------------------------------------------------------------------

def test_count_window_evicts_oldest(impl):
    m = impl.load("breaker")
    w = m.CountWindow(3)
    for failed, slow in [(True, False), (True, True), (False, False), (False, True)]:
        w.record(failed, slow)
    assert w.totals() == (3, 1, 2)
    w.reset()
    assert w.totals() == (0, 0, 0)
    with pytest.raises(ValueError, match="size"):
        m.CountWindow(0)


def test_time_window_expires_old_seconds(impl):
    m = impl.load("breaker")
    w = m.TimeWindow(10)
    w.record(True, False, 0.5)
    w.record(True, True, 3.2)
    w.record(False, False, 9.9)
    assert w.totals(9.9) == (3, 2, 1)
    assert w.totals(10.0) == (2, 1, 1)
    assert w.totals(12.9) == (2, 1, 1)
    assert w.totals(13.0) == (1, 0, 0)
    assert w.totals(100.0) == (0, 0, 0)
    w.record(False, False, 50.0)  # an older time is recorded into the current second
    assert w.totals(100.0) == (1, 0, 0)
    with pytest.raises(ValueError, match="seconds"):
        m.TimeWindow(0)


def test_compiled_kernels_really_loaded():
    if NO_EXTENSIONS:
        pytest.skip("compiled kernels disabled")
    from swfast._native import backoff, breaker, bucket
    for mod in (backoff.BackoffKernel, bucket.TokenBucket, breaker.BreakerCore):
        assert mod.__module__.endswith("_c"), mod


def test_selector_honours_no_extensions():
    code = ("from swfast._native import backoff, bucket, breaker;"
            "print(backoff.BackoffKernel.__module__, bucket.TokenBucket.__module__, breaker.BreakerCore.__module__)")
    env = dict(os.environ, SWFAST_NO_EXTENSIONS="1", PYTHONPATH=os.getcwd())
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["swfast._native._backoff_py", "swfast._native._bucket_py",
                                  "swfast._native._breaker_py"]


def test_keyed_max_keys_prunes_full_buckets(impl):
    m = impl.load("bucket")
    k = m.KeyedBuckets(1.0, 1.0, clock=lambda: 0.0, max_keys=100)
    for i in range(100):
        assert k.try_acquire(i, now=0.0)
    assert len(k) == 100
    k.try_acquire("new", now=0.5)  # none full yet: nothing pruned, threshold doubles
    assert len(k) == 101
    for i in range(100, 199):
        k.try_acquire(i, now=0.5)
    assert len(k) == 200
    k.try_acquire("later", now=5.0)  # everything refilled: pruned before insert
    assert len(k) == 1


@pytest.mark.parametrize("base", [5e-324, 1e-300, 2.2250738585072014e-308])
def test_tiny_bases_never_overflow(impl, base):
    # found by the differential test: the power alone overflowed although the delay is below the cap
    m = impl.load("backoff")
    for kind in (m.EXPONENTIAL, m.FULL_JITTER, m.EQUAL_JITTER, m.FIBONACCI):
        k = m.BackoffKernel(kind, base, 1.0, 3.0, seed=1)
        for attempt in (2, 100, 648, 700, 1000, 2**63):
            d = k.calculate_delay(attempt)
            assert math.isfinite(d) and 0.0 <= d <= 1.0

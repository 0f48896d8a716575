"""Differential property tests: the compiled kernels and their twins agree on every sequence."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swfast._native._compat import NO_EXTENSIONS

pytestmark = pytest.mark.skipif(NO_EXTENSIONS, reason="compiled kernels disabled")

times = st.floats(min_value=0.0, max_value=50.0, allow_nan=False)
amounts = st.sampled_from([0.5, 1.0, 2.0, 3.0])

bucket_ops = st.lists(st.one_of(
    st.tuples(st.just("try"), amounts, times),
    st.tuples(st.just("reserve"), amounts, st.floats(min_value=0, max_value=5), times),
    st.tuples(st.just("refund"), amounts),
    st.tuples(st.just("rate"), st.floats(min_value=0.1, max_value=20), times),
    st.tuples(st.just("available"), times),
), max_size=60)


def _apply_bucket(b, ops):  # type: ignore[no-untyped-def]
    from swfast.errors import ConfigurationError

    out = []
    for op in ops:
        if op[0] in ("try", "reserve") and op[1] > b.capacity:
            with pytest.raises(ConfigurationError):  # both kernels refuse n > capacity
                b.try_acquire(op[1]) if op[0] == "try" else b.reserve(op[1], 1.0)
            out.append("refused")
        elif op[0] == "try":
            out.append(b.try_acquire(op[1], now=op[2]))
        elif op[0] == "reserve":
            out.append(b.reserve(op[1], op[2], now=op[3]))
        elif op[0] == "refund":
            b.refund(op[1])
        elif op[0] == "rate":
            b.set_rate(op[1], now=op[2])
        else:
            out.append(b.available(now=op[1]))
    return out, b.admitted, b.rejected


@settings(max_examples=150, deadline=None)
@given(rate=st.floats(min_value=0.1, max_value=10), cap=st.floats(min_value=1, max_value=10), ops=bucket_ops)
def test_token_bucket_twin_matches(rate: float, cap: float, ops: list) -> None:  # type: ignore[type-arg]
    from swfast._native import _bucket_c as c, _bucket_py as p

    assert _apply_bucket(c.TokenBucket(rate, cap, lambda: 0.0), ops) == _apply_bucket(p.TokenBucket(rate, cap, lambda: 0.0), ops)


breaker_ops = st.lists(st.one_of(
    st.tuples(st.just("advance"), st.floats(min_value=0, max_value=40)),
    st.tuples(st.just("acquire")),
    st.tuples(st.just("record"), st.integers(0, 5), st.booleans(), st.floats(min_value=0, max_value=3)),
    st.tuples(st.just("release"), st.integers(0, 5)),
    st.tuples(st.just("transition"), st.integers(0, 4)),
), max_size=80)


def _apply_breaker(mod, time_based: bool, ops):  # type: ignore[no-untyped-def]
    clock = {"t": 100.0}
    window = mod.TimeWindow(5) if time_based else mod.CountWindow(5)
    core = mod.BreakerCore(window, 3, 50.0, 80.0, 1.0, 10.0, 2, 30.0, lambda: clock["t"])
    starts: list[float] = []
    out = []
    for op in ops:
        if op[0] == "advance":
            clock["t"] += op[1]
        elif op[0] == "acquire":
            s = core.acquire()
            out.append(s)
            if s is not None:
                starts.append(s)
        elif op[0] == "record" and starts:
            s = starts.pop(op[1] % len(starts))
            clock["t"] += op[3]
            out.append(core.record(s, op[2]))
        elif op[0] == "release" and starts:
            core.release(starts.pop(op[1] % len(starts)))
        elif op[0] == "transition":
            out.append(core.transition(op[1], "t"))
        out.append((core.state, core.permits, core.remaining()))
    snap = core.snapshot()
    return out, list(core.events), snap


@settings(max_examples=200, deadline=None)
@given(time_based=st.booleans(), ops=breaker_ops)
def test_breaker_core_twin_matches(time_based: bool, ops: list) -> None:  # type: ignore[type-arg]
    from swfast._native import _breaker_c as c, _breaker_py as p

    assert _apply_breaker(c, time_based, ops) == _apply_breaker(p, time_based, ops)


@settings(max_examples=200, deadline=None)
@given(kind=st.integers(0, 6), base=st.floats(min_value=0, max_value=10), extra=st.floats(min_value=0, max_value=100),
       factor=st.floats(min_value=1, max_value=10), step=st.floats(min_value=0, max_value=5),
       jitter=st.floats(min_value=0, max_value=1), seed=st.integers(0, 2**64 - 1),
       attempts=st.lists(st.integers(1, 2**70), min_size=1, max_size=20))
def test_backoff_twin_matches(kind: int, base: float, extra: float, factor: float, step: float, jitter: float,
                              seed: int, attempts: list[int]) -> None:
    import math

    from swfast._native import _backoff_c as c, _backoff_py as p

    if kind == 5 and base == 0:
        base = 0.1
    a = c.BackoffKernel(kind, base, base + extra, factor, step, jitter, seed)
    b = p.BackoffKernel(kind, base, base + extra, factor, step, jitter, seed)
    for n in attempts:
        x, y = a.calculate_delay(n), b.calculate_delay(n)
        assert x == y and math.isfinite(x) and 0.0 <= x <= base + extra

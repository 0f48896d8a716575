"""Circuit breaker: resilience4j semantics (CB-1..CB-18 of RELIABILITY.md) on a fake clock."""
from __future__ import annotations

import asyncio
import gc
import logging
import threading
import time

import pytest

from _resilience_helpers import Boom, Business, FakeClock
from swfast.errors import CircuitOpenError, ConfigurationError
from swfast.resilience import CircuitBreaker, CircuitState, Transition

S = CircuitState


def make(clock: FakeClock, **kw: object) -> CircuitBreaker:
    opts: dict[str, object] = dict(window_size=10, minimum_calls=10, failure_rate_threshold=50,
                                   wait_duration_open=60.0, half_open_calls=4, clock=clock)
    opts.update(kw)
    return CircuitBreaker("svc", **opts)  # type: ignore[arg-type]


def fail() -> None:
    raise Boom("down")


def ok() -> str:
    return "ok"


def run(b: CircuitBreaker, fn, n: int = 1) -> None:  # type: ignore[no-untyped-def]
    for _ in range(n):
        try:
            b.call(fn)
        except Boom:
            pass


def open_breaker(b: CircuitBreaker) -> None:
    run(b, fail, 10)
    assert b.check_state() is S.OPEN


def test_cb1_minimum_calls() -> None:
    b = make(FakeClock())
    run(b, fail, 9)
    assert b.check_state() is S.CLOSED and b.metrics()["failure_rate"] == -1.0
    run(b, fail)
    assert b.check_state() is S.OPEN and b.metrics()["failure_rate"] == 100.0


@pytest.mark.parametrize("failures,expected", [(5, S.OPEN), (4, S.CLOSED)])
def test_cb2_threshold_inclusive(failures: int, expected: S) -> None:
    b = make(FakeClock())
    run(b, ok, 10 - failures)
    run(b, fail, failures)
    assert b.check_state() is expected


def test_cb3_open_rejects_without_calling() -> None:
    clock = FakeClock()
    b = make(clock)
    open_breaker(b)
    clock.advance(10.0)
    calls = []
    with pytest.raises(CircuitOpenError) as info:
        b.call(calls.append, 1)
    assert calls == [] and info.value.name == "svc" and info.value.remaining == pytest.approx(50.0)
    assert b.metrics()["not_permitted"] == 1


def test_cb4_open_to_half_open_by_clock() -> None:
    clock = FakeClock()
    b = make(clock)
    open_breaker(b)
    clock.advance(60.0 - 0.001)
    with pytest.raises(CircuitOpenError):
        b.call(ok)
    clock.advance(0.002)
    assert b.call(ok) == "ok"
    assert b.check_state() is S.HALF_OPEN


def half_open(clock: FakeClock, **kw: object) -> CircuitBreaker:
    b = make(clock, **kw)
    open_breaker(b)
    clock.advance(61.0)
    b.transition(S.HALF_OPEN, "test")
    return b


def test_cb5_exact_probe_count_and_release() -> None:
    clock = FakeClock()
    b = half_open(clock, ignore_exceptions=(Business,))
    core = b._core
    starts = [core.acquire() for _ in range(6)]
    assert [s is not None for s in starts] == [True] * 4 + [False] * 2
    core.release(starts[0])
    assert core.acquire() is not None and core.acquire() is None


def test_cb5_cancelled_async_probe_returns_permit() -> None:
    clock = FakeClock()
    b = half_open(clock)

    async def main() -> None:
        gate = asyncio.Event()

        async def probe() -> str:
            await gate.wait()
            return "ok"

        task = asyncio.ensure_future(b.acall(probe))
        await asyncio.sleep(0)
        assert b.metrics()["permits"] == 3
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert b.metrics()["permits"] == 4

    asyncio.run(main())


def test_cb6_half_open_under_16_threads_1000_trials() -> None:
    n, threads_n, trials = 3, 16, 1000
    clock = FakeClock()
    b = make(clock, half_open_calls=n)
    seen: list[tuple[S, S]] = []
    b.add_listener(lambda t: seen.append((t.from_state, t.to_state)))
    gate = threading.Event()
    lock = threading.Lock()
    state = {"entered": 0, "rejected": 0}
    start = threading.Barrier(threads_n + 1)
    end = threading.Barrier(threads_n + 1)
    failures: list[str] = []

    def probe() -> None:
        with lock:
            state["entered"] += 1
        gate.wait(5)

    def worker() -> None:
        for _ in range(trials):
            start.wait()
            try:
                b.call(probe)
            except CircuitOpenError:
                with lock:
                    state["rejected"] += 1
            end.wait()

    workers = [threading.Thread(target=worker) for _ in range(threads_n)]
    for w in workers:
        w.start()
    try:
        for trial in range(trials):
            b.trip_breaker()
            b.reset_breaker()
            open_breaker(b)
            clock.advance(61.0)
            state["entered"] = state["rejected"] = 0
            gate.clear()
            start.wait()
            deadline = time.monotonic() + 5
            while state["rejected"] < threads_n - n and time.monotonic() < deadline:
                time.sleep(0.0001)
            rejected_while_probing = state["rejected"]
            gate.set()
            end.wait()
            if state["entered"] != n or rejected_while_probing != threads_n - n:
                failures.append(f"trial {trial}: {state}")
    finally:
        gate.set()
        for w in workers:
            w.join(10)
    assert failures == []
    b.manage_state()
    assert seen.count((S.OPEN, S.HALF_OPEN)) == trials and seen.count((S.HALF_OPEN, S.CLOSED)) == trials
    assert len(seen) == 5 * trials


@pytest.mark.slow
def test_cb6_half_open_1000_asyncio_tasks_1000_trials() -> None:
    n = 5

    async def main() -> None:
        clock = FakeClock()
        b = make(clock, half_open_calls=n)
        for _ in range(1000):
            b.reset_breaker()
            open_breaker(b)
            clock.advance(61.0)
            gate = asyncio.Event()
            entered = 0

            async def probe() -> None:
                nonlocal entered
                entered += 1
                await gate.wait()

            tasks = [asyncio.ensure_future(b.acall(probe)) for _ in range(1000)]
            await asyncio.sleep(0)
            gate.set()
            results = await asyncio.gather(*tasks, return_exceptions=True)
            assert entered == n
            assert sum(isinstance(r, CircuitOpenError) for r in results) == 1000 - n
            assert b.check_state() is S.CLOSED

    asyncio.run(main())


def test_cb7_half_open_verdict_and_history() -> None:
    clock = FakeClock()
    b = half_open(clock)
    b.history.clear()  # type: ignore[attr-defined]
    run(b, fail)
    run(b, ok, 3)
    assert b.check_state() is S.CLOSED and b.metrics()["calls"] == 0
    open_breaker(b)
    clock.advance(61.0)
    run(b, fail, 3)
    run(b, ok)
    assert b.check_state() is S.OPEN and b.remaining_wait() == pytest.approx(60.0)
    hist = [(t.from_state, t.to_state) for t in b.history]  # type: ignore[attr-defined]
    assert hist == [(S.HALF_OPEN, S.CLOSED), (S.CLOSED, S.OPEN), (S.OPEN, S.HALF_OPEN), (S.HALF_OPEN, S.OPEN)]
    assert all(isinstance(t, Transition) and t.name == "svc" and t.reason for t in b.history)  # type: ignore[attr-defined]


def test_cb8_stuck_probe_cannot_wedge() -> None:
    clock = FakeClock()
    b = half_open(clock, max_wait_in_half_open=30.0)
    stuck = [b._core.acquire() for _ in range(4)]
    clock.advance(30.0)
    with pytest.raises(CircuitOpenError):
        b.call(ok)
    assert b.check_state() is S.OPEN
    clock.advance(60.0)
    assert b.call(ok) == "ok" and b.check_state() is S.HALF_OPEN
    for s in stuck:  # late outcomes of the stuck probes belong to the old half-open state
        b._core.record(s, True)
    run(b, ok, 3)
    assert b.check_state() is S.CLOSED


def test_cb9_ignored_exceptions_do_not_count_and_return_permit() -> None:
    clock = FakeClock()
    b = make(clock, ignore_exceptions=(Business,))

    def business() -> None:
        raise Business()

    for _ in range(20):
        with pytest.raises(Business):
            b.call(business)
    assert b.check_state() is S.CLOSED and b.metrics()["calls"] == 0 and b.metrics()["ignored"] == 20
    open_breaker(b)
    clock.advance(61)
    for _ in range(10):
        with pytest.raises(Business):
            b.call(business)
    assert b.metrics()["permits"] == 4 and b.check_state() is S.HALF_OPEN


def test_unlisted_exception_is_not_recorded() -> None:
    b = make(FakeClock(), record_exceptions=(Boom,))
    for _ in range(20):
        with pytest.raises(KeyError):
            b.call(lambda: {}["x"])
    assert b.check_state() is S.CLOSED


def test_cb10_slow_calls_in_half_open() -> None:
    clock = FakeClock()
    b = half_open(clock, slow_call_duration=1.0, slow_call_rate_threshold=50)

    def slow() -> str:
        clock.advance(2.0)
        return "slow"

    run(b, slow, 3)
    run(b, ok)
    snap = b.metrics()
    assert b.check_state() is S.OPEN
    t = list(b.history)[-1]  # type: ignore[attr-defined]
    assert "slow call rate 75.0%" in t.reason and snap["failed"] == 10


def test_cb11_time_window_expiry() -> None:
    clock = FakeClock(0.0)
    b = make(clock, window_type="time", window_size=10, minimum_calls=4)
    run(b, fail, 3)
    clock.advance(10.0)
    run(b, ok)
    run(b, fail)
    assert b.check_state() is S.CLOSED
    assert b.metrics()["calls"] == 2 and b.metrics()["failure_rate"] == -1.0
    run(b, fail, 2)
    assert b.check_state() is S.OPEN


def test_cb12_one_transition_one_event_under_contention() -> None:
    clock = FakeClock()
    b = make(clock, window_size=16, minimum_calls=16)
    events: list[Transition] = []
    b.add_listener(events.append)
    barrier = threading.Barrier(16)

    def worker() -> None:
        barrier.wait()
        for _ in range(5):
            try:
                b.call(fail)
            except (Boom, CircuitOpenError):
                pass

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    b.manage_state()
    assert [(e.from_state, e.to_state) for e in events] == [(S.CLOSED, S.OPEN)]
    assert len(b.history) == 1  # type: ignore[arg-type]
    assert b.reset_breaker() is True and b.reset_breaker() is False
    assert len(events) == 2 and len(b.history) == 2  # type: ignore[arg-type]


def test_cb13_atomic_counters_with_race_widening_clock() -> None:
    def widening_clock() -> float:
        time.sleep(0)  # yields the GIL between the clock read and the update
        return 5.0

    b = CircuitBreaker("c13", window_size=10_000, minimum_calls=10_000, clock=widening_clock)

    def worker() -> None:
        run(b, fail, 500)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    snap = b.metrics()
    assert snap["failed"] == 1500 and snap["calls"] == 1500 and snap["failed_calls"] == 1500


def test_cb14_no_lock_across_the_guarded_call() -> None:
    b = CircuitBreaker("c14")
    together = threading.Barrier(16, timeout=10)
    errors: list[BaseException] = []

    def guarded() -> None:
        together.wait()  # only passes if all 16 calls are inside the breaker at once

    def worker() -> None:
        try:
            b.call(guarded)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and b.metrics()["successful"] == 16


def test_cb15_failing_side_channels(caplog: pytest.LogCaptureFixture) -> None:
    class BrokenStore:
        def append(self, t: Transition) -> None:
            raise RuntimeError("store down")

    def bad_listener(t: Transition) -> None:
        raise RuntimeError("listener down")

    clock = FakeClock()
    b = make(clock, history=BrokenStore(), listeners=[bad_listener], ignore_exceptions=(Business,))
    open_breaker(b)
    clock.advance(61)
    assert b.call(ok) == "ok" and b.check_state() is S.HALF_OPEN
    run(b, ok, 3)
    assert b.check_state() is S.CLOSED
    open_breaker(b)
    clock.advance(61)

    def business() -> None:
        raise Business()

    for _ in range(1000):
        with pytest.raises(Business):
            b.call(business)
    assert b.metrics()["permits"] == 4
    assert "listener" in caplog.text and "history store failed" in caplog.text


@pytest.mark.slow
def test_cb17_bounded_history() -> None:
    import tracemalloc

    b = CircuitBreaker("c17", history_size=50)
    logger = logging.getLogger("swfast.resilience")
    old = logger.level
    logger.setLevel(logging.ERROR)
    try:
        for _ in range(20_000):
            b.trip_breaker()
            b.reset_breaker()
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(30_000):
            b.trip_breaker()
            b.reset_breaker()
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
        for _ in range(450_000):  # 10**6 transitions in all
            b.trip_breaker()
            b.reset_breaker()
    finally:
        logger.setLevel(old)
    assert len(b.history) == 50 and b.history.total == 1_000_000  # type: ignore[arg-type,attr-defined]
    assert grown < 1 << 20


def test_cb18_manual_control() -> None:
    clock = FakeClock()
    b = make(clock)
    assert b.trip_breaker() is True
    clock.advance(10_000)
    with pytest.raises(CircuitOpenError) as info:
        b.call(ok)
    assert info.value.remaining == 0.0 and b.check_state() is S.FORCED_OPEN
    with pytest.raises(CircuitOpenError):
        b.call(ok)
    assert b.reset_breaker() and b.check_state() is S.CLOSED and b.metrics()["calls"] == 0
    assert b.disable()
    run(b, fail, 30)
    assert b.call(ok) == "ok" and b.check_state() is S.DISABLED


def test_decorator_guard_and_async_forms() -> None:
    clock = FakeClock()
    b = make(clock, window_size=2, minimum_calls=2, failure_rate_threshold=100)

    @b
    def add(x: int, y: int = 1) -> int:
        return x + y

    class Svc:
        @b
        def get(self, k: str) -> str:
            return k * 2

    assert add(1, y=2) == 3 and add.__name__ == "add" and add.breaker is b  # type: ignore[attr-defined]
    assert Svc().get("a") == "aa"
    with b.guard():
        pass

    @b
    async def aget(x: int) -> int:
        await asyncio.sleep(0)
        return x

    async def main() -> None:
        assert await aget(3) == 3
        async with b.guard():
            pass
        with pytest.raises(Boom):
            async with b.guard():
                raise Boom()

    asyncio.run(main())
    with pytest.raises(Boom):
        with b.guard():
            raise Boom()
    assert b.check_state() is S.OPEN
    with pytest.raises(CircuitOpenError):
        with b.guard():
            pass
    assert b.metrics()["successful"] == 5


@pytest.mark.parametrize("kw,param", [
    ({"failure_rate_threshold": 0}, "failure_rate_threshold"),
    ({"failure_rate_threshold": 101}, "failure_rate_threshold"),
    ({"slow_call_rate_threshold": -5}, "slow_call_rate_threshold"),
    ({"window_size": 0}, "window_size"),
    ({"minimum_calls": 0}, "minimum_calls"),
    ({"wait_duration_open": 0}, "wait_duration_open"),
    ({"half_open_calls": 0}, "half_open_calls"),
    ({"window_type": "sliding"}, "window_type"),
    ({"max_wait_in_half_open": -1}, "max_wait_in_half_open"),
])
def test_bad_config_names_the_parameter(kw: dict[str, object], param: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        CircuitBreaker("bad", **kw)  # type: ignore[arg-type]
    assert info.value.param == param and isinstance(info.value, ValueError)


def test_breakers_sharing_a_name_are_one_series_worst_state_summed_counts() -> None:
    # Two live breakers named alike (two caches over one Redis node, a breaker rebuilt before the
    # old one is collected) used to write every series twice; Prometheus keeps one of the two
    # samples of a series in a scrape, so an open breaker could read as closed.
    from prometheus_client.parser import text_string_to_metric_families

    from swfast.monitoring.metrics import REGISTRY

    clock = FakeClock()
    calm = CircuitBreaker("metrics-shared", window_size=4, minimum_calls=2, clock=clock)
    tripped = CircuitBreaker("metrics-shared", window_size=2, minimum_calls=2, clock=clock)
    run(calm, ok, 3)
    run(calm, fail, 1)
    run(tripped, fail, 2)  # opens
    assert tripped.check_state() is CircuitState.OPEN
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], list[float]] = {}
    for fam in text_string_to_metric_families(REGISTRY.render_text().decode()):
        for s in fam.samples:
            if s.labels.get("name") == "metrics-shared" and "transitions" not in s.name:
                samples.setdefault((s.name, tuple(sorted(s.labels.items()))), []).append(s.value)
    assert all(len(v) == 1 for v in samples.values()), samples  # one sample per series
    got = {k: v[0] for k, v in samples.items()}

    def val(name: str, **labels: str) -> float:
        return got[(name, tuple(sorted({"name": "metrics-shared", **labels}.items())))]

    assert val("swfast_resilience_breaker_state") == float(CircuitState.OPEN)  # the worse of the two
    assert val("swfast_resilience_breaker_calls_total", outcome="successful") == 3.0
    assert val("swfast_resilience_breaker_calls_total", outcome="failed") == 3.0  # 1 + 2
    assert val("swfast_resilience_breaker_failure_ratio") == 1.0  # the higher known ratio (0.25 vs 1.0)
    calm.transition(CircuitState.FORCED_OPEN, "test")
    tripped.transition(CircuitState.DISABLED, "test")
    text = REGISTRY.render_text().decode()
    assert f'swfast_resilience_breaker_state{{name="metrics-shared"}} {float(CircuitState.FORCED_OPEN)}' in text
    del calm
    gc.collect()  # the survivor alone: its own state again
    assert (f'swfast_resilience_breaker_state{{name="metrics-shared"}} {float(CircuitState.DISABLED)}'
            in REGISTRY.render_text().decode())


def test_metrics_exposed_through_registry() -> None:
    from swfast.monitoring.metrics import REGISTRY

    clock = FakeClock()
    b = CircuitBreaker("metrics-probe", window_size=2, minimum_calls=2, clock=clock)
    run(b, fail, 2)
    text = REGISTRY.render_text().decode()
    assert 'swfast_resilience_breaker_state{name="metrics-probe"} 1.0' in text
    assert 'swfast_resilience_breaker_calls_total{name="metrics-probe",outcome="failed"} 2.0' in text
    assert 'swfast_resilience_breaker_transitions_total{name="metrics-probe",from_state="closed",to_state="open"} 1.0' in text

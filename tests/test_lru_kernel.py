"""The LRU+TTL kernel, run against the compiled module and its twin (``impl`` fixture)."""
from __future__ import annotations

import gc
import random
import threading
from collections import OrderedDict

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from swfast.errors import CacheKeyError


class FakeClock:
    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def Core(impl):  # noqa: N802 - a class
    return impl.load("lru").LRUCore


def test_basic_lru_order_and_eviction(Core):
    c = Core(3)
    for k in "abc":
        c.fast_set(k, k.upper())
    assert c.fast_get("a") == "A"  # a becomes most recent
    c.fast_set("d", "D")  # evicts b, the least recent
    assert c._order() == ["c", "a", "d"]
    assert c.fast_get("b") is None
    assert c.fast_get("b", 0) == 0
    assert (c.hits, c.misses, c.evictions) == (1, 2, 1)
    assert len(c) == 3
    c._validate()


def test_none_and_falsy_values_are_hits(Core):
    c = Core(4)
    c.fast_set("n", None)
    c.fast_set("z", 0)
    sentinel = object()
    assert c.fast_get("n", sentinel) is None
    assert c.fast_get("z", sentinel) == 0
    assert c.hits == 2


def test_ttl_boundary_with_fake_clock(Core):
    clock = FakeClock()
    c = Core(10, clock=clock)
    c.fast_set("k", 1, ttl=5)
    clock.t += 4.999
    assert c.check_vitality("k") and c.fast_get("k") == 1
    assert c.remaining_ttl("k") == pytest.approx(0.001)
    clock.t += 0.001  # exactly at T: expired (cachetools >= 5 semantics)
    assert not c.check_vitality("k")
    assert c.fast_get("k") is None
    assert c.expirations == 1 and len(c) == 0
    with pytest.raises(KeyError):
        c.remaining_ttl("k")


def test_default_ttl_and_no_ttl(Core):
    clock = FakeClock()
    c = Core(10, ttl=2.0, clock=clock)
    c.fast_set("a", 1)
    c.fast_set("b", 2, ttl=float("inf"))
    assert c.remaining_ttl("a") == 2.0 and c.remaining_ttl("b") is None
    clock.t += 3600 * 24 * 365
    assert c.fast_get("a") is None and c.fast_get("b") == 2


def test_ttl_zero_stores_nothing_and_removes_existing(Core):
    c = Core(10)
    c.fast_set("a", 1, ttl=0)
    assert len(c) == 0 and "a" not in c
    c.fast_set("a", 1)
    c.fast_set("a", 2, ttl=0)
    assert c.fast_get("a") is None and len(c) == 0
    c._validate()


def test_expired_overwrite_gets_fresh_ttl(Core):
    clock = FakeClock()
    c = Core(10, clock=clock)
    c.fast_set("k", "old", ttl=1)
    clock.t += 5
    c.fast_set("k", "new", ttl=1)
    assert c.fast_get("k") == "new"
    clock.t += 0.5
    assert c.fast_get("k") == "new"


def test_wall_clock_jumps_do_not_matter(Core, monkeypatch):
    import time as time_mod

    c = Core(10, ttl=60)
    c.fast_set("k", 1)
    real = time_mod.time
    monkeypatch.setattr(time_mod, "time", lambda: real() + 3600)
    assert c.fast_get("k") == 1
    monkeypatch.setattr(time_mod, "time", lambda: real() - 3600)
    assert c.fast_get("k") == 1


def test_expire_sweeps_only_stale(Core):
    clock = FakeClock()
    c = Core(100, clock=clock)
    for i in range(50):
        c.fast_set(i, i, ttl=1 if i % 2 else 10)
    clock.t += 2
    assert c.expire() == 25
    assert sorted(c.keys()) == list(range(0, 50, 2))
    c._validate()


def test_size_accounting_and_byte_bound(Core):
    c = Core(100, max_bytes=100, size_fn=len)
    c.fast_set("a", "x" * 40)
    c.fast_set("b", "x" * 40)
    assert c.currsize_bytes == 80
    c.fast_set("a", "x" * 70)  # a grows and is most recent: b must go
    assert c.fast_get("b") is None and c.currsize_bytes == 70
    c.fast_set("c", "x" * 30)
    assert c.currsize_bytes == 100 and len(c) == 2
    c.fast_set("d", "x")
    assert c._order() == ["c", "d"] and c.currsize_bytes == 31
    c._validate()


@pytest.mark.parametrize("bad", [-1, 101])
def test_bad_sizes_leave_cache_unchanged(Core, bad):
    c = Core(10, max_bytes=100, size_fn=lambda v: v)
    c.fast_set("a", 10)
    with pytest.raises(ValueError):
        c.fast_set("b", bad)
    with pytest.raises(ValueError):
        c.fast_set("a", bad)
    assert c.fast_get("a") == 10 and len(c) == 1 and c.currsize_bytes == 10
    c._validate()


def test_bad_input_errors_leave_cache_unchanged(Core):
    c = Core(2)
    c.fast_set("a", 1)
    with pytest.raises(CacheKeyError, match="unhashable type 'list'"):
        c.fast_set(["x"], 1)
    with pytest.raises(TypeError):
        c.fast_get({"x": 1})
    with pytest.raises(ValueError, match="ttl"):
        c.fast_set("b", 1, ttl=-1)
    with pytest.raises(ValueError, match="ttl"):
        c.fast_set("b", 1, ttl=float("nan"))
    with pytest.raises(TypeError, match="ttl"):
        c.fast_set("b", 1, ttl="soon")
    assert c._order() == ["a"] and c.fast_get("a") == 1
    for bad in (0, -5):
        with pytest.raises(ValueError, match="maxsize"):
            Core(bad)
    with pytest.raises(ValueError, match="ttl"):
        Core(2, ttl=-1)
    with pytest.raises(ValueError, match="max_bytes"):
        Core(2, max_bytes=0)


def test_pop_delete_contains(Core):
    clock = FakeClock()
    c = Core(5, clock=clock)
    c.fast_set("a", 1)
    c.fast_set("s", 2, ttl=1)
    assert c.pop("a") == 1 and c.pop("a", "dflt") == "dflt"
    with pytest.raises(KeyError):
        c.pop("a")
    clock.t += 1
    assert c.pop("s", None) is None  # stale counts as absent
    c.fast_set("b", 3)
    del c["b"]
    with pytest.raises(KeyError):
        del c["b"]
    with pytest.raises(KeyError):
        c["b"]
    assert len(c) == 0
    c._validate()


def test_resize_evicts_least_recent(Core):
    c = Core(10)
    for i in range(10):
        c.fast_set(i, i)
    c.resize(3)
    assert c._order() == [7, 8, 9] and c.maxsize == 3
    c.resize(5)
    for i in range(10, 13):
        c.fast_set(i, i)
    assert c._order() == [8, 9, 10, 11, 12]
    c._validate()


def test_clear_and_growth(Core):
    c = Core(5000)
    for i in range(5000):
        c.fast_set(("k", i), i)
    assert len(c) == 5000 and c.fast_get(("k", 17)) == 17
    c._validate()
    c.clear()
    assert len(c) == 0 and c.fast_get(("k", 17)) is None
    c.fast_set("x", 1)
    c._validate()


class CollidingKey:
    """Equal hashes, real equality: exercises probing and __eq__ calls."""

    def __init__(self, v: int) -> None:
        self.v = v

    def __hash__(self) -> int:
        return 42

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CollidingKey) and other.v == self.v


def test_hash_collisions_and_deletion_shifts(Core):
    c = Core(64)
    keys = [CollidingKey(i) for i in range(40)]
    for k in keys:
        c.fast_set(k, k.v)
    for k in keys[::3]:
        del c[k]
    for k in keys:
        expect = None if keys.index(k) % 3 == 0 else k.v
        assert c.fast_get(CollidingKey(k.v)) == expect
    c._validate()


def test_reentrant_eq_mutating_the_cache(Core):
    """A key whose __eq__ writes to the cache must not corrupt it (lookup restarts)."""
    c = Core(8)

    class Evil:
        armed = True

        def __hash__(self) -> int:
            return 7

        def __eq__(self, other: object) -> bool:
            if Evil.armed:
                Evil.armed = False
                for i in range(20):
                    c.fast_set(("filler", i), i)
            return self is other

    a = Evil()
    c.fast_set(a, "a")
    b = Evil()
    assert c.fast_get(b) is None
    c._validate()


def test_destructor_reentering_cache_is_safe(Core):
    c = Core(2)

    class Boom:
        def __del__(self) -> None:
            c.fast_set("from-del", 1)

    c.fast_set("a", Boom())
    c.fast_set("b", 1)
    c.fast_set("c", 2)  # evicts a: its destructor writes to the cache
    gc.collect()
    c._validate()
    assert len(c) <= 2


def test_values_are_released(Core):
    import weakref

    class V:
        pass

    c = Core(2)
    v = V()
    ref = weakref.ref(v)
    c.fast_set("a", v)
    del v
    c.fast_set("b", 1)
    c.fast_set("c", 1)  # evicts a
    gc.collect()
    assert ref() is None


def test_threads_mixed_ops_keep_invariants(Core):
    """16 threads mixing get/set/delete on a small key space (cachetools #80 regression)."""
    c = Core(100)
    errors: list[BaseException] = []
    n_ops = 20_000

    def worker(seed: int) -> None:
        rnd = random.Random(seed)
        try:
            for _ in range(n_ops):
                k = rnd.randrange(1000)
                op = rnd.random()
                if op < 0.5:
                    c.fast_get(k)
                elif op < 0.9:
                    c.fast_set(k, k, ttl=rnd.choice((None, 0.001, 10)))
                else:
                    c.pop(k, None)
                assert len(c) <= 100
        except BaseException as exc:  # noqa: BLE001 - collected and re-raised below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    assert len(c) <= 100
    c._validate()


def _zipf_trace(n_req: int, n_keys: int, alpha: float, seed: int) -> list[int]:
    import numpy as np

    rng = np.random.default_rng(seed)
    ranks = np.arange(1, n_keys + 1, dtype=np.float64)
    p = ranks ** -alpha
    p /= p.sum()
    return rng.choice(n_keys, size=n_req, p=p).tolist()


def _reference_hits(trace: list[int], capacity: int) -> int:
    od: OrderedDict[int, int] = OrderedDict()
    hits = 0
    for k in trace:
        if k in od:
            od.move_to_end(k)
            hits += 1
        else:
            od[k] = k
            if len(od) > capacity:
                od.popitem(last=False)
    return hits


@pytest.mark.parametrize("capacity", [1000, 10_000])
def test_zipf_hit_count_equals_reference_lru(Core, impl, capacity):
    n_req = 1_000_000 if impl.name == "c" else 200_000
    trace = _zipf_trace(n_req, 100_000, 0.99, seed=capacity)
    c = Core(capacity)
    hits = 0
    for k in trace:
        if c.fast_get(k, None) is None:
            c.fast_set(k, k)
        else:
            hits += 1
    assert hits == _reference_hits(trace, capacity)
    assert c.hits == hits


def test_loop_trace_larger_than_capacity_gets_no_hits(Core):
    """LRU's known weakness (LIRS 'loop' pattern): recorded, not fixed, by plain LRU."""
    c = Core(100)
    for _ in range(5):
        for k in range(101):
            if c.fast_get(k) is None:
                c.fast_set(k, k)
    assert c.hits == 0


class LRUMachine(RuleBasedStateMachine):
    """Random operations against an OrderedDict LRU model: same results, same victims."""

    Core: type = None  # set per implementation

    def __init__(self) -> None:
        super().__init__()
        self.cap = 5
        self.cache = self.Core(self.cap)
        self.model: OrderedDict[int, int] = OrderedDict()

    keys = st.integers(0, 9)

    @rule(k=keys, v=st.integers())
    def set(self, k: int, v: int) -> None:
        self.cache.fast_set(k, v)
        if k in self.model:
            self.model.move_to_end(k)
        self.model[k] = v
        if len(self.model) > self.cap:
            self.model.popitem(last=False)

    @rule(k=keys)
    def get(self, k: int) -> None:
        expect = self.model.get(k)
        if k in self.model:
            self.model.move_to_end(k)
        assert self.cache.fast_get(k) == expect

    @rule(k=keys)
    def delete(self, k: int) -> None:
        assert self.cache.pop(k, None) == self.model.pop(k, None)

    @rule(k=keys)
    def vitality(self, k: int) -> None:
        assert self.cache.check_vitality(k) == (k in self.model)

    @precondition(lambda self: len(self.model) > 0)
    @rule()
    def clear(self) -> None:
        self.cache.clear()
        self.model.clear()

    @invariant()
    def same_order(self) -> None:
        assert self.cache._order() == list(self.model)
        assert len(self.cache) <= self.cap


def test_model_based_against_ordereddict(impl):
    machine = type(f"LRUMachine_{impl.name}", (LRUMachine,), {"Core": impl.load("lru").LRUCore})
    machine.TestCase.settings = settings(
        max_examples=1000, stateful_step_count=50, deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    machine.TestCase().runTest()


def test_real_clock_never_returns_an_expired_entry(Core):
    """The compiled kernel bounds the time with the CPU counter and falls back to
    CLOCK_MONOTONIC near an expiry: a value is only ever returned before its expiry."""
    import time

    c = Core(10)
    rnd = random.Random(5)
    deadline = time.monotonic() + 1.5  # long enough for the counter calibration (50 ms)
    checked = 0
    while time.monotonic() < deadline:
        ttl = rnd.uniform(1e-4, 2e-3)
        c.fast_set("k", checked, ttl=ttl)
        after_set = time.monotonic()
        while True:
            before_get = time.monotonic()
            if c.fast_get("k") is None:
                break
            assert before_get < after_set + ttl, "returned an entry past its TTL"
        checked += 1
    assert checked > 100
    c.fast_set("long", 1, ttl=0.2)
    time.sleep(0.05)
    assert c.fast_get("long") == 1
    time.sleep(0.2)
    assert c.fast_get("long") is None


def _linearizable(history: list[tuple[int, int, int, str, int, object, object]]) -> bool:
    """Wing & Gong search: is there a sequential order, consistent with real time (an op that
    ended before another began comes first), in which a plain dict gives every result?"""
    ops = sorted(history, key=lambda h: h[0])

    def search(remaining: list, state: dict) -> bool:
        if not remaining:
            return True
        earliest_end = min(op[1] for op in remaining)
        for i, op in enumerate(remaining):
            if op[0] > earliest_end:  # another op finished before this one started
                break
            _, _, _, kind, key, arg, result = op
            new = dict(state)
            if kind == "get":
                ok = state.get(key) == result
            elif kind == "set":
                new[key] = arg
                ok = True
            else:
                ok = new.pop(key, None) == result
            if ok and search(remaining[:i] + remaining[i + 1:], new):
                return True
        return False

    return search(ops, {})


def test_per_key_operations_are_linearizable(Core):
    """L1-7: 3 threads x 4 operations over keys 1..5 and values 1..10, many interleavings."""
    import sys
    import time

    rounds = 10_000
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # interleave as much as the GIL allows
    try:
        for r in range(rounds):
            c = Core(16)  # larger than the key space: no eviction, as Caffeine's lincheck scope
            rnd = random.Random(r)
            plans = [
                [(rnd.choice(("get", "set", "del")), rnd.randint(1, 5), rnd.randint(1, 10)) for _ in range(4)]
                for _ in range(3)
            ]
            history: list = []
            start = threading.Barrier(3)

            def run(tid: int) -> None:
                start.wait()
                for kind, key, val in plans[tid]:
                    t0 = time.perf_counter_ns()
                    if kind == "get":
                        res = c.fast_get(key)
                    elif kind == "set":
                        res = c.fast_set(key, val)
                    else:
                        res = c.pop(key, None)
                    history.append((t0, time.perf_counter_ns(), tid, kind, key, val, res))

            threads = [threading.Thread(target=run, args=(t,)) for t in range(3)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert _linearizable(history), (r, sorted(history))
    finally:
        sys.setswitchinterval(old)


def test_linearizability_checker_rejects_impossible_histories():
    # a read of a value nobody wrote, and a read that precedes its write in real time
    assert not _linearizable([(0, 1, 0, "get", 1, 0, 7)])
    assert not _linearizable([(0, 1, 0, "get", 1, 0, 3), (2, 3, 1, "set", 1, 3, None)])
    # overlapping write and read may order either way
    assert _linearizable([(0, 5, 0, "set", 1, 3, None), (1, 2, 1, "get", 1, 0, 3)])
    assert _linearizable([(0, 5, 0, "set", 1, 3, None), (1, 2, 1, "get", 1, 0, None)])


def test_kernel_clock_bounds_bracket_the_monotonic_clock(impl):
    """The counter-based bounds used on hits (upper) and sets (lower) never cross the real
    CLOCK_MONOTONIC, before and after calibration (which takes a few ms)."""
    import time

    probe = impl.load("lru")._clock_probe
    deadline = time.monotonic() + 0.3
    samples = 0
    while time.monotonic() < deadline:
        before = time.monotonic()
        lo, hi, _ = probe()
        after = time.monotonic()
        assert lo <= after, (lo, after)
        assert hi >= before, (hi, before)
        samples += 1
    assert samples > 1000
    assert probe()[2] is True  # calibrated by now

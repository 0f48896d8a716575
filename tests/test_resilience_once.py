"""Resilience written once (issue #10): one guarded call in the breaker, shared state through a
protocol and ``Transition.origin``, kernels whose public subclasses validate every argument.

Run on both implementations (``SWFAST_NO_EXTENSIONS=1`` forces the twins); the kernel-level
tests take the ``impl`` fixture and run on both in one session.
"""
from __future__ import annotations

import asyncio
from typing import Any

import pytest

from _resilience_helpers import Boom, Business, FakeClock
from swfast.errors import CircuitOpenError, ConfigurationError
from swfast.resilience import CircuitBreaker, CircuitState, Transition
from swfast.resilience.history import LOCAL, SHARED
from swfast.resilience.shared_state import BreakerHandle, SharedState

S = CircuitState


class FakeShared:
    """A :class:`SharedState` without Redis: records what the breaker hands it."""

    def __init__(self) -> None:
        self.breaker: BreakerHandle | None = None
        self.syncs = 0
        self.published: list[Transition] = []

    def attach(self, breaker: BreakerHandle) -> None:
        self.breaker = breaker

    def sync(self) -> None:
        self.syncs += 1

    def publish(self, t: Transition) -> None:
        if t.origin != SHARED:
            self.published.append(t)

    def adopt(self, state: CircuitState) -> None:
        assert self.breaker is not None
        self.breaker.transition(state, "remote said so", origin=SHARED)


def _breaker(shared: SharedState | None = None, **kw: Any) -> CircuitBreaker:
    opts: dict[str, Any] = dict(window_size=2, minimum_calls=2, failure_rate_threshold=100.0, clock=FakeClock(),
                                ignore_exceptions=(Business,))
    opts.update(kw)
    return CircuitBreaker("once", shared_state=shared, **opts)


def _fail() -> None:
    raise Boom()


def test_shared_state_is_a_protocol_and_origin_marks_adopted_transitions() -> None:
    shared = FakeShared()
    b = _breaker(shared)
    assert shared.breaker is b
    # A local reason that looks like the old prefix is still local: it is published.
    b.trip_breaker("shared state: typed by a user")
    assert [t.origin for t in shared.published] == [LOCAL]
    assert shared.published[0].reason == "shared state: typed by a user"
    shared.adopt(S.CLOSED)  # adopted: in the history with origin SHARED, not published back
    assert b.check_state() is S.CLOSED
    last = list(b.history)[-1]  # type: ignore[call-overload]
    assert (last.to_state, last.origin) == (S.CLOSED, SHARED) and len(shared.published) == 1
    with pytest.raises(ConfigurationError, match="origin"):
        b.transition(S.OPEN, "x", origin="elsewhere")


def test_transition_default_origin_is_local() -> None:
    t = Transition("n", S.CLOSED, S.OPEN, 1.0, "r")
    assert t.origin == LOCAL


def test_kernel_events_carry_the_origin(impl) -> None:  # type: ignore[no-untyped-def]
    mod = impl.load("breaker")
    core = mod.BreakerCore(mod.CountWindow(2), 2, 50.0, 100.0, 60.0, 10.0, 1, 0.0, lambda: 5.0)
    assert core.transition(mod.OPEN, "by hand")
    assert core.transition(mod.CLOSED, "adopted", "shared")
    assert list(core.events) == [(mod.CLOSED, mod.OPEN, 5.0, "by hand", "local"),
                                 (mod.OPEN, mod.CLOSED, 5.0, "adopted", "shared")]


@pytest.mark.parametrize("form", ["acall", "guard", "aguard"])
def test_every_guarded_form_admits_settles_and_syncs_alike(form: str) -> None:
    """``acall``, ``with guard()`` and ``async with guard()`` are one code path: same sync,
    same rejection, same accounting of successes, failures and ignored exceptions."""
    shared = FakeShared()
    b = _breaker(shared)

    async def run(fn: Any) -> Any:
        if form == "acall":
            async def coro() -> Any:
                return fn()
            return await b.acall(coro)
        if form == "guard":
            with b.guard():
                return fn()
        async with b.guard():
            return fn()

    assert asyncio.run(run(lambda: 7)) == 7
    with pytest.raises(Business):
        asyncio.run(run(lambda: (_ for _ in ()).throw(Business())))
    before = b.metrics()
    with pytest.raises(Boom):
        asyncio.run(run(_fail))
    with pytest.raises(Boom):
        asyncio.run(run(_fail))
    assert b.check_state() is S.OPEN
    with pytest.raises(CircuitOpenError):
        asyncio.run(run(lambda: 1))
    assert shared.syncs == 5
    assert before != b.metrics()
    # the compiled ``call`` agrees: a fresh breaker fed the same outcomes ends in the same state
    c = _breaker()
    assert c.call(lambda: 7) == 7
    with pytest.raises(Business):
        c.call(lambda: (_ for _ in ()).throw(Business()))
    for _ in range(2):
        with pytest.raises(Boom):
            c.call(_fail)
    assert c.check_state() is S.OPEN


# -- retry: one sans-I/O core, thin sync/async drivers --------------------------------------

from swfast.resilience import ExponentialBackoff, Retrying, track_attempts  # noqa: E402
from swfast.resilience import _retry_core as core  # noqa: E402
from swfast.errors import RetryError  # noqa: E402


def _policy(clock: FakeClock, **kw: Any) -> Retrying:
    opts: dict[str, Any] = dict(on=Boom, attempts=4, timeout=1e9, sleep=clock.sleep, asleep=clock.asleep,
                                clock=clock, backoff=ExponentialBackoff(initial=1, factor=2, max_delay=40))
    opts.update(kw)
    return Retrying(**opts)


def test_the_core_is_sans_io_and_yields_its_effects() -> None:
    clock = FakeClock()
    p = _policy(clock)
    steps = core.steps(p, Boom("first"))
    effect = core.advance(steps, None)
    assert type(effect) is core.Sleep and effect.delay == 1.0
    assert core.advance(steps, None) is core.ATTEMPT
    effect = core.advance(steps, Boom("second"))
    assert type(effect) is core.Sleep and effect.delay == 2.0
    assert core.advance(steps, None) is core.ATTEMPT
    done = core.advance(steps, None)  # the third attempt succeeded
    assert type(done) is core.Stop and done.error is None
    assert clock.sleeps == []  # the core slept nowhere: the effects are the driver's job
    assert track_attempts() == core.AttemptStats(3, 3.0, None)


def test_the_core_hands_back_the_error_to_raise() -> None:
    p = _policy(FakeClock(), attempts=2)
    steps = core.steps(p, Boom("first"))
    core.advance(steps, None)
    core.advance(steps, None)
    stop = core.advance(steps, Boom("last"))
    assert type(stop) is core.Stop and isinstance(stop.error, RetryError)
    assert isinstance(stop.error.__cause__, Boom) and str(stop.error.__cause__) == "last"


def _script(failures: list[BaseException]) -> Any:
    calls = {"n": 0}

    def fn() -> str:
        calls["n"] += 1
        if calls["n"] <= len(failures):
            raise failures[calls["n"] - 1]
        return "ok"

    async def afn() -> str:
        return fn()

    return fn, afn, calls


def _drive(form: str, p: Retrying, fn: Any, afn: Any) -> Any:
    if form == "sync":
        return p.attempt_retry(fn)
    if form == "decorator":
        return p(fn)()
    if form == "async":
        return asyncio.run(p.aattempt_retry(afn))
    if form == "context":
        for attempt in p.context():
            with attempt:
                result = fn()
        return result

    async def acontext() -> Any:
        async for attempt in p.context():
            async with attempt:
                result = fn()
        return result

    return asyncio.run(acontext())


FORMS = ["sync", "decorator", "async", "context", "acontext"]


@pytest.mark.parametrize("form", FORMS)
def test_every_driver_sleeps_and_counts_alike(form: str) -> None:
    clock = FakeClock()
    fn, afn, calls = _script([Boom("1"), Boom("2")])
    assert _drive(form, _policy(clock), fn, afn) == "ok"
    assert clock.sleeps == [1.0, 2.0] and calls["n"] == 3
    assert track_attempts() == core.AttemptStats(3, 3.0, None)


@pytest.mark.parametrize("form", FORMS)
def test_every_driver_gives_up_alike(form: str) -> None:
    clock = FakeClock()
    fn, afn, calls = _script([Boom(str(i)) for i in range(10)])
    with pytest.raises(RetryError) as info:
        _drive(form, _policy(clock), fn, afn)
    assert info.value.attempts == 4 and str(info.value.__cause__) == "3"
    assert clock.sleeps == [1.0, 2.0, 4.0] and calls["n"] == 4


@pytest.mark.parametrize("form", ["sync", "decorator"])
def test_a_stop_iteration_from_a_later_attempt_stays_one(form: str) -> None:
    """The core hands back the error instead of raising it inside a generator, where PEP 479
    would turn a ``StopIteration`` into ``RuntimeError``."""
    fn, afn, _ = _script([Boom("1"), StopIteration("done")])
    with pytest.raises(StopIteration, match="done"):
        _drive(form, _policy(FakeClock()), fn, afn)
    stats = track_attempts()
    assert stats is not None and stats.attempts == 2 and isinstance(stats.last_error, StopIteration)


def test_async_on_retry_hook_is_awaited_by_the_async_drivers_only(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[int] = []

    async def hook(attempt: int, delay: float, exc: BaseException) -> None:
        seen.append(attempt)

    for form in ("async", "acontext", "sync"):
        fn, afn, _ = _script([Boom("1")])
        assert _drive(form, _policy(FakeClock(), on_retry=hook), fn, afn) == "ok"
    assert seen == [1, 1]
    assert "not run" in caplog.text


def test_no_import_cycle_between_retry_and_retry_context() -> None:
    import ast
    from pathlib import Path

    src = (Path(__file__).resolve().parents[1] / "swfast" / "resilience" / "retry_context.py").read_text()
    imported = {n.module for n in ast.walk(ast.parse(src)) if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(ast.parse(src)) if isinstance(n, ast.ImportFrom) for a in n.names}
    assert "retry" not in imported and "_retry_core" in imported


# -- no public class inherits a kernel method it does not validate ---------------------------

import inspect  # noqa: E402
import math  # noqa: E402

import swfast.resilience as resilience  # noqa: E402
from swfast.resilience import KeyedRateLimiter, RateLimiter  # noqa: E402
from swfast.resilience import backoff as backoff_mod  # noqa: E402

#: Every public kernel method with an argument, per kernel, and the test below that checks it.
AUDITED = {
    "TokenBucket": {"try_acquire", "reserve", "refund", "available", "set_rate"},
    "KeyedBuckets": {"try_acquire", "reserve", "refund", "available", "set_rate", "prune"},
    "BackoffKernel": {"next_delay", "calculate_delay"},
}


def _kernel_base(cls: type) -> type | None:
    for base in cls.__mro__[1:]:
        if base.__module__.startswith("swfast._native."):
            return base
    return None


def test_every_public_resilience_class_on_a_kernel_is_audited() -> None:
    on_kernels = {}
    for name in resilience.__all__:
        obj = getattr(resilience, name)
        if inspect.isclass(obj) and _kernel_base(obj) is not None:
            on_kernels[name] = _kernel_base(obj).__name__  # type: ignore[union-attr]
    assert on_kernels == {
        "RateLimiter": "TokenBucket", "KeyedRateLimiter": "KeyedBuckets",
        **{n: "BackoffKernel" for n in ("ConstantBackoff", "LinearBackoff", "ExponentialBackoff", "FullJitterBackoff",
                                        "EqualJitterBackoff", "DecorrelatedJitterBackoff", "FibonacciBackoff")},
    }
    for kernel_name in set(on_kernels.values()):
        kernel = next(_kernel_base(getattr(resilience, n)) for n, k in on_kernels.items() if k == kernel_name)
        with_args = set()
        for attr in dir(kernel):
            fn = getattr(kernel, attr)
            if attr.startswith("_") or not callable(fn):
                continue
            try:
                params = [p for p in inspect.signature(fn).parameters if p != "self"]
            except (TypeError, ValueError):  # pragma: no cover - every kernel method has a signature
                params = ["?"]
            if params:
                with_args.add(attr)
        assert with_args == AUDITED[kernel_name], kernel_name


NOT_FINITE = [math.inf, -math.inf, math.nan]


def _bucket_cases(mod: Any, keyed: bool) -> tuple[Any, tuple[Any, ...]]:
    if keyed:
        return mod.KeyedBuckets(10.0, 5.0, None, 0), ("k",)
    return mod.TokenBucket(10.0, 5.0, None), ()


@pytest.mark.parametrize("keyed", [False, True])
def test_bucket_kernels_validate_every_argument(impl, keyed: bool) -> None:  # type: ignore[no-untyped-def]
    b, key = _bucket_cases(impl.load("bucket"), keyed)
    t = 100.0
    assert b.try_acquire(*key, 1, t) and b.available(*key, t) == 4.0
    for n in (-5, 0, 5.5, math.nan, -math.inf, math.inf):
        with pytest.raises(ConfigurationError, match="n"):
            b.try_acquire(*key, n, t)
        with pytest.raises(ConfigurationError, match="n"):
            b.reserve(*key, n, 1.0, t)
    for wait in (-1.0, -math.inf, math.nan):
        with pytest.raises(ConfigurationError, match="max_wait"):
            b.reserve(*key, 1, wait, t)
    for n in (-1.0, math.nan):
        with pytest.raises(ConfigurationError, match="n"):
            b.refund(*key, n)
    for now in NOT_FINITE:
        with pytest.raises(ConfigurationError, match="now"):
            b.try_acquire(*key, 1, now)
        with pytest.raises(ConfigurationError, match="now"):
            b.reserve(*key, 1, 1.0, now)
        with pytest.raises(ConfigurationError, match="now"):
            b.available(*key, now)
        with pytest.raises(ConfigurationError, match="now"):
            b.set_rate(5.0, now)
        if keyed:
            with pytest.raises(ConfigurationError, match="now"):
                b.prune(now)
    with pytest.raises(TypeError):
        b.try_acquire(*key, 1, "100.5")
    # nothing above changed the bucket: an inf ``now`` used to pin it full and never refill
    assert b.available(*key, t) == 4.0
    assert b.reserve(*key, 1, math.inf, t) == 0.0 and b.reserve(*key, 5, 1.0, t) == pytest.approx(0.2)
    b.refund(*key, 100.0)
    assert b.available(*key, t) == 5.0


@pytest.mark.parametrize("cls", [RateLimiter, KeyedRateLimiter])
def test_public_limiters_validate_what_they_add(cls: type) -> None:
    clock = FakeClock()
    lim = cls(10.0, 2, clock=clock, sleep=clock.sleep, asleep=clock.asleep)
    key: tuple[Any, ...] = ("tenant",) if cls is KeyedRateLimiter else ()
    for rate in (0, -1.0, math.nan):
        with pytest.raises(ConfigurationError, match="rate"):
            lim.set_rate(rate)
    for n in (0, -5, 3):
        with pytest.raises(ConfigurationError, match="n"):
            lim.try_acquire(*key, n)
        with pytest.raises(ConfigurationError, match="n"):
            lim.acquire(*key, n)
        with pytest.raises(ConfigurationError, match="n"):
            asyncio.run(lim.aacquire(*key, n))
        with pytest.raises(ConfigurationError, match="n"):
            lim.limit(*key, n=n)
        with pytest.raises(ConfigurationError, match="n"):
            lim.hold(*key, n=n)
    with pytest.raises(ConfigurationError, match="timeout"):
        lim.acquire(*key, 1, -1.0)
    # ``RateLimiter(1, 2).try_acquire(-5)`` used to return True and leave 7 tokens in a bucket of 2
    assert lim.available(*key) == 2.0


def test_both_limiters_share_one_policy() -> None:
    """Waiting, refunds and refusals behave the same with and without a key."""
    clock = FakeClock()
    one = RateLimiter(1.0, 1, clock=clock, sleep=clock.sleep, asleep=clock.asleep)
    keyed = KeyedRateLimiter(1.0, 1, clock=clock, sleep=clock.sleep, asleep=clock.asleep)
    for acquire in (lambda n, t: one.acquire(n, t), lambda n, t: keyed.acquire("k", n, t)):
        assert acquire(1, None) is True
        assert acquire(1, 0.5) is False  # would wait 1 s
        assert acquire(1, 2.0) is True  # waits 1 s on the fake clock
    assert clock.sleeps == [1.0, 1.0]
    one.try_acquire(1)
    keyed.try_acquire("k", 1)
    with pytest.raises(resilience_errors.RateLimitExceeded, match="no token"):
        with one.hold(1, timeout=0):
            pass
    with pytest.raises(resilience_errors.RateLimitExceeded, match="no token for 'k'"):
        with keyed.hold("k", 1, timeout=0):
            pass


import swfast.errors as resilience_errors  # noqa: E402

STRATEGY_CLASSES = list(backoff_mod.STRATEGIES.values())


@pytest.mark.parametrize("cls", STRATEGY_CLASSES)
def test_backoff_strategies_validate_attempts_and_bound_any_prev(cls: type) -> None:
    b = cls(seed=7) if cls is not backoff_mod.ConstantBackoff else cls(0.5, seed=7)
    for bad in (0, -1):
        with pytest.raises(ValueError, match="attempt"):
            b.next_delay(bad, 0.0)
        with pytest.raises(ValueError, match="attempt"):
            b.calculate_delay(bad)
    for bad in (1.5, "2", True, None):
        with pytest.raises(TypeError, match="attempt"):
            b.next_delay(bad, 0.0)
        with pytest.raises(TypeError, match="attempt"):
            b.calculate_delay(bad)
    for prev in (math.nan, math.inf, -math.inf, -3.0, 1e308):
        d = b.next_delay(3, prev)
        assert 0.0 <= d <= b.cap
    with pytest.raises(TypeError):
        b.next_delay(1, "0.5")
    with pytest.raises(AttributeError):
        b.cap = -1.0  # read-only in both implementations


def test_backoff_kernel_fields_are_read_only_in_both(impl) -> None:  # type: ignore[no-untyped-def]
    mod = impl.load("backoff")
    k = mod.BackoffKernel(mod.EXPONENTIAL, 0.1, 5.0, 2.0, 0.0, 0.0, 1)
    for field in ("kind", "base", "cap", "factor", "step", "jitter"):
        with pytest.raises(AttributeError):
            setattr(k, field, 1.0)


# -- fallback and distributed: one chain, one request ----------------------------------------

from swfast.resilience import Fallback, RedisRateLimiter  # noqa: E402


def _chain_forms(chain: Any, *args: Any) -> Any:
    return chain.call(*args), asyncio.run(chain.acall(*args))


@pytest.mark.parametrize("case", ["fallback", "second", "default", "error", "primary_error", "last_good"])
def test_call_and_acall_run_the_same_chain(case: str) -> None:
    def bad(x: int) -> int:
        raise Boom(f"fallback {x}")

    def good(x: int) -> int:
        return x * 10

    def run(sync: bool) -> Any:
        state = {"down": case != "last_good"}

        def primary(x: int) -> int:
            if state["down"]:
                raise Boom("primary")
            return x

        async def aprimary(x: int) -> int:
            return primary(x)

        fbs: dict[str, tuple[Any, ...]] = {"fallback": (good,), "second": (bad, good), "default": (bad,),
                                           "error": (bad,), "primary_error": (), "last_good": (bad,)}
        opts: dict[str, Any] = {"default": "dflt"} if case == "default" else {}
        chain: Fallback[Any] = Fallback(primary if sync else aprimary, *fbs[case], **opts)
        if case == "last_good":
            assert (chain.call(4) if sync else asyncio.run(chain.acall(4))) == 4
            state["down"] = True
        try:
            return chain.call(4) if sync else asyncio.run(chain.acall(4))
        except Boom as exc:
            return ("raised", str(exc), str(exc.__cause__) if exc.__cause__ else None)

    sync, asy = run(True), run(False)
    assert sync == asy
    assert sync == {"fallback": 40, "second": 40, "default": "dflt", "error": ("raised", "fallback 4", "primary"),
                    "primary_error": ("raised", "primary", None), "last_good": 4}[case]


def test_acall_awaits_async_fallbacks() -> None:
    async def aprimary() -> int:
        raise Boom("down")

    async def afb() -> str:
        return "async fallback"

    assert asyncio.run(Fallback(aprimary, afb).acall()) == "async fallback"


class _DownScript:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc
        self.requests: list[dict[str, Any]] = []

    def __call__(self, **request: Any) -> Any:
        self.requests.append(request)
        raise self.exc


class _Client:
    def __init__(self, script: Any) -> None:
        self.script = script

    def register_script(self, lua: str) -> Any:
        return self.script


class _AsyncScript:
    def __init__(self, reply: Any) -> None:
        self.reply = reply
        self.requests: list[dict[str, Any]] = []

    async def __call__(self, **request: Any) -> Any:
        self.requests.append(request)
        return self.reply


class _SyncScript(_AsyncScript):
    def __call__(self, **request: Any) -> Any:  # type: ignore[override]
        self.requests.append(request)
        return self.reply


def test_distributed_sync_and_async_send_one_request() -> None:
    sync_script = _SyncScript([1, "4"])
    rl = RedisRateLimiter(_Client(sync_script), "api", 2.0, 5)
    arl = RedisRateLimiter(_Client(a := _AsyncScript([0, "0.5"])), "api", 2.0, 5)
    assert rl.try_acquire(1, key="t", now=10.0) is True
    assert asyncio.run(arl.atry_acquire(1, key="t", now=10.0)) is False
    assert sync_script.requests == a.requests == [{"keys": ["swfast:rl:api:t"], "args": ["2.0", "5.0", "1.0", "10.0"]}]
    for now in (math.nan, math.inf, -1.0):
        with pytest.raises(ConfigurationError, match="now"):
            rl.try_acquire(1, now=now)
    with pytest.raises(ConfigurationError, match="n"):
        rl.try_acquire(0)


@pytest.mark.parametrize("on_error", ["local", "allow", "deny"])
def test_distributed_available_during_an_outage_answers_minus_one(on_error: str) -> None:
    """``available()`` asked the local fallback bucket for 0 tokens, which raised under "local"."""
    rl = RedisRateLimiter(_Client(_DownScript(ConnectionError("down"))), "api", 2.0, 5, on_error=on_error)  # type: ignore[arg-type]
    assert rl.available() == -1.0
    assert rl.try_acquire(1) is (on_error != "deny")


# -- the compiled first attempt --------------------------------------------------------------

import contextvars  # noqa: E402


def test_first_attempt_kernel_and_twin_agree(impl) -> None:  # type: ignore[no-untyped-def]
    mod = impl.load("attempt")
    var: contextvars.ContextVar[object] = contextvars.ContextVar("t", default=None)
    first = object()
    failures: list[tuple[Any, ...]] = []

    def fn(x: int, *, y: int = 0) -> int:
        if x < 0:
            raise Boom(str(x))
        return x + y

    def on_failure(exc: BaseException, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
        failures.append((type(exc), args, kwargs))
        return "handled"

    w = mod.FirstAttempt(fn, on_failure, var, first)
    assert w.fn is fn
    assert w(2, y=3) == 5 and var.get() is first
    other = object()
    var.set(other)
    assert w(1) == 1 and var.get() is first  # written back when it differed
    assert w(-1, y=2) == "handled" and failures == [(Boom, (-1,), {"y": 2})]
    with pytest.raises(TypeError):
        mod.FirstAttempt(1, on_failure, var, first)

    class Host:
        method = w

    assert Host().method(4) == "handled"  # bound: ``self`` is the first argument (fn(Host(), 4) fails)
    assert failures[-1][0] is TypeError and isinstance(failures[-1][1][0], Host)
    assert Host.method is w


def test_decorated_function_keeps_metadata_and_binds_as_a_method() -> None:
    clock = FakeClock()
    p = _policy(clock)

    class Service:
        def __init__(self) -> None:
            self.calls = 0

        @p
        def fetch(self, x: int) -> int:
            """Fetch x."""
            self.calls += 1
            if self.calls < 3:
                raise Boom("flaky")
            return x

    s = Service()
    assert s.fetch(9) == 9 and s.calls == 3 and clock.sleeps == [1.0, 2.0]
    assert track_attempts() == core.AttemptStats(3, 3.0, None)
    assert s.fetch(1) == 1 and track_attempts() is core.FIRST_TRY  # the next success resets it
    f = Service.fetch
    assert f.__name__ == "fetch" and f.__doc__ == "Fetch x." and f.__wrapped__.__name__ == "fetch"  # type: ignore[attr-defined]
    assert f.retry_policy is p and f.track_attempts is track_attempts  # type: ignore[attr-defined]
    assert list(inspect.signature(f).parameters) == ["self", "x"]


# -- metrics(): ratios 0-1 beside the older percentages ---------------------------------------

def _exported(name: str, breaker: str) -> float | None:
    from swfast.monitoring.metrics import REGISTRY

    for line in REGISTRY.render_text().decode().splitlines():
        if line.startswith(f'{name}{{name="{breaker}"}}'):
            return float(line.split()[-1])
    return None


def test_metrics_ratios_are_0_to_1_and_none_while_unknown() -> None:
    b = CircuitBreaker("ratios", window_size=4, minimum_calls=4, failure_rate_threshold=100.0,
                       slow_call_duration=0.5, clock=(clock := FakeClock()))
    m = b.metrics()
    assert m["failure_ratio"] is None and m["slow_call_ratio"] is None
    assert m["failure_rate"] == -1.0 and m["slow_call_rate"] == -1.0  # kept for compatibility
    assert _exported("swfast_resilience_breaker_failure_ratio", "ratios") is None

    def slow_ok() -> int:
        clock.advance(1.0)
        return 1

    b.call(slow_ok)
    for _ in range(2):
        with pytest.raises(Boom):
            b.call(_fail)
    assert b.metrics()["failure_ratio"] is None  # 3 of minimum_calls=4
    b.call(lambda: 1)
    m = b.metrics()
    assert m["failure_ratio"] == 0.5 and m["slow_call_ratio"] == 0.25
    assert m["failure_rate"] == 50.0 and m["slow_call_rate"] == 25.0
    assert _exported("swfast_resilience_breaker_failure_ratio", "ratios") == 0.5
    assert _exported("swfast_resilience_breaker_slow_call_ratio", "ratios") == 0.25
    assert b.check_state() is S.CLOSED

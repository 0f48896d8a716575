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

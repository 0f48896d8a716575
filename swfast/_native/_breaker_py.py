"""Pure-Python twin of the circuit-breaker kernel (``_breaker_c.pyx``).

Holds the breaker's data and arithmetic: sliding-window outcome counters (count-based and
time-based), the state machine (CLOSED, OPEN, HALF_OPEN, FORCED_OPEN, DISABLED) with its
half-open permits, and lifetime counters. Policy (which exceptions count, listeners, history,
metrics, logging) lives in :mod:`swfast.resilience.breaker`.

A permitted call gets its start time from :meth:`BreakerCore.acquire` and hands it back to
:meth:`BreakerCore.record` or :meth:`BreakerCore.release`; an outcome whose start precedes the
current state's entry time belongs to an earlier state and changes nothing, so a late closed
call cannot decide a half-open verdict and a stuck probe cannot wedge the breaker. Transitions
are appended to ``events`` as ``(from, to, at, reason, origin)`` exactly once each. Thread-safe: a lock
is held for the arithmetic only, never across the guarded call.
"""
from __future__ import annotations

import math
import threading
import time
from types import MethodType
from typing import Any, Callable

CLOSED = 0
OPEN = 1
HALF_OPEN = 2
FORCED_OPEN = 3
DISABLED = 4

_monotonic = time.monotonic


class CountWindow:
    """Outcomes of the last ``size`` calls: running totals over a ring buffer."""

    __slots__ = ("size", "_ring", "_pos", "calls", "failed", "slow")

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"size: window must hold at least 1 call, got {size}")
        self.size = int(size)
        self._ring = bytearray(self.size)
        self._pos = 0
        self.calls = self.failed = self.slow = 0

    def record(self, failed: bool, slow: bool, now: float = 0.0) -> None:
        """Add one outcome, evicting the oldest when full (``now`` is unused)."""
        code = (1 if failed else 0) | (2 if slow else 0)
        pos = self._pos
        if self.calls == self.size:
            old = self._ring[pos]
            self.failed -= old & 1
            self.slow -= old >> 1
        else:
            self.calls += 1
        self._ring[pos] = code
        self.failed += code & 1
        self.slow += code >> 1
        self._pos = pos + 1 if pos + 1 < self.size else 0

    def totals(self, now: float = 0.0) -> tuple[int, int, int]:
        """``(calls, failed, slow)`` currently in the window."""
        return self.calls, self.failed, self.slow

    def reset(self) -> None:
        """Forget every outcome."""
        self._ring = bytearray(self.size)
        self._pos = 0
        self.calls = self.failed = self.slow = 0


class TimeWindow:
    """Outcomes of the last ``seconds`` seconds, in one-second buckets (resilience4j style)."""

    __slots__ = ("size", "_calls", "_failed", "_slow", "_head", "calls", "failed", "slow")

    def __init__(self, seconds: int) -> None:
        if seconds < 1:
            raise ValueError(f"seconds: window must span at least 1 second, got {seconds}")
        self.size = int(seconds)
        self._calls = [0] * self.size
        self._failed = [0] * self.size
        self._slow = [0] * self.size
        self._head: int | None = None
        self.calls = self.failed = self.slow = 0

    def _advance(self, now: float) -> int:
        cur = math.floor(now)
        head = self._head
        if head is None:
            self._head = cur
            return cur % self.size
        if cur <= head:
            return head % self.size
        if cur - head >= self.size:
            self.reset()
            self._head = cur
            return cur % self.size
        for s in range(head + 1, cur + 1):
            i = s % self.size
            self.calls -= self._calls[i]
            self.failed -= self._failed[i]
            self.slow -= self._slow[i]
            self._calls[i] = self._failed[i] = self._slow[i] = 0
        self._head = cur
        return cur % self.size

    def record(self, failed: bool, slow: bool, now: float) -> None:
        """Add one outcome at time ``now`` (seconds)."""
        i = self._advance(now)
        self._calls[i] += 1
        self.calls += 1
        if failed:
            self._failed[i] += 1
            self.failed += 1
        if slow:
            self._slow[i] += 1
            self.slow += 1

    def totals(self, now: float) -> tuple[int, int, int]:
        """``(calls, failed, slow)`` of the last ``size`` seconds at time ``now``."""
        self._advance(now)
        return self.calls, self.failed, self.slow

    def reset(self) -> None:
        """Forget every outcome."""
        n = self.size
        self._calls, self._failed, self._slow = [0] * n, [0] * n, [0] * n
        self._head = None
        self.calls = self.failed = self.slow = 0


class BreakerCore:
    """The breaker state machine over a window.

    Args:
        window: a :class:`CountWindow` or :class:`TimeWindow` for the CLOSED state.
        minimum_calls: outcomes needed before any rate is computed.
        failure_rate_threshold: percent; opens at a rate ``>=`` it.
        slow_call_rate_threshold: percent; opens at a slow rate ``>=`` it.
        slow_call_duration: seconds from which a call counts as slow (``inf`` disables).
        wait_open: seconds OPEN lasts before the first caller half-opens it.
        half_open_calls: probes admitted in HALF_OPEN.
        max_wait_half_open: seconds after which HALF_OPEN reopens (``0`` waits forever).
        clock: monotonic clock in seconds; ``None`` uses the monotonic clock.
    """

    def __init__(self, window: CountWindow | TimeWindow, minimum_calls: int,
                 failure_rate_threshold: float, slow_call_rate_threshold: float,
                 slow_call_duration: float, wait_open: float, half_open_calls: int,
                 max_wait_half_open: float, clock: Callable[[], float] | None = None) -> None:
        self._window = window
        self._min_calls = int(minimum_calls)
        self._fail_thr = float(failure_rate_threshold)
        self._slow_thr = float(slow_call_rate_threshold)
        self._slow_dur = float(slow_call_duration)
        self._wait_open = float(wait_open)
        self._ho_calls = int(half_open_calls)
        self._max_wait_ho = float(max_wait_half_open)
        self._clock = clock
        self._lock = threading.Lock()
        self._state = CLOSED
        self._entered = self._now()
        self._open_until = 0.0
        self._permits = 0
        self._ho_done = self._ho_failed = self._ho_slow = 0
        self.successful = self.failed = self.slow = self.ignored = self.not_permitted = 0
        self.events: list[tuple[int, int, float, str, str]] = []
        self._on_reject: Callable[[], BaseException] = lambda: RuntimeError("breaker rejected the call")
        self._on_error: Callable[[float, BaseException], object] = lambda start, exc: self.record(start, True)
        self._on_events: Callable[[], object] = lambda: None

    def set_hooks(self, on_reject: Callable[[], BaseException], on_error: Callable[[float, BaseException], object],
                  on_events: Callable[[], object]) -> None:
        """Policy callbacks of :meth:`call`: ``on_reject() -> exception`` to raise,
        ``on_error(start, exc)`` to settle a failed call, ``on_events()`` to publish."""
        self._on_reject = on_reject
        self._on_error = on_error
        self._on_events = on_events

    def call(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        """Run ``fn(*args, **kwargs)`` if permitted, recording its success; errors and
        rejections go to the hooks set by :meth:`set_hooks`."""
        start = self.acquire()
        if start is None:
            raise self._on_reject()
        if self.events:
            self._on_events()
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            self._on_error(start, exc)
            raise
        if self.record(start, False):
            self._on_events()
        return result

    def wrap(self, fn: Callable[..., Any]) -> "_Guarded":
        """A callable that runs ``fn`` through :meth:`call` (binds as a method too)."""
        return _Guarded(self, fn)

    def _now(self) -> float:
        return self._clock() if self._clock is not None else _monotonic()

    @property
    def state(self) -> int:
        return self._state

    @property
    def permits(self) -> int:
        """Half-open permits still available (0 outside HALF_OPEN)."""
        return self._permits if self._state == HALF_OPEN else 0

    def _move(self, to: int, now: float, reason: str, origin: str = "local") -> None:
        frm = self._state
        self._state = to
        self._entered = now
        if to == OPEN:
            self._open_until = now + self._wait_open
        elif to == HALF_OPEN:
            self._permits = self._ho_calls
            self._ho_done = self._ho_failed = self._ho_slow = 0
        elif to == CLOSED:
            self._window.reset()
        self.events.append((frm, to, now, reason, origin))

    def acquire(self) -> float | None:
        """Ask to run one call: its start time when permitted, ``None`` when rejected."""
        now = self._now()
        with self._lock:
            s = self._state
            if s == CLOSED or s == DISABLED:
                return now if now > self._entered else self._entered
            if s == OPEN:
                if now >= self._open_until:
                    self._move(HALF_OPEN, now, "wait in open state elapsed")
                    self._permits -= 1
                    return now
            elif s == HALF_OPEN:
                if self._max_wait_ho > 0.0 and now - self._entered >= self._max_wait_ho:
                    self._move(OPEN, now, "max wait in half-open state elapsed")
                elif self._permits > 0:
                    self._permits -= 1
                    return now if now > self._entered else self._entered
            self.not_permitted += 1
            return None

    def _exceeded(self, calls: int, failed: int, slow: int) -> str:
        if failed * 100.0 >= self._fail_thr * calls:
            return f"failure rate {failed * 100.0 / calls:.1f}% >= {self._fail_thr:g}%"
        if slow * 100.0 >= self._slow_thr * calls:
            return f"slow call rate {slow * 100.0 / calls:.1f}% >= {self._slow_thr:g}%"
        return ""

    def record(self, start: float, failed: bool) -> bool:
        """Record the outcome of a permitted call; True when events are pending."""
        now = self._now()
        slow = now - start >= self._slow_dur
        with self._lock:
            if failed:
                self.failed += 1
            else:
                self.successful += 1
            if slow:
                self.slow += 1
            if start < self._entered:
                return bool(self.events)
            s = self._state
            if s == CLOSED:
                w = self._window
                w.record(failed, slow, now)
                calls, nf, ns = w.calls, w.failed, w.slow
                if calls >= self._min_calls:
                    reason = self._exceeded(calls, nf, ns)
                    if reason:
                        self._move(OPEN, now, reason)
            elif s == HALF_OPEN:
                self._ho_done += 1
                self._ho_failed += 1 if failed else 0
                self._ho_slow += 1 if slow else 0
                if self._ho_done >= self._ho_calls:
                    reason = self._exceeded(self._ho_done, self._ho_failed, self._ho_slow)
                    if reason:
                        self._move(OPEN, now, "half-open verdict: " + reason)
                    else:
                        self._move(CLOSED, now, "half-open verdict: probes succeeded")
            return bool(self.events)

    def release(self, start: float) -> None:
        """Give back the permit of a call whose outcome must not count (ignored, cancelled)."""
        with self._lock:
            self.ignored += 1
            if self._state == HALF_OPEN and start >= self._entered and self._permits < self._ho_calls:
                self._permits += 1

    def transition(self, to: int, reason: str, origin: str = "local") -> bool:
        """Force the state ``to``; False (and no event) when already in it. ``origin`` travels
        with the event (``"local"``, or ``"shared"`` for a state adopted from shared state)."""
        if to not in (CLOSED, OPEN, HALF_OPEN, FORCED_OPEN, DISABLED):
            raise ValueError(f"to: unknown state {to}")
        now = self._now()
        with self._lock:
            if to == self._state:
                return False
            self._move(to, now, reason, origin)
            return True

    def remaining(self) -> float:
        """Seconds until OPEN admits a probe (0 in any other state)."""
        if self._state != OPEN:
            return 0.0
        left = self._open_until - self._now()
        return left if left > 0.0 else 0.0

    def snapshot(self) -> dict[str, float]:
        """Window totals, rates (``-1`` when fewer than ``minimum_calls``) and lifetime counters."""
        now = self._now()
        with self._lock:
            if self._state == HALF_OPEN:
                calls, nf, ns, need = self._ho_done, self._ho_failed, self._ho_slow, self._ho_calls
            else:
                calls, nf, ns = self._window.totals(now)
                need = self._min_calls
            computed = calls >= need and calls > 0
            return {
                "state": self._state, "calls": calls, "failed_calls": nf, "slow_calls": ns,
                "failure_rate": nf * 100.0 / calls if computed else -1.0,
                "slow_call_rate": ns * 100.0 / calls if computed else -1.0,
                "permits": self._permits if self._state == HALF_OPEN else 0,
                "successful": self.successful, "failed": self.failed, "slow": self.slow,
                "ignored": self.ignored, "not_permitted": self.not_permitted,
                "entered": self._entered,
            }


class _Guarded:
    """``fn`` wrapped by a breaker core; carries ``fn``'s metadata in its ``__dict__``."""

    def __init__(self, core: BreakerCore, fn: Callable[..., Any]) -> None:
        self._core = core
        self._fn = fn

    def __call__(self, /, *args: Any, **kwargs: Any) -> Any:
        return self._core.call(self._fn, *args, **kwargs)

    def __get__(self, obj: Any, objtype: Any = None) -> Any:
        return self if obj is None else MethodType(self, obj)


__all__ = [
    "CLOSED", "DISABLED", "FORCED_OPEN", "HALF_OPEN", "OPEN", "BreakerCore", "CountWindow",
    "TimeWindow",
]

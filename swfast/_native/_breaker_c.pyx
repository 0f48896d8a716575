# cython: freethreading_compatible = False, cdivision = True
"""Compiled circuit-breaker kernel; the pure-Python twin is ``_breaker_py.py`` (read its
module docstring for the semantics).

Each method reads the clock first (C ``clock_gettime`` unless a ``clock`` callable was given),
then does its arithmetic without calling Python code, so every step is atomic under the GIL
and no lock is taken. Not declared free-threading compatible.
"""
from libc.math cimport floor, INFINITY
from libc.stdlib cimport calloc, free
from swfast._native._clock cimport mono as _mono
from types import MethodType

CLOSED = 0
OPEN = 1
HALF_OPEN = 2
FORCED_OPEN = 3
DISABLED = 4

cdef enum:
    C_CLOSED = 0
    C_OPEN = 1
    C_HALF_OPEN = 2
    C_FORCED_OPEN = 3
    C_DISABLED = 4


cdef class _Window:
    cdef readonly Py_ssize_t size
    cdef readonly long long calls, failed, slow

    cdef void _record(self, bint failed, bint slow, double now) noexcept:
        pass

    cdef void _advance(self, double now) noexcept:
        pass

    cdef void _reset(self) noexcept:
        pass

    def record(self, bint failed, bint slow, double now=0.0):
        """Add one outcome at time ``now`` (seconds)."""
        self._record(failed, slow, now)

    def totals(self, double now=0.0):
        """``(calls, failed, slow)`` in the window at time ``now``."""
        self._advance(now)
        return self.calls, self.failed, self.slow

    def reset(self):
        """Forget every outcome."""
        self._reset()


cdef class CountWindow(_Window):
    """Outcomes of the last ``size`` calls: running totals over a ring buffer."""

    cdef unsigned char* _ring
    cdef Py_ssize_t _pos

    def __cinit__(self, Py_ssize_t size):
        if size < 1:
            raise ValueError(f"size: window must hold at least 1 call, got {size}")
        self._ring = <unsigned char*>calloc(size, 1)
        if self._ring == NULL:
            raise MemoryError()
        self.size = size

    def __dealloc__(self):
        free(self._ring)

    cdef void _record(self, bint failed, bint slow, double now) noexcept:
        cdef unsigned char code = (1 if failed else 0) | (2 if slow else 0)
        cdef unsigned char old
        cdef Py_ssize_t pos = self._pos
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

    cdef void _reset(self) noexcept:
        cdef Py_ssize_t i
        for i in range(self.size):
            self._ring[i] = 0
        self._pos = 0
        self.calls = self.failed = self.slow = 0


cdef class TimeWindow(_Window):
    """Outcomes of the last ``seconds`` seconds, in one-second buckets."""

    cdef long long* _calls
    cdef long long* _failed
    cdef long long* _slow
    cdef long long _head
    cdef bint _started

    def __cinit__(self, Py_ssize_t seconds):
        if seconds < 1:
            raise ValueError(f"seconds: window must span at least 1 second, got {seconds}")
        self._calls = <long long*>calloc(seconds, sizeof(long long))
        self._failed = <long long*>calloc(seconds, sizeof(long long))
        self._slow = <long long*>calloc(seconds, sizeof(long long))
        if self._calls == NULL or self._failed == NULL or self._slow == NULL:
            raise MemoryError()
        self.size = seconds

    def __dealloc__(self):
        free(self._calls)
        free(self._failed)
        free(self._slow)

    cdef inline Py_ssize_t _idx(self, long long s) noexcept:
        cdef long long r = s % self.size
        return <Py_ssize_t>(r + self.size if r < 0 else r)

    cdef void _advance(self, double now) noexcept:
        cdef long long cur = <long long>floor(now)
        cdef long long s
        cdef Py_ssize_t i
        if not self._started:
            self._started = True
            self._head = cur
            return
        if cur <= self._head:
            return
        if cur - self._head >= self.size:
            self._reset()
            self._started = True
            self._head = cur
            return
        for s in range(self._head + 1, cur + 1):
            i = self._idx(s)
            self.calls -= self._calls[i]
            self.failed -= self._failed[i]
            self.slow -= self._slow[i]
            self._calls[i] = self._failed[i] = self._slow[i] = 0
        self._head = cur

    cdef void _record(self, bint failed, bint slow, double now) noexcept:
        cdef Py_ssize_t i
        self._advance(now)
        i = self._idx(self._head)
        self._calls[i] += 1
        self.calls += 1
        if failed:
            self._failed[i] += 1
            self.failed += 1
        if slow:
            self._slow[i] += 1
            self.slow += 1

    cdef void _reset(self) noexcept:
        cdef Py_ssize_t i
        for i in range(self.size):
            self._calls[i] = self._failed[i] = self._slow[i] = 0
        self._started = False
        self.calls = self.failed = self.slow = 0


cdef class BreakerCore:
    """The breaker state machine over a window (see the twin for the argument meanings)."""

    cdef _Window _window
    cdef long long _min_calls, _ho_calls
    cdef double _fail_thr, _slow_thr, _slow_dur, _wait_open, _max_wait_ho
    cdef object _clock
    cdef int _state
    cdef double _entered, _open_until
    cdef long long _permits, _ho_done, _ho_failed, _ho_slow
    cdef readonly long long successful, failed, slow, ignored, not_permitted
    cdef readonly list events
    cdef object _on_reject, _on_error, _on_events
    cdef object __weakref__

    def __init__(self, _Window window, long long minimum_calls, double failure_rate_threshold,
                 double slow_call_rate_threshold, double slow_call_duration, double wait_open,
                 long long half_open_calls, double max_wait_half_open, clock=None):
        self._window = window
        self._min_calls = minimum_calls
        self._fail_thr = failure_rate_threshold
        self._slow_thr = slow_call_rate_threshold
        self._slow_dur = slow_call_duration
        self._wait_open = wait_open
        self._ho_calls = half_open_calls
        self._max_wait_ho = max_wait_half_open
        self._clock = clock
        self._state = C_CLOSED
        self._entered = self._now()
        self.events = []

    cdef inline double _now(self) except? -1.0:
        if self._clock is None:
            return _mono()
        return <double>self._clock()

    @property
    def state(self):
        return self._state

    @property
    def permits(self):
        """Half-open permits still available (0 outside HALF_OPEN)."""
        return self._permits if self._state == C_HALF_OPEN else 0

    cdef void _move(self, int to, double now, str reason, str origin="local"):
        cdef int frm = self._state
        self._state = to
        self._entered = now
        if to == C_OPEN:
            self._open_until = now + self._wait_open
        elif to == C_HALF_OPEN:
            self._permits = self._ho_calls
            self._ho_done = self._ho_failed = self._ho_slow = 0
        elif to == C_CLOSED:
            self._window._reset()
        self.events.append((frm, to, now, reason, origin))

    cdef bint _acquire(self, double* start) except -1:
        cdef double now = self._now()
        cdef int s = self._state
        if s == C_CLOSED or s == C_DISABLED:
            start[0] = now if now > self._entered else self._entered
            return True
        if s == C_OPEN:
            if now >= self._open_until:
                self._move(C_HALF_OPEN, now, "wait in open state elapsed")
                self._permits -= 1
                start[0] = now
                return True
        elif s == C_HALF_OPEN:
            if self._max_wait_ho > 0.0 and now - self._entered >= self._max_wait_ho:
                self._move(C_OPEN, now, "max wait in half-open state elapsed")
            elif self._permits > 0:
                self._permits -= 1
                start[0] = now if now > self._entered else self._entered
                return True
        self.not_permitted += 1
        return False

    def acquire(self):
        """Ask to run one call: its start time when permitted, ``None`` when rejected."""
        cdef double start = 0.0
        if self._acquire(&start):
            return start
        return None

    def set_hooks(self, on_reject, on_error, on_events):
        """Policy callbacks of :meth:`call`: ``on_reject() -> exception`` to raise,
        ``on_error(start, exc)`` to settle a failed call, ``on_events()`` to publish."""
        self._on_reject = on_reject
        self._on_error = on_error
        self._on_events = on_events

    cdef object _call(self, object fn, tuple args, dict kwargs):
        cdef double start = 0.0
        if not self._acquire(&start):
            raise self._on_reject()
        if self.events:
            self._on_events()
        try:
            result = fn(*args, **kwargs) if kwargs else fn(*args)
        except BaseException as exc:
            self._on_error(start, exc)
            raise
        if self._record(start, False):
            self._on_events()
        return result

    def call(self, fn, /, *args, **kwargs):
        """Run ``fn(*args, **kwargs)`` if permitted, recording its success; errors and
        rejections go to the hooks set by :meth:`set_hooks`."""
        return self._call(fn, args, kwargs)

    def wrap(self, fn):
        """A callable that runs ``fn`` through :meth:`call` (binds as a method too)."""
        return _Guarded(self, fn)

    cdef str _exceeded(self, long long calls, long long failed, long long slow):
        if failed * 100.0 >= self._fail_thr * calls:
            return f"failure rate {failed * 100.0 / calls:.1f}% >= {self._fail_thr:g}%"
        if slow * 100.0 >= self._slow_thr * calls:
            return f"slow call rate {slow * 100.0 / calls:.1f}% >= {self._slow_thr:g}%"
        return None

    def record(self, double start, bint failed):
        """Record the outcome of a permitted call; True when events are pending."""
        return self._record(start, failed)

    cdef bint _record(self, double start, bint failed) except -1:
        cdef double now = self._now()
        cdef bint slow = now - start >= self._slow_dur
        cdef int s
        cdef str reason
        cdef _Window w
        if failed:
            self.failed += 1
        else:
            self.successful += 1
        if slow:
            self.slow += 1
        if start < self._entered:
            return len(self.events) > 0
        s = self._state
        if s == C_CLOSED:
            w = self._window
            w._record(failed, slow, now)
            if w.calls >= self._min_calls:
                if w.failed * 100.0 >= self._fail_thr * w.calls or w.slow * 100.0 >= self._slow_thr * w.calls:
                    reason = self._exceeded(w.calls, w.failed, w.slow)
                    self._move(C_OPEN, now, reason)
        elif s == C_HALF_OPEN:
            self._ho_done += 1
            if failed:
                self._ho_failed += 1
            if slow:
                self._ho_slow += 1
            if self._ho_done >= self._ho_calls:
                reason = self._exceeded(self._ho_done, self._ho_failed, self._ho_slow)
                if reason is not None:
                    self._move(C_OPEN, now, "half-open verdict: " + reason)
                else:
                    self._move(C_CLOSED, now, "half-open verdict: probes succeeded")
        return len(self.events) > 0

    def release(self, double start):
        """Give back the permit of a call whose outcome must not count (ignored, cancelled)."""
        self.ignored += 1
        if self._state == C_HALF_OPEN and start >= self._entered and self._permits < self._ho_calls:
            self._permits += 1

    def transition(self, int to, str reason, str origin="local"):
        """Force the state ``to``; False (and no event) when already in it. ``origin`` travels
        with the event (``"local"``, or ``"shared"`` for a state adopted from shared state)."""
        if to < C_CLOSED or to > C_DISABLED:
            raise ValueError(f"to: unknown state {to}")
        cdef double now = self._now()
        if to == self._state:
            return False
        self._move(to, now, reason, origin)
        return True

    def remaining(self):
        """Seconds until OPEN admits a probe (0 in any other state)."""
        cdef double left
        if self._state != C_OPEN:
            return 0.0
        left = self._open_until - self._now()
        return left if left > 0.0 else 0.0

    def snapshot(self):
        """Window totals, rates (``-1`` when fewer than ``minimum_calls``) and lifetime counters."""
        cdef double now = self._now()
        cdef long long calls, nf, ns, need
        cdef bint computed
        if self._state == C_HALF_OPEN:
            calls, nf, ns, need = self._ho_done, self._ho_failed, self._ho_slow, self._ho_calls
        else:
            self._window._advance(now)
            calls, nf, ns = self._window.calls, self._window.failed, self._window.slow
            need = self._min_calls
        computed = calls >= need and calls > 0
        return {
            "state": self._state, "calls": calls, "failed_calls": nf, "slow_calls": ns,
            "failure_rate": nf * 100.0 / calls if computed else -1.0,
            "slow_call_rate": ns * 100.0 / calls if computed else -1.0,
            "permits": self._permits if self._state == C_HALF_OPEN else 0,
            "successful": self.successful, "failed": self.failed, "slow": self.slow,
            "ignored": self.ignored, "not_permitted": self.not_permitted,
            "entered": self._entered,
        }


cdef class _Guarded:
    """``fn`` wrapped by a breaker core; carries ``fn``'s metadata in its ``__dict__``."""

    cdef BreakerCore _core
    cdef object _fn
    cdef dict __dict__
    cdef object __weakref__

    def __init__(self, BreakerCore core, fn):
        self._core = core
        self._fn = fn

    def __call__(self, /, *args, **kwargs):
        return self._core._call(self._fn, args, kwargs)

    def __get__(self, obj, objtype):
        return self if obj is None else MethodType(self, obj)

"""Pure-Python twin of the consumer batch kernel (``_msgbatch_c.pyx``).

The per-message hot loop of a subscription, in two calls per fetched batch:

* :func:`prepare` reads every record once (``error()``, ``partition()``, ``offset()``,
  ``value()``), decodes the value, skips expired structured messages, computes the offsets to
  store, and orders the batch by ``metadata.priority`` (stable: equal priorities keep fetch
  order, so partition order holds). With ``lazy=True`` a value that cannot carry ``metadata``
  (:func:`maybe_meta` false) is left pending: ``run_sync`` decodes it right before its handler
  call, so decoding and handling stream through the batch instead of keeping it all decoded.
* :func:`run_sync` calls a handler on the prepared values until one raises or returns
  something that is not None (maybe an awaitable), handing control back to the caller there.
* :func:`produce_all` and :class:`Reports` are the producing side: one call produces a batch
  with a delivery callback per message that records its outcome by index.

No policy lives here: the decoder, the timestamp parser and the clock value are arguments.
"""
from __future__ import annotations

import functools
import re
from typing import Any, Callable

_LONG_DIGITS = re.compile(rb"[0-9]{19}").search


def long_digits(data: Any) -> bool:
    """True when ``data`` (bytes) holds a run of 19+ digits: maybe an integer beyond 64 bits."""
    return type(data) is bytes and len(data) >= 19 and _LONG_DIGITS(data) is not None


def maybe_meta(data: Any) -> bool:
    """Whether ``data`` may decode to an object with a ``metadata`` key: anything but bytes, and
    bytes holding ``metadata`` or a backslash (an escaped key such as ``"\\u006detadata"``)."""
    return type(data) is not bytes or b"\\" in data or b"metadata" in data


def _decode(value: Any, loads: Callable[[Any], Any], fallback: Callable[[Any], Any],
            exact: Callable[[Any], Any] | None) -> Any:
    try:
        return exact(value) if exact is not None and long_digits(value) else loads(value)
    except (ValueError, TypeError):
        return fallback(value)


def _first(item: tuple[int, Any, Any, bool]) -> int:
    return item[0]


def _store(offsets: dict[int, int], part: int, last: Any) -> None:
    """The next offset after a run's last record (runs are in offset order), kept at the maximum."""
    nxt = last.offset() + 1
    if nxt > 0 and nxt > offsets.get(part, 0):
        offsets[part] = nxt


def prepare(records: list[Any], loads: Callable[[Any], Any], fallback: Callable[[Any], Any],
            parse_timestamp: Callable[[Any], int | None], now_us: int, default_priority: int,
            order: bool, exact: Callable[[Any], Any] | None = None, lazy: bool = False,
            ) -> tuple[list[Any], list[Any], dict[int, int], list[Any], int]:
    """Decode one fetched batch.

    Args:
        records: messages with ``error()``, ``partition()``, ``offset()`` and ``value()``.
        loads: JSON decoder; when it raises ValueError or TypeError, ``fallback(value)`` is used.
        exact: decoder used instead of ``loads`` for values that may hold integers beyond 64
            bits (:func:`long_digits`), which ``loads`` (orjson) would turn into floats.
        fallback: decoder for values that are not JSON (text, bytes, None).
        parse_timestamp: ``str -> epoch microseconds or None`` for ``metadata.expires_at``.
        now_us: the current time, epoch microseconds.
        default_priority: priority of values without an int ``metadata.priority``.
        order: sort by priority (stable) when the batch mixes priorities.
        lazy: leave undecoded (as the record's bytes) the values that cannot carry
            ``metadata`` (:func:`maybe_meta` false: default priority, never expired), and
            return a sixth item, ``pending``: a bytearray with 1 at the index of each such
            value. :func:`run_sync` given ``pending`` and the same decoders decodes each of
            them just before its handler call, so a batch's decoded values are not all alive
            at once; handlers see exactly the values an eager ``prepare`` gives.

    Only swfast envelopes (a dict with dict ``metadata`` and dict ``payload``) expire by
    ``metadata.expires_at``; other JSON objects that happen to have a ``metadata`` key do not.

    Returns:
        ``(values, records, offsets, errors, expired)`` (``lazy``: ``+ (pending,)``): the values to
        handle and their records,
        in handling order; ``partition -> next offset`` over every record read (handled or
        expired), taken from the last record of each run of one partition (a client delivers
        a partition in offset order; were it not, a lower offset only means re-delivery, never
        a skipped message); the records whose ``error()`` was set (skipped); how many expired.
    """
    offsets: dict[int, int] = {}
    run_part: Any = None
    run_last: Any = None
    items: list[tuple[int, Any, Any, bool]] = []
    errors: list[Any] = []
    expired = 0
    mixed = False
    have_first = False
    first: Any = None
    for rec in records:
        if rec.error() is not None:
            errors.append(rec)
            continue
        p = rec.partition()
        if run_last is None or p != run_part:  # a new run of one partition
            if run_last is not None:
                _store(offsets, run_part, run_last)
            run_part = p
        run_last = rec
        value = rec.value()
        lazy_one = lazy and not maybe_meta(value)
        # no metadata possible: default priority, never expires; decoded when handled
        obj = value if lazy_one else _decode(value, loads, fallback, exact)
        prio = default_priority
        if not lazy_one and type(obj) is dict:
            meta = obj.get("metadata")
            if type(meta) is dict:
                exp = meta.get("expires_at")
                if exp is not None and type(obj.get("payload")) is dict:
                    us = parse_timestamp(exp)
                    if us is not None and us < now_us:
                        expired += 1
                        continue
                q = meta.get("priority")
                if type(q) is int:
                    prio = q
        if not have_first:
            have_first = True
            first = prio
        elif not mixed and prio != first:
            mixed = True
        items.append((prio, rec, obj, lazy_one))
    if run_last is not None:
        _store(offsets, run_part, run_last)
    if mixed and order:
        items.sort(key=_first)
    if lazy:
        return ([i[2] for i in items], [i[1] for i in items], offsets, errors, expired,  # type: ignore[return-value]
                bytearray(i[3] for i in items))
    return [i[2] for i in items], [i[1] for i in items], offsets, errors, expired


def run_sync(handler: Callable[[Any], Any], values: list[Any], start: int, pending: bytearray | None = None,
             loads: Callable[[Any], Any] | None = None, fallback: Callable[[Any], Any] | None = None,
             exact: Callable[[Any], Any] | None = None) -> tuple[int, Any, bool]:
    """Call ``handler(v)`` for ``values[start:]`` while it returns None.

    ``pending`` (from ``prepare(lazy=True)``) marks the values still undecoded: each is decoded
    with ``loads``/``fallback``/``exact`` (as ``prepare`` would) right before its call; where
    control comes back (a raise or a result), ``values[index]`` holds the decoded value and
    ``pending[index]`` is 0.

    Returns:
        ``(index, outcome, raised)``: ``index == len(values)`` when every call returned None;
        else the index where the handler raised (``outcome`` the exception, ``raised`` True) or
        returned something (``outcome`` the result, maybe an awaitable; ``raised`` False).
        Exceptions that are not ``Exception`` (cancellation) propagate.
    """
    n = len(values)
    if pending is not None and (type(pending) is not bytearray or len(pending) < n):
        raise ValueError("run_sync: pending must be the bytearray prepare(lazy=True) returned")
    for i in range(start, n):
        v = values[i]
        decoded = pending is not None and pending[i]
        if decoded:
            v = _decode(v, loads, fallback, exact)  # type: ignore[arg-type]
        try:
            result = handler(v)
        except Exception as exc:
            result, raised = exc, True
        else:
            if result is None:
                continue
            raised = False
        if decoded:  # control goes back to the caller: it sees the decoded value
            values[i] = v
            pending[i] = 0  # type: ignore[index]
        return i, result, raised
    return n, None, False


class Reports:
    """Delivery outcomes of one produced batch, filled by per-message delivery callbacks.

    Reports arrive on the producer's poll thread while the producing thread may still be
    producing; it then publishes how many it produced with :meth:`finish`. Each side stores
    before it reads the other's value, so at least one of them sees the batch complete
    (``on_complete(self)`` may run and ``finish`` may return True for the same batch: the
    caller's resolution must be idempotent).

    Args:
        n: items in the batch.
        make_error: turns a client error into the stored error object.
        on_complete: called (on the reporting thread) when the last expected report arrived.
    """

    __slots__ = ("errors", "count", "expected", "_make_error", "_on_complete")

    def __init__(self, n: int, make_error: Callable[[Any], Any], on_complete: Callable[[Any], Any]) -> None:
        self.errors: list[Any] = [None] * n
        self.count = 0
        self.expected = -1
        self._make_error = make_error
        self._on_complete = on_complete

    def callback(self, i: int) -> Callable[[Any, Any], None]:
        """The delivery callback of item ``i``: ``cb(err, msg)``."""
        return functools.partial(self.report, i)

    def report(self, i: int, err: Any, _msg: Any = None) -> None:
        """Record item ``i``'s outcome (``err`` None: delivered)."""
        if err is not None:
            self.errors[i] = self._make_error(err)
        self.count += 1
        if self.count == self.expected:
            self._on_complete(self)

    def finish(self, produced: int) -> bool:
        """Publish how many items were produced; True when every report is already in."""
        self.expected = produced
        return self.count == produced


def produce_all(produce: Callable[..., Any], topic: str, values: list[bytes], keys: list[Any] | None,
                reports: Reports, start: int) -> tuple[int, BaseException | None]:
    """``produce(topic, values[i], key, -1, reports.callback(i))`` for ``i`` from ``start``.

    Returns:
        ``(index, exception)``: ``(len(values), None)`` when all were produced, else the index
        whose produce raised (not produced; a full queue raises BufferError) and the exception.
    """
    n = len(values)
    for i in range(start, n):
        try:
            produce(topic, values[i], None if keys is None else keys[i], -1, reports.callback(i))
        except Exception as exc:
            return i, exc
    return n, None


def delivery(sink: list[Any], fut: Any, acked: Any = None) -> Callable[[Any, Any], None]:
    """The delivery callback ``cb(err, msg)`` of one message whose outcome resolves ``fut``.

    It runs on the producer's poll thread and only appends ``(fut, None, acked)`` (delivered)
    or ``(fut, (err, topic), acked)`` to ``sink``, the list of the future's event loop; the poll
    thread hands each non-empty sink to its loop once per poll and :func:`resolve` runs there.
    """
    def cb(err: Any, msg: Any) -> None:
        if err is None:
            sink.append((fut, None, acked))
        else:
            sink.append((fut, (err, msg.topic() if msg is not None else ""), acked))
    return cb


def resolve(items: list[Any], make_error: Callable[[Any, str], Any],
            failed: Callable[[Any], Any] | None = None) -> None:
    """Resolve each ``(fut, outcome, acked)`` of ``items`` (futures already done are left alone).

    ``acked`` None: the future gets None (delivered) or ``make_error(err, topic)``. Otherwise
    (a bool send) ``acked.inc()`` and True when delivered, else ``failed(error)`` and False.
    """
    for fut, r, acked in items:
        if acked is None:
            if not fut.done():
                fut.set_result(None if r is None else make_error(r[0], r[1]))
        elif r is None:
            acked.inc()
            if not fut.done():
                fut.set_result(True)
        else:
            err = make_error(r[0], r[1])
            if failed is not None:
                failed(err)
            if not fut.done():
                fut.set_result(False)


__all__ = ["Reports", "delivery", "long_digits", "prepare", "produce_all", "resolve", "run_sync"]

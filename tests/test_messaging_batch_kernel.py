"""The consumer batch kernel (``msgbatch``): compiled and twin give identical results."""
from __future__ import annotations

import json
import random
from typing import Any

import pytest

from swfast._native import _msgbatch_py as ref
from swfast._native import msgvalid
from swfast.messaging._codec import loads
from swfast.messaging._runner import decode


class Rec:
    def __init__(self, partition: int, offset: int, value: Any, error: Any = None) -> None:
        self._p, self._o, self._v, self._e = partition, offset, value, error

    def error(self) -> Any:
        return self._e

    def partition(self) -> int:
        return self._p

    def offset(self) -> int:
        return self._o

    def value(self) -> Any:
        return self._v

    def __repr__(self) -> str:
        return f"Rec({self._p}, {self._o})"


def _value(rng: random.Random) -> Any:
    r = rng.random()
    if r < 0.1:
        return None
    if r < 0.2:
        return b"\xff not json"
    if r < 0.3:
        return b"plain text"
    meta: dict[str, Any] = {}
    if rng.random() < 0.8:
        meta["priority"] = rng.choice([1, 2, 3, 4, 5, 3, 3, -2, 0, 2**70, True, "1", 2.0])
    if rng.random() < 0.2:
        meta["expires_at"] = rng.choice(["2000-01-01T00:00:00Z", "2999-01-01T00:00:00Z", "junk", 5, None])
    return json.dumps(rng.choice([{"metadata": meta}, {"metadata": 1}, [1], {"x": meta}])).encode()


def _batch(rng: random.Random) -> list[Rec]:
    out = []
    offsets = {p: rng.randrange(0, 100) for p in range(3)}
    for _ in range(rng.randrange(0, 40)):
        p = rng.choice([0, 0, 0, 1, 2])
        offsets[p] += 1
        err = "EOF" if rng.random() < 0.05 else None
        out.append(Rec(p, offsets[p] if rng.random() < 0.95 else rng.randrange(0, 200), _value(rng), err))
    return out


def test_prepare_differential(impl: Any) -> None:
    mod = impl.load("msgbatch")
    rng = random.Random(11)
    now = 1_900_000_000_000_000
    for i in range(3_000):
        records = _batch(rng)
        order = i % 4 != 0
        ours = mod.prepare(records, loads, decode, msgvalid.parse_timestamp, now, 3, order)
        theirs = ref.prepare(records, loads, decode, msgvalid.parse_timestamp, now, 3, order)
        assert repr(ours) == repr(theirs)


def test_prepare_orders_by_priority_stably_and_stores_every_offset(impl: Any) -> None:
    mod = impl.load("msgbatch")
    vals = [{"metadata": {"priority": p}, "i": i} for i, p in enumerate([3, 1, 5, 1, 3])]
    records = [Rec(0, 10 + i, json.dumps(v).encode()) for i, v in enumerate(vals)]
    records.append(Rec(1, 7, json.dumps({"metadata": {"expires_at": "2000-01-01T00:00:00Z"}, "payload": {}}).encode()))
    records.append(Rec(0, 99, b"", "EOF"))
    values, recs, offsets, errors, expired = mod.prepare(records, loads, decode, msgvalid.parse_timestamp,
                                                         10**18, 3, True)
    assert [v["i"] for v in values] == [1, 3, 0, 4, 2]
    assert [r.offset() for r in recs] == [11, 13, 10, 14, 12]
    assert offsets == {0: 15, 1: 8} and [r.offset() for r in errors] == [99] and expired == 1
    values, *_ = mod.prepare(records, loads, decode, msgvalid.parse_timestamp, 10**18, 3, False)
    assert [v["i"] for v in values] == [0, 1, 2, 3, 4]


def test_run_sync_stops_on_raise_and_on_results(impl: Any) -> None:
    mod = impl.load("msgbatch")
    seen: list[Any] = []

    def handler(v: Any) -> Any:
        seen.append(v)
        if v == "boom":
            raise ValueError(v)
        return v if v == "result" else None

    values = ["a", "b", "boom", "c", "result", "d"]
    assert mod.run_sync(handler, values, 0)[:1] == (2,)
    j, exc, raised = mod.run_sync(handler, values, 0)
    assert (j, raised, type(exc)) == (2, True, ValueError)
    assert mod.run_sync(handler, values, 3) == (4, "result", False)
    assert mod.run_sync(handler, values, 5) == (6, None, False)
    assert mod.run_sync(handler, [], 0) == (0, None, False)

    def cancel(v: Any) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        mod.run_sync(cancel, [1], 0)


def test_produce_all_and_reports(impl: Any) -> None:
    mod = impl.load("msgbatch")
    completed: list[Any] = []
    reports = mod.Reports(5, lambda err: f"E:{err}", completed.append)
    produced: list[tuple[Any, ...]] = []

    def produce(topic: str, value: bytes, key: Any, partition: int, cb: Any) -> None:
        if value == b"full" and not any(p[1] == b"full" for p in produced):
            produced.append((topic, value, "refused"))
            raise BufferError("queue full")
        produced.append((topic, value, key, partition, cb))

    values = [b"a", b"b", b"full", b"d", b"e"]
    j, exc = mod.produce_all(produce, "t", values, None, reports, 0)
    assert j == 2 and isinstance(exc, BufferError)
    assert mod.produce_all(produce, "t", values, [b"k"] * 5, reports, 2) == (5, None)
    callbacks = [p[4] for p in produced if len(p) == 5]
    assert [p[1] for p in produced if len(p) == 5] == values and [p[2] for p in produced if len(p) == 5][-1] == b"k"
    for i, cb in enumerate(callbacks[:4]):
        cb(None if i != 1 else "boom", None)
    assert reports.count == 4 and not reports.finish(5) and completed == []
    callbacks[4](None, None)
    assert completed == [reports] and reports.errors == [None, "E:boom", None, None, None]
    early = mod.Reports(1, str, completed.append)
    early.callback(0)(None, None)
    assert early.finish(1) is True  # every report already in: the producer side sees it complete

    def broken(*_: Any) -> None:
        raise RuntimeError("client failed")

    j, exc = mod.produce_all(broken, "t", [b"x"], None, mod.Reports(1, str, completed.append), 0)
    assert j == 0 and isinstance(exc, RuntimeError)

"""``prepare(lazy=True)`` + ``run_sync(pending=...)``: decoding streams through the batch, and
handlers see exactly what the eager ``prepare`` gives them (both kernel implementations)."""
from __future__ import annotations

import json
import random
from typing import Any

import pytest

from swfast._native import _msgbatch_py as ref
from swfast._native import msgvalid
from swfast.messaging._codec import exact_loads, loads
from swfast.messaging._runner import decode

from test_messaging_batch_kernel import Rec, _batch

NOW = 1_900_000_000_000_000


def _handled(mod: Any, records: list[Any], order: bool, lazy: bool, fail_on: Any = None) -> list[Any]:
    """Every value a handler is called with, running on past raises/results as the runner does."""
    out = mod.prepare(records, loads, decode, msgvalid.parse_timestamp, NOW, 3, order, exact_loads, lazy)
    values, recs, offsets, errors, expired = out[:5]
    pending = out[5] if lazy else None
    seen: list[Any] = []

    def handler(v: Any) -> Any:
        seen.append(v)
        if fail_on is not None and fail_on(v):
            raise ValueError("boom")
        return None

    i, stops = 0, []
    while i < len(values):
        j, outcome, raised = mod.run_sync(handler, values, i, pending, loads, decode, exact_loads)
        if j == len(values):
            break
        stops.append((j, values[j], raised))  # where control comes back, the value is decoded
        assert pending is None or pending[j] == 0
        i = j + 1
    return [repr(seen), repr(stops), repr([r.offset() for r in recs]), repr(offsets),
            repr([r.offset() for r in errors]), expired]


def test_lazy_and_eager_hand_handlers_the_same_values(impl: Any) -> None:
    mod = impl.load("msgbatch")
    rng = random.Random(23)
    for i in range(2_000):
        records = _batch(rng)
        if rng.random() < 0.5:  # values without metadata: the ones left pending
            records += [Rec(0, 500 + k, json.dumps({"k": "x" * k, "n": 2**70 + k}).encode()) for k in range(5)]
        order = i % 4 != 0
        fail = (lambda v: isinstance(v, dict) and v.get("n", 0) % 2 == 1) if i % 3 == 0 else None
        eager = _handled(mod, records, order, False, fail)
        assert _handled(mod, records, order, True, fail) == eager
        assert _handled(ref, records, order, True, fail) == eager


def test_lazy_prepare_leaves_only_metadata_free_bytes_pending(impl: Any) -> None:
    mod = impl.load("msgbatch")
    escaped = b'{"\\u006detadata": {"priority": 1}}'  # decodes to a "metadata" key
    raw = [b'{"k": 1}', b'{"metadata": {"priority": 1}}', escaped, b"\xff not json", b"text", None,
           b'{"v": 1180591620717411303425}', b'{"x": "metadata is a word here"}']
    records = [Rec(0, i, v) for i, v in enumerate(raw)]
    values, recs, offsets, errors, expired, pending = mod.prepare(
        records, loads, decode, msgvalid.parse_timestamp, NOW, 3, True, exact_loads, True)
    # the two priority-1 messages come first (stable), the rest keep fetch order
    assert [r.offset() for r in recs] == [1, 2, 0, 3, 4, 5, 6, 7]
    assert list(pending) == [0, 0, 1, 1, 1, 0, 1, 0]
    assert values[2] is raw[0]  # a pending value is the record's own bytes until handled
    got: list[Any] = []
    assert mod.run_sync(got.append, values, 0, pending, loads, decode, exact_loads) == (8, None, False)
    assert got == [{"metadata": {"priority": 1}}, {"metadata": {"priority": 1}}, {"k": 1}, b"\xff not json",
                   "text", None, {"v": 1180591620717411303425}, {"x": "metadata is a word here"}]
    assert offsets == {0: 8} and errors == [] and expired == 0


def test_lazy_messages_never_expire_unseen(impl: Any) -> None:
    mod = impl.load("msgbatch")
    old = json.dumps({"metadata": {"expires_at": "2000-01-01T00:00:00Z"}, "payload": {}}).encode()
    records = [Rec(0, 0, b'{"a": 1}'), Rec(0, 1, old), Rec(0, 2, b'{"b": 2}')]
    values, recs, offsets, errors, expired, pending = mod.prepare(
        records, loads, decode, msgvalid.parse_timestamp, NOW, 3, True, exact_loads, True)
    assert expired == 1 and [r.offset() for r in recs] == [0, 2] and offsets == {0: 3}
    assert list(pending) == [1, 1]


def test_run_sync_refuses_a_wrong_pending(impl: Any) -> None:
    mod = impl.load("msgbatch")
    with pytest.raises(ValueError, match="pending"):
        mod.run_sync(print, [b"1", b"2"], 0, bytearray(1), loads, decode, exact_loads)
    with pytest.raises(ValueError, match="pending"):
        mod.run_sync(print, [b"1"], 0, b"\x01", loads, decode, exact_loads)


def test_maybe_meta(impl: Any) -> None:
    mod = impl.load("msgbatch")
    for data, want in ((b"", False), (b"{}", False), (b'{"meta": 1}', False), (b"metadat", False),
                       (b"metadata", True), (b'{"metadata":{}}', True), (b'{"a":"\\n"}', True),
                       (b"mmmmmmmmetadata", True), (b"m" * 50, False), (None, True), ("metadata", True),
                       (bytearray(b"{}"), True)):
        assert mod.maybe_meta(data) is want, data
        assert ref.maybe_meta(data) is want, data


def test_long_digits_runs_at_every_offset(impl: Any) -> None:
    mod = impl.load("msgbatch")
    for size in range(19, 60):
        for start in range(0, size - 17):
            for length in (18, 19, 20):
                if start + length > size:
                    continue
                b = bytearray(b"x" * size)
                b[start:start + length] = b"7" * length
                # digits around a short run (split by one non-digit) never join into a long one
                assert mod.long_digits(bytes(b)) is (length >= 19), (size, start, length)
    assert not mod.long_digits(b"1" * 18 + b"," + b"2" * 18) and mod.long_digits(b"1" * 18 + b"," + b"2" * 19)

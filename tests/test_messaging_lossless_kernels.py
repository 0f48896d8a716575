"""The lossless-JSON kernels, both implementations: problem/problem_after, long_digits, delivery/resolve."""
from __future__ import annotations

import asyncio
import random
import re
from typing import Any

import pytest


@pytest.mark.parametrize("value, expect", [
    ({"a": 1, "b": [1.5, None, "x", True], "c": {"d": 2**90}}, None),
    ({"a": {"b": [0, float("nan")]}}, ("a.b[1]", "finite")),
    ([{"k": float("-inf")}], ("[0].k", "finite")),
    ({"x": {1: "a"}}, ("x", "key")),
    ({(1, 2): 1}, ("", "key")),
    ((1, [2, {"z": float("inf")}]), ("[1][1].z", "finite")),
])
def test_problem_finds_the_first_unencodable_value(impl: Any, value: Any, expect: Any) -> None:
    mod = impl.load("msgenc")
    got = mod.problem(value)
    assert (got if got is None else got[:2]) == expect


def test_problem_depth_limit(impl: Any) -> None:
    mod = impl.load("msgenc")
    deep: Any = 1
    for _ in range(600):
        deep = [deep]
    path, keyword, _ = mod.problem(deep)
    assert keyword == "depth" and path == "[0]" * 512


def test_problem_after_looks_only_when_null_is_there(impl: Any) -> None:
    mod = impl.load("msgenc")
    nan = {"x": float("nan")}
    assert mod.problem_after(b'{"x":1}', nan) is None  # no null: the object is not walked
    assert mod.problem_after(b'{"x":null}', nan)[1] == "finite"
    assert mod.problem_after(b"nul", nan) is None and mod.problem_after(b"null", {"ok": None}) is None


def test_long_digits_matches_a_regex_reference(impl: Any) -> None:
    mod = impl.load("msgbatch")
    ref = re.compile(rb"[0-9]{19}")
    rng = random.Random(5)
    for _ in range(20_000):
        n = rng.randint(0, 70)
        b = bytes(rng.choice(b"0123456789" if rng.random() < 0.8 else b'a,."-e') for _ in range(n))
        assert mod.long_digits(b) == (ref.search(b) is not None), b
    assert mod.long_digits(b'{"v":1180591620717411303425}') and not mod.long_digits(b'{"v":123456789012345678}')
    assert not mod.long_digits("1" * 30) and not mod.long_digits(None)


async def test_delivery_sinks_and_resolve(impl: Any) -> None:
    mod = impl.load("msgbatch")
    loop = asyncio.get_running_loop()

    class Counter:
        n = 0

        def inc(self) -> None:
            self.n += 1

    class Msg:
        def topic(self) -> str:
            return "t"

    sink: list[Any] = []
    acked = Counter()
    plain, ok, bad, done = (loop.create_future() for _ in range(4))
    done.set_result("already")
    mod.delivery(sink, plain)("E1", Msg())
    mod.delivery(sink, ok, acked)(None, Msg())
    mod.delivery(sink, bad, acked)("E2", Msg())
    mod.delivery(sink, done, acked)(None, None)
    failures: list[Any] = []
    mod.resolve(sink, lambda err, topic: (err, topic), failures.append)
    assert plain.result() == ("E1", "t") and ok.result() is True and bad.result() is False
    assert done.result() == "already" and acked.n == 2 and failures == [("E2", "t")]

"""Issue 10 defect 9: values read back from L2/L3 unchanged, type for type, or are refused at
``smart_set``; the pluggable serializer and :class:`TaggedSerializer`, on real Redis and SQLite.

Run on both implementations (``SWFAST_NO_EXTENSIONS=1`` forces the twins); the kernel parity
test compares the compiled ``json_inexact`` with its twin directly.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import importlib
import json
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pytest

from _cache_helpers import Clock

from swfast._native import _cacheval_py
from swfast.cache import TaggedSerializer
from swfast.cache.envelope import REJECT, Codec
from swfast.cache.l1 import L1Cache
from swfast.cache.l2 import DistributedCache
from swfast.cache.l3 import PersistentCache
from swfast.cache.manager import TieredCache
from swfast.errors import CacheSerializationError, ConfigurationError

LOSSY = [{1: "a"}, {True: 1}, (1, 2), [1, (2,)], {"a": {None: 1}}, {1, 2}, frozenset({3}), Decimal("1.5"),
         dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.timezone.utc), float("nan"), np.arange(3)]

RICH: list[Any] = [
    {1: "a"}, {True: 1, 1.5: None}, (1, 2), [1, (2, (3,))], {(1, "a"): {1, 2}}, frozenset({"x"}),
    {"~t": [1]}, {"a": {"~d": 1}}, ["~t", "~x"], b"\x00raw",
    dt.datetime(2024, 5, 1, 12, 0, 0, 7, tzinfo=dt.timezone(dt.timedelta(hours=2))), dt.datetime(2024, 5, 1),
    dt.date(2024, 2, 29), dt.time(23, 59, 1), dt.timedelta(days=-1, seconds=5, microseconds=3),
    Decimal("1.10"), Decimal("-Infinity"), 1 + 2j, uuid.UUID(int=12345), float("inf"),
    {"emb": np.linspace(0, 1, 768, dtype=np.float32)}, np.arange(12, dtype=np.int64).reshape(3, 4),
    np.array(["ab", "c"]), np.array([True, False]), np.array(["2024-01-01"], dtype="datetime64[ns]"),
    np.float64(2.5), np.int8(-3), np.bool_(True),
]


def same(a: Any, b: Any) -> bool:
    """Equal and of the same type, recursively (numpy arrays by dtype, shape and values)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and a.shape == b.shape and bool(np.array_equal(a, b))
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return len(a) == len(b) and all(
            any(same(k, k2) for k2 in b) and same(v, b[k]) for k, v in a.items())
    if isinstance(a, float) and a != a:
        return b != b
    return bool(a == b)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def tiers(redis_client, redis_url, tmp_path: Path, clock: Clock) -> Iterator[tuple[DistributedCache, PersistentCache]]:  # type: ignore[no-untyped-def]
    l2 = DistributedCache(redis_url, timeout=2.0, clock=clock)
    l3 = PersistentCache(tmp_path / "l3", clock=clock)
    yield l2, l3
    l2.close()


def test_json_inexact_kernel_matches_twin() -> None:
    impls = [_cacheval_py.json_inexact]
    try:
        impls.append(importlib.import_module("swfast._native._cacheval_c").json_inexact)
    except ImportError:  # pragma: no cover - a build without kernels
        pass
    deep: Any = 1
    for _ in range(250):
        deep = [deep]
    cases: list[Any] = [None, True, 3, 10**40, 1.5, "s", [], {}, [1, {"a": [None, 2.0]}], *LOSSY, deep,
                        float("-inf"), {"k": [0, {"x": object()}]}, type("S", (str,), {})("sub")]
    for v in cases:
        answers = {f(v) for f in impls}
        assert len(answers) == 1, (v, answers)
    f = impls[-1]
    assert f([1, {"a": [None, 2.0]}]) is None
    assert f([[{"x": (1,)}]]) == "[0][0]['x']: tuple"
    assert f({1: "a"}) == ": dict key 1 of type int (JSON keys are str)"
    assert f(deep) is not None and "deeper" in f(deep)


@pytest.mark.parametrize("value", LOSSY, ids=repr)
def test_lossy_value_is_refused_and_cache_unchanged(tiers, clock, value) -> None:  # type: ignore[no-untyped-def]
    l2, l3 = tiers
    m = TieredCache(l1=L1Cache(100, clock=clock), l2=l2, l3=l3, clock=clock, monotonic=clock)
    m.smart_set("k", "old", priority="high")
    with pytest.raises(CacheSerializationError) as info:
        m.smart_set("k", value)
    assert isinstance(info.value, TypeError) and info.value.where
    assert "serializer=TaggedSerializer()" in str(info.value)
    assert m.smart_get("k") == "old" and l2.get_entry("k")[0] == "old" and l3.get_entry("k")[0] == "old"
    for tier in (l2, l3):
        with pytest.raises(CacheSerializationError):
            tier.encode("k", value, None)


def test_exact_json_still_round_trips_without_serializer(tiers, clock) -> None:  # type: ignore[no-untyped-def]
    l2, l3 = tiers
    value = {"a": [1, 2.0, True, None, "é"], "b": {"c": []}, "n": 10**30}
    m = TieredCache(l2=l2, l3=l3, clock=clock, monotonic=clock)
    m.smart_set("k", value, priority="high")
    assert same(l2.get_entry("k")[0], value) and same(l3.get_entry("k")[0], value)


@pytest.mark.parametrize("compress", [None, 16], ids=["plain", "lz4"])
def test_tagged_serializer_round_trips_through_every_tier(redis_client, redis_url, tmp_path, clock, compress) -> None:  # type: ignore[no-untyped-def]
    ser = TaggedSerializer()
    l2 = DistributedCache(redis_url, timeout=2.0, clock=clock, serializer=ser, compress_threshold=compress)
    l3 = PersistentCache(tmp_path / "l3", clock=clock, serializer=ser, compress_threshold=compress)
    try:
        writer = TieredCache(l2=l2, l3=l3, clock=clock, monotonic=clock)
        for i, v in enumerate(RICH):
            writer.smart_set(f"k{i}", v, priority="high")
        for i, v in enumerate(RICH):
            assert same(l2.get_entry(f"k{i}")[0], v), v
            assert same(l3.get_entry(f"k{i}")[0], v), v
        got = l2.get_many([f"k{i}" for i in range(len(RICH))])  # the batch (MGET) decode path
        assert all(same(got[f"k{i}"][0], v) for i, v in enumerate(RICH))
        reader = TieredCache(l1=L1Cache(100, clock=clock), l3=l3, clock=clock, monotonic=clock)
        assert all(same(reader.smart_get(f"k{i}"), v) for i, v in enumerate(RICH))  # L3 → L1 promotion
        with pytest.raises(CacheSerializationError, match="object"):
            writer.smart_set("bad", object())
        with pytest.raises(CacheSerializationError, match="dtype"):
            writer.smart_set("bad", np.array([object()]))
    finally:
        l2.close()


def test_async_shell_reads_tagged_values(redis_client, redis_url, clock) -> None:  # type: ignore[no-untyped-def]
    l2 = DistributedCache(redis_url, timeout=2.0, clock=clock, serializer=TaggedSerializer())
    al2 = l2.asyncio()
    value = {(1, 2): dt.date(2024, 1, 1), "e": np.ones(4, dtype=np.float16)}
    try:
        l2.distributed_set("k", value, 60)

        async def main() -> Any:
            try:
                return await al2.get_entry("k")
            finally:
                await al2.close()

        entry = asyncio.run(main())
        assert entry is not None and same(entry[0], value)
    finally:
        l2.close()


def test_entry_of_another_serializer_is_a_miss(redis_client, redis_url, clock) -> None:  # type: ignore[no-untyped-def]
    tagged = DistributedCache(redis_url, timeout=2.0, clock=clock, serializer=TaggedSerializer())
    plain = DistributedCache(redis_url, timeout=2.0, clock=clock)
    try:
        tagged.distributed_set("k", (1, 2), 60)
        assert plain.get_entry("k") is None  # foreign serializer id: rejected, never mis-decoded
        tagged.distributed_set("j", [1, 2], 60)  # plain JSON needs no tags: both can read it
        assert plain.get_entry("j")[0] == [1, 2]
    finally:
        tagged.close()
        plain.close()


class Upper:
    """A user serializer: str-encoded JSON lists, upper-cased — proves the protocol is honoured."""

    id = 42

    def dumps(self, value: Any) -> bytes:
        if type(value) is not tuple:
            raise TypeError("tuples only")
        return json.dumps(list(value)).encode()

    def loads(self, data: bytes) -> Any:
        return ("custom", *json.loads(data))


def test_custom_serializer_protocol(tmp_path, clock) -> None:  # type: ignore[no-untyped-def]
    c = Codec(serializer=Upper())
    blob = c.encode((1, 2), 99.0)
    assert blob[1] == 42 and c.decode(blob, b"", 1.0) == (("custom", 1, 2), 99.0)
    assert c.decode(blob, b"", 100.0) is None  # expired
    with pytest.raises(CacheSerializationError, match="tuples only"):
        c.encode({1, 2}, None)
    assert Codec(serializer=TaggedSerializer()).decode(blob, b"", 0.0) is REJECT
    bad = Codec(serializer=TaggedSerializer())
    assert bad.decode(bad.encode((1,), None)[:-1] + b"!", b"", 0.0) is REJECT  # malformed payload
    for wrong, match in ((object(), "dumps"), (type("S", (), {"id": 2, "dumps": len, "loads": len})(), "3..127")):
        with pytest.raises(ConfigurationError, match=match):
            Codec(serializer=wrong)
        with pytest.raises(ConfigurationError, match="serializer"):
            PersistentCache(tmp_path / "x", serializer=wrong)


def test_tiered_cache_serializer_argument(tmp_path, clock) -> None:  # type: ignore[no-untyped-def]
    l3 = PersistentCache(tmp_path / "l3", clock=clock)
    m = TieredCache(l3=l3, clock=clock, monotonic=clock, serializer=TaggedSerializer())
    assert isinstance(l3.codec.serializer, TaggedSerializer)
    m.smart_set("k", {1: (2, 3)}, priority="high")
    assert same(l3.get_entry("k")[0], {1: (2, 3)})
    with pytest.raises(ConfigurationError, match="serializer"):
        TieredCache(l3=PersistentCache(tmp_path / "o", serializer=Upper()), serializer=TaggedSerializer())

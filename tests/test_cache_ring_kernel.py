"""Consistent-hash ring kernel (compiled and twin): the DS-1..DS-4 guarantees on 10^6 keys."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

GOLDEN = json.loads((Path(__file__).parent / "data" / "ring_golden.json").read_text())
N_KEYS = 10**6
KEYS = [f"key:{i}" for i in range(N_KEYS)]


def _ring(mod, n: int, prefix: str = "node"):  # type: ignore[no-untyped-def]
    r = mod.HashRing()
    for i in range(n):
        r.add(f"{prefix}{i}")
    return r


@pytest.fixture(scope="module")
def ten_eleven(request):  # type: ignore[no-untyped-def]
    cache: dict[str, tuple[list[str], list[str], list[str]]] = {}
    return cache


def _assignments(impl, cache):  # type: ignore[no-untyped-def]
    if impl.name not in cache:
        mod = impl.load("ring")
        r = _ring(mod, 10)
        a = r.lookup_many(KEYS)
        r.add("node10")
        b = r.lookup_many(KEYS)
        r.remove("node3")
        c = r.lookup_many(KEYS)
        cache[impl.name] = (a, b, c)
    return cache[impl.name]


def test_golden_hashes(impl):  # type: ignore[no-untyped-def]
    mod = impl.load("ring")
    assert mod.DEFAULT_SEED == GOLDEN["seed"] and mod.DEFAULT_VNODES == GOLDEN["vnodes"]
    for key, h in GOLDEN["hash32"]:
        assert mod.hash32(key) == h, key
        assert mod.hash32(key.encode()) == h, key
    # the published MurmurHash3 x86_32 vectors (seed 0)
    assert mod.hash32("", 0) == 0
    assert mod.hash32("abc", 0) == 0xB3DD93FA


def test_golden_lookups(impl):  # type: ignore[no-untyped-def]
    mod = impl.load("ring")
    r = mod.HashRing()
    for name, w in GOLDEN["nodes"].items():
        r.add(name, w)
    for key, node in GOLDEN["lookup"]:
        assert r.lookup(key) == node, key
    assert r.lookup_many([k for k, _ in GOLDEN["lookup"]]) == [n for _, n in GOLDEN["lookup"]]


def test_growth_moves_one_eleventh_only_to_new_node(impl, ten_eleven):  # type: ignore[no-untyped-def]
    a, b, _ = _assignments(impl, ten_eleven)
    moved = [(x, y) for x, y in zip(a, b) if x != y]
    assert all(y == "node10" for _, y in moved), "a key moved between two old nodes"
    frac = len(moved) / N_KEYS
    # issue floor: 1/11 +- 20 %; benchmark goal +- 5 % (reported, and met by the default vnodes)
    assert abs(frac * 11 - 1) <= 0.20, frac
    assert abs(frac * 11 - 1) <= 0.05, frac


def test_balance(impl, ten_eleven):  # type: ignore[no-untyped-def]
    a, _, _ = _assignments(impl, ten_eleven)
    counts = Counter(a)
    assert len(counts) == 10
    ratio = max(counts.values()) / (N_KEYS / 10)
    assert ratio <= 1.10 and ratio <= 1.05, ratio


def test_removal_moves_only_that_nodes_keys(impl, ten_eleven):  # type: ignore[no-untyped-def]
    _, b, c = _assignments(impl, ten_eleven)
    for x, y in zip(b, c):
        if x != y:
            assert x == "node3"
        assert y != "node3"


def test_twins_agree(impl):  # type: ignore[no-untyped-def]
    mod = impl.load("ring")
    from swfast._native import _ring_py

    r1, r2 = mod.HashRing(vnodes=50), _ring_py.HashRing(vnodes=50)
    for i, w in enumerate([1, 0.5, 3, 1.25]):
        r1.add(f"n{i}", w)
        r2.add(f"n{i}", w)
    keys = [f"k{i}" for i in range(20000)] + [b"\x00\xff", "é"]
    assert r1.lookup_many(keys) == r2.lookup_many(keys)
    assert [r1.preference(k, 3) for k in keys[:500]] == [r2.preference(k, 3) for k in keys[:500]]
    assert r1.assign_bounded(keys, 1.1) == r2.assign_bounded(keys, 1.1)


def test_weights_shift_load(impl):  # type: ignore[no-untyped-def]
    mod = impl.load("ring")
    r = mod.HashRing()
    r.add("small", 1.0)
    r.add("big", 3.0)
    counts = Counter(r.lookup_many(KEYS[:100000]))
    assert 2.7 < counts["big"] / counts["small"] < 3.3
    assert r.weight("big") == 3.0 and r.point_count() == 4000


def test_bounded_loads_caps_every_node(impl):  # type: ignore[no-untyped-def]
    mod = impl.load("ring")
    r = _ring(mod, 10)
    r.add("node3", 4.0)  # skewed weights, then bound near-uniformly by weight
    keys = KEYS[:50000]
    out = r.assign_bounded(keys, 1.02)
    counts = Counter(out)
    total_w = 13.0
    for name, c in counts.items():
        assert c <= -(-1.02 * len(keys) * r.weight(name) // total_w)
    assert sum(counts.values()) == len(keys)
    with pytest.raises(ValueError, match="factor"):
        r.assign_bounded(keys, 0.5)


def test_preference_distinct(impl):  # type: ignore[no-untyped-def]
    mod = impl.load("ring")
    r = _ring(mod, 4)
    p = r.preference("x", 10)
    assert len(p) == 4 and len(set(p)) == 4 and p[0] == r.lookup("x")
    assert mod.HashRing().preference("x", 2) == []


def test_bad_input(impl):  # type: ignore[no-untyped-def]
    mod = impl.load("ring")
    r = mod.HashRing()
    with pytest.raises(LookupError, match="no nodes"):
        r.lookup("a")
    with pytest.raises(TypeError, match="name"):
        r.add("")
    with pytest.raises(ValueError, match="weight"):
        r.add("a", 0)
    with pytest.raises(ValueError, match="weight"):
        r.add("a", float("nan"))
    with pytest.raises(ValueError, match="vnodes"):
        mod.HashRing(vnodes=0)
    r.add("a")
    with pytest.raises(TypeError, match="key: ring keys must be str or bytes, got int"):
        r.lookup(12)
    with pytest.raises(KeyError):
        r.remove("zz")
    assert "a" in r and len(r) == 1 and r.nodes() == ("a",)


def test_same_mapping_in_other_processes(impl):  # type: ignore[no-untyped-def]
    """Random PYTHONHASHSEED never changes the mapping (no use of hash())."""
    mod = impl.load("ring")
    r = _ring(mod, 7)
    keys = [f"p{i}" for i in range(2000)]
    here = r.lookup_many(keys)
    code = (
        f"from swfast._native import _ring_{'c' if impl.name == 'c' else 'py'} as m\n"
        "r = m.HashRing()\n"
        "[r.add(f'node{i}') for i in range(7)]\n"
        "print(','.join(r.lookup_many([f'p{i}' for i in range(2000)])))\n"
    )
    for seed in ("1", "12345"):
        env = dict(os.environ, PYTHONHASHSEED=seed, PYTHONPATH=str(Path(__file__).parents[1]))
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        assert out.stdout.strip().split(",") == here


def test_compiled_ring_loaded():
    from swfast._native import ring
    from swfast._native._compat import NO_EXTENSIONS

    if NO_EXTENSIONS:
        assert ring.HashRing.__module__ == "swfast._native._ring_py"
    else:
        assert ring.HashRing.__module__ == "swfast._native._ring_c"

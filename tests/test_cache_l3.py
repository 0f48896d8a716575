"""L3 persistent tier: restart, TTL, cleanup, integrity, crash safety, many processes, full disk."""
from __future__ import annotations

import json
import os
import pickle
import random
import signal
import sqlite3
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from swfast.cache.l3 import PersistentCache
from swfast.cache.pattern import KeyPattern
from swfast.errors import CacheValueTooLarge
from swfast.monitoring.metrics import REGISTRY

ROOT = str(Path(__file__).parents[1])


class Clock:
    def __init__(self) -> None:
        self.t = 1_700_000_000.0

    def __call__(self) -> float:
        return self.t


def _counter(name: str, *labels: str) -> float:
    m = REGISTRY.get(name)
    if m is None:
        return 0.0
    return (m.labels(*labels) if labels else m).get()  # type: ignore[union-attr]


def test_roundtrip_types_and_none_is_a_value(tmp_path: Path) -> None:
    c = PersistentCache(tmp_path / "l3")
    values = {"b": b"\x00raw", "s": "texte é", "n": None, "i": 7, "f": 1.5, "l": [1, "a"], "d": {"x": [None]},
              "big": "x" * 100_000, "f0": False}
    for k, v in values.items():
        assert c.persistent_set(k, v) is True
    for k, v in values.items():
        assert c.persistent_get(k, "MISS") == v
    assert c.persistent_get("absent", "MISS") == "MISS"
    assert c.get_entry("n") is not None and c.get_entry("n")[0] is None  # type: ignore[index]


@pytest.mark.parametrize("n", [0, 1, 3, 64, 100, 127])
def test_batched_set_every_chunk_size(tmp_path: Path, n: int) -> None:
    now = [1000.0]
    c = PersistentCache(tmp_path / "l3", clock=lambda: now[0], compress_threshold=64)
    items = {f"k{i}": [b"b%d" % i, f"s{i}é", {"j": i}, "z" * (100 + i), None][i % 5] for i in range(n)}
    assert c.persistent_set_many(items, ttl=50.0)
    db = sqlite3.connect(tmp_path / "l3" / "cache.sqlite3")
    rows = db.execute("SELECT key, length(value), size, expire_at, stored_at FROM entries").fetchall()
    assert sorted(r[0] for r in rows) == sorted(items)
    assert all(r[1] == r[2] and r[3] == 1050.0 and r[4] == 1000.0 for r in rows)
    assert all(c.persistent_get(k, "MISS") == v for k, v in items.items())
    now[0] = 1050.0
    assert all(c.persistent_get(k, "MISS") == "MISS" for k in items)  # expired at the boundary


def test_survives_restart(tmp_path: Path) -> None:
    c = PersistentCache(tmp_path / "l3")
    c.persistent_set_many({f"k{i}": i for i in range(100)})
    c.close()
    c2 = PersistentCache(tmp_path / "l3")
    assert [c2.persistent_get(f"k{i}") for i in range(100)] == list(range(100))


def test_ttl_with_injected_clock(tmp_path: Path) -> None:
    clock = Clock()
    c = PersistentCache(tmp_path / "l3", clock=clock, default_ttl=None)
    c.persistent_set("a", 1, ttl=10)
    c.persistent_set("forever", 2)
    clock.t += 9.999
    assert c.persistent_get("a") == 1
    entry = c.get_entry("a")
    assert entry is not None and entry[1] == pytest.approx(clock.t + 0.001, abs=1e-3)
    clock.t += 0.001
    assert c.persistent_get("a", "MISS") == "MISS"
    assert c.get_entry("forever") == (2, None)
    assert c.persistent_set("forever", 3, ttl=0) and c.persistent_get("forever", "MISS") == "MISS"
    with pytest.raises(ValueError, match="ttl"):
        c.persistent_set("x", 1, ttl=-1)


def test_cleanup_expired_and_size_limit(tmp_path: Path) -> None:
    clock = Clock()
    c = PersistentCache(tmp_path / "l3", clock=clock, max_bytes=10_000, compress_threshold=None)
    for i in range(10):
        c.persistent_set(f"old{i}", "x" * 100, ttl=5)
    for i in range(50):
        clock.t += 0.01
        c.persistent_set(f"k{i:02d}", "y" * 1000, ttl=1000)
    clock.t += 6
    out = c.cleanup()
    assert out["expired"] == 10
    assert out["bytes"] <= 10_000 and out["evicted"] > 0
    survivors = [i for i in range(50) if c.persistent_get(f"k{i:02d}") is not None]
    assert survivors == list(range(50 - len(survivors), 50))  # oldest went first
    assert c.stats()["bytes"] <= 10_000


def test_directory_private_and_tightened(tmp_path: Path) -> None:
    d = tmp_path / "l3"
    PersistentCache(d)
    assert stat.S_IMODE(d.stat().st_mode) == 0o700
    assert stat.S_IMODE((d / "mac.key").stat().st_mode) == 0o600
    d.chmod(0o755)
    PersistentCache(d)
    assert stat.S_IMODE(d.stat().st_mode) == 0o700


def test_tampered_and_planted_entries_are_misses(tmp_path: Path) -> None:
    c = PersistentCache(tmp_path / "l3")
    c.persistent_set("a", "good")
    c.persistent_set("b", "other")
    db = sqlite3.connect(tmp_path / "l3" / "cache.sqlite3")

    class Boom:
        def __reduce__(self):  # type: ignore[no-untyped-def]
            return (os.system, ("touch " + str(tmp_path / "pwned"),))

    before = _counter("swfast_cache_l3_rejected_total")
    blob = db.execute("SELECT value FROM entries WHERE key='a'").fetchone()[0]
    db.execute("UPDATE entries SET value=? WHERE key='a'", (blob[:-1] + bytes([blob[-1] ^ 1]),))
    db.execute("INSERT INTO entries VALUES ('p', ?, NULL, 0, 10)", (pickle.dumps(Boom()),))
    # a valid row for another key moved under this one (MAC binds the key)
    b_blob = db.execute("SELECT value FROM entries WHERE key='b'").fetchone()[0]
    db.execute("INSERT INTO entries VALUES ('c', ?, NULL, 0, 10)", (b_blob,))
    db.commit()
    assert c.persistent_get("a", "MISS") == "MISS"
    assert c.persistent_get("p", "MISS") == "MISS"
    assert c.persistent_get("c", "MISS") == "MISS"
    assert c.persistent_get("b") == "other"
    assert not (tmp_path / "pwned").exists()
    assert _counter("swfast_cache_l3_rejected_total") == before + 3
    # lz4-compressed rows take the codec's path: intact ones decode, tampered ones are rejected
    c.persistent_set("z", "z" * 9000)
    assert c.persistent_get("z") == "z" * 9000 and c.get_entry("z")[0] == "z" * 9000  # type: ignore[index]
    blob = db.execute("SELECT value FROM entries WHERE key='z'").fetchone()[0]
    db.execute("UPDATE entries SET value=? WHERE key='z'", (blob[:20] + bytes([blob[20] ^ 1]) + blob[21:],))
    db.commit()
    assert c.persistent_get("z", "MISS") == "MISS"
    assert _counter("swfast_cache_l3_rejected_total") == before + 4
    assert c.get_entry("a") is None and c.get_entry("c") is None and c.get_entry("z") is None  # the entry path too
    assert c.get_entry("b") == ("other", pytest.approx(time.time() + 7 * 86400, abs=60))
    assert _counter("swfast_cache_l3_rejected_total") == before + 7


def test_limits_write_nothing(tmp_path: Path) -> None:
    c = PersistentCache(tmp_path / "l3", max_value_bytes=1000, compress_threshold=None)
    with pytest.raises(CacheValueTooLarge) as info:
        c.persistent_set("k", "x" * 2000)
    assert info.value.limit == 1000 and info.value.size > 1000
    with pytest.raises(CacheValueTooLarge, match="key"):
        c.persistent_set("k" * 2000, "v")
    with pytest.raises(CacheValueTooLarge):
        c.persistent_set_many({"ok": 1, "bad": "x" * 5000})
    assert c.stats()["entries"] == 0
    with pytest.raises(TypeError, match="never pickles"):
        c.persistent_set("k", object())
    with pytest.raises(TypeError, match="key"):
        c.persistent_get(1)  # type: ignore[arg-type]


def test_full_disk_is_counted_and_returns_false(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    c = PersistentCache(tmp_path / "l3", compress_threshold=None)
    c.persistent_set("small", 1)
    conn = c._conn()
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count={pages + 2}")  # SQLITE_FULL: the disk is full
    before = _counter("swfast_cache_l3_errors_total", "set", "full")
    with caplog.at_level("ERROR", logger="swfast.cache.l3"):
        ok = c.persistent_set_many({f"k{i}": "z" * 4000 for i in range(50)})
    assert ok is False
    assert _counter("swfast_cache_l3_errors_total", "set", "full") == before + 1
    assert "full" in caplog.text
    assert c.persistent_get("small") == 1 and c.persistent_get("k0") is None  # application goes on


def test_delete_and_pattern(tmp_path: Path) -> None:
    c = PersistentCache(tmp_path / "l3")
    c.persistent_set_many({"user:[1]a": 1, "user:[1]b": 2, "user:1x": 3, "user:[2]": 4, "u*": 5, "other": 6})
    assert c.delete_matching(KeyPattern("user:[1]*")) == 2
    assert c.persistent_get("user:1x") == 3 and c.persistent_get("user:[2]") == 4
    assert c.delete_matching(KeyPattern("u\\*")) == 1 and c.persistent_get("other") == 6
    assert c.persistent_delete(["other", "nope"]) == 1


def test_fork_child_and_parent(tmp_path: Path) -> None:
    c = PersistentCache(tmp_path / "l3")
    c.persistent_set("before", 1)
    assert c.persistent_get("before") == 1
    parent_cursor = c._local.fast
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        fresh = c._local.fast is None  # the parent's read cursor is dropped at fork
        ok = c.persistent_get("before") == 1 and c.persistent_set("child", 2)
        code = 0 if fresh and ok and c._local.fast is not parent_cursor else 1
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert c.persistent_get("child") == 2 and c.persistent_set("parent", 3)


_WRITER = textwrap.dedent("""
    import sys
    from swfast.cache.l3 import PersistentCache
    c = PersistentCache(sys.argv[1])
    trial = int(sys.argv[2])
    print("ready", flush=True)
    for i in range(10000):
        key = f"k{i}"
        c.persistent_set(key, {"key": key, "trial": trial, "pad": "p" * (i % 700), "sum": i * 7})
""")


def test_sigkill_mid_write_never_leaves_partial_entries(tmp_path: Path) -> None:
    d = str(tmp_path / "l3")
    env = dict(os.environ, PYTHONPATH=ROOT)
    rng = random.Random(5)
    for trial in range(20):
        p = subprocess.Popen([sys.executable, "-c", _WRITER, d, str(trial)], stdout=subprocess.PIPE, env=env)
        assert p.stdout is not None and p.stdout.readline().strip() == b"ready"
        time.sleep(rng.uniform(0.005, 0.08))
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
        c = PersistentCache(d)  # opening never raises
        conn = c._conn()
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = conn.execute("SELECT key FROM entries").fetchall()
        for (key,) in rows:
            v = c.persistent_get(key, "MISS")
            assert v != "MISS", f"{key} present but fails its check"
            i = int(key[1:])
            assert v["key"] == key and v["sum"] == i * 7 and v["pad"] == "p" * (i % 700)
        c.close()


_WORKER = textwrap.dedent("""
    import json, random, sys
    from swfast.cache.l3 import PersistentCache
    c = PersistentCache(sys.argv[1], busy_timeout=30)
    w = int(sys.argv[2]); rng = random.Random(w); acked = {}
    for j in range(10000):
        r = rng.random()
        if r < 0.6:
            key = f"w{w}:{rng.randrange(3000)}"
            if c.persistent_set(key, [w, j]):
                acked[key] = [w, j]
            else:
                print("set failed", key, file=sys.stderr)
        elif r < 0.65:
            batch = {f"w{w}:b{j}:{n}": [w, j, n] for n in range(5)}
            if c.persistent_set_many(batch):
                acked.update(batch)
        else:
            key = f"w{rng.randrange(4)}:{rng.randrange(3000)}"
            v = c.persistent_get(key)
            assert v is None or (isinstance(v, list) and v[0] == int(key[1]))
            if key in acked:
                assert v == acked[key], (key, v, acked[key])
    json.dump(acked, open(sys.argv[3], "w"))
""")


def test_four_processes_lose_nothing_acknowledged(tmp_path: Path) -> None:
    d = str(tmp_path / "l3")
    PersistentCache(d)
    env = dict(os.environ, PYTHONPATH=ROOT)
    procs = [
        subprocess.Popen([sys.executable, "-c", _WORKER, d, str(w), str(tmp_path / f"acked{w}.json")], env=env)
        for w in range(4)
    ]
    assert [p.wait(timeout=240) for p in procs] == [0, 0, 0, 0]
    c = PersistentCache(d)
    total = 0
    for w in range(4):
        acked = json.loads((tmp_path / f"acked{w}.json").read_text())
        total += len(acked)
        for key, v in acked.items():
            assert c.persistent_get(key) == v, key
    assert total > 4 * 2000
    assert c._conn().execute("PRAGMA integrity_check").fetchone()[0] == "ok"

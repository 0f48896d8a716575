"""The compiled tiered-cache front (and twin), import hygiene, and manager fault behaviour."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from _cache_helpers import DictL1
from _servers import free_port

ROOT = Path(__file__).parents[1]


class _Soft:
    def __init__(self, value: Any) -> None:
        self.value = value


def _front(impl, l1: DictL1, tracker: Any = None):  # type: ignore[no-untyped-def]
    base = impl.load("front").TierFront

    class Front(base):  # type: ignore[misc, valid-type]
        def __init__(self) -> None:
            self._l1_get = l1.fast_get
            self._soft_type = _Soft
            self.tracker = tracker
            self.l1_hits = 0
            self.calls: list[tuple[Any, ...]] = []
            self._on_soft, self._on_miss = self.soft, self.miss  # passed explicitly, not looked up by name

        def soft(self, key: Any, v: Any, loader: Any, ttl: Any) -> Any:
            self.calls.append(("soft", key))
            return v.value

        def miss(self, key: Any, loader: Any, ttl: Any, default: Any, failed: bool) -> Any:
            self.calls.append(("miss", key, ttl, default, failed))
            return default

    return Front()


def test_front_hit_miss_soft_and_failure(impl) -> None:  # type: ignore[no-untyped-def]
    l1 = DictL1()
    f = _front(impl, l1)
    l1.fast_set("a", None)
    l1.fast_set("s", _Soft("old"))
    assert f.smart_get("a", default="D") is None and f.l1_hits == 1  # stored None is a hit
    assert f.smart_get("b", ttl=5, default="D") == "D"
    assert f.smart_get("s") == "old"
    l1.fast_get = lambda *a: (_ for _ in ()).throw(RuntimeError("boom"))  # type: ignore[method-assign]
    f._l1_get = l1.fast_get
    assert f.smart_get("a", default="D") == "D"
    assert f.calls == [("miss", "b", 5, "D", False), ("soft", "s"), ("miss", "a", None, "D", True)]
    t = _front(impl, DictL1(), tracker=object())
    assert t.smart_get("x") is None and t.calls[0][0] == "miss"  # tracking goes the Python way


def test_import_is_light() -> None:
    code = (
        "import sys\n"
        "import swfast.cache.manager, swfast.cache.l2, swfast.cache.l2_async, swfast.cache.l3, "
        "swfast.cache.ring, swfast.cache.invalidation, swfast.cache.analytics, swfast.cache.usage, "
        "swfast.cache.tinylfu, swfast.cache.memoize, swfast.cache._effects\n"
        "bad = [m for m in ('redis', 'numba', 'cupy', 'confluent_kafka', 'cryptography', 'lz4.block') if m in sys.modules]\n"
        "print(bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_smart_get_with_refused_l2_serves_l3_quickly(tmp_path: Path) -> None:
    from swfast.cache.l2 import DistributedCache
    from swfast.cache.l3 import PersistentCache
    from swfast.cache.manager import TieredCache

    l2 = DistributedCache(f"redis://127.0.0.1:{free_port()}/0", timeout=0.05)
    l3 = PersistentCache(tmp_path / "l3")
    l3.persistent_set("k", "from-l3")
    m = TieredCache(l1=DictL1(), l2=l2, l3=l3)
    worst = 0.0
    for i in range(20):
        m.l1.clear()
        t = time.perf_counter()
        assert m.smart_get("k") == "from-l3"
        assert m.smart_get(f"miss{i}", lambda: "loaded") == "loaded"  # writes to L2 fail quietly
        worst = max(worst, time.perf_counter() - t)
    assert worst < 1.0  # bounded by the 50 ms L2 timeout, then the gate skips L2
    assert m.stats.snapshot()["hits"]["l3"] == 20
    l2.close()


def test_invalidation_landing_before_the_read_reply_caches_nothing() -> None:
    """Redis' placeholder rule: an invalidation during the L2 read leaves nothing in L1."""
    from swfast.cache.manager import TieredCache

    class SlowL2:
        codec = type("C", (), {"max_value_bytes": 1 << 20})()

        def get_entry(self, key: str) -> Any:
            m.drop_local([key])  # the invalidation message arrives before the reply
            return ("old", None)

    m = TieredCache(l1=DictL1(), l2=SlowL2())
    assert m.smart_get("k") == "old"
    assert not m.l1.check_vitality("k")


@pytest.mark.parametrize("kernel", ["ring", "sketch", "cacheval", "front"])
def test_compiled_kernels_loaded(kernel: str) -> None:
    import importlib

    from swfast._native._compat import NO_EXTENSIONS

    sel = importlib.import_module(f"swfast._native.{kernel}")
    names = [n for n in sel.__all__ if not n.isupper()]
    mod = getattr(sel, names[0]).__module__
    assert mod == f"swfast._native._{kernel}_{'py' if NO_EXTENSIONS else 'c'}"

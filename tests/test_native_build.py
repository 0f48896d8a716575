"""The compiled kernels really load, the switch really switches, and import stays light."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import swfast
from swfast._native._compat import NO_EXTENSIONS

ROOT = Path(__file__).resolve().parents[1]
KERNELS = sorted(p.stem for p in (ROOT / "swfast" / "_native").glob("*_c.pyx"))


def _run(code: str, **env: str) -> str:
    full_env = {**os.environ, **env}
    full_env.pop("SWFAST_NO_EXTENSIONS", None) if "SWFAST_NO_EXTENSIONS" not in env else None
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=full_env, cwd=ROOT, check=True)
    return out.stdout.strip()


@pytest.mark.skipif(NO_EXTENSIONS, reason="compiled kernels disabled by SWFAST_NO_EXTENSIONS")
@pytest.mark.parametrize("kernel", KERNELS)
def test_compiled_kernel_loaded(kernel):
    import importlib

    module = importlib.import_module(f"swfast._native.{kernel}")
    assert module.__file__.endswith((".so", ".pyd")), module.__file__
    assert swfast.USE_EXTENSIONS is True


def test_selectors_pick_compiled_by_default_and_twins_with_the_switch():
    code = (
        "import json, swfast; from swfast._native import lru, metrics;"
        "print(json.dumps([swfast.USE_EXTENSIONS, lru.LRUCore.__module__, metrics.CounterCell.__module__]))"
    )
    twin = json.loads(_run(code, SWFAST_NO_EXTENSIONS="1"))
    assert twin == [False, "swfast._native._lru_py", "swfast._native._metrics_py"]
    if not NO_EXTENSIONS:
        compiled = json.loads(_run(code))
        assert compiled == [True, "swfast._native._lru_c", "swfast._native._metrics_c"]


HEAVY = ["numba", "cupy", "pynvml", "redis", "confluent_kafka", "cryptography", "numpy", "psutil"]


def test_import_swfast_loads_no_heavy_dependency():
    code = (
        "import sys, json, swfast, swfast.cache, swfast.monitoring, swfast.errors;"
        "from swfast.cache import L1Cache, cached;"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    assert json.loads(_run(code)) == []


def test_free_threaded_build_keeps_the_gil():
    """L1-9: the kernels do not declare free-threading support, so importing them must not
    leave a free-threaded interpreter running without the GIL."""
    if not hasattr(sys, "_is_gil_enabled"):
        pytest.skip("this interpreter has no free-threaded mode (CPython < 3.13)")
    out = _run("import sys, swfast.cache.l1; print(sys._is_gil_enabled())")
    assert out == "True"

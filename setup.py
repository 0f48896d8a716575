"""Build the compiled kernels; all metadata lives in pyproject.toml.

Every ``swfast/_native/*_c.pyx`` becomes an extension module. ``SWFAST_NO_EXTENSIONS=1``
skips compiling (the pure-Python twins are then used at run time).
"""
import os
from pathlib import Path

from setuptools import Extension, setup

NO_EXTENSIONS = bool(os.environ.get("SWFAST_NO_EXTENSIONS"))


def _extensions() -> list:
    if NO_EXTENSIONS:
        return []
    from Cython.Build import cythonize

    here = Path(__file__).parent
    exts = [
        Extension(
            f"swfast._native.{pyx.stem}",
            [str(pyx.relative_to(here))],
            extra_compile_args=["-O3"],
        )
        for pyx in sorted((here / "swfast" / "_native").glob("*_c.pyx"))
    ]
    return cythonize(
        exts,
        language_level=3,
        compiler_directives={
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "embedsignature": True,
        },
    )


setup(ext_modules=_extensions())

"""The main job: a model-serving pipeline through every component (``swfast demo``), and the
pipeline benchmark against the libraries swfast replaces (``swfast bench``).

Names load on first access, so ``import swfast.demo`` imports nothing heavy.
"""
from __future__ import annotations

from .._lazy import attach

TYPE_CHECKING = False

_EXPORTS = {
    "Demo": "runner",
    "DemoConfig": "runner",
    "format_summary": "runner",
    "run_demo": "runner",
    "main": "cli",
    "bench_main": "benchreport",
}

if TYPE_CHECKING:  # pragma: no cover
    from .benchreport import bench_main as bench_main
    from .cli import main as main
    from .runner import Demo as Demo
    from .runner import DemoConfig as DemoConfig
    from .runner import format_summary as format_summary
    from .runner import run_demo as run_demo

__getattr__, __dir__ = attach(__name__, _EXPORTS)

__all__ = sorted(_EXPORTS)

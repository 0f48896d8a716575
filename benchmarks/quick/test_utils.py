"""Quick benchmarks of swfast.utils against peers (ratios printed by the quick conftest).

Groups: schema.message (one 15-field message), schema.batch100 (an array of 100), text.normalize_fa
(40 Persian paragraphs), stats.moments_percentiles_1e6 / stats.moments_1e6 (10^6 float64),
matrix.matmul_256, matrix.cosine_topk.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import _utils_peers as peers  # noqa: E402

from swfast._native import stats as _stats  # noqa: E402
from swfast._native._compat import NO_EXTENSIONS  # noqa: E402
from swfast.utils import compile_schema, matrix_calculations, normalize_text  # noqa: E402
from swfast.utils import statistical_analysis, warmup  # noqa: E402

SELF = "swfast-py" if NO_EXTENSIONS else "swfast"


def _twin_validator(schema: Any) -> Any:
    from _schema_helpers import compile_with

    from swfast._native._jsonschema_py import Node

    return compile_with(schema, Node).validate


def _schema_impls(schema: Any) -> dict[str, Any]:
    impls = {SELF: compile_schema(schema).validate,
             "fastjsonschema": peers.fastjsonschema_validator(schema),
             "jsonschema": peers.jsonschema_validator(schema)}
    if not NO_EXTENSIONS:
        impls["swfast-py"] = _twin_validator(schema)
    return impls


MSG_IMPLS = sorted(["swfast", "swfast-py", "fastjsonschema", "jsonschema", "msgspec"])


@pytest.mark.parametrize("impl", MSG_IMPLS)
def test_schema_message(benchmark: Any, impl: str) -> None:
    impls = _schema_impls(peers.MESSAGE_SCHEMA)
    impls["msgspec"] = peers.msgspec_message_converter()
    if impl not in impls:
        pytest.skip("compiled kernels disabled")
    fn, data = impls[impl], peers.MESSAGE
    fn(data)
    benchmark.group = "schema.message"
    benchmark.extra_info["impl"] = impl
    benchmark(fn, data)


@pytest.mark.parametrize("impl", sorted(["swfast", "swfast-py", "fastjsonschema"]))
def test_schema_batch100(benchmark: Any, impl: str) -> None:
    impls = _schema_impls(peers.BATCH_SCHEMA)
    if impl not in impls:
        pytest.skip("compiled kernels disabled")
    fn = impls[impl]
    fn(peers.BATCH)
    benchmark.group = "schema.batch100"
    benchmark.extra_info["impl"] = impl
    benchmark(fn, peers.BATCH)


def _normalizers() -> dict[str, Any]:
    name, hz = peers.hazm_normalizer()
    out = {SELF: normalize_text, name: hz}
    if not NO_EXTENSIONS:
        import swfast._native._text_py as twin
        import swfast.utils.text as text_mod

        def py_normalize(s: str) -> str:
            saved = text_mod.normalize_chars, text_mod.affix_join
            text_mod.normalize_chars = twin.normalize_chars  # type: ignore[assignment]
            text_mod.affix_join = twin.affix_join  # type: ignore[assignment]
            try:
                return normalize_text(s)
            finally:
                text_mod.normalize_chars, text_mod.affix_join = saved  # type: ignore[assignment]

        out["swfast-py"] = py_normalize
    if name == "hazm":
        out["hazm-reimpl"] = peers.HazmReimpl().normalize
    return out


@pytest.mark.parametrize("impl", ["hazm", "hazm-reimpl", "swfast", "swfast-py"])
def test_text_normalize_fa(benchmark: Any, impl: str) -> None:
    impls = _normalizers()
    if impl not in impls:
        pytest.skip(f"{impl} not available here")
    fn = impls[impl]
    corpus = peers.PERSIAN_CORPUS

    def run() -> None:
        for s in corpus:
            fn(s)

    benchmark.group = "text.normalize_fa"
    benchmark.extra_info["impl"] = impl
    benchmark(run)


@pytest.fixture(scope="module")
def big() -> np.ndarray:
    return np.random.default_rng(0).standard_normal(10**6)


@pytest.fixture(scope="module")
def jit_seconds() -> float:
    t0 = time.perf_counter()
    warmup()
    return time.perf_counter() - t0


@pytest.mark.parametrize("impl", ["numpy", "swfast", "swfast-py"])
def test_stats_moments_percentiles(benchmark: Any, impl: str, big: np.ndarray,
                                   jit_seconds: float) -> None:
    if impl == "swfast" and not _stats.numba_available():
        pytest.skip("numba engine disabled")
    engine = {"swfast": "numba", "swfast-py": "numpy"}.get(impl)
    fn = peers.numpy_stats if engine is None else (
        lambda a: statistical_analysis(a, engine=engine))
    benchmark.group = "stats.moments_percentiles_1e6"
    benchmark.extra_info["impl"] = impl
    benchmark.extra_info["first_call_jit_s"] = round(jit_seconds, 3)
    benchmark(fn, big)


@pytest.mark.parametrize("impl", ["numpy", "swfast"])
def test_stats_moments_only(benchmark: Any, impl: str, big: np.ndarray,
                            jit_seconds: float) -> None:
    if impl == "swfast" and not _stats.numba_available():
        pytest.skip("numba engine disabled")
    fn = (lambda a: (a.mean(), a.std(), a.min(), a.max())) if impl == "numpy" else (
        lambda a: statistical_analysis(a, percentiles=()))
    benchmark.group = "stats.moments_1e6"
    benchmark.extra_info["impl"] = impl
    benchmark(fn, big)


@pytest.mark.parametrize("impl", ["numpy", "swfast"])
def test_matrix_matmul(benchmark: Any, impl: str) -> None:
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((256, 256)), rng.standard_normal((256, 256))
    fn = (lambda: a @ b) if impl == "numpy" else (lambda: matrix_calculations("matmul", a, b))
    benchmark.group = "matrix.matmul_256"
    benchmark.extra_info["impl"] = impl
    benchmark(fn)


@pytest.mark.parametrize("impl", ["numpy", "swfast"])
def test_matrix_cosine_topk(benchmark: Any, impl: str, jit_seconds: float) -> None:
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((64, 128)), rng.standard_normal((2000, 128))
    fn = (lambda: peers.numpy_cosine_topk(a, b, 10)) if impl == "numpy" else (
        lambda: matrix_calculations("nearest", a, b, k=10))
    benchmark.group = "matrix.cosine_topk"
    benchmark.extra_info["impl"] = impl
    benchmark(fn)


@pytest.mark.parametrize("impl", ["apscheduler", "swfast"])
def test_scheduler_cron_next(benchmark: Any, impl: str) -> None:
    from datetime import datetime, timezone

    from swfast.utils.triggers import Cron

    ts = 1_710_000_000.0
    if impl == "apscheduler":
        cron_mod = pytest.importorskip("apscheduler.triggers.cron")
        trig = cron_mod.CronTrigger.from_crontab("*/15 9-17 * * mon-fri", timezone=timezone.utc)
        now = datetime.fromtimestamp(ts, timezone.utc)
        fn = lambda: trig.get_next_fire_time(None, now)  # noqa: E731
    else:
        cron = Cron("*/15 9-17 * * mon-fri")
        fn = lambda: cron.next_after(ts)  # noqa: E731
    benchmark.group = "scheduler.cron_next"
    benchmark.extra_info["impl"] = impl
    benchmark(fn)


@pytest.mark.parametrize("impl", ["apscheduler", "swfast"])
def test_scheduler_interval_next(benchmark: Any, impl: str) -> None:
    from datetime import datetime, timezone

    from swfast.utils.triggers import Interval

    ts = 1_710_000_003.0
    if impl == "apscheduler":
        interval_mod = pytest.importorskip("apscheduler.triggers.interval")
        trig = interval_mod.IntervalTrigger(seconds=10, start_date=datetime(
            2024, 1, 1, tzinfo=timezone.utc))
        now = datetime.fromtimestamp(ts, timezone.utc)
        fn = lambda: trig.get_next_fire_time(None, now)  # noqa: E731
    else:
        iv = Interval(10)
        fn = lambda: iv.next_after(ts)  # noqa: E731
    benchmark.group = "scheduler.interval_next"
    benchmark.extra_info["impl"] = impl
    benchmark(fn)

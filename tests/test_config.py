"""swfast.config: one environment scheme, documented in README; optional deps name their extra."""
from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from swfast import config
from swfast._optional import MissingDependency, require

ROOT = Path(__file__).resolve().parents[1]


def test_readme_table_is_the_config_table() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "## Environment variables" in readme
    assert config.markdown_table() in readme


def test_every_swfast_variable_in_the_package_is_documented() -> None:
    import re

    documented = {v.name for v in config.VARIABLES} | {config.KAFKA_BOOTSTRAP_DEPRECATED}
    found: set[str] = set()
    for path in (ROOT / "swfast").rglob("*.py"):
        found |= set(re.findall(r"\bSWFAST_[A-Z0-9_]*[A-Z0-9]\b", path.read_text()))
    assert found <= documented, sorted(found - documented)


def test_readers_and_flags() -> None:
    env = {"SWFAST_REDIS_URL": " redis://h:1/0 ", "SWFAST_NO_EXTENSIONS": "0", "SWFAST_NUMBA": "0"}
    assert config.redis_url(env) == "redis://h:1/0"
    assert config.no_extensions(env) is False and config.no_extensions({"SWFAST_NO_EXTENSIONS": "1"}) is True
    assert config.numba_enabled(env) is False and config.numba_enabled({}) is True
    assert config.redis_url({}) is None and config.kafka_bootstrap({}) is None and config.log_spec({}) is None
    with pytest.raises(KeyError, match="not a documented"):
        config.get("SWFAST_NOPE", {})


def test_kafka_bootstrap_old_name_is_read_with_a_deprecation_warning() -> None:
    config._reset_warnings()
    with pytest.warns(DeprecationWarning, match="SWFAST_KAFKA_BOOTSTRAP_SERVERS"):
        assert config.kafka_bootstrap({"SWFAST_KAFKA_BOOTSTRAP": "h:9092"}) == "h:9092"
    assert config.kafka_variable({"SWFAST_KAFKA_BOOTSTRAP": "h:9092"}) == "SWFAST_KAFKA_BOOTSTRAP"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # once per process
        assert config.kafka_bootstrap({"SWFAST_KAFKA_BOOTSTRAP": "h:9092"}) == "h:9092"
        # the new name wins when both are set
        both = {"SWFAST_KAFKA_BOOTSTRAP": "old:1", "SWFAST_KAFKA_BOOTSTRAP_SERVERS": "new:2"}
        assert config.kafka_bootstrap(both) == "new:2"
        assert config.kafka_bootstrap({"SWFAST_KAFKA_BOOTSTRAP_SERVERS": "new:2"}) == "new:2"
    config._reset_warnings()


def test_snapshot_redacts_credentials() -> None:
    snap = config.snapshot({"SWFAST_REDIS_URL": "redis://:s3cret@cache:6379/2",
                            "SWFAST_KAFKA_BOOTSTRAP_SERVERS": "user:pw@k1:9092,k2:9092"})
    assert snap["SWFAST_REDIS_URL"] == "redis://***@cache:6379/2"
    assert snap["SWFAST_KAFKA_BOOTSTRAP_SERVERS"] == "***@k1:9092,k2:9092"
    assert "s3cret" not in repr(snap) and "pw" not in repr(snap)
    assert snap["SWFAST_NO_EXTENSIONS"] is None


def test_no_extensions_goes_through_config() -> None:
    code = "import swfast, swfast._native._compat as c; print(c.NO_EXTENSIONS, swfast.USE_EXTENSIONS)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         env={**os.environ, "SWFAST_NO_EXTENSIONS": "1"}, timeout=60)
    assert out.stdout.split() == ["True", "False"], out.stderr


def test_require_names_the_extra() -> None:
    with pytest.raises(MissingDependency, match=r'pip install "swfast\[kafka\]"') as info:
        require("swfast_no_such_module_xyz", "kafka", feature="KafkaService")
    assert isinstance(info.value, ImportError) and info.value.extra == "kafka"
    assert require("json", "test").dumps([1]) == "[1]"


def test_kafka_service_without_confluent_names_the_extra() -> None:
    code = (
        "import sys, asyncio; sys.modules['confluent_kafka'] = None\n"
        "from swfast.messaging import KafkaService\n"
        "try:\n    asyncio.run(KafkaService('127.0.0.1:1').connect())\n"
        "except ImportError as e:\n    print(type(e).__name__, e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert 'MissingDependency' in out.stdout and 'pip install "swfast[kafka]"' in out.stdout, out.stderr


def test_help_and_pydoc_do_not_crash_on_absent_subpackages() -> None:
    import pydoc

    import swfast

    text = pydoc.render_doc(swfast)
    assert "swfast" in text
    for name in swfast._SUBPACKAGES:
        present = swfast._present(name)
        assert hasattr(swfast, name) is present
        assert (name in dir(swfast)) is present
    out = subprocess.run([sys.executable, "-m", "pydoc", "swfast"], capture_output=True, text=True, cwd=ROOT,
                         timeout=120)
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr


def test_one_operation_timeout_constant() -> None:
    """SPEC's ``DEFAULT_OPERATION_TIMEOUT = 30`` is one object (swfast.config), re-exported by
    messaging and resilience; the 50 ms bound of one L2 call is a separate, separately named
    constant (it was the same name with a different value in the cache)."""
    import inspect

    from swfast import config
    from swfast.cache.l2 import DistributedCache
    from swfast.messaging import constants
    from swfast.resilience import DEFAULT_OPERATION_TIMEOUT, Retrying

    assert config.DEFAULT_OPERATION_TIMEOUT == 30 and config.L2_CALL_TIMEOUT == 0.05
    assert constants.DEFAULT_OPERATION_TIMEOUT is config.DEFAULT_OPERATION_TIMEOUT is DEFAULT_OPERATION_TIMEOUT
    assert Retrying(on=OSError).timeout == config.DEFAULT_OPERATION_TIMEOUT
    assert inspect.signature(DistributedCache).parameters["timeout"].default == config.L2_CALL_TIMEOUT

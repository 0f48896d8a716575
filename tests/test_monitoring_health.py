"""HealthChecker verdicts, timeouts, caching, built-ins; HealthReporter endpoints and sinks."""
from __future__ import annotations

import asyncio
import json
import threading
import urllib.error
import urllib.request
from typing import Any

import pytest

from swfast.errors import ConfigurationError
from swfast.monitoring.health import CONTENT_TYPE_HEALTH, HealthChecker, HealthReporter, LogSink


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_empty_checker_is_healthy_and_construction_is_inert() -> None:
    before = threading.active_count()
    hc = HealthChecker()
    HealthReporter()
    assert threading.active_count() == before
    assert hc.check()["status"] == "pass" and hc.live()["status"] == "pass"


def test_criticality_grades_fail_and_degraded() -> None:
    hc = HealthChecker(ttl=0)
    hc.add_check("db", lambda: True)
    hc.add_check("cache", lambda: False, critical=False)
    doc = hc.check()
    assert doc["status"] == "warn" and "cache" in doc["output"]
    assert doc["checks"]["cache"][0]["status"] == "fail"
    hc.add_check("db", lambda: False)
    assert hc.check()["status"] == "fail"


def test_hanging_and_raising_checks_never_hang_or_crash_the_report() -> None:
    release = threading.Event()
    hc = HealthChecker(ttl=0)
    hc.add_check("hang", lambda: release.wait(30), timeout=0.2)

    async def slow() -> bool:
        await asyncio.sleep(30)
        return True

    hc.add_check("slow_async", slow, timeout=0.2)
    hc.add_check("boom", lambda: (_ for _ in ()).throw(RuntimeError("redis://u:hunter2@db:6379/0 refused")), critical=False)
    doc = hc.check()  # returns although "hang" is still blocked
    release.set()
    assert doc["status"] == "fail"
    assert doc["checks"]["hang"][0]["output"].startswith("timed out")
    assert doc["checks"]["slow_async"][0]["output"].startswith("timed out")
    assert "hunter2" not in json.dumps(doc) and "RuntimeError" in doc["checks"]["boom"][0]["output"]


def test_results_are_cached_for_the_ttl() -> None:
    clock = Clock()
    calls = []
    hc = HealthChecker(ttl=5, clock=clock)
    hc.add_check("dep", lambda: calls.append(1) or True)
    hc.check()
    hc.check()
    assert len(calls) == 1
    clock.t = 6
    hc.check()
    assert len(calls) == 2


def test_kinds_are_separate_and_startup_sets_started() -> None:
    hc = HealthChecker(ttl=0)
    hc.add_check("dep", lambda: False)  # readiness only
    hc.add_check("loop", lambda: True, kinds="liveness")
    hc.add_check("warm", lambda: True, kinds=("startup",))
    assert hc.live()["status"] == "pass" and hc.ready()["status"] == "fail"
    assert hc.startup()["status"] == "pass" and hc.started
    with pytest.raises(ConfigurationError, match="kinds"):
        hc.add_check("x", lambda: True, kinds="sometimes")
    with pytest.raises(ConfigurationError, match="fn"):
        hc.add_check("x", 42)  # type: ignore[arg-type]


def test_builtin_checks_on_this_cpu_only_host() -> None:
    hc = HealthChecker(ttl=0, timeout=5)
    hc.add_disk("/").add_memory().add_gpu().add_breakers()
    doc = hc.check()
    assert doc["status"] in ("pass", "warn")
    assert doc["checks"]["gpu:utilization"][0]["status"] == "pass"  # no GPU is healthy
    assert doc["checks"]["disk:free"][0]["observedUnit"] == "ratio"


def test_redis_check_against_a_real_server(redis_client: Any) -> None:
    hc = HealthChecker(ttl=0, timeout=5)
    hc.add_redis(redis_client)
    assert hc.check()["checks"]["redis:ping"][0]["status"] == "pass"


def test_acheck_inside_a_running_loop_and_sync_check_from_a_loop() -> None:
    hc = HealthChecker(ttl=0)
    hc.add_check("ok", lambda: {"status": "pass", "observedValue": 3, "observedUnit": "ms"})

    async def main() -> tuple[dict[str, Any], dict[str, Any]]:
        return await hc.acheck(), hc.check()

    a, b = asyncio.run(main())
    assert a["checks"]["ok"][0]["observedValue"] == 3 and b["status"] == "pass"


def test_reporter_endpoints_serve_health_json_with_status_codes() -> None:
    hc = HealthChecker(ttl=0)
    state = {"ok": True}
    hc.add_check("dep", lambda: state["ok"])
    with HealthReporter(hc) as rep:
        server = rep.serve(0)
        with urllib.request.urlopen(server.url + "/health", timeout=5) as resp:
            assert resp.headers["Content-Type"] == CONTENT_TYPE_HEALTH
            assert json.load(resp)["checks"]["dep"][0]["status"] == "pass"
        state["ok"] = False
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(server.url + "/health/ready", timeout=5)
        assert err.value.code == 503 and json.load(err.value) == {"status": "fail"}
        with urllib.request.urlopen(server.url + "/health/live", timeout=5) as resp:
            assert json.load(resp) == {"status": "pass"}


def test_reporter_survives_a_broken_checker_and_dedups_sinks() -> None:
    class Broken:
        def check(self, kind: str) -> Any:
            return None  # upstream U4: the reporter must not crash on it

    rep = HealthReporter(Broken())  # type: ignore[arg-type]
    assert rep.report_health()["status"] == "fail"
    got: list[str] = []
    flaky = {"n": 0}

    def sink(doc: Any) -> None:
        flaky["n"] += 1
        if flaky["n"] == 1:
            raise OSError("first attempt fails")
        got.append(doc["status"])

    clock = Clock()
    hc = HealthChecker(ttl=0)
    state = {"ok": True}
    hc.add_check("dep", lambda: state["ok"])
    rep = HealthReporter(hc, sinks=[sink, LogSink()], clock=clock, repeat=60)
    rep.report_health()
    rep.report_health()  # same status: de-duplicated
    state["ok"] = False
    rep.report_health()
    rep.flush()
    assert got == ["pass", "fail"] and rep.failures == 0 and flaky["n"] == 3


def test_memory_check_grades_cgroup_usage_and_psi_pressure() -> None:
    class FakeSampler:
        def __init__(self, reading: dict[str, float]) -> None:
            self.reading = reading

        def sample(self) -> dict[str, float]:
            return self.reading

    def status(reading: dict[str, float]) -> tuple[str, str]:
        hc = HealthChecker(ttl=0).add_memory(sampler=FakeSampler(reading), critical=True)
        entry = hc.check()["checks"]["memory:utilization"][0]
        return entry["status"], entry.get("output", "")

    assert status({"system_memory_usage_ratio": 0.5}) == ("pass", "")
    assert status({"system_memory_usage_ratio": 0.5, "system_memory_pressure_ratio": 0.01})[0] == "pass"
    st, out = status({"system_memory_usage_ratio": 0.5, "system_memory_pressure_ratio": 0.4})
    assert st == "warn" and "40.00%" in out
    assert status({"system_memory_usage_ratio": 0.92})[0] == "warn"
    assert status({"system_memory_usage_ratio": 0.99, "system_memory_pressure_ratio": 0.4})[0] == "fail"


def test_kafka_metadata_check_through_the_embedded_transport(monkeypatch: pytest.MonkeyPatch) -> None:
    from swfast.messaging.kafka_service import KafkaService

    monkeypatch.delenv("SWFAST_KAFKA_BOOTSTRAP_SERVERS", raising=False)
    monkeypatch.delenv("SWFAST_KAFKA_BOOTSTRAP", raising=False)

    async def main() -> dict[str, Any]:
        svc = KafkaService()
        await svc.connect()
        try:
            await svc.create_topic("swfast-health-probe")
            return await HealthChecker(ttl=0, timeout=5).add_kafka(svc).acheck()
        finally:
            await svc.disconnect()

    import asyncio

    doc = asyncio.run(main())
    entry = doc["checks"]["kafka:metadata"][0]
    assert doc["status"] == "pass" and entry["observedUnit"] == "topics" and entry["observedValue"] >= 1

"""``swfast demo --chaos``: slow model, failure bursts, a cache-tier fault -- and nothing lost."""
from __future__ import annotations

import asyncio

import pytest

from swfast.demo.runner import Demo, DemoConfig, format_summary


def _chaos(tmp_path, **kw):  # type: ignore[no-untyped-def]
    cfg = DemoConfig(**{"duration": 3.0, "rate": 200.0, "workers": 4, "chaos": True, "progress": False,
                        "workdir": str(tmp_path), **kw})
    demo = Demo(cfg)
    return demo, asyncio.run(demo.run())


def test_chaos_drill_opens_breaker_serves_fallbacks_and_loses_nothing(tmp_path):
    demo, s = _chaos(tmp_path)
    assert s["lost"] == 0 and s["duplicates"] == 0 and s["mismatched"] == 0
    assert [p["phase"] for p in s["phases"]] == ["warmup", "model_slow", "burst_failures", "cache_fault", "recovery"]
    b = s["breaker"]
    assert b["trips"] >= 1 and b["half_open"] >= 1
    assert s["fallbacks"] >= 1 and s["outcomes"]["fallback"] == s["fallbacks"]
    # fallbacks happen when the model is slow or failing, not in the warm-up
    assert "fallback" not in s["by_phase"]["warmup"]
    assert s["by_phase"]["burst_failures"].get("fallback", 0) + s["by_phase"]["model_slow"].get("fallback", 0) >= 1
    assert "DEGRADED" in s["degradation_levels"] or "MINIMAL" in s["degradation_levels"]
    assert s["cache"]["errors"]["l3"] >= 1  # the cache-fault phase: L3 failed, requests were served anyway
    # ... served, not dead-lettered: only poison requests end in the DLQ, whatever the phase
    assert all(demo.ledger.sent[rid][3] == "poison" for rid in demo.ledger.dead)
    assert s["by_phase"]["cache_fault"].get("model", 0) + s["by_phase"]["cache_fault"].get("fallback", 0) >= 1
    table = format_summary(s)
    assert "chaos phases" in table and "lost 0" in table


@pytest.mark.redis
def test_chaos_with_redis_l2_drops_connections_and_loses_nothing(tmp_path, redis_server, redis_url):
    demo, s = _chaos(tmp_path, redis=redis_url, pause_pids=[redis_server.pid])
    assert s["paused_pids"] == [redis_server.pid] and redis_server.alive()
    assert s["lost"] == 0 and s["duplicates"] == 0
    assert s["l2"] == "redis" and s["redis_connections_dropped"] >= 1
    assert s["cache"]["hits"]["l2"] + s["cache"]["misses"]["l2"] > 0
    assert s["cache"]["errors"]["l2"] >= 1  # a dropped connection fails the read in hand; the request is served
    assert "redis://" in s["config"]["redis"] and "@" not in s["config"]["redis"]


def test_run_logs_json_lines_with_credentials_redacted(tmp_path):
    pytest.importorskip("swfast.logging.formatters")
    import json

    cfg = DemoConfig(duration=3.0, rate=200.0, workers=2, chaos=True, progress=False, workdir=str(tmp_path),
                     redis=None)
    demo = Demo(cfg)
    import logging

    before = list(logging.getLogger("swfast").handlers)  # swfast's own NullHandler
    s = asyncio.run(demo.run())
    assert s["lost"] == 0
    lines = [json.loads(x) for x in (tmp_path / "demo.log.jsonl").read_text().splitlines()]
    messages = [x["message"] for x in lines]
    assert any(m.startswith("chaos phase: burst_failures") for m in messages)
    assert any(m.startswith("breaker demo-") and "-> OPEN" in m for m in messages)
    assert any("rejected: forbidden" in m for m in messages)
    assert all(x["service"] == "swfast-demo" for x in lines)
    assert logging.getLogger("swfast").handlers == before  # the run's handler was removed afterwards


def test_demo_log_handler_redacts_urls_and_tokens(tmp_path):
    import logging

    from swfast.demo.runner import _log_handler

    h = _log_handler(str(tmp_path / "x.jsonl"))
    log = logging.getLogger("swfast.demo.test-redact")
    log.addHandler(h)
    log.propagate = False
    try:
        log.warning("demo starting: redis=%s", "redis://user:hunter2-secret@10.0.0.1:6379/0")
        log.warning("token %s", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlc2lnbmF0dXJl")
    finally:
        log.removeHandler(h)
        h.close()
    text = (tmp_path / "x.jsonl").read_text()
    assert "hunter2-secret" not in text and "demo starting" in text
    if pytest.importorskip("swfast.logging.redaction"):
        assert "eyJzdWIiOiJhbGljZSJ9" not in text


def test_chaos_health_and_alerts_through_monitoring(tmp_path):
    """With swfast.monitoring's health checker and alert store: health turns warn while a breaker
    is open, each opening fires an alert and closing resolves it."""
    pytest.importorskip("swfast.monitoring.health")
    pytest.importorskip("swfast.monitoring.alerts")
    demo, s = _chaos(tmp_path)
    obs = s["observability"]
    assert obs["available"] and s["lost"] == 0
    statuses = [h["status"] for h in obs["health"]]
    assert statuses[0] == "pass" and "warn" in statuses
    assert obs["alerts_fired"] >= 1 and obs["alerts_resolved"] >= 1
    assert "health" in format_summary(s)


@pytest.mark.redis
def test_env_redis_url_puts_l2_on_a_ring_of_nodes(tmp_path, redis_url):
    """SWFAST_REDIS_URL is the default of --redis; comma-separated URLs are ring nodes."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    base = redis_url.rsplit("/", 1)[0]
    ring = f"{base}/3,{base}/4"
    env = {**os.environ, "SWFAST_REDIS_URL": ring}
    proc = subprocess.run([sys.executable, "-m", "swfast", "demo", "--duration", "1.5", "--rate", "100", "--json",
                           "--no-progress", "--no-dashboard", "--workdir", str(tmp_path)],
                          capture_output=True, text=True, env=env, cwd=Path(__file__).resolve().parents[1], timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    s = json.loads(proc.stdout)
    assert s["l2"] == "redis" and s["lost"] == 0
    assert s["cache"]["hits"]["l2"] + s["cache"]["misses"]["l2"] > 0
    import redis

    sizes = [redis.Redis.from_url(u).dbsize() for u in ring.split(",")]
    assert all(n > 0 for n in sizes)  # both nodes hold part of the keys


@pytest.mark.kafka
@pytest.mark.redis
def test_env_services_chaos_pauses_broker_and_redis_node(tmp_path, redis_server, redis_url, kafka_server,
                                                         kafka_bootstrap):
    """SWFAST_KAFKA_BOOTSTRAP_SERVERS and SWFAST_REDIS_URL put the same demo on Kafka and L2; with
    --chaos the drill SIGSTOPs the broker and the Redis node mid-run (then SIGCONTs them) and
    still nothing is lost."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    from _servers import KAFKA_FAST_GROUP

    env = {**os.environ, "SWFAST_REDIS_URL": redis_url.rsplit("/", 1)[0] + "/5",
           "SWFAST_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap}
    env.pop("SWFAST_KAFKA_BOOTSTRAP", None)
    opts = [arg for k, v in KAFKA_FAST_GROUP.items() for arg in ("--consumer-option", f"{k}={v}")]
    proc = subprocess.run([sys.executable, "-m", "swfast", "demo", "--chaos", "--duration", "4", "--rate", "60",
                           "--workers", "2", "--chaos-pause-pid", str(kafka_server.pid), "--chaos-pause-pid",
                           str(redis_server.pid), "--drain-timeout", "30", "--json", "--no-progress",
                           "--no-dashboard", "--workdir", str(tmp_path), *opts],
                          capture_output=True, text=True, env=env, cwd=Path(__file__).resolve().parents[1], timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    s = json.loads(proc.stdout)
    assert s["transport"] == "kafka" and s["l2"] == "redis"
    assert s["requests"] == 240 and s["lost"] == 0 and s["unknown"] == 0 and s["settled"] == 240
    assert sorted(s["paused_pids"]) == sorted([kafka_server.pid, redis_server.pid])
    assert kafka_server.alive() and redis_server.alive()
    assert [p["phase"] for p in s["phases"]] == ["warmup", "model_slow", "burst_failures", "cache_fault", "recovery"]
    assert s["breaker"]["trips"] >= 1 and s["fallbacks"] >= 1
    assert s["cache"]["hits"]["l2"] + s["cache"]["misses"]["l2"] > 0

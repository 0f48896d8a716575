"""Scale-out: 3 worker processes in one Kafka consumer group, L2 on a 3-master Redis Cluster,
one process SIGKILLed mid-run -- every request answered once or dead-lettered, duplicates
counted, the processes' merged counters add up to what the ledger saw."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest
from _cluster_servers import RedisCluster, start_redis_cluster
from _servers import KAFKA_FAST_GROUP, ServerUnavailable

ROOT = Path(__file__).resolve().parents[1]
REQUIRE = os.environ.get("SWFAST_REQUIRE_SERVICES") == "1"


@pytest.fixture(scope="module")
def redis_cluster() -> Iterator[RedisCluster]:
    try:
        cluster = start_redis_cluster(3)
    except ServerUnavailable as exc:
        if REQUIRE:
            pytest.fail(f"Redis Cluster could not start and SWFAST_REQUIRE_SERVICES=1: {exc}")
        pytest.skip(f"Redis Cluster unavailable: {exc}")
    try:
        yield cluster
    finally:
        cluster.stop()


def test_redis_cluster_fixture_has_three_masters(redis_cluster):
    import redis

    rc = redis.RedisCluster.from_url(redis_cluster.url)
    try:
        masters = [n for n in rc.get_nodes() if n.server_type == "primary"]
        assert len(masters) == 3
        rc.set("swfast-test:a", b"1")
        assert rc.get("swfast-test:a") == b"1"
    finally:
        rc.close()


@pytest.mark.kafka
@pytest.mark.redis
def test_three_processes_survive_a_sigkill(redis_cluster, kafka_bootstrap, tmp_path):
    opts = [arg for k, v in KAFKA_FAST_GROUP.items() for arg in ("--consumer-option", f"{k}={v}")]
    proc = subprocess.run(
        [sys.executable, "-m", "swfast", "demo", "--processes", "3", "--workers", "1", "--redis", redis_cluster.url,
         "--kafka", kafka_bootstrap, "--duration", "8", "--rate", "60", "--kill-after", "5", "--drain-timeout", "40",
         "--no-progress", "--json", "--dashboard-html", str(tmp_path / "dash.html"), *opts],
        capture_output=True, text=True, cwd=ROOT, timeout=280)
    assert proc.returncode == 0, proc.stderr[-3000:]
    s = json.loads(proc.stdout)
    assert s["transport"] == "kafka" and s["processes"] == 3 and s["l2"] == "redis"
    assert s["requests"] == 480 and s["lost"] == 0 and s["unknown"] == 0
    assert s["settled"] == s["requests"]
    assert len(s["killed_pids"]) == 1
    # answered once or dead-lettered: duplicates (re-delivery after the kill) are counted, not hidden
    both = s["dead_letters"] + s["answered"] - s["settled"]  # ids with a response and a dead letter
    assert s["duplicates"] >= s["responses"] - s["answered"] + both
    # the survivors took over the killed process's partitions: both answered after the kill
    survivors = [w for w, c in s["metrics_check"]["workers"].items() if c["final"]]
    assert len(survivors) == 2 and all(s["by_worker"][w] > 0 for w in survivors)
    assert s["metrics_check"]["add_up"], s["metrics_check"]
    assert sorted(s["processes_reported"]) == ["p0", "p1", "p2"]
    assert s["cache"]["hits"]["l2"] > 0  # the processes share L2 on the cluster
    assert "@" not in s["config"]["redis"]
    # the scheduler's once-per-due-time lock across processes, and L1 coherence through invalidation
    assert s["scheduler"]["due_times"] >= 3 and s["scheduler"]["ran_twice"] == 0
    assert s["scheduler"]["invalidations_received"] > 0
    # the final page: the processes' snapshots merged into one view, the killed one marked
    page = (tmp_path / "dash.html").read_text()
    assert page.count(": STOPPED</span>") == 2 and page.count(": KILLED</span>") == 1
    assert "lost 0" in page and f"sent {s['requests']:,}" in page

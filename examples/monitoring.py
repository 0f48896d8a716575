"""Monitoring in one script: events, aggregation, exporters, health, dashboard and alerts.

Run: ``python examples/monitoring.py`` (serves for a few seconds on free loopback ports and
writes ``swfast-dashboard.html`` into a temporary directory).
"""
from __future__ import annotations

import json
import random
import tempfile
import time
import urllib.request
from pathlib import Path

# (the defining modules: swfast.monitoring's lazy names are not explicit re-exports for mypy --strict yet)
from swfast.monitoring import REGISTRY
from swfast.monitoring.aggregator import MetricsAggregator
from swfast.monitoring.alerts import alert_store
from swfast.monitoring.collector import MetricsCollector
from swfast.monitoring.dashboard import AlertVisualizer, DashboardGenerator
from swfast.monitoring.exporters import MetricsExporter
from swfast.monitoring.health import HealthChecker, HealthReporter


def main() -> None:
    collector = MetricsCollector()  # cheap, no side effects; shares the process-wide store
    latency = REGISTRY.histogram("swfast_demo_request_seconds", "Demo request latency.", ("route",))
    requests = REGISTRY.counter("swfast_demo_requests_total", "Demo requests.", ("route",))
    rnd = random.Random(1)
    for _ in range(500):
        d = rnd.lognormvariate(-4, 0.6)
        latency.labels("/predict").observe(d)
        requests.labels("/predict").inc()
        collector.collect_metric("demo_inference_latency_ms", d * 1000, kind="histogram", model="m1")
        collector.record("demo_batch", {"size": rnd.randint(1, 64), "gpu": {"mem_mib": 512}})

    print(MetricsAggregator().generate_summaries(as_text=True))
    print("p99 of the recorded latencies:",
          MetricsAggregator().calculate_statistics("demo_inference_latency_seconds", model="m1")["p99"])

    alert_store().publish({"fingerprint": "cpu|demo", "name": "HighCPU", "severity": "warning",
                           "state": "firing", "labels": {"pod": "demo"}, "value": 0.91,
                           "summary": "مصرف پردازنده بالاست"})

    health = HealthChecker().add_disk("/").add_memory().add_gpu()
    health.add_check("model_loaded", lambda: True, kinds=("readiness", "startup"))
    out = Path(tempfile.mkdtemp()) / "swfast-dashboard.html"
    with MetricsExporter() as exporter, HealthReporter(health) as reporter, DashboardGenerator(refresh=1) as dash:
        metrics = exporter.serve(0)
        probe = reporter.serve(0)
        page = dash.serve(0)
        with urllib.request.urlopen(metrics.url + "/metrics", timeout=5) as resp:
            print(resp.read().decode().splitlines()[0])
        with urllib.request.urlopen(probe.url + "/health", timeout=5) as resp:
            print("health:", json.load(resp)["status"], resp.headers["Content-Type"])
        print("dashboard:", page.url + "/", "(live for 3 s)")
        time.sleep(3)
        dash.generate_dashboard(out)
    print("static dashboard written to", out)
    print(AlertVisualizer().data()["active"][0]["name"], "is active")


if __name__ == "__main__":
    main()

"""Resource management end to end, on any machine (no GPU, broker or network needed).

    python examples/resources.py

1. reads the container limits (cgroup v1/v2, affinity, PSI);
2. takes CPU and memory leases and shows the typed error when a budget is exceeded;
3. samples the process in the background, scores a synthetic spike as an anomaly, forecasts memory;
4. turns a sustained breach into one alert (log sink + embedded Kafka BALANCE_EVENTS_TOPIC);
5. shrinks a real L1 cache under (injected) memory pressure and grows it back;
6. balances requests with power of two choices, skipping a target whose breaker is open;
7. reports the GPU state (a simulated backend when CuPy/GPU are absent).
"""
from __future__ import annotations

import asyncio
import json
import logging

import numpy as np

from swfast.cache import L1Cache
from swfast.errors import BudgetExceeded
from swfast.messaging import BALANCE_EVENTS_TOPIC
from swfast.messaging._embedded import EmbeddedBroker
from swfast.messaging.kafka_service import KafkaService
from swfast.resilience.breaker import CircuitBreaker
from swfast.resilience.history import CircuitState
from swfast.resource_management import (AlertGenerator, CPUAllocator, FakeGPUBackend, GPUAllocator, LoadBalancer,
                                        MemoryAllocator, ResourceMonitor, ThresholdManager, limits)
from swfast.resource_management.alerts import KafkaSink, LogSink
from swfast.resource_management.monitor import score_series


async def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    lim = limits()
    print(f"1. cgroup {lim.cgroup_version}: cpu_budget={lim.cpu_budget} (quota {lim.cpu_quota_cores}), "
          f"memory_budget_bytes={lim.memory_budget_bytes}, memory PSI some avg10="
          f"{lim.pressure['memory'].some_avg10_percent if 'memory' in lim.pressure else 'n/a'}")

    cpu, mem = CPUAllocator(capacity_cpus=2), MemoryAllocator(capacity_bytes=64 << 20)
    with cpu.allocate_cpu(1.5, owner="ranker"), mem.allocate_memory(48 << 20, owner="embeddings"):
        try:
            mem.allocate_memory(32 << 20, owner="embeddings")
        except BudgetExceeded as exc:
            print(f"2. {exc}")
    print(f"   after release: cpu {cpu.reservations()}, memory {mem.reservations()}")

    monitor = ResourceMonitor(interval_s=0.2)
    usage = await monitor.amonitor_usage()
    print(f"3. cpu_percent={usage.cpu_percent:.1f} memory_bytes={usage.memory_bytes:.0f} threads={usage.threads:.0f}")
    series = np.r_[np.random.default_rng(0).normal(40, 2, 500), 95.0]
    ewma_z, robust_z = score_series(series, warmup=32)
    print(f"   synthetic spike: ewma_z={ewma_z[-1]:.1f} robust_z={robust_z[-1]:.1f}")
    await asyncio.sleep(1.0)
    forecast = monitor.predict_needs(60.0)
    print(f"   memory in 60 s: {forecast.value:.0f} bytes [{forecast.lower:.0f}, {forecast.upper:.0f}]")
    monitor.stop()

    broker = EmbeddedBroker()
    svc = KafkaService("", embedded=broker)
    clock = [0.0]
    alerts = AlertGenerator(sinks=[LogSink(), KafkaSink(svc)], clock=lambda: clock[0])
    thresholds = ThresholdManager()
    thresholds.set_thresholds("system", {"memory_fraction": {"warning": 0.8, "critical": 0.95, "for_s": 30}})
    for t in range(0, 3600, 15):  # an hour over the warning threshold
        clock[0] = t
        alerts.ingest(thresholds.check("system", {"memory_fraction": 0.9}, now=t))
    clock[0] = 3600
    alerts.ingest(thresholds.check("system", {"memory_fraction": 0.4}, now=3600))
    await alerts.aflush()
    sent = [json.loads(r.value() or b"{}")["state"] for r in broker._topics[BALANCE_EVENTS_TOPIC][0]]
    print(f"4. 240 checks over an hour -> events on {BALANCE_EVENTS_TOPIC}: {sent}")
    await svc.disconnect()

    cache = L1Cache(maxsize=10_000)
    for i in range(10_000):
        cache[i] = i
    pressure = [0.95]
    tuner = MemoryAllocator(capacity_bytes=1 << 30, pressure=lambda: pressure[0])
    tuner.register_cache(cache, min_entries=1_000)
    tuner.optimize_usage(), tuner.optimize_usage()
    shrunk = cache.maxsize
    pressure[0] = 0.3
    while tuner.optimize_usage():
        pass
    print(f"5. L1 maxsize under pressure: {shrunk}, after it passed: {cache.maxsize}")

    breaker = CircuitBreaker("example-gpu-worker")
    lb = LoadBalancer(["cpu-pool-a", "cpu-pool-b"], seed=1)
    lb.add_target("gpu-worker", weight=4.0, breaker=breaker)
    breaker.transition(CircuitState.FORCED_OPEN, "example")
    picks = {t: 0 for t in lb.targets}
    for _ in range(1000):
        picks[lb.pick()] += 1
    print(f"6. picks with the GPU worker's breaker open: {picks}")

    gpu = GPUAllocator()
    status = gpu.status()
    if not status["available"]:
        print(f"7. real GPU: {status['reason']}; using the simulated backend")
        gpu = GPUAllocator(backend=FakeGPUBackend([{"total_bytes": 16 << 30, "utilization_percent": 20}]))
    gpu.share_resources({"ranker": 0.5})
    with gpu.allocate_gpu(2 << 30, tenant="ranker") as lease:
        lease.malloc(256 << 20)
        print(f"   tenant stats on device {lease.device}: {gpu.stats()[0]['tenants']['ranker']}")


if __name__ == "__main__":
    asyncio.run(main())

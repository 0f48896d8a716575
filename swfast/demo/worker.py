"""Scale-out: the demo's workers in child processes, one Kafka consumer group across them.

``python -m swfast.demo.worker`` reads its settings as JSON on stdin (the HMAC secret never
appears in argv or the environment), serves the requests topic until SIGTERM, and publishes a
snapshot of its counters to the stats topic every half second and once more, marked final,
before it exits. The parent (:class:`~swfast.demo.runner.Demo`) merges the snapshots.
"""
from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from typing import Any

from .model import ChaosSchedule
from .pipeline import Components, Names, Worker, merge_counts

READY_TIMEOUT = 90.0


async def spawn_workers(demo: Any, secret: bytes, workdir: str) -> list[subprocess.Popen[bytes]]:
    """Start ``demo.cfg.processes`` worker processes and wait until each has joined the group."""
    cfg = demo.cfg
    procs: list[subprocess.Popen[bytes]] = []
    for i in range(cfg.processes):
        conf = {"index": i, "workers": cfg.workers, "kafka": cfg.kafka, "redis": cfg.redis, "seed": cfg.seed,
                "secret": secret.hex(), "workdir": os.path.join(workdir, f"p{i}"),
                "chaos_total": cfg.total if cfg.chaos else 0, "run": demo.names.run, "overrides": cfg.consumer_overrides}
        err = open(os.path.join(workdir, f"worker-{i}.stderr"), "wb")
        proc = subprocess.Popen([sys.executable, "-m", "swfast.demo.worker"], stdin=subprocess.PIPE,
                                stdout=subprocess.DEVNULL, stderr=err)
        err.close()
        assert proc.stdin is not None
        proc.stdin.write(json.dumps(conf).encode())
        proc.stdin.close()
        procs.append(proc)
    deadline = time.monotonic() + READY_TIMEOUT
    while sum(1 for s in demo.remote_stats.values() if s.get("ready")) < cfg.processes:
        dead = [p.pid for p in procs if p.poll() is not None]
        if dead or time.monotonic() > deadline:
            for p in procs:
                p.kill()
            raise RuntimeError(f"demo worker processes did not start (exited: {dead}); see {workdir}/worker-*.stderr")
        await asyncio.sleep(0.1)
    return procs


async def kill_one_later(demo: Any, after: float) -> None:
    """The drill: SIGKILL the first worker process ``after`` seconds into the run."""
    await asyncio.sleep(after)
    proc = demo.procs[0]
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
        demo.killed.append(proc.pid)


async def stop_workers(demo: Any, timeout: float = 30.0) -> None:
    """SIGTERM the live workers, wait for them and for their final snapshots."""
    live = [p for p in demo.procs if p.poll() is None]
    for p in live:
        p.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for p in live:
        while p.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        if p.poll() is None:
            p.kill()
    want = {f"p{i}" for i, p in enumerate(demo.procs) if p.pid not in demo.killed}
    while time.monotonic() < deadline:
        final = {k for k, s in demo.remote_stats.items() if s.get("final")}
        if want <= final:
            return
        await asyncio.sleep(0.05)


def redis_client(url: str, cluster: bool) -> Any:
    import redis

    if cluster:
        return redis.RedisCluster.from_url(url, socket_timeout=2.0)
    return redis.Redis.from_url(url.split(",")[0].strip(), socket_timeout=2.0)


def node_urls(url: str, cluster: bool) -> list[str]:
    """Every L2 node's URL (a cluster's nodes are discovered)."""
    if not cluster:
        return [u.strip() for u in url.split(",") if u.strip()]
    client = redis_client(url, True)
    try:
        return [f"redis://{n.host}:{n.port}/0" for n in client.get_nodes()]
    finally:
        client.close()


def _received() -> int:
    from ..cache.invalidation import _RECEIVED

    return int(sum(x.value for x in _RECEIVED.collect().samples))


def schedule_key(names: Names) -> str:
    return f"swfast-demo:{names.run}:sched-runs"


async def _scheduled(names: Names, url: str, cluster: bool, stop: asyncio.Event, runs: list[int]) -> None:
    """Every process schedules the same 1 s job; the Redis run lock lets one run each due time.

    The job counts its run in a Redis hash keyed by the due second, so the parent can check that
    no due time ran twice across processes.
    """
    from ..utils.scheduler import RedisRunLock, Scheduler

    client = redis_client(url, cluster)
    key = schedule_key(names)

    def job() -> None:
        client.hincrby(key, str(int(time.time())), 1)
        client.expire(key, 3600)
        runs[0] += 1

    sched = Scheduler(lock=RedisRunLock(client, prefix=f"swfast-demo:{names.run}:lock"))
    sched.schedule_task(job, every_s=1.0, id="demo-model-stats")
    try:
        await sched.run_forever(idle_s=0.05, stop=stop)
    finally:
        client.close()


def _snapshot(name: str, parts: Components, workers: list[Worker], *, ready: bool, final: bool,
              runs: list[int] | None = None) -> dict[str, Any]:
    from .runner import _breaker_summary

    breaker = {k: v for k, v in _breaker_summary(parts).items() if k != "final"}
    cache = parts.cache_stats()
    return {"process": name, "pid": os.getpid(), "ready": ready, "final": final, "at": time.time(),
            "counts": merge_counts([w.counts.as_dict() for w in workers]),
            "by_worker": {w.name: w.counts.ok + sum(w.counts.rejected.values()) for w in workers},
            "cache": {"hits": cache["hits"], "misses": cache["misses"], "errors": cache["errors"]},
            "breaker": breaker, "retries": parts.retries, "levels": [lv for _, lv in parts.levels],
            "scheduled_runs": runs[0] if runs else 0, "invalidations_received": _received()}


async def serve(conf: dict[str, Any]) -> None:
    from ..messaging._runner import ConsumerConfig
    from ..messaging.kafka_service import KafkaService
    from .runner import _is_cluster

    name = f"p{conf['index']}"
    names = Names(str(conf.get("run") or ""))
    redis_url = conf.get("redis")
    total = int(conf.get("chaos_total") or 0)
    cluster = bool(redis_url) and _is_cluster(str(redis_url))
    parts = Components(conf["workdir"], redis_url=redis_url, cluster=cluster,
                       secret=bytes.fromhex(conf["secret"]), seed=int(conf["seed"]),
                       chaos=ChaosSchedule(total, enabled=total > 0))
    if redis_url:  # L1 coherence: a write here drops the other processes' L1 copies
        from ..cache.invalidation import InvalidationBus

        InvalidationBus(parts.cache, node_urls(str(redis_url), cluster), namespace="swfast-demo:")
    wcfg = ConsumerConfig(max_retries=2, retry_delays=[0.005], batch_size=64, poll_timeout=0.05)
    services: list[Any] = []
    workers: list[Worker] = []
    stats = KafkaService(conf["kafka"])
    await stats.connect()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    runs = [0]
    sched_task = asyncio.ensure_future(_scheduled(names, str(redis_url), cluster, stop, runs)) if redis_url else None
    try:
        for j in range(int(conf["workers"])):
            svc = KafkaService(conf["kafka"], consumer_config=wcfg, consumer_overrides=dict(conf.get("overrides") or {}))
            await svc.connect()
            services.append(svc)
            w = Worker(f"{name}.w{j}", parts, svc.send_data_response)
            workers.append(w)
            await svc.subscribe(names.requests, names.workers, w.handle)
        while not stop.is_set():
            await stats.send_message(names.stats, _snapshot(name, parts, workers, ready=True, final=False, runs=runs), name)
            try:
                await asyncio.wait_for(stop.wait(), 0.5)
            except asyncio.TimeoutError:
                pass
        for svc in services:
            await svc.disconnect()  # finishes the batch in hand, commits, leaves the group
        if sched_task is not None:
            await asyncio.wait_for(sched_task, 10.0)
        await stats.send_message(names.stats, _snapshot(name, parts, workers, ready=True, final=True, runs=runs), name)
    finally:
        for svc in services:
            await svc.disconnect()
        await stats.disconnect()
        parts.close()


def main() -> int:
    conf = json.loads(sys.stdin.read())
    asyncio.run(serve(conf))
    return 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["kill_one_later", "main", "serve", "spawn_workers", "stop_workers"]

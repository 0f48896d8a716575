"""One worker process of the cross-process scheduler test (run as a script).

Usage: python _sched_worker.py HOST PORT NAME START STEPS. Every worker walks the same
simulated clock (START, START+1, ...), runs the scheduler at each tick, and each run pushes
``job:tick:worker`` onto a Redis list.
"""
from __future__ import annotations

import asyncio
import sys

import redis

from swfast.utils.scheduler import RedisRunLock, Scheduler


async def main(host: str, port: int, name: str, start: float, steps: int) -> None:
    client = redis.Redis(host=host, port=port)
    now = [start]
    sched = Scheduler(clock=lambda: now[0], lock=RedisRunLock(client, prefix="t3p"),
                      cpu_percent=lambda: 0.0)

    async def job(tag: str) -> None:
        client.rpush("runs", f"{tag}:{now[0]}:{name}")

    def every5() -> None:
        client.rpush("runs5", f"{name}")

    sched.schedule_task(job, every_s=2, id="every2", args=("every2",))
    sched.schedule_task(every5, every_s=5, id="every5")
    client.rpush("ready", name)
    while client.llen("ready") < 3:  # start together
        await asyncio.sleep(0.01)
    for _ in range(steps):
        now[0] += 1
        await sched.run_pending()
        await sched.drain()
    client.close()


if __name__ == "__main__":
    h, p, n, s, k = sys.argv[1:6]
    asyncio.run(main(h, int(p), n, float(s), int(k)))

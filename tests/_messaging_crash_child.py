"""Child process for the SIGKILL test: consume a topic in a group, record each id durably.

Usage: python _messaging_crash_child.py BOOTSTRAP TOPIC GROUP OUTFILE
Each handled message id is written (``os.write``, unbuffered) before its offset is stored, so
what the file holds is exactly what was handled when the process is killed.
"""
from __future__ import annotations

import asyncio
import os
import sys
import time

from swfast.messaging import ConsumerConfig, KafkaService


async def main(bootstrap: str, topic: str, group: str, out: str) -> None:
    fd = os.open(out, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def handle(msg: dict) -> None:
        os.write(fd, b"%d\n" % msg["i"])
        time.sleep(0.0002)  # keep the stream slow enough to be killed mid-way

    svc = KafkaService(bootstrap, consumer_overrides={
        "session.timeout.ms": 6000, "heartbeat.interval.ms": 500, "auto.commit.interval.ms": 200})
    await svc.connect()
    await svc.subscribe(topic, group, handle, config=ConsumerConfig(batch_size=100))
    os.write(fd, b"")
    while True:
        await asyncio.sleep(3600)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))

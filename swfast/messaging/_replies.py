"""Reply listener for request/response: resolves pending requests by request id.

Reads one response topic from its end (no consumer group, so no join delay), validates each
message as a :class:`DataResponse`, and completes the future registered for its request id;
responses nobody waits for any more, and repeats of an id already answered, are dropped and
counted (``swfast_messaging_duplicates_dropped_total``).
"""
from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from typing import Any

from ._runner import DUPLICATES, INVALID, decode
from .message_schemas import DataResponse, is_valid_data_response

log = logging.getLogger("swfast.messaging")


class Replies:
    """Reads a response topic from its end and resolves pending requests by request id."""

    def __init__(self, topic: str, consumer: Any, poll_timeout: float) -> None:
        self.topic = topic
        self.consumer = consumer
        self.pending: dict[str, asyncio.Future[DataResponse]] = {}
        self.seen: OrderedDict[str, None] = OrderedDict()
        self.loop = asyncio.get_running_loop()
        self.poll_timeout = poll_timeout
        self.task = self.loop.create_task(self._run(), name=f"swfast-replies-{topic}")

    async def _run(self) -> None:
        while True:
            try:
                records = await self.consumer.fetch(500, self.poll_timeout)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.error("reply fetch from %s failed: %s", self.topic, exc)
                await asyncio.sleep(0.5)
                continue
            for rec in records:
                obj = decode(rec.value())
                if not is_valid_data_response(obj):
                    INVALID.labels("response").inc()
                    continue
                rid = obj["metadata"]["request_id"]
                fut = self.pending.pop(rid, None)
                if fut is None or fut.done() or rid in self.seen:
                    DUPLICATES.inc()
                    continue
                self.seen[rid] = None
                if len(self.seen) > 10_000:
                    self.seen.popitem(last=False)
                fut.set_result(DataResponse.from_dict(obj, validate=False))

    async def close(self) -> None:
        self.task.cancel()
        try:
            await self.task
        except (asyncio.CancelledError, Exception):
            pass
        for fut in self.pending.values():
            if not fut.done():
                fut.cancel()
        await self.consumer.close()


__all__ = ["Replies"]

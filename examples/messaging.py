"""Messaging on the embedded in-process broker: publish/subscribe and request/response.

``KafkaService("")`` uses the embedded transport (topics, partitions, consumer groups and
offsets, in this process); give it ``"host:9092"`` (or set ``SWFAST_KAFKA_BOOTSTRAP_SERVERS``)
and the same code talks to Kafka through confluent-kafka (the ``kafka`` extra).
Run: ``python examples/messaging.py``
"""
from __future__ import annotations

import asyncio
from typing import Any

from swfast.messaging import KafkaService, Priority, create_data_request, create_data_response

REQUESTS = "smartwhale.data.requests"


async def until(condition: Any, timeout: float = 5.0) -> None:
    """Wait until ``condition()`` is true (consumers run in the background)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise TimeoutError("the consumer did not catch up")
        await asyncio.sleep(0.005)


async def main() -> None:
    async with KafkaService("") as service:
        # Publish/subscribe: values are JSON-encoded; the handler gets decoded values.
        received: list[Any] = []
        await service.subscribe("events", "printer", received.append)
        await service.send_batch("events", [{"n": 1}, {"n": 2}, {"n": 3}])
        await until(lambda: len(received) == 3)
        print("received:", received)

        # Request/response: a validated DataRequest, answered by a "data service" subscriber.
        async def data_service(message: dict[str, Any]) -> None:
            payload = message["payload"]
            response = create_data_response(message["metadata"]["request_id"], payload["model_id"],
                                            payload["operation"], data={"rows": 3, "echo": payload["parameters"]})
            await service.send_data_response(response)

        await service.subscribe(REQUESTS, "data-service", data_service)
        request = create_data_request("sentiment-v2", "fetch_data", parameters={"day": "2026-03-21"},
                                      priority=Priority.HIGH)
        response = await service.request(request, timeout=5.0)
        print("response:", response.payload.status, response.payload.data)


if __name__ == "__main__":
    asyncio.run(main())

"""User code importing messaging names from their documented path (mypy --strict must pass)."""
from __future__ import annotations

from swfast.messaging import (
    ConsumerConfig,
    DataRequest,
    DataResponse,
    KafkaService,
    Priority,
    TopicManager,
    create_data_request,
    get_kafka_service,
)


async def ask(service: KafkaService) -> DataResponse:
    request: DataRequest = create_data_request("model", "fetch_data", priority=Priority.HIGH)
    return await service.request(request, timeout=1.0)


def default_service() -> KafkaService:
    return get_kafka_service()


__all__ = ["ConsumerConfig", "TopicManager", "ask", "default_service"]

"""TopicManager: the system's topic names, model result topics and their creation.

Keeps the fixed topics of the platform under short keys, creates them (and per-model result
topics) on the cluster through a :class:`~swfast.messaging.kafka_service.KafkaService`, and
remembers what it created. Replication larger than the cluster is clamped by the service.

Example:
    >>> tm = TopicManager(KafkaService())
    >>> tm.get_topic_name("data_requests")
    'smartwhale.data.requests'
    >>> tm.get_model_result_topic("m1")
    'smartwhale.data.responses.m1'
"""
from __future__ import annotations

import logging
from enum import Enum
from typing import TYPE_CHECKING

from ..errors import MessagingError
from .constants import (
    BALANCE_EVENTS_TOPIC, BALANCE_METRICS_TOPIC, DATA_REQUESTS_TOPIC, DATA_RESPONSES_PREFIX,
    DEFAULT_PARTITIONS, DEFAULT_REPLICATION, MODEL_TOPIC_PARTITIONS, MODEL_TOPIC_REPLICATION,
    MODELS_REQUESTS_TOPIC, SYSTEM_LOGS_TOPIC,
)

if TYPE_CHECKING:  # pragma: no cover
    from .kafka_service import KafkaService

log = logging.getLogger("swfast.messaging")


class TopicCategory(str, Enum):
    """What kind of traffic a topic carries."""

    REQUEST = "request"
    RESPONSE = "response"
    EVENT = "event"
    METRIC = "metric"
    LOG = "log"
    INTERNAL = "internal"
    COMMAND = "command"
    NOTIFICATION = "notification"


class TopicManager:
    """Names, creates and tracks the platform's topics.

    Attributes:
        topics: key → topic name of the fixed topics.
        created_topics: names this manager created or found existing.
        model_topics: model id → its result topic, for models ensured here.
    """

    def __init__(self, kafka_service: "KafkaService") -> None:
        self.kafka_service = kafka_service
        self.topics: dict[str, str] = {}
        self.created_topics: set[str] = set()
        self.model_topics: dict[str, str] = {}
        self._result_topics: dict[str, str] = {}
        self._initialize_topics()

    def _initialize_topics(self) -> None:
        """Register the fixed topics and reset the tracking sets."""
        self.topics = {
            "data_requests": DATA_REQUESTS_TOPIC,
            "data_responses_prefix": DATA_RESPONSES_PREFIX,
            "models_requests": MODELS_REQUESTS_TOPIC,
            "balance_metrics": BALANCE_METRICS_TOPIC,
            "balance_events": BALANCE_EVENTS_TOPIC,
            "system_logs": SYSTEM_LOGS_TOPIC,
        }
        self.created_topics = set()
        self.model_topics = {}

    def get_topic_name(self, topic_key: str) -> str:
        """The topic registered under ``topic_key``; an unknown key is returned as is."""
        return self.topics.get(topic_key, topic_key)

    def get_model_result_topic(self, model_id: str) -> str:
        """``<DATA_RESPONSES_PREFIX>.<model_id>`` (cached per model)."""
        topic = self._result_topics.get(model_id)
        if topic is None:
            if not isinstance(model_id, str) or not model_id:
                raise MessagingError(f"model_id: must be a non-empty str, got {model_id!r}")
            topic = self._result_topics[model_id] = f"{DATA_RESPONSES_PREFIX}.{model_id}"
        return topic

    async def ensure_topic_exists(self, topic_name: str, partitions: int = DEFAULT_PARTITIONS,
                                  replication: int = DEFAULT_REPLICATION) -> bool:
        """Create ``topic_name`` unless it exists; True when it exists afterwards."""
        if topic_name in self.created_topics:
            return True
        svc = self.kafka_service
        if await svc.topic_exists(topic_name) or await svc.create_topic(topic_name, partitions, replication):
            self.created_topics.add(topic_name)
            return True
        log.error("could not create topic %s", topic_name)
        return False

    async def ensure_model_topic(self, model_id: str) -> str:
        """Create the model's result topic if needed and return its name.

        Raises:
            MessagingError: the topic could not be created.
        """
        topic = self.get_model_result_topic(model_id)
        if not await self.ensure_topic_exists(topic, MODEL_TOPIC_PARTITIONS, MODEL_TOPIC_REPLICATION):
            raise MessagingError(f"could not create the result topic {topic!r} of model {model_id!r}")
        self.model_topics[model_id] = topic
        return topic

    async def initialize_all_topics(self) -> bool:
        """Create every fixed topic (the responses prefix is not a topic); True when all exist."""
        ok = True
        for key, name in self.topics.items():
            if key == "data_responses_prefix":
                continue
            ok = await self.ensure_topic_exists(name) and ok
        return ok

    async def list_all_topics(self) -> list[str]:
        """Every topic on the cluster (sorted)."""
        return await self.kafka_service.list_topics()

    def list_model_topics(self) -> list[tuple[str, str]]:
        """``(model_id, topic_name)`` for each model topic ensured by this manager."""
        return sorted(self.model_topics.items())

    async def delete_topic(self, topic_name: str) -> bool:
        """Delete a topic from the cluster and from the tracking; False when absent."""
        ok = await self.kafka_service.delete_topic(topic_name)
        self.created_topics.discard(topic_name)
        for model_id, topic in list(self.model_topics.items()):
            if topic == topic_name:
                del self.model_topics[model_id]
        return ok

    async def delete_model_topic(self, model_id: str) -> bool:
        """Delete a model's result topic; warns and returns False for an unknown model."""
        topic = self.model_topics.get(model_id)
        if topic is None:
            log.warning("delete_model_topic: no topic known for model %r", model_id)
            return False
        return await self.delete_topic(topic)


__all__ = ["TopicCategory", "TopicManager"]

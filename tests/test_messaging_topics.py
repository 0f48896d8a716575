"""TopicManager on the embedded transport (the Kafka path is in test_messaging_kafka.py)."""
from __future__ import annotations

import logging

import pytest

from swfast.errors import MessagingError
from swfast.messaging import KafkaService, TopicCategory, TopicManager
from swfast.messaging._embedded import EmbeddedBroker


def test_names_and_category() -> None:
    tm = TopicManager(KafkaService(""))
    assert tm.topics == {
        "data_requests": "smartwhale.data.requests", "data_responses_prefix": "smartwhale.data.responses",
        "models_requests": "smartwhale.models.requests", "balance_metrics": "smartwhale.balance.metrics",
        "balance_events": "smartwhale.balance.events", "system_logs": "smartwhale.core.logs",
    }
    assert tm.created_topics == set() and tm.model_topics == {}
    assert tm.get_topic_name("system_logs") == "smartwhale.core.logs"
    assert tm.get_topic_name("custom.topic") == "custom.topic"
    assert tm.get_model_result_topic("m1") == "smartwhale.data.responses.m1"
    assert tm.get_model_result_topic("m1") is tm.get_model_result_topic("m1")
    with pytest.raises(MessagingError):
        tm.get_model_result_topic("")
    assert [c.name for c in TopicCategory] == ["REQUEST", "RESPONSE", "EVENT", "METRIC", "LOG", "INTERNAL",
                                               "COMMAND", "NOTIFICATION"]


async def test_lifecycle_embedded(caplog: pytest.LogCaptureFixture) -> None:
    async with KafkaService("", embedded=EmbeddedBroker()) as svc:
        tm = TopicManager(svc)
        assert await tm.initialize_all_topics()
        assert len(tm.created_topics) == 5
        assert await tm.ensure_topic_exists("smartwhale.data.requests")
        assert await tm.ensure_model_topic("m1") == "smartwhale.data.responses.m1"
        assert await svc.get_topic_info("smartwhale.data.responses.m1") == {
            "name": "smartwhale.data.responses.m1", "partitions": 3, "replication_factor": 1}
        assert tm.list_model_topics() == [("m1", "smartwhale.data.responses.m1")]
        assert "smartwhale.core.logs" in await tm.list_all_topics()
        assert await tm.delete_model_topic("m1") is True
        assert tm.list_model_topics() == []
        with caplog.at_level(logging.WARNING, logger="swfast.messaging"):
            assert await tm.delete_model_topic("m1") is False
        assert "no topic known" in caplog.text
        assert await tm.delete_topic("smartwhale.core.logs") is True
        assert "smartwhale.core.logs" not in tm.created_topics

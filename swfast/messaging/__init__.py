"""Messaging over Kafka: constants, message schemas, the async KafkaService and TopicManager.

Importing this package is cheap: constants and schemas load eagerly (they are small), while
``KafkaService``, ``get_kafka_service``, ``TopicManager`` and ``TopicCategory`` load on first
access, and ``confluent_kafka`` only when a service connects to a real broker. The singleton
itself is ``swfast.messaging.kafka_service.kafka_service`` (created on first access; the
package attribute ``kafka_service`` is that module, so use ``get_kafka_service()`` here).
"""
from __future__ import annotations

from .._lazy import attach

from .constants import *  # noqa: F403
from .constants import __all__ as _constants_all
from .message_schemas import DataRequest as DataRequest
from .message_schemas import DataResponse as DataResponse
from .message_schemas import DataSource as DataSource
from .message_schemas import DataType as DataType
from .message_schemas import MessageMetadata as MessageMetadata
from .message_schemas import OperationType as OperationType
from .message_schemas import Priority as Priority
from .message_schemas import RequestPayload as RequestPayload
from .message_schemas import RequestSource as RequestSource
from .message_schemas import ResponsePayload as ResponsePayload
from .message_schemas import create_data_request as create_data_request
from .message_schemas import create_data_response as create_data_response
from .message_schemas import is_valid_data_request as is_valid_data_request
from .message_schemas import is_valid_data_response as is_valid_data_response
from .message_schemas import validate_data_request as validate_data_request
from .message_schemas import validate_data_response as validate_data_response

TYPE_CHECKING = False

_LAZY = {
    "KafkaService": "kafka_service",
    "ConsumerConfig": "kafka_service",
    "get_kafka_service": "kafka_service",
    "exponential_delays": "kafka_service",
    "idempotent": "kafka_service",
    "TopicManager": "topic_manager",
    "TopicCategory": "topic_manager",
}

if TYPE_CHECKING:  # pragma: no cover
    from .kafka_service import ConsumerConfig as ConsumerConfig
    from .kafka_service import KafkaService as KafkaService
    from .kafka_service import exponential_delays as exponential_delays
    from .kafka_service import get_kafka_service as get_kafka_service
    from .kafka_service import idempotent as idempotent
    from .topic_manager import TopicCategory as TopicCategory
    from .topic_manager import TopicManager as TopicManager

__getattr__, __dir__ = attach(__name__, _LAZY)


__all__ = sorted([
    *_constants_all,
    "ConsumerConfig",
    "DataRequest",
    "DataResponse",
    "DataSource",
    "DataType",
    "KafkaService",
    "MessageMetadata",
    "OperationType",
    "Priority",
    "RequestPayload",
    "RequestSource",
    "ResponsePayload",
    "TopicCategory",
    "TopicManager",
    "create_data_request",
    "create_data_response",
    "is_valid_data_request",
    "is_valid_data_response",
    "exponential_delays",
    "get_kafka_service",
    "idempotent",
    "validate_data_request",
    "validate_data_response",
])

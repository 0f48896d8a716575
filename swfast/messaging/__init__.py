"""Messaging over Kafka: constants, message schemas, the async KafkaService and TopicManager.

Importing this package is cheap: constants and schemas load eagerly (they are small), while
``KafkaService``, ``get_kafka_service``, ``TopicManager`` and ``TopicCategory`` load on first
access, and ``confluent_kafka`` only when a service connects to a real broker.

``from swfast.messaging import kafka_service`` is the process-wide service singleton (created on
first access, connected only when asked; the same object as ``get_kafka_service()``), as the
seed documents. The module of the same name stays importable as a module with
``import swfast.messaging.kafka_service`` / ``from swfast.messaging.kafka_service import ...``
or ``importlib.import_module("swfast.messaging.kafka_service")``.
"""
from __future__ import annotations

import sys
import types

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

_lazy_getattr, __dir__ = attach(__name__, _LAZY)


def __getattr__(name: str) -> object:
    if name == "kafka_service":  # never cached: tests reset the singleton
        from .kafka_service import get_kafka_service

        return get_kafka_service()
    return _lazy_getattr(name)


class _Package(types.ModuleType):
    """Keeps the package attribute ``kafka_service`` the singleton, not the submodule.

    The import system sets ``package.kafka_service = <module>`` after loading the submodule;
    that one assignment is ignored so attribute access falls through to ``__getattr__``.
    """

    def __setattr__(self, name: str, value: object) -> None:
        if name == "kafka_service" and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


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
    "kafka_service",
    "validate_data_request",
    "validate_data_response",
])

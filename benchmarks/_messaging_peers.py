"""Peers for the messaging benchmarks: the same DataRequest contract in msgspec, fastjsonschema
and jsonschema, plus raw confluent-kafka produce/consume loops. Shared by asv and the quick run.

Each peer enforces what swfast's validator enforces (enums, UUID, zoned timestamps, priority
1-5, non-negative counters, string tags), so the timings compare like with like.
"""


import json
from datetime import datetime
from typing import Annotated, Any, Literal, Optional

from swfast.messaging.message_schemas import (
    DataSource, DataType, OperationType, RequestSource, create_data_request,
)

SAMPLE = create_data_request(
    "model-7", OperationType.FETCH_DATA, DataType.TEXT, DataSource.WIKI,
    {"query": "whales of the persian gulf", "lang": "fa", "limit": 20},
    priority=2, tags=["nlp", "daily"], context={"user": "u-1"}, trace_id="trace-1", ttl=60,
    max_size=1_000_000,
)
SAMPLE_DICT: dict[str, Any] = SAMPLE.to_dict()
SAMPLE_JSON: bytes = SAMPLE.to_json()


def _enum(e: Any) -> list[str]:
    return [m.value for m in e]


_TS = {"type": "string", "pattern": r"^\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d(\.\d{1,9})?([Zz]|[+-]\d\d:?\d\d)$"}
_OPT_STR = {"type": ["string", "null"]}
JSON_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["metadata", "payload"],
    "properties": {
        "metadata": {
            "type": "object",
            "required": ["request_id", "timestamp"],
            "properties": {
                "request_id": {"type": "string", "pattern": r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$"},
                "timestamp": _TS, "source": {"type": "string"}, "destination": {"type": "string"},
                "priority": {"type": "integer", "minimum": 1, "maximum": 5},
                "request_source": {"enum": _enum(RequestSource)}, "correlation_id": _OPT_STR,
                "trace_id": _OPT_STR, "session_id": _OPT_STR,
                "retry_count": {"type": "integer", "minimum": 0},
                "ttl": {"type": ["number", "null"], "minimum": 0},
                "expires_at": {"anyOf": [_TS, {"type": "null"}]},
            },
        },
        "payload": {
            "type": "object",
            "required": ["operation"],
            "properties": {
                "operation": {"enum": _enum(OperationType)}, "model_id": {"type": "string"},
                "data_type": {"enum": _enum(DataType)}, "data_source": {"enum": [*_enum(DataSource), None]},
                "parameters": {"type": "object"}, "response_topic": _OPT_STR, "batch_id": _OPT_STR,
                "timeout": {"type": "number", "exclusiveMinimum": 0},
                "max_size": {"type": ["integer", "null"], "minimum": 0},
                "require_fresh": {"type": "boolean"}, "tags": {"type": "array", "items": {"type": "string"}},
                "context": {"type": "object"},
            },
        },
    },
}


def fastjsonschema_validator() -> Any:
    import fastjsonschema

    return fastjsonschema.compile(JSON_SCHEMA)


def jsonschema_validator() -> Any:
    import jsonschema

    return jsonschema.Draft202012Validator(JSON_SCHEMA)


def msgspec_types() -> Any:
    """msgspec Structs with the same constraints; returns the DataRequest struct type."""
    import uuid

    import msgspec

    Ops = Literal[tuple(_enum(OperationType))]  # type: ignore[misc]
    DTs = Literal[tuple(_enum(DataType))]  # type: ignore[misc]
    DSs = Literal[tuple(_enum(DataSource))]  # type: ignore[misc]
    RSs = Literal[tuple(_enum(RequestSource))]  # type: ignore[misc]
    Zoned = Annotated[datetime, msgspec.Meta(tz=True)]
    NonNeg = Annotated[int, msgspec.Meta(ge=0)]

    class Meta(msgspec.Struct):
        request_id: uuid.UUID
        timestamp: Zoned
        source: str = "unknown"
        destination: str = "unknown"
        priority: Annotated[int, msgspec.Meta(ge=1, le=5)] = 3
        request_source: RSs = "user"  # type: ignore[valid-type]
        correlation_id: Optional[str] = None
        trace_id: Optional[str] = None
        session_id: Optional[str] = None
        retry_count: NonNeg = 0
        ttl: Optional[Annotated[float, msgspec.Meta(ge=0)]] = None
        expires_at: Optional[Zoned] = None

    class Payload(msgspec.Struct):
        operation: Ops  # type: ignore[valid-type]
        model_id: str = ""
        data_type: DTs = "text"  # type: ignore[valid-type]
        data_source: Optional[DSs] = None  # type: ignore[valid-type]
        parameters: dict[str, Any] = {}
        response_topic: Optional[str] = None
        batch_id: Optional[str] = None
        timeout: Annotated[float, msgspec.Meta(gt=0)] = 30
        max_size: Optional[NonNeg] = None
        require_fresh: bool = False
        tags: list[str] = []
        context: dict[str, Any] = {}

    class Request(msgspec.Struct):
        metadata: Meta
        payload: Payload

    return Request


def json_dumps(d: Any) -> bytes:
    return json.dumps(d, separators=(",", ":")).encode()


def raw_produce(producer: Any, topic: str, values: list[bytes], on_delivery: Any = None) -> int:
    """confluent-kafka's plain loop: produce (retrying on a full queue), then flush."""
    produce = producer.produce
    poll = producer.poll
    for v in values:
        while True:
            try:
                if on_delivery is None:
                    produce(topic, v)
                else:
                    produce(topic, v, on_delivery=lambda err, msg: on_delivery(err))
                break
            except BufferError:
                poll(0.005)
    return producer.flush(60)


def raw_produce_reports(producer: Any, topic: str, values: list[bytes], outcomes: list[Any]) -> int:
    """The plain loop with a delivery callback per message recording its outcome by index."""
    import functools

    def record(i: int, err: Any, _msg: Any) -> None:
        outcomes[i] = err

    produce = producer.produce
    poll = producer.poll
    for i, v in enumerate(values):
        cb = functools.partial(record, i)
        while True:
            try:
                produce(topic, v, None, -1, cb)
                break
            except BufferError:
                poll(0.005)
    return producer.flush(60)


def raw_consume(consumer: Any, n: int, handle: Any) -> int:
    """confluent-kafka's plain loop: consume batches, decode JSON, call the handler."""
    import orjson

    loads = orjson.loads
    got = 0
    while got < n:
        for m in consumer.consume(min(1000, n - got), 0.2):  # never waits past the last one
            if m.error() is None:
                handle(loads(m.value()))
                got += 1
    return got

"""Message schemas: metadata, request and response payloads, and their validation.

Every structured message is ``{"metadata": {...}, "payload": {...}}``. The classes are slotted
dataclasses whose ``to_dict``/``from_dict``/``to_json``/``from_json`` round-trip exactly (enums
become their values). Validation is the compiled kernel :mod:`swfast._native.msgvalid`,
driven by the field tables below.

Unknown-field policy: by default unknown fields are **ignored** (a newer producer may add
fields an older consumer does not know) and dropped by ``from_dict``; pass ``strict=True`` to
:func:`validate_data_request` / :func:`validate_data_response` to reject them instead.

Example:
    >>> req = create_data_request("m1", OperationType.FETCH_DATA, parameters={"q": "x"})
    >>> DataRequest.from_json(req.to_json()) == req
    True
"""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from enum import Enum, IntEnum
from typing import Any

from .._native import msgvalid as _k
from ..errors import ValidationError
from . import _codec
from .constants import (
    DATA_RESPONSES_PREFIX,
    DEFAULT_OPERATION_TIMEOUT,
    MESSAGE_STATUS_ERROR,
    MESSAGE_STATUS_PARTIAL,
    MESSAGE_STATUS_PENDING,
    MESSAGE_STATUS_SUCCESS,
    MESSAGE_STATUS_TIMEOUT,
)


class DataType(str, Enum):
    """Kind of data a request asks for or a response carries."""

    TEXT = "text"
    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"
    DOCUMENT = "document"
    STRUCTURED = "structured"
    MIXED = "mixed"


class DataSource(str, Enum):
    """Where the data comes from."""

    WEB = "web"
    WIKI = "wiki"
    TWITTER = "twitter"
    TELEGRAM = "telegram"
    YOUTUBE = "youtube"
    APARAT = "aparat"
    NEWS = "news"
    BOOK = "book"
    API = "api"
    LINKEDIN = "linkedin"
    PODCAST = "podcast"
    RSS = "rss"
    SCIENTIFIC = "scientific"
    DATABASE = "database"
    CUSTOM = "custom"


class OperationType(str, Enum):
    """What a request asks the data service to do."""

    FETCH_DATA = "fetch_data"
    PROCESS_DATA = "process_data"
    UPDATE_DATA = "update_data"
    DELETE_DATA = "delete_data"
    MONITOR_DATA = "monitor_data"
    VERIFY_DATA = "verify_data"
    SEARCH_DATA = "search_data"
    TRANSLATE_DATA = "translate_data"
    SUMMARIZE_DATA = "summarize_data"
    ANALYZE_DATA = "analyze_data"


class Priority(IntEnum):
    """Message priority; smaller is more urgent (values equal the ``PRIORITY_*`` constants)."""

    CRITICAL = 1
    HIGH = 2
    MEDIUM = 3
    LOW = 4
    BACKGROUND = 5


class RequestSource(str, Enum):
    """Who originated a request."""

    USER = "user"
    MODEL = "model"
    SYSTEM = "system"
    SCHEDULED = "scheduled"
    API = "api"


STATUSES = frozenset({
    MESSAGE_STATUS_SUCCESS, MESSAGE_STATUS_ERROR, MESSAGE_STATUS_PENDING,
    MESSAGE_STATUS_PARTIAL, MESSAGE_STATUS_TIMEOUT,
})

_OP = {m.value: m for m in OperationType}
_DT = {m.value: m for m in DataType}
_DS = {m.value: m for m in DataSource}
_RS = {m.value: m for m in RequestSource}
_PRIO = {int(m): m for m in Priority}

# value -> member mappings handed to the kernel (validation and conversion), in this order
_E_OP, _E_DT, _E_DS, _E_RS, _E_ST, _E_PRIO = range(6)
_ENUMS = (_OP, _DT, _DS, _RS, {s: s for s in STATUSES}, _PRIO)
_ENUM_NAMES = ("OperationType", "DataType", "DataSource", "RequestSource", "status", "Priority")

# (name, kind, required, enum index, default): same order as the dataclass fields below
META_FIELDS = (
    ("request_id", _k.K_UUID, True, 0, None),
    ("timestamp", _k.K_TS, True, 0, None),
    ("source", _k.K_STR, False, 0, "unknown"),
    ("destination", _k.K_STR, False, 0, "unknown"),
    ("priority", _k.K_PRIORITY, False, _E_PRIO, Priority.MEDIUM),
    ("request_source", _k.K_ENUM, False, _E_RS, RequestSource.USER),
    ("correlation_id", _k.K_OPT_STR, False, 0, None),
    ("trace_id", _k.K_OPT_STR, False, 0, None),
    ("session_id", _k.K_OPT_STR, False, 0, None),
    ("retry_count", _k.K_INT_MIN0, False, 0, 0),
    ("ttl", _k.K_OPT_NUM_MIN0, False, 0, None),
    ("expires_at", _k.K_OPT_TS, False, 0, None),
)
REQUEST_FIELDS = (
    ("operation", _k.K_ENUM, True, _E_OP, None),
    ("model_id", _k.K_STR, False, 0, ""),
    ("data_type", _k.K_ENUM, False, _E_DT, DataType.TEXT),
    ("data_source", _k.K_OPT_ENUM, False, _E_DS, None),
    ("parameters", _k.K_DICT, False, 0, None),
    ("response_topic", _k.K_OPT_STR, False, 0, None),
    ("batch_id", _k.K_OPT_STR, False, 0, None),
    ("timeout", _k.K_NUM_POS, False, 0, DEFAULT_OPERATION_TIMEOUT),
    ("max_size", _k.K_OPT_INT_MIN0, False, 0, None),
    ("require_fresh", _k.K_BOOL, False, 0, False),
    ("tags", _k.K_STR_LIST, False, 0, None),
    ("context", _k.K_DICT, False, 0, None),
)
RESPONSE_FIELDS = (
    ("operation", _k.K_ENUM, True, _E_OP, None),
    ("status", _k.K_ENUM, False, _E_ST, MESSAGE_STATUS_SUCCESS),
    ("data_type", _k.K_OPT_ENUM, False, _E_DT, None),
    ("data_source", _k.K_OPT_ENUM, False, _E_DS, None),
    ("data", _k.K_ANY, False, 0, None),
    ("error_message", _k.K_OPT_STR, False, 0, None),
    ("error_code", _k.K_OPT_STR, False, 0, None),
    ("metrics", _k.K_DICT, False, 0, None),
    ("batch_id", _k.K_OPT_STR, False, 0, None),
    ("next_cursor", _k.K_OPT_STR, False, 0, None),
    ("total_items", _k.K_OPT_INT_MIN0, False, 0, None),
    ("page_info", _k.K_OPT_DICT, False, 0, None),
    ("metadata", _k.K_DICT, False, 0, None),
    ("source_url", _k.K_OPT_STR, False, 0, None),
    ("last_updated", _k.K_OPT_STR, False, 0, None),
    ("processing_time", _k.K_OPT_NUM_MIN0, False, 0, None),
    ("cached", _k.K_BOOL, False, 0, False),
    ("additional_info", _k.K_DICT, False, 0, None),
)

_REQUEST_CHECKER = _k.Checker(META_FIELDS, REQUEST_FIELDS, _ENUMS, _ENUM_NAMES)
_RESPONSE_CHECKER = _k.Checker(META_FIELDS, RESPONSE_FIELDS, _ENUMS, _ENUM_NAMES)


def utc_now_iso() -> str:
    """The current time as a zoned ISO 8601 string (UTC, microseconds)."""
    return datetime.now(timezone.utc).isoformat()


def _enum(table: dict[Any, Any], value: Any, path: str, label: str) -> Any:
    """Map a value (or member) to its enum member, raising ValidationError naming ``path``."""
    member = table.get(value.value if isinstance(value, Enum) else value)
    if member is None:
        raise ValidationError(
            f"must be one of the {label} values {sorted(map(str, table))}, got {value!r}",
            path=path, keyword="enum",
        )
    return member


def _opt(value: Any) -> Any:
    return None if value is None else value.value


@dataclass(slots=True)
class MessageMetadata:
    """Routing and lifecycle data common to every message."""

    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    timestamp: str = field(default_factory=utc_now_iso)
    source: str = "unknown"
    destination: str = "unknown"
    priority: Priority = Priority.MEDIUM
    request_source: RequestSource = RequestSource.USER
    correlation_id: str | None = None
    trace_id: str | None = None
    session_id: str | None = None
    retry_count: int = 0
    ttl: float | None = None
    expires_at: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON dict (enums as values)."""
        return {
            "request_id": self.request_id, "timestamp": self.timestamp, "source": self.source,
            "destination": self.destination, "priority": int(self.priority),
            "request_source": self.request_source.value, "correlation_id": self.correlation_id,
            "trace_id": self.trace_id, "session_id": self.session_id,
            "retry_count": self.retry_count, "ttl": self.ttl, "expires_at": self.expires_at,
        }

    def _raw(self) -> dict[str, Any]:
        # members left as is: both JSON backends write str/int enums as their values
        return {
            "request_id": self.request_id, "timestamp": self.timestamp, "source": self.source,
            "destination": self.destination, "priority": self.priority,
            "request_source": self.request_source, "correlation_id": self.correlation_id,
            "trace_id": self.trace_id, "session_id": self.session_id,
            "retry_count": self.retry_count, "ttl": self.ttl, "expires_at": self.expires_at,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "MessageMetadata":
        """Build from a dict; missing fields take their defaults, unknown ones are dropped."""
        g = data.get
        rid = g("request_id")
        ts = g("timestamp")
        return cls(
            rid if rid is not None else str(uuid.uuid4()), ts if ts is not None else utc_now_iso(),
            g("source", "unknown"), g("destination", "unknown"),
            _enum(_PRIO, g("priority", 3), "metadata.priority", "Priority"),
            _enum(_RS, g("request_source", "user"), "metadata.request_source", "RequestSource"),
            g("correlation_id"), g("trace_id"), g("session_id"), g("retry_count", 0),
            g("ttl"), g("expires_at"),
        )

    def expires_at_us(self) -> int | None:
        """``expires_at`` as epoch microseconds, or None when unset or unparseable."""
        return None if self.expires_at is None else _k.parse_timestamp(self.expires_at)


@dataclass(slots=True)
class RequestPayload:
    """What a data request asks for."""

    operation: OperationType
    model_id: str = ""
    data_type: DataType = DataType.TEXT
    data_source: DataSource | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    response_topic: str | None = None
    batch_id: str | None = None
    timeout: float = DEFAULT_OPERATION_TIMEOUT
    max_size: int | None = None
    require_fresh: bool = False
    tags: list[str] = field(default_factory=list)
    context: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON dict (enums as their string values)."""
        ds = self.data_source
        return {
            "operation": self.operation.value, "model_id": self.model_id,
            "data_type": self.data_type.value, "data_source": None if ds is None else ds.value,
            "parameters": self.parameters, "response_topic": self.response_topic,
            "batch_id": self.batch_id, "timeout": self.timeout, "max_size": self.max_size,
            "require_fresh": self.require_fresh, "tags": self.tags, "context": self.context,
        }

    def _raw(self) -> dict[str, Any]:
        return {
            "operation": self.operation, "model_id": self.model_id, "data_type": self.data_type,
            "data_source": self.data_source, "parameters": self.parameters,
            "response_topic": self.response_topic, "batch_id": self.batch_id, "timeout": self.timeout,
            "max_size": self.max_size, "require_fresh": self.require_fresh, "tags": self.tags,
            "context": self.context,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RequestPayload":
        """Build from a dict; ``operation`` is required, unknown fields are dropped."""
        g = data.get
        if "operation" not in data:
            raise ValidationError("is required", path="payload.operation", keyword="required")
        ds = g("data_source")
        return cls(
            _enum(_OP, data["operation"], "payload.operation", "OperationType"), g("model_id", ""),
            _enum(_DT, g("data_type", "text"), "payload.data_type", "DataType"),
            None if ds is None else _enum(_DS, ds, "payload.data_source", "DataSource"),
            g("parameters") or {}, g("response_topic"), g("batch_id"),
            g("timeout", DEFAULT_OPERATION_TIMEOUT), g("max_size"), g("require_fresh", False),
            g("tags") or [], g("context") or {},
        )


@dataclass(slots=True)
class ResponsePayload:
    """The result of a data request."""

    operation: OperationType
    status: str = MESSAGE_STATUS_SUCCESS
    data_type: DataType | None = None
    data_source: DataSource | None = None
    data: Any = None
    error_message: str | None = None
    error_code: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    batch_id: str | None = None
    next_cursor: str | None = None
    total_items: int | None = None
    page_info: dict[str, Any] | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    source_url: str | None = None
    last_updated: str | None = None
    processing_time: float | None = None
    cached: bool = False
    additional_info: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON dict (enums as their string values)."""
        dt = self.data_type
        ds = self.data_source
        return {
            "operation": self.operation.value, "status": self.status,
            "data_type": None if dt is None else dt.value,
            "data_source": None if ds is None else ds.value, "data": self.data,
            "error_message": self.error_message, "error_code": self.error_code,
            "metrics": self.metrics, "batch_id": self.batch_id, "next_cursor": self.next_cursor,
            "total_items": self.total_items, "page_info": self.page_info,
            "metadata": self.metadata, "source_url": self.source_url,
            "last_updated": self.last_updated, "processing_time": self.processing_time,
            "cached": self.cached, "additional_info": self.additional_info,
        }

    def _raw(self) -> dict[str, Any]:
        return {
            "operation": self.operation, "status": self.status, "data_type": self.data_type,
            "data_source": self.data_source, "data": self.data, "error_message": self.error_message,
            "error_code": self.error_code, "metrics": self.metrics, "batch_id": self.batch_id,
            "next_cursor": self.next_cursor, "total_items": self.total_items,
            "page_info": self.page_info, "metadata": self.metadata, "source_url": self.source_url,
            "last_updated": self.last_updated, "processing_time": self.processing_time,
            "cached": self.cached, "additional_info": self.additional_info,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ResponsePayload":
        """Build from a dict; ``operation`` is required, unknown fields are dropped."""
        g = data.get
        if "operation" not in data:
            raise ValidationError("is required", path="payload.operation", keyword="required")
        dt = g("data_type")
        ds = g("data_source")
        status = g("status", MESSAGE_STATUS_SUCCESS)
        if status not in STATUSES:
            raise ValidationError(f"must be one of {sorted(STATUSES)}, got {status!r}",
                                  path="payload.status", keyword="enum")
        return cls(
            _enum(_OP, data["operation"], "payload.operation", "OperationType"), status,
            None if dt is None else _enum(_DT, dt, "payload.data_type", "DataType"),
            None if ds is None else _enum(_DS, ds, "payload.data_source", "DataSource"),
            g("data"), g("error_message"), g("error_code"), g("metrics") or {}, g("batch_id"),
            g("next_cursor"), g("total_items"), g("page_info"), g("metadata") or {},
            g("source_url"), g("last_updated"), g("processing_time"), g("cached", False),
            g("additional_info") or {},
        )


def _raise(err: tuple[str, str, str]) -> None:
    raise ValidationError(err[2], path=err[0], keyword=err[1])


def _as_message(value: Any) -> Any:
    if isinstance(value, (DataRequest, DataResponse)):
        return value.to_dict()
    if isinstance(value, (bytes, bytearray, memoryview, str)):
        return _codec.loads(value)
    return value


@dataclass(slots=True)
class DataRequest:
    """A data request: :class:`MessageMetadata` plus a :class:`RequestPayload`."""

    metadata: MessageMetadata
    payload: RequestPayload

    def to_dict(self) -> dict[str, Any]:
        """``{"metadata": ..., "payload": ...}`` as plain JSON types."""
        return {"metadata": self.metadata.to_dict(), "payload": self.payload.to_dict()}

    def to_json(self) -> bytes:
        """Compact UTF-8 JSON bytes."""
        return _codec.dumps({"metadata": self.metadata._raw(), "payload": self.payload._raw()})

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, validate: bool = True, strict: bool = False) -> "DataRequest":
        """Build from a dict, validating first unless ``validate=False``.

        Raises:
            ValidationError: naming the first invalid field.
        """
        if validate:  # one pass in the kernel: validate and convert to constructor arguments
            err, meta, payload = _REQUEST_CHECKER.convert(data, strict)
            if err is not None:
                _raise(err)
            return cls(MessageMetadata(*meta), RequestPayload(*payload))
        return cls(MessageMetadata.from_dict(data["metadata"]), RequestPayload.from_dict(data["payload"]))

    @classmethod
    def from_json(cls, data: str | bytes, *, strict: bool = False) -> "DataRequest":
        """Decode and validate JSON text or bytes.

        Raises:
            ValidationError: the JSON is malformed or a field is invalid.
        """
        try:
            obj = _codec.loads(data)
        except _codec.JSONDecodeError as exc:
            raise ValidationError(f"is not valid JSON ({exc})", keyword="json") from None
        return cls.from_dict(obj, strict=strict)

    def is_expired(self, now_us: int | None = None) -> bool:
        """True when ``metadata.expires_at`` has passed (``now_us``: epoch µs, for tests)."""
        exp = self.metadata.expires_at_us()
        return exp is not None and exp < (now_us if now_us is not None else time.time_ns() // 1000)


@dataclass(slots=True)
class DataResponse:
    """A data response: :class:`MessageMetadata` plus a :class:`ResponsePayload`."""

    metadata: MessageMetadata
    payload: ResponsePayload

    def to_dict(self) -> dict[str, Any]:
        """``{"metadata": ..., "payload": ...}`` as plain JSON types."""
        return {"metadata": self.metadata.to_dict(), "payload": self.payload.to_dict()}

    def to_json(self) -> bytes:
        """Compact UTF-8 JSON bytes."""
        return _codec.dumps({"metadata": self.metadata._raw(), "payload": self.payload._raw()})

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, validate: bool = True, strict: bool = False) -> "DataResponse":
        """Build from a dict, validating first unless ``validate=False``.

        Raises:
            ValidationError: naming the first invalid field.
        """
        if validate:  # one pass in the kernel: validate and convert to constructor arguments
            err, meta, payload = _RESPONSE_CHECKER.convert(data, strict)
            if err is not None:
                _raise(err)
            return cls(MessageMetadata(*meta), ResponsePayload(*payload))
        return cls(MessageMetadata.from_dict(data["metadata"]), ResponsePayload.from_dict(data["payload"]))

    @classmethod
    def from_json(cls, data: str | bytes, *, strict: bool = False) -> "DataResponse":
        """Decode and validate JSON text or bytes.

        Raises:
            ValidationError: the JSON is malformed or a field is invalid.
        """
        try:
            obj = _codec.loads(data)
        except _codec.JSONDecodeError as exc:
            raise ValidationError(f"is not valid JSON ({exc})", keyword="json") from None
        return cls.from_dict(obj, strict=strict)

    def is_expired(self, now_us: int | None = None) -> bool:
        """True when ``metadata.expires_at`` has passed (``now_us``: epoch µs, for tests)."""
        exp = self.metadata.expires_at_us()
        return exp is not None and exp < (now_us if now_us is not None else time.time_ns() // 1000)


def _expiry(timestamp: str, ttl: float | None) -> str | None:
    if ttl is None:
        return None
    return (datetime.fromisoformat(timestamp) + timedelta(seconds=ttl)).isoformat()


def response_topic_for(model_id: str) -> str:
    """The response topic of a model: ``DATA_RESPONSES_PREFIX + "." + model_id``."""
    return f"{DATA_RESPONSES_PREFIX}.{model_id}"


def create_data_request(
    model_id: str,
    operation: OperationType | str,
    data_type: DataType | str = DataType.TEXT,
    data_source: DataSource | str | None = None,
    parameters: dict[str, Any] | None = None,
    *,
    priority: Priority | int = Priority.MEDIUM,
    request_source: RequestSource | str = RequestSource.USER,
    response_topic: str | None = None,
    source: str | None = None,
    destination: str = "data",
    batch_id: str | None = None,
    timeout: float = DEFAULT_OPERATION_TIMEOUT,
    max_size: int | None = None,
    require_fresh: bool = False,
    tags: list[str] | None = None,
    context: dict[str, Any] | None = None,
    correlation_id: str | None = None,
    trace_id: str | None = None,
    session_id: str | None = None,
    ttl: float | None = None,
) -> DataRequest:
    """Build a validated :class:`DataRequest` with a fresh id and timestamp.

    The response topic defaults to the model's (``response_topic_for(model_id)``); ``ttl``
    (seconds) sets ``expires_at``.

    Raises:
        ValidationError: an argument is invalid (named in ``path``).
    """
    ts = utc_now_iso()
    meta = MessageMetadata(
        str(uuid.uuid4()), ts, source if source is not None else model_id, destination,
        _enum(_PRIO, priority, "metadata.priority", "Priority"),
        _enum(_RS, request_source, "metadata.request_source", "RequestSource"),
        correlation_id, trace_id, session_id, 0, ttl, _expiry(ts, ttl),
    )
    payload = RequestPayload(
        _enum(_OP, operation, "payload.operation", "OperationType"), model_id,
        _enum(_DT, data_type, "payload.data_type", "DataType"),
        None if data_source is None else _enum(_DS, data_source, "payload.data_source", "DataSource"),
        parameters if parameters is not None else {},
        response_topic if response_topic is not None else response_topic_for(model_id),
        batch_id, timeout, max_size, require_fresh, tags if tags is not None else [],
        context if context is not None else {},
    )
    request = DataRequest(meta, payload)
    validate_data_request(request)
    return request


def create_data_response(
    request_id: str,
    model_id: str,
    operation: OperationType | str,
    status: str = MESSAGE_STATUS_SUCCESS,
    data: Any = None,
    *,
    data_type: DataType | str | None = None,
    data_source: DataSource | str | None = None,
    error_message: str | None = None,
    error_code: str | None = None,
    priority: Priority | int = Priority.MEDIUM,
    source: str = "data",
    **payload_fields: Any,
) -> DataResponse:
    """Build a validated :class:`DataResponse` answering ``request_id`` for ``model_id``.

    The metadata keeps ``request_id`` (responses are matched and deduplicated on it) and sets
    ``correlation_id`` to it too. Further :class:`ResponsePayload` fields go in
    ``payload_fields`` (``metrics=``, ``total_items=``, ...).

    Raises:
        ValidationError: an argument is invalid (named in ``path``).
    """
    meta = MessageMetadata(
        request_id, utc_now_iso(), source, model_id,
        _enum(_PRIO, priority, "metadata.priority", "Priority"), RequestSource.SYSTEM,
        request_id,
    )
    try:
        payload = ResponsePayload(
            _enum(_OP, operation, "payload.operation", "OperationType"), status,
            None if data_type is None else _enum(_DT, data_type, "payload.data_type", "DataType"),
            None if data_source is None else _enum(_DS, data_source, "payload.data_source", "DataSource"),
            data, error_message, error_code, **payload_fields,
        )
    except TypeError as exc:
        raise ValidationError(f"unknown ResponsePayload field ({exc})", path="payload", keyword="unknown") from None
    response = DataResponse(meta, payload)
    validate_data_response(response)
    return response


def validate_data_request(request: Any, *, strict: bool = False) -> None:
    """Raise :class:`ValidationError` naming the first invalid field of a request.

    Accepts a :class:`DataRequest`, a dict, or JSON text/bytes.
    """
    try:
        msg = _as_message(request)
    except _codec.JSONDecodeError as exc:
        raise ValidationError(f"is not valid JSON ({exc})", keyword="json") from None
    err = _REQUEST_CHECKER.check(msg, strict)
    if err is not None:
        _raise(err)


def validate_data_response(response: Any, *, strict: bool = False) -> None:
    """Raise :class:`ValidationError` naming the first invalid field of a response."""
    try:
        msg = _as_message(response)
    except _codec.JSONDecodeError as exc:
        raise ValidationError(f"is not valid JSON ({exc})", keyword="json") from None
    err = _RESPONSE_CHECKER.check(msg, strict)
    if err is not None:
        _raise(err)


def is_valid_data_request(request: Any, *, strict: bool = False) -> bool:
    """True when ``request`` (object, dict, JSON text or bytes) is a valid request; never raises."""
    try:  # zero-cost unless something raises (a user object with a failing __repr__, bad JSON)
        if type(request) is dict:
            return _REQUEST_CHECKER.check(request, strict) is None
        return _REQUEST_CHECKER.check(_as_message(request), strict) is None
    except Exception:  # any value at all must give a bool, never an exception
        return False


def is_valid_data_response(response: Any, *, strict: bool = False) -> bool:
    """True when ``response`` (object, dict, JSON text or bytes) is a valid response; never raises."""
    try:  # zero-cost unless something raises (a user object with a failing __repr__, bad JSON)
        if type(response) is dict:
            return _RESPONSE_CHECKER.check(response, strict) is None
        return _RESPONSE_CHECKER.check(_as_message(response), strict) is None
    except Exception:  # any value at all must give a bool, never an exception
        return False


__all__ = [
    "DataRequest", "DataResponse", "DataSource", "DataType", "MessageMetadata", "OperationType",
    "Priority", "RequestPayload", "RequestSource", "ResponsePayload", "STATUSES",
    "create_data_request", "create_data_response", "is_valid_data_request",
    "is_valid_data_response", "response_topic_for", "utc_now_iso", "validate_data_request",
    "validate_data_response",
]

"""Message schemas: metadata, request and response payloads, and their validation.

Every structured message is ``{"metadata": {...}, "payload": {...}}``. The classes are slotted
dataclasses whose ``to_dict``/``from_dict``/``to_json``/``from_json`` round-trip exactly (enums
become their values). Validation is the compiled kernel :mod:`swfast._native.msgvalid`, driven
by the field tables in :mod:`._validation`; ``from_dict``/``from_json`` validate and convert in
one kernel pass.

Unknown-field policy: by default unknown fields are **ignored** (a newer producer may add
fields an older consumer does not know) and dropped by ``from_dict``; pass ``strict=True`` to
reject them instead.

Example:
    >>> req = create_data_request("m1", OperationType.FETCH_DATA, parameters={"q": "x"})
    >>> DataRequest.from_json(req.to_json()) == req
    True
"""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar, TypeVar

from .._durations import seconds
from .._native import msgvalid as _k
from .._native.msgenc import Encoder
from ..errors import ValidationError
from . import _codec
from ._enums import (
    _DS, _DT, _OP, _PRIO, _RS, STATUSES, DataSource, DataType, OperationType, Priority, RequestSource,
    _enum,
)
from ._enums import _ENUM_NAMES, _ENUMS  # noqa: F401 - re-exported for tests and benchmarks
from ._validation import (  # noqa: F401 - validation API re-exported here (SPEC)
    _REQUEST_CHECKER, _RESPONSE_CHECKER, META_FIELDS, REQUEST_FIELDS,
    RESPONSE_FIELDS, _raise, as_utc, is_valid_data_request, is_valid_data_response, validate_data_request,
    validate_data_response,
)
from .constants import DATA_RESPONSES_PREFIX, DEFAULT_OPERATION_TIMEOUT, MESSAGE_STATUS_SUCCESS


_ISO_SECOND: tuple[int, str] = (-1, "")  # (Unix second, its "YYYY-MM-DDTHH:MM:SS"), replaced whole


def utc_now_iso() -> str:
    """The current time as a zoned ISO 8601 string (UTC, microseconds).

    The same text as ``datetime.now(timezone.utc).isoformat()`` (no fraction when the
    microseconds are 0); the date and time of day are formatted once per second.
    """
    global _ISO_SECOND
    sec, us = divmod(time.time_ns() // 1000, 1_000_000)
    memo = _ISO_SECOND
    if memo[0] != sec:
        memo = _ISO_SECOND = (sec, datetime.fromtimestamp(sec, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"))
    if us:
        return f"{memo[1]}.{us:06d}+00:00"
    return memo[1] + "+00:00"


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
            "request_source": self.request_source._value_, "correlation_id": self.correlation_id,
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
            "operation": self.operation._value_, "model_id": self.model_id,
            "data_type": self.data_type._value_, "data_source": None if ds is None else ds._value_,
            "parameters": self.parameters, "response_topic": self.response_topic,
            "batch_id": self.batch_id, "timeout": self.timeout, "max_size": self.max_size,
            "require_fresh": self.require_fresh, "tags": self.tags, "context": self.context,
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
            "operation": self.operation._value_, "status": self.status,
            "data_type": None if dt is None else dt._value_,
            "data_source": None if ds is None else ds._value_, "data": self.data,
            "error_message": self.error_message, "error_code": self.error_code,
            "metrics": self.metrics, "batch_id": self.batch_id, "next_cursor": self.next_cursor,
            "total_items": self.total_items, "page_info": self.page_info,
            "metadata": self.metadata, "source_url": self.source_url,
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


_E = TypeVar("_E", bound="_Envelope")


class _Envelope:
    """Shared behaviour of :class:`DataRequest` and :class:`DataResponse` (metadata + payload)."""

    __slots__ = ()
    _ENVELOPE: ClassVar[bool] = True
    _CHECKER: ClassVar[Any]
    _PAYLOAD: ClassVar[Any]
    _ENCODER: ClassVar[Any]
    _EXACT: ClassVar[Any] = None
    metadata: MessageMetadata
    payload: Any

    def to_dict(self) -> dict[str, Any]:
        """``{"metadata": ..., "payload": ...}`` as plain JSON types."""
        return {"metadata": self.metadata.to_dict(), "payload": self.payload.to_dict()}

    def to_json(self) -> bytes:
        """Compact UTF-8 JSON bytes."""
        return self._ENCODER.encode(self.metadata, self.payload)  # type: ignore[no-any-return]

    @classmethod
    def from_dict(cls: type[_E], data: dict[str, Any], *, validate: bool = True, strict: bool = False,
                  naive_utc: bool = False) -> _E:
        """Build from a dict, validating first unless ``validate=False``.

        ``naive_utc=True`` reads ``metadata.timestamp``/``expires_at`` without a UTC offset (as
        other platform modules write them) as UTC; off by default (they are invalid).

        Raises:
            ValidationError: naming the first invalid field.
        """
        if naive_utc:
            data = as_utc(data)
        if validate:  # one pass in the kernel: validate and convert to constructor arguments
            err, meta, payload = cls._CHECKER.convert(data, strict)
            if err is not None:
                _raise(err)
            return cls(MessageMetadata(*meta), cls._PAYLOAD(*payload))  # type: ignore[call-arg]
        return cls(MessageMetadata.from_dict(data["metadata"]), cls._PAYLOAD.from_dict(data["payload"]))  # type: ignore[call-arg]

    @classmethod
    def from_json(cls: type[_E], data: str | bytes, *, strict: bool = False, naive_utc: bool = False) -> _E:
        """Decode and validate JSON text or bytes (strict JSON, read straight into the fields).

        ``naive_utc``: as for :meth:`from_dict` (the JSON is then decoded before validation).

        Raises:
            ValidationError: the JSON is malformed or a field is invalid.
        """
        if naive_utc:
            fixed = as_utc(data)
            if type(fixed) is dict:
                return cls.from_dict(fixed, strict=strict)
        if cls._EXACT is cls:  # read, validate, convert and construct: one kernel pass
            err, obj = cls._CHECKER.build(data, strict)
            if err is not None:
                _raise(err)
            return obj  # type: ignore[no-any-return]
        err, meta, payload = cls._CHECKER.decode(data, strict)  # a subclass: construct it here
        if err is not None:
            _raise(err)
        return cls(MessageMetadata(*meta), cls._PAYLOAD(*payload))  # type: ignore[call-arg]

    def is_expired(self, now_us: int | None = None) -> bool:
        """True when ``metadata.expires_at`` has passed (``now_us``: epoch µs, for tests)."""
        exp = self.metadata.expires_at_us()
        return exp is not None and exp < (now_us if now_us is not None else time.time_ns() // 1000)


@dataclass(slots=True)
class DataRequest(_Envelope):
    """A data request: :class:`MessageMetadata` plus a :class:`RequestPayload`."""

    _CHECKER: ClassVar[Any] = _REQUEST_CHECKER
    _PAYLOAD: ClassVar[Any] = RequestPayload
    metadata: MessageMetadata
    payload: RequestPayload


@dataclass(slots=True)
class DataResponse(_Envelope):
    """A data response: :class:`MessageMetadata` plus a :class:`ResponsePayload`."""

    _CHECKER: ClassVar[Any] = _RESPONSE_CHECKER
    _PAYLOAD: ClassVar[Any] = ResponsePayload
    metadata: MessageMetadata
    payload: ResponsePayload


def _encoder(payload_cls: type) -> Any:
    """The compiled JSON writer for metadata + ``payload_cls`` (enum members write their values)."""
    return Encoder(MessageMetadata, [f.name for f in fields(MessageMetadata)], payload_cls,
                   [f.name for f in fields(payload_cls)], _codec.dumps)


DataRequest._ENCODER = _encoder(RequestPayload)
DataResponse._ENCODER = _encoder(ResponsePayload)
for _cls in (DataRequest, DataResponse):
    _cls._CHECKER.bind(MessageMetadata, _cls._PAYLOAD, _cls)
    _cls._EXACT = _cls


def _expiry(timestamp: str, ttl: float | None) -> str | None:
    if ttl is None:
        return None
    return (datetime.fromisoformat(timestamp) + timedelta(seconds=ttl)).isoformat()


def response_topic_for(model_id: str) -> str:
    """The response topic of a model: ``DATA_RESPONSES_PREFIX + "." + model_id``."""
    return f"{DATA_RESPONSES_PREFIX}.{model_id}"


def create_data_request(
    model_id: str,
    operation: OperationType | str = OperationType.FETCH_DATA,
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
    timeout: float | timedelta | str = DEFAULT_OPERATION_TIMEOUT,
    max_size: int | None = None,
    require_fresh: bool = False,
    tags: list[str] | None = None,
    context: dict[str, Any] | None = None,
    correlation_id: str | None = None,
    trace_id: str | None = None,
    session_id: str | None = None,
    ttl: float | timedelta | str | None = None,
) -> DataRequest:
    """Build a validated :class:`DataRequest` with a fresh id and timestamp.

    ``operation`` defaults to ``FETCH_DATA``. The response topic defaults to the model's
    (``response_topic_for(model_id)``); ``ttl`` (seconds: a float, a ``timedelta`` or a string
    such as ``"10m"``) sets ``expires_at``; ``timeout`` takes the same forms. Every argument
    can be passed by keyword.

    Raises:
        ValidationError: an argument is invalid (named in ``path``).
    """
    if isinstance(ttl, (str, timedelta)):  # numbers go to validation as they are (ValidationError)
        ttl = seconds(ttl, param="ttl")
    timeout_s: Any = seconds(timeout, param="timeout", allow_zero=False) if isinstance(timeout, (str, timedelta)) \
        else timeout
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
        batch_id, timeout_s, max_size, require_fresh, tags if tags is not None else [],
        context if context is not None else {},
    )
    request = DataRequest(meta, payload)
    validate_data_request(request)
    return request


def create_data_response(
    request_id: str,
    model_id: str,
    operation: OperationType | str = OperationType.FETCH_DATA,
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

    ``operation`` defaults to ``FETCH_DATA``, as for requests; every argument can be passed by
    keyword. The metadata keeps ``request_id`` (responses are matched and deduplicated on it) and sets
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


__all__ = [
    "DataRequest", "DataResponse", "DataSource", "DataType", "MessageMetadata", "OperationType",
    "Priority", "RequestPayload", "RequestSource", "ResponsePayload", "STATUSES",
    "create_data_request", "create_data_response", "is_valid_data_request",
    "is_valid_data_response", "response_topic_for", "utc_now_iso", "validate_data_request",
    "validate_data_response",
]

"""Validation of data requests and responses: the field tables driving the compiled kernel.

Unknown-field policy: unknown fields are ignored by default (forward compatible) and rejected
with ``strict=True``. ``is_valid_*`` return a bool for any input whatsoever; ``validate_*``
raise :class:`~swfast.errors.ValidationError` naming the first bad field (``path``) and the
rule (``keyword``).

Sendable by construction: a message that validates can be encoded losslessly, so values JSON
cannot carry (a dict key that is not a str, NaN or ±Infinity, nesting deeper than 512) are
validation errors (keywords ``"key"``, ``"finite"``, ``"depth"``), not encoder surprises at send
time. Integers of any size are valid (they are sent and received exactly).
"""
from __future__ import annotations

from typing import Any, NoReturn

from .._native import msgvalid as _k
from .._native.msgenc import problem as _problem
from ..errors import ValidationError
from ._enums import (
    _ENUM_NAMES, _ENUMS, _E_DS, _E_DT, _E_OP, _E_PRIO, _E_RS, _E_ST, DataType, Priority, RequestSource,
)
from .constants import DEFAULT_OPERATION_TIMEOUT, MESSAGE_STATUS_SUCCESS

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


def _raise(err: tuple[str, str, str]) -> NoReturn:
    raise ValidationError(err[2], path=err[0], keyword=err[1])


_TEXT = (bytes, bytearray, memoryview, str)


def _checked(checker: Any, value: Any, strict: bool) -> tuple[str, str, str] | None:
    """The kernel's first error of a dict, else the first value JSON cannot carry losslessly."""
    err: tuple[str, str, str] | None = checker.check(value, strict)
    if err is None:
        err = _problem(value)
    return err


def _error(checker: Any, value: Any, strict: bool) -> tuple[str, str, str] | None:
    """The first error of an object, dict or JSON text/bytes (JSON read by the strict kernel)."""
    if getattr(type(value), "_ENVELOPE", False):  # DataRequest / DataResponse
        return _checked(checker, value.to_dict(), strict)
    if isinstance(value, _TEXT):  # decoded JSON cannot hold what JSON cannot carry
        return checker.decode(value, strict)[0]  # type: ignore[no-any-return]
    return _checked(checker, value, strict)


def validate_data_request(request: Any, *, strict: bool = False) -> None:
    """Raise :class:`ValidationError` naming the first invalid field of a request.

    Accepts a :class:`DataRequest`, a dict, or JSON text/bytes (malformed JSON: keyword
    ``"json"``).
    """
    err = _error(_REQUEST_CHECKER, request, strict)
    if err is not None:
        _raise(err)


def validate_data_response(response: Any, *, strict: bool = False) -> None:
    """Raise :class:`ValidationError` naming the first invalid field of a response."""
    err = _error(_RESPONSE_CHECKER, response, strict)
    if err is not None:
        _raise(err)


def is_valid_data_request(request: Any, *, strict: bool = False) -> bool:
    """True when ``request`` (object, dict, JSON text or bytes) is a valid request; never raises."""
    try:  # zero-cost unless something raises (a user object with a failing __repr__)
        if type(request) is dict:
            return _REQUEST_CHECKER.check(request, strict) is None and _problem(request) is None
        return _error(_REQUEST_CHECKER, request, strict) is None
    except Exception:  # any value at all must give a bool, never an exception
        return False


def is_valid_data_response(response: Any, *, strict: bool = False) -> bool:
    """True when ``response`` (object, dict, JSON text or bytes) is a valid response; never raises."""
    try:  # zero-cost unless something raises (a user object with a failing __repr__)
        if type(response) is dict:
            return _RESPONSE_CHECKER.check(response, strict) is None and _problem(response) is None
        return _error(_RESPONSE_CHECKER, response, strict) is None
    except Exception:  # any value at all must give a bool, never an exception
        return False


__all__ = [
    "META_FIELDS", "REQUEST_FIELDS", "RESPONSE_FIELDS", "is_valid_data_request",
    "is_valid_data_response", "validate_data_request", "validate_data_response",
]

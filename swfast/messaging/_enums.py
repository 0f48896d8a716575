"""The message enums and their value -> member tables (shared by schemas and validation)."""
from __future__ import annotations

from enum import Enum, IntEnum
from typing import Any

from ..errors import ValidationError
from .constants import (
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

def _enum(table: dict[Any, Any], value: Any, path: str, label: str) -> Any:
    """Map a value (or member) to its enum member, raising ValidationError naming ``path``."""
    # A member of these str/int enums hashes and compares as its value: one lookup finds it
    # (``_value_`` is the plain attribute behind the slower ``value`` descriptor).
    member = table.get(value)
    if member is None and isinstance(value, Enum):
        member = table.get(value._value_)
    if member is None:
        raise ValidationError(
            f"must be one of the {label} values {sorted(map(str, table))}, got {value!r}",
            path=path, keyword="enum",
        )
    return member


__all__ = ["DataSource", "DataType", "OperationType", "Priority", "RequestSource", "STATUSES"]

"""Pluggable value serializers for L2 (Redis) and L3 (disk).

Without a serializer a tier stores ``bytes``, ``str`` and *exact* JSON data (``None``, bools,
ints, finite floats, str, lists and str-keyed dicts, exact types only); anything else —
tuples, dicts with non-str keys, sets, subclasses — is refused at write time with
:class:`~swfast.errors.CacheSerializationError`, because JSON would hand back a different
value (``{1: "a"}`` → ``{"1": "a"}``, tuples → lists) and a value's type would then depend on
the tier that served it.

A serializer makes more types storable. The protocol (:class:`Serializer`):

``id``
    an int in ``3..127`` written into each envelope (byte 1). Ids 0-2 are the built-in
    bytes/str/JSON encodings; 3 is :class:`TaggedSerializer`. A reader whose serializer has
    another id treats the entry as foreign (a logged miss), so every process sharing a Redis
    or a cache file must configure the same serializer.
``dumps(value) -> bytes``
    called for every value that is not ``bytes``, ``str`` or exact JSON data (those keep the
    built-in encodings, decoded in the compiled kernel and readable by every process); raises ``TypeError`` (ideally
    :class:`~swfast.errors.CacheSerializationError`) for a value it cannot store losslessly.
``loads(data: bytes) -> value``
    the inverse; raises ``ValueError`` (or ``TypeError``/``KeyError``) on malformed data,
    which the tier counts as a rejected entry. It must never execute code chosen by the data
    (no ``pickle``): whoever can write to Redis can choose the bytes.

:class:`TaggedSerializer` is the ready one: JSON with tagged wrappers for tuples, dicts with
any hashable JSON-able keys, sets, frozensets, bytes, ``datetime``/``date``/``time``/
``timedelta``, ``Decimal``, ``complex``, ``UUID``, non-finite floats and numpy arrays and
scalars (numeric/bool/datetime/str dtypes; object and structured dtypes are refused).
Values come back ``==`` and of the same type.
"""
from __future__ import annotations

import base64
import datetime as _dt
import json
import math
import sys
import uuid
from decimal import Decimal
from typing import Any, Final, Protocol, runtime_checkable

from .._native.cacheval import json_inexact
from ..errors import CacheSerializationError, ConfigurationError

BUILTIN_IDS: Final = frozenset({0, 1, 2})
TAGGED_ID: Final = 3
_MAX_DEPTH: Final = 200


@runtime_checkable
class Serializer(Protocol):
    """What ``serializer=`` accepts (see the module docstring)."""

    id: int

    def dumps(self, value: Any) -> bytes: ...

    def loads(self, data: bytes) -> Any: ...


def check_serializer(serializer: Any, param: str = "serializer") -> Any:
    """``serializer`` if it follows the protocol (or is ``None``); else :class:`ConfigurationError`."""
    if serializer is None:
        return None
    sid = getattr(serializer, "id", None)
    if not (callable(getattr(serializer, "dumps", None)) and callable(getattr(serializer, "loads", None))):
        raise ConfigurationError(param, "must have dumps(value) -> bytes and loads(bytes) -> value methods")
    if type(sid) is not int or not 3 <= sid <= 127:
        raise ConfigurationError(param, f"id must be an int in 3..127 (0-2 are built in), got {sid!r}")
    return serializer


def refuse_inexact(value: Any) -> None:
    """Raise :class:`CacheSerializationError` unless ``value`` round-trips through JSON unchanged."""
    where = json_inexact(value)
    if where is not None:
        raise CacheSerializationError(
            f"value{where} would not read back unchanged from L2/L3 (JSON keeps only None, bool, "
            "int, finite float, str, list and str-keyed dict); store bytes/str/JSON data or pass "
            "serializer=TaggedSerializer() (tuples, non-str keys, sets, datetimes, Decimals, numpy "
            "arrays) to the cache tiers; swfast never pickles",
            where=where,
        )


class TaggedSerializer:
    """Lossless JSON with tagged wrappers (serializer id 3); see the module docstring.

    A tag is a one-key JSON object whose key starts with ``~``; plain str-keyed dicts with
    no key starting with ``~`` are written as they are, every other dict as ``{"~d": pairs}``,
    so the encoding is unambiguous. Decoding builds only the listed types.
    """

    __slots__ = ()
    id: int = TAGGED_ID

    def __repr__(self) -> str:
        return "TaggedSerializer()"

    def __eq__(self, other: object) -> bool:
        return type(other) is TaggedSerializer

    def __hash__(self) -> int:
        return hash(TaggedSerializer)

    def dumps(self, value: Any) -> bytes:
        return _dumps(_enc(value, 0, ""))

    def loads(self, data: bytes) -> Any:
        return json.loads(bytes(data).decode("utf-8", "surrogatepass"), object_hook=_dec)


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8", "surrogatepass")


def _refuse(where: str, what: str) -> CacheSerializationError:
    return CacheSerializationError(
        f"value{where}: {what} is not supported by TaggedSerializer (supported: JSON data, tuple, "
        "dict with any supported keys, set, frozenset, bytes, datetime/date/time/timedelta, "
        "Decimal, complex, UUID, numpy arrays and scalars of non-object dtypes)", where=f"{where}: {what}")


def _enc(v: Any, depth: int, where: str) -> Any:
    t = type(v)
    if t is str or t is int or t is bool or v is None:
        return v
    if t is float:
        return v if math.isfinite(v) else {"~fl": repr(v)}
    if depth >= _MAX_DEPTH:
        raise _refuse(where, f"nesting deeper than {_MAX_DEPTH} levels")
    d = depth + 1
    if t is list:
        return [_enc(x, d, f"{where}[{i}]") for i, x in enumerate(v)]
    if t is tuple:
        return {"~t": [_enc(x, d, f"{where}[{i}]") for i, x in enumerate(v)]}
    if t is dict:
        if all(type(k) is str and k[:1] != "~" for k in v):
            return {k: _enc(x, d, f"{where}[{k!r}]") for k, x in v.items()}
        return {"~d": [[_enc(k, d, f"{where} key {k!r}"), _enc(x, d, f"{where}[{k!r}]")] for k, x in v.items()]}
    if t is set or t is frozenset:
        return {"~s" if t is set else "~fs": [_enc(x, d, f"{where} item") for x in v]}
    if t is bytes or t is bytearray:
        if t is bytearray:
            raise _refuse(where, "bytearray (store bytes)")
        return {"~b": base64.b64encode(v).decode("ascii")}
    if t is _dt.datetime:
        return {"~dt": v.isoformat()}
    if t is _dt.date:
        return {"~da": v.isoformat()}
    if t is _dt.time:
        return {"~tm": v.isoformat()}
    if t is _dt.timedelta:
        return {"~td": [v.days, v.seconds, v.microseconds]}
    if t is Decimal:
        return {"~dec": str(v)}
    if t is complex:
        return {"~c": [_enc(v.real, d, where), _enc(v.imag, d, where)]}
    if t is uuid.UUID:
        return {"~u": str(v)}
    np = sys.modules.get("numpy")
    if np is not None and (t is np.ndarray or isinstance(v, np.generic)):
        return _enc_numpy(np, v, where)
    name = t.__qualname__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"
    raise _refuse(where, name)


def _enc_numpy(np: Any, v: Any, where: str) -> Any:
    dtype = v.dtype
    if dtype.hasobject or dtype.fields is not None or dtype.subdtype is not None:
        raise _refuse(where, f"numpy dtype {dtype} (object/structured dtypes)")
    if type(v) is not np.ndarray:  # a numpy scalar: its own type comes back
        return {"~ng": [dtype.str, base64.b64encode(np.asarray(v).tobytes()).decode("ascii")]}
    return {"~nd": [dtype.str, list(v.shape), base64.b64encode(np.ascontiguousarray(v).tobytes()).decode("ascii")]}


def _dec(obj: dict[str, Any]) -> Any:
    if len(obj) != 1:
        return obj
    (tag, x), = obj.items()
    if tag[:1] != "~":
        return obj
    if tag == "~t":
        return tuple(x)
    if tag == "~d":
        return {_hashable(k): v for k, v in x}
    if tag == "~s":
        return {_hashable(i) for i in x}
    if tag == "~fs":
        return frozenset(_hashable(i) for i in x)
    if tag == "~b":
        return base64.b64decode(x, validate=True)
    if tag == "~dt":
        return _dt.datetime.fromisoformat(x)
    if tag == "~da":
        return _dt.date.fromisoformat(x)
    if tag == "~tm":
        return _dt.time.fromisoformat(x)
    if tag == "~td":
        return _dt.timedelta(days=x[0], seconds=x[1], microseconds=x[2])
    if tag == "~dec":
        return Decimal(x)
    if tag == "~c":
        return complex(x[0], x[1])
    if tag == "~u":
        return uuid.UUID(x)
    if tag == "~fl":
        if x not in ("nan", "inf", "-inf"):
            raise ValueError(f"~fl: {x!r} is not a non-finite float")
        return float(x)
    if tag == "~nd" or tag == "~ng":
        import numpy as np

        dtype = np.dtype(x[0])
        if dtype.hasobject or dtype.fields is not None:
            raise ValueError(f"{tag}: dtype {dtype} is not allowed")
        if tag == "~ng":
            return np.frombuffer(base64.b64decode(x[1], validate=True), dtype=dtype, count=1)[0]
        shape = tuple(int(n) for n in x[1])
        return np.frombuffer(base64.b64decode(x[2], validate=True), dtype=dtype).reshape(shape).copy()
    raise ValueError(f"unknown tag {tag!r}")


def _hashable(v: Any) -> Any:
    if type(v) is list or type(v) is dict:
        raise ValueError("a dict key or set item decoded to an unhashable value")
    return v


__all__ = ["BUILTIN_IDS", "Serializer", "TAGGED_ID", "TaggedSerializer", "check_serializer", "refuse_inexact"]

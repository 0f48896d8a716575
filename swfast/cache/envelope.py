"""The versioned value envelope shared by L2 (Redis) and L3 (disk).

Layout (big-endian)::

    byte 0     format version (0xA5 = v1); anything else is not ours
    byte 1     serializer id (low 7 bits) | 0x80 when the payload is lz4-compressed
    bytes 2-9  absolute expiry, Unix time in milliseconds (0 = no expiry)
    ...        payload
    last 16    MAC over len(key) + key + header + payload (only when the codec has a key):
               two SipHash-2-4 tags under the two halves of a 32-byte key, computed in C

Serializers are data-only: raw ``bytes`` (0), ``str`` as UTF-8 (1) and JSON (2, only for values
that read back unchanged: ``None``, bools, ints, finite floats, str, lists and str-keyed dicts;
anything else raises :class:`~swfast.errors.CacheSerializationError`), or the pluggable
``serializer`` (ids 3-127, see :mod:`swfast.cache.serializer`) for the values JSON would change. Nothing is ever unpickled: bytes without a valid header (or MAC) decode to :data:`REJECT` — a miss the caller
logs. Header parsing and batch decoding run in the compiled envelope kernel.
"""
from __future__ import annotations

import hashlib
import json
import threading
from typing import Any, Final

from .._json import compact_dumps
from .._native import cacheval as _k
from .._native.cacheval import REJECT, SLOW
from ..errors import CacheSerializationError, CacheValueTooLarge, ConfigurationError, describe_type
from .serializer import Serializer, check_serializer, refuse_inexact

VERSION: Final = 0xA5
SER_BYTES: Final = 0
SER_STR: Final = 1
SER_JSON: Final = 2
_LZ4: Final = 0x80
HEADER_SIZE: Final = 10
MAC_SIZE: Final = 16


_ONCE = threading.local()


class encode_once:
    """``with encode_once(value):`` — inside the block, on this thread, the JSON bytes of this
    very object are computed once however many tiers size, check and write it (``smart_set``
    encoded one value three times). The memo is the object's identity and lives only for the
    block: a value mutated between two ``smart_set`` calls is encoded afresh."""

    __slots__ = ("value", "prev")

    def __init__(self, value: Any) -> None:
        self.value = value

    def __enter__(self) -> None:
        self.prev = getattr(_ONCE, "memo", None)
        _ONCE.memo = [self.value, None, None]

    def __exit__(self, *exc: object) -> None:
        _ONCE.memo = self.prev


def remember_row(owner: object, key: str, value: Any, ttl: float | None, row: Any) -> None:
    """Inside ``encode_once(value)``: keep the row ``owner`` (a tier) encoded for ``key`` (its size
    check), so the write of the same value under the same key and ttl reuses it instead of encoding
    again. One row per owner: a cache with L2 and L3 keeps both."""
    memo = getattr(_ONCE, "memo", None)
    if memo is not None and memo[0] is value:
        if memo[2] is None:
            memo[2] = {}
        memo[2][owner] = (key, ttl, row)


def recall_row(owner: object, key: str, value: Any, ttl: float | None) -> Any:
    """The row :func:`remember_row` kept for exactly this owner, key, value and ttl, else None."""
    memo = getattr(_ONCE, "memo", None)
    if memo is None or memo[0] is not value or memo[2] is None:
        return None
    kept = memo[2].get(owner)
    return kept[2] if kept is not None and kept[0] == key and kept[1] == ttl else None


def _json_dumps(value: Any) -> bytes:
    memo = getattr(_ONCE, "memo", None)
    if memo is not None and memo[0] is value:
        if memo[1] is None:
            memo[1] = _json_dumps_now(value)
        return memo[1]  # type: ignore[no-any-return]
    return _json_dumps_now(value)


def _json_dumps_now(value: Any) -> bytes:
    refuse_inexact(value)  # JSON would hand back another value: refuse before anything is written
    try:
        return compact_dumps(value)
    except (TypeError, ValueError) as exc:
        raise CacheSerializationError(
            f"value: {describe_type(value)} is not cacheable in L2/L3 (store bytes, str or "
            f"JSON-compatible data; swfast never pickles): {exc}"
        ) from None


_LOAD_ERRORS = (ValueError, TypeError, KeyError, IndexError, OverflowError)


class Codec:
    """Encodes values into envelopes and decodes them back, never trusting the bytes.

    Args:
        mac_key: secret for the BLAKE2b MAC (``None`` = no MAC; L3 always passes one).
        compress_threshold: payloads at least this long are lz4-compressed (``None`` = never).
        max_value_bytes: a larger encoded value raises :class:`CacheValueTooLarge`.
        serializer: stores values other than ``bytes``/``str`` (see :mod:`swfast.cache.serializer`);
            ``None`` = exact JSON data only.
    """

    __slots__ = ("mac_key", "compress_threshold", "max_value_bytes", "_sip", "serializer")

    def __init__(
        self,
        *,
        mac_key: bytes | None = None,
        compress_threshold: int | None = 4096,
        max_value_bytes: int = 1 << 20,
        serializer: Serializer | None = None,
    ) -> None:
        if mac_key is not None and not (isinstance(mac_key, bytes) and 16 <= len(mac_key) <= 64):
            raise ConfigurationError("mac_key", "must be 16 to 64 bytes (or None for no MAC)")
        if compress_threshold is not None and compress_threshold < 0:
            raise ConfigurationError("compress_threshold", "must be >= 0 or None")
        if max_value_bytes < 1:
            raise ConfigurationError("max_value_bytes", "must be >= 1")
        self.mac_key = mac_key
        self._sip = None if mac_key is None else (
            mac_key if len(mac_key) == 32 else hashlib.blake2b(mac_key, digest_size=32).digest())
        self.compress_threshold = compress_threshold
        self.max_value_bytes = max_value_bytes
        self.serializer = check_serializer(serializer)

    def encode(self, value: Any, expires_at: float | None, key: bytes = b"") -> bytes:
        """Envelope for ``value`` expiring at Unix time ``expires_at`` (``None`` = never).

        Raises:
            CacheSerializationError: (a ``TypeError``) the value would not read back unchanged
                (no serializer: not bytes, str or exact JSON data; else the serializer refused).
            CacheValueTooLarge: the encoded value exceeds ``max_value_bytes``; nothing is written.
        """
        t = type(value)
        if t is bytes or t is bytearray or t is memoryview:
            ser, payload = SER_BYTES, bytes(value)
        elif t is str:
            ser, payload = SER_STR, value.encode()
        elif self.serializer is None:
            ser, payload = SER_JSON, _json_dumps(value)
        elif _k.json_inexact(value) is None:  # exact JSON: the kernel's fast path, any reader
            ser, payload = SER_JSON, _json_dumps(value)
        else:
            ser, payload = self.serializer.id, self._dumps(value)
        th = self.compress_threshold
        if th is not None and len(payload) >= th:
            import lz4.block

            packed = lz4.block.compress(payload, store_size=True)
            if len(packed) < len(payload):
                ser, payload = ser | _LZ4, packed
        exp = 0 if expires_at is None else max(1, int(expires_at * 1000))
        body = _k.pack(ser, exp, payload, self._sip, key)
        if len(body) > self.max_value_bytes:
            raise CacheValueTooLarge(
                f"value: {len(body)} bytes encoded exceeds max_value_bytes={self.max_value_bytes}; "
                "store a smaller value or raise the limit",
                size=len(body), limit=self.max_value_bytes,
            )
        return body

    def decode(self, data: bytes | None, key: bytes = b"", now: float = 0.0) -> Any:
        """``(value, expires_at)``; ``None`` when absent or expired at ``now`` (Unix seconds);
        :data:`REJECT` when foreign, malformed or tampered (the caller logs and counts it)."""
        if data is None:
            return None
        if self._sip is None:
            out = _k.decode(data, now, json.loads)
        else:
            out = _k.decode_mac(data, self._sip, key, now, json.loads)
        return self._slow(data, now) if out is SLOW else out

    def decode_many(self, datas: list[Any], keys: list[bytes], now: float) -> list[Any]:
        """:meth:`decode` for a batch of replies (one kernel call when there is no MAC)."""
        if self.mac_key is None:
            out = _k.decode_many(datas, now, json.loads)
            return [self._slow(d, now) if o is SLOW else o for d, o in zip(datas, out)]
        return [self.decode(d, k, now) for d, k in zip(datas, keys)]

    def decode_into(self, keys: list[str], raws: list[bytes], datas: list[Any], now: float,
                    out: dict[str, Any], skip: set[bytes]) -> list[str]:
        """Decode a batch of replies into ``out[key]`` (skipping Redis keys in ``skip``).

        Returns:
            The keys whose values were rejected (foreign, malformed or tampered).
        """
        if self.mac_key is None:
            rejected, slow = _k.decode_into(keys, raws, datas, now, json.loads, out, skip)
            for i in slow:
                e = self._slow(datas[i], now)
                if e is REJECT:
                    rejected.append(keys[i])
                elif e is not None and not (skip and raws[i] in skip):
                    out[keys[i]] = e
            return rejected
        rejected = []
        for k, r, d in zip(keys, raws, datas):
            e = self.decode(d, k.encode(), now)
            if e is REJECT:
                rejected.append(k)
            elif e is not None and not (skip and r in skip):
                out[k] = e
        return rejected

    def _dumps(self, value: Any) -> bytes:
        try:
            out = self.serializer.dumps(value)
        except CacheSerializationError:
            raise
        except (TypeError, ValueError, OverflowError, RecursionError) as exc:
            raise CacheSerializationError(
                f"value: {describe_type(value)} refused by serializer {self.serializer!r}: {exc}",
                where=describe_type(value)) from None
        if type(out) is not bytes:
            raise CacheSerializationError(
                f"serializer: {self.serializer!r}.dumps returned {type(out).__name__}, not bytes")
        return out

    def _slow(self, data: bytes, now: float) -> Any:
        """lz4-compressed payloads and the pluggable serializer's entries."""
        data = bytes(data)
        end = len(data) - (MAC_SIZE if self.mac_key is not None else 0)
        ser, exp = data[1], int.from_bytes(data[2:10], "big")
        payload = data[HEADER_SIZE:end]
        if ser & _LZ4:
            import lz4.block

            try:
                payload = lz4.block.decompress(payload)
            except (ValueError, RuntimeError, MemoryError):
                return REJECT
            ser &= ~_LZ4
            if ser <= SER_JSON:
                inner = _k.decode(bytes([VERSION, ser]) + data[2:10] + payload, now, json.loads)
                return REJECT if inner is SLOW else inner
        codec = self.serializer
        if codec is None or ser != codec.id:
            return REJECT  # another serializer's entry (or foreign data): a logged miss
        expires = exp / 1000.0
        if exp and expires <= now:
            return None
        try:
            return codec.loads(payload), (expires if exp else None)
        except _LOAD_ERRORS:
            return REJECT


__all__ = ["Codec", "HEADER_SIZE", "MAC_SIZE", "REJECT", "VERSION"]

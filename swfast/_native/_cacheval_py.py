"""Pure-Python twin of the cache value-envelope kernel (``_cacheval_c.pyx``): same results, same markers.

Layout: byte 0 version ``0xA5``, byte 1 serializer id (bit 7 = lz4), bytes 2-9 big-endian expiry
in Unix milliseconds (0 = none), then the payload. Serializers 0 (bytes) and 1 (UTF-8 str) are
decoded here, 2 (JSON) through ``json_loads``; lz4 frames and unknown ids give :data:`SLOW`,
foreign or malformed data :data:`REJECT`.
"""
from __future__ import annotations

import hmac
import math
from typing import Any, Callable, Iterable

_VERSION = 0xA5
_HEADER = 10
_MAC_SIZE = 16
_M64 = 0xFFFFFFFFFFFFFFFF


def _rotl(x: int, b: int) -> int:
    return ((x << b) | (x >> (64 - b))) & _M64


def siphash24(key16: bytes, data: bytes) -> int:
    """SipHash-2-4 of ``data`` under a 16-byte key, as an unsigned 64-bit int."""
    if len(key16) != 16:
        raise ValueError("key16: must be 16 bytes")
    k0, k1 = int.from_bytes(key16[:8], "little"), int.from_bytes(key16[8:], "little")
    v = [0x736F6D6570736575 ^ k0, 0x646F72616E646F6D ^ k1, 0x6C7967656E657261 ^ k0, 0x7465646279746573 ^ k1]

    def rounds(n: int) -> None:
        v0, v1, v2, v3 = v
        for _ in range(n):
            v0 = (v0 + v1) & _M64; v1 = _rotl(v1, 13); v1 ^= v0; v0 = _rotl(v0, 32)  # noqa: E702
            v2 = (v2 + v3) & _M64; v3 = _rotl(v3, 16); v3 ^= v2  # noqa: E702
            v0 = (v0 + v3) & _M64; v3 = _rotl(v3, 21); v3 ^= v0  # noqa: E702
            v2 = (v2 + v1) & _M64; v1 = _rotl(v1, 17); v1 ^= v2; v2 = _rotl(v2, 32)  # noqa: E702
        v[:] = [v0, v1, v2, v3]

    n = len(data)
    end = n - n % 8
    for i in range(0, end, 8):
        m = int.from_bytes(data[i:i + 8], "little")
        v[3] ^= m
        rounds(2)
        v[0] ^= m
    b = ((n & 0xFF) << 56) | int.from_bytes(data[end:], "little")
    v[3] ^= b
    rounds(2)
    v[0] ^= b
    v[2] ^= 0xFF
    rounds(4)
    return v[0] ^ v[1] ^ v[2] ^ v[3]


def mac(mac_key: bytes, key: bytes, body: bytes) -> bytes:
    """The envelope MAC of ``body`` for ``key`` under a 32-byte ``mac_key``."""
    if len(mac_key) != 32:
        raise ValueError("mac_key: must be 32 bytes")
    msg = len(key).to_bytes(4, "big") + key + bytes(body)
    return siphash24(mac_key[:16], msg).to_bytes(8, "little") + siphash24(mac_key[16:], msg).to_bytes(8, "little")


def pack(ser: int, exp_ms: int, payload: bytes, mac_key: bytes | None, key: bytes) -> bytes:
    """Header + payload (+ 16-byte MAC when ``mac_key`` is a 32-byte key), in one allocation."""
    if mac_key is not None and len(mac_key) != 32:
        raise ValueError("mac_key: must be 32 bytes")
    body = bytes([_VERSION, ser & 0xFF]) + exp_ms.to_bytes(8, "big") + payload
    return body if mac_key is None else body + mac(mac_key, key, body)


def decode_mac(data: bytes | None, mac_key: bytes, key: bytes, now: float, json_loads: Callable[[bytes], Any]) -> Any:
    """:func:`decode` for MAC-carrying data: :data:`REJECT` unless the trailing tag verifies."""
    if data is None:
        return None
    data = bytes(data)
    if len(data) < _HEADER + _MAC_SIZE or len(mac_key) != 32:
        return REJECT
    if not hmac.compare_digest(mac(mac_key, key, data[:-_MAC_SIZE]), data[-_MAC_SIZE:]):
        return REJECT
    return _decode(data, len(data) - _MAC_SIZE, now, json_loads)


class _Marker:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


REJECT = _Marker("REJECT")
SLOW = _Marker("SLOW")


def _decode(data: bytes, end: int, now: float, json_loads: Callable[[bytes], Any]) -> Any:
    if end < _HEADER or data[0] != _VERSION:
        return REJECT
    ser = data[1]
    exp = int.from_bytes(data[2:10], "big")
    expires = exp / 1000.0
    if exp and expires <= now:
        return None
    payload = data[_HEADER:end]
    if ser == 1:
        try:
            value: Any = payload.decode()
        except UnicodeDecodeError:
            return REJECT
    elif ser == 0:
        value = payload
    elif ser == 2:
        try:
            value = json_loads(payload)
        except ValueError:
            return REJECT
    else:
        return SLOW
    return (value, expires if exp else None)


def decode(data: bytes | None, now: float, json_loads: Callable[[bytes], Any], mac_size: int = 0) -> Any:
    """``(value, expires_at)``, ``None`` (absent or expired), :data:`REJECT` or :data:`SLOW`.

    ``mac_size`` trailing bytes (already verified) are ignored.
    """
    if data is None:
        return None
    data = bytes(data)
    return _decode(data, len(data) - mac_size, now, json_loads)


def decode_many(datas: list[Any], now: float, json_loads: Callable[[bytes], Any]) -> list[Any]:
    """:func:`decode` over a list of replies (no MAC), in order."""
    return [None if d is None else _decode(bytes(d), len(d), now, json_loads) for d in datas]


def decode_into(keys: list[Any], raws: list[bytes], replies: list[Any], now: float,
                json_loads: Callable[[bytes], Any], out: dict[Any, Any], skip: Any) -> tuple[list[Any], list[int]]:
    """Decode ``MGET`` replies (no MAC) straight into ``out[key]``; returns ``(rejected, slow)``.

    ``rejected`` lists keys whose value is foreign or malformed; ``slow`` lists indexes needing
    the Python path (lz4). Keys whose Redis key is in the ``skip`` set (if any) are left out.
    """
    if not len(keys) == len(raws) == len(replies):
        raise ValueError("keys, raws and replies must have the same length")
    rejected: list[Any] = []
    slow: list[int] = []
    for i, data in enumerate(replies):
        if data is None:
            continue
        r = _decode(bytes(data), len(data), now, json_loads)
        if r is None:
            continue
        if r is REJECT:
            rejected.append(keys[i])
        elif r is SLOW:
            slow.append(i)
        elif not skip or raws[i] not in skip:
            out[keys[i]] = r
    return rejected, slow


def prefix_keys(namespace: str, keys: Iterable[Any], max_bytes: int) -> tuple[list[bytes], int]:
    """``[(namespace + key).encode()]`` for str keys; returns ``(raws, bad_index)``.

    ``bad_index`` is the first key that is not a str or whose encoding exceeds ``max_bytes``
    (``-1`` when all are fine); ``raws`` is then incomplete.
    """
    out: list[bytes] = []
    for i, key in enumerate(keys):
        if type(key) is not str:
            return out, i
        raw = (namespace + key).encode()
        if len(raw) > max_bytes:
            return out, i
        out.append(raw)
    return out, -1


def pack_command(cmd: bytes, args: list[bytes]) -> bytes:
    """One Redis command in RESP2 wire form: ``cmd`` then every bytes argument of ``args``.

    Replaces redis-py's per-argument ``pack_command`` on the multi-key hot path.
    """
    parts = [b"*%d\r\n$%d\r\n" % (len(args) + 1, len(cmd)), cmd, b"\r\n"]
    for a in args:
        if type(a) is not bytes:
            raise TypeError("args: every argument must be bytes")
        parts += (b"$%d\r\n" % len(a), a, b"\r\n")
    return b"".join(parts)


def open_entry(row: tuple[Any, ...] | None, mac_key: bytes, key: str, now: float,
               json_loads: Callable[[bytes], Any]) -> Any:
    """:func:`open_row` returning ``(value, expires_at)`` or ``None`` (absent or expired)."""
    if row is None:
        return None
    if type(row) is not tuple or len(row) < 1 or type(row[0]) is not bytes or len(mac_key) != 32:
        return REJECT
    return decode_mac(row[0], mac_key, key.encode(), now, json_loads)


def open_row(row: tuple[Any, ...] | None, mac_key: bytes, key: str, now: float,
             json_loads: Callable[[bytes], Any], default: Any) -> Any:
    """One L3 row read in one call: MAC check, expiry, header parse and decode.

    ``row`` is the ``(value,)`` tuple from ``fetchone()`` or ``None``. Returns the value,
    ``default`` when absent or expired, :data:`REJECT` when the row is malformed or its MAC
    does not verify for ``key``, or :data:`SLOW` for lz4 payloads (the Python path).
    """
    r = open_entry(row, mac_key, key, now, json_loads)
    if r is None:
        return default
    return r[0] if type(r) is tuple else r


def encode_rows(items: dict[Any, Any], mac_key: bytes, exp_ms: int, max_key_bytes: int, max_value_bytes: int,
                compress_at: int) -> tuple[list[Any], list[tuple[Any, Any]]]:
    """L3 batch encode: ``(params, pending)`` for a multi-row ``INSERT``.

    Every str key with a bytes or str value that needs no compression (``compress_at`` < 0:
    never) and fits the limits adds ``key, envelope_with_mac`` to the flat ``params`` list;
    every other item goes to ``pending`` as ``(key, value)`` for the Python codec, which
    raises the precise error or compresses/serialises it.
    """
    if len(mac_key) != 32:
        raise ValueError("mac_key: must be 32 bytes")
    rows: list[Any] = []
    pending: list[tuple[Any, Any]] = []
    for key, value in items.items():
        try:
            raw = key.encode() if type(key) is str else None
            payload = value if type(value) is bytes else value.encode() if type(value) is str else None
        except UnicodeEncodeError:
            raw = payload = None
        if raw is None or payload is None or len(raw) > max_key_bytes:
            pending.append((key, value))
            continue
        total = _HEADER + len(payload) + _MAC_SIZE
        if (compress_at >= 0 and len(payload) >= compress_at) or total > max_value_bytes:
            pending.append((key, value))
            continue
        rows += (key, pack(0 if type(value) is bytes else 1, exp_ms, payload, mac_key, raw))
    return rows, pending


_JSON_DEPTH = 200


def _inexact(v: Any, depth: int) -> str | None:
    t = type(v)
    if t is str or t is int or t is bool or v is None:
        return None
    if t is float:
        return None if math.isfinite(v) else f": float {v!r} (JSON has no NaN/inf)"
    if depth >= _JSON_DEPTH:
        return f": nested deeper than {_JSON_DEPTH} levels"
    if t is list:
        for i, x in enumerate(v):
            r = _inexact(x, depth + 1)
            if r is not None:
                return f"[{i}]{r}"
        return None
    if t is dict:
        for k, x in v.items():
            if type(k) is not str:
                return f": dict key {k!r} of type {type(k).__name__} (JSON keys are str)"
            r = _inexact(x, depth + 1)
            if r is not None:
                return f"[{k!r}]{r}"
        return None
    return f": {t.__module__}.{t.__qualname__}" if t.__module__ != "builtins" else f": {t.__qualname__}"


def json_inexact(value: Any) -> str | None:
    """``None`` when ``value`` survives a JSON round trip unchanged, type for type; else where not.

    Exact: ``None``, ``bool``, ``int``, finite ``float``, ``str``, ``list`` and ``dict`` with
    ``str`` keys, nested at most 200 levels, exact types only (no subclasses, no tuples).
    The answer names the first offending element, e.g. ``"[2]['a']: tuple"``.
    """
    return _inexact(value, 0)


__all__ = ["REJECT", "SLOW", "decode", "decode_mac", "decode_into", "decode_many", "encode_rows", "json_inexact", "mac", "open_entry", "open_row",
           "pack", "pack_command", "prefix_keys", "siphash24"]

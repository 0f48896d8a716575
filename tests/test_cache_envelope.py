"""Envelope kernel (compiled and twin) and the Codec over it: formats, MAC, markers, limits."""
from __future__ import annotations

import json
import os
import pickle

import pytest

from swfast.cache.envelope import REJECT, Codec
from swfast.errors import CacheSerializationError, CacheValueTooLarge, ConfigurationError


def _env(ser: int, exp_ms: int, payload: bytes) -> bytes:
    return bytes([0xA5, ser]) + exp_ms.to_bytes(8, "big") + payload


def test_siphash_reference_vector(impl) -> None:  # type: ignore[no-untyped-def]
    k = impl.load("cacheval")
    assert k.siphash24(bytes(range(16)), bytes(range(15))) == 0xA129CA6149BE45E5
    assert k.siphash24(bytes(range(16)), b"") == 0x726FDB47DD0E0E31
    with pytest.raises(ValueError, match="key16"):
        k.siphash24(b"short", b"")


def test_decode_formats_and_markers(impl) -> None:  # type: ignore[no-untyped-def]
    k = impl.load("cacheval")
    assert k.decode(_env(0, 0, b"\x00raw"), 0.0, json.loads) == (b"\x00raw", None)
    assert k.decode(_env(1, 0, "é".encode()), 0.0, json.loads) == ("é", None)
    assert k.decode(_env(2, 5000, b'{"a":[1,null]}'), 4.0, json.loads) == ({"a": [1, None]}, 5.0)
    assert k.decode(_env(2, 5000, b"null"), 4.999, json.loads) == (None, 5.0)
    assert k.decode(_env(1, 5000, b"x"), 5.0, json.loads) is None  # expired at the boundary
    assert k.decode(None, 0.0, json.loads) is None
    for bad in (b"", b"\xa5", pickle.dumps("x"), b"plain text value", _env(1, 0, b"\xff\xfe"), _env(2, 0, b"{nope")):
        assert k.decode(bad, 0.0, json.loads) is k.REJECT, bad
    assert k.decode(_env(0x82, 0, b"..."), 0.0, json.loads) is k.SLOW
    assert k.decode(_env(9, 0, b"..."), 0.0, json.loads) is k.SLOW
    out = k.decode_many([None, _env(1, 0, b"a"), b"junk", bytearray(_env(0, 0, b"b"))], 0.0, json.loads)
    assert out == [None, ("a", None), k.REJECT, (b"b", None)]


def test_mac_and_tamper(impl) -> None:  # type: ignore[no-untyped-def]
    from swfast._native import _cacheval_py

    k = impl.load("cacheval")
    key = os.urandom(32)
    body = _env(1, 0, b"secret")
    tag = k.mac(key, b"user:1", body)
    assert tag == _cacheval_py.mac(key, b"user:1", body) and len(tag) == 16
    assert k.decode_mac(body + tag, key, b"user:1", 0.0, json.loads) == ("secret", None)
    assert k.decode_mac(body + tag, key, b"user:2", 0.0, json.loads) is k.REJECT  # tag binds the key
    flipped = bytearray(body + tag)
    flipped[11] ^= 1
    assert k.decode_mac(bytes(flipped), key, b"user:1", 0.0, json.loads) is k.REJECT
    assert k.decode_mac(body, key, b"user:1", 0.0, json.loads) is k.REJECT
    assert k.decode_mac(body + tag, os.urandom(32), b"user:1", 0.0, json.loads) is k.REJECT


def test_open_row_checks_mac_expiry_and_decodes(impl) -> None:  # type: ignore[no-untyped-def]
    k = impl.load("cacheval")
    key = os.urandom(32)
    miss = object()

    def row(ser: int, exp_ms: int, payload: bytes, name: bytes = b"user:1") -> tuple[bytes]:
        body = _env(ser, exp_ms, payload)
        return (body + k.mac(key, name, body),)

    assert k.open_row(row(1, 0, "é".encode()), key, "user:1", 1.0, json.loads, miss) == "é"
    assert k.open_row(row(0, 9000, b"\x00b"), key, "user:1", 1.0, json.loads, miss) == b"\x00b"
    assert k.open_row(row(2, 9000, b"null"), key, "user:1", 8.999, json.loads, miss) is None  # stored None
    assert k.open_row(row(2, 9000, b"[1]"), key, "user:1", 9.0, json.loads, miss) is miss  # expired
    assert k.open_row(None, key, "user:1", 1.0, json.loads, miss) is miss
    assert k.open_row(row(1, 0, b"x", b"user:2"), key, "user:1", 1.0, json.loads, miss) is k.REJECT
    assert k.open_row(row(1, 0, b"x"), os.urandom(32), "user:1", 1.0, json.loads, miss) is k.REJECT
    tampered = bytearray(row(1, 0, b"xy")[0])
    tampered[10] ^= 1
    assert k.open_row((bytes(tampered),), key, "user:1", 1.0, json.loads, miss) is k.REJECT
    for bad in ((b"short",), ("text",), (), [b"x" * 40]):
        assert k.open_row(bad, key, "user:1", 1.0, json.loads, miss) is k.REJECT
    assert k.open_row(row(0x81, 0, b"lz4"), key, "user:1", 1.0, json.loads, miss) is k.SLOW
    assert k.open_entry(row(2, 9000, b"[1]"), key, "user:1", 8.0, json.loads) == ([1], 9.0)
    assert k.open_entry(row(1, 0, b"x"), key, "user:1", 8.0, json.loads) == ("x", None)
    assert k.open_entry(row(2, 9000, b"[1]"), key, "user:1", 9.0, json.loads) is None  # expired
    assert k.open_entry(None, key, "user:1", 1.0, json.loads) is None
    assert k.open_entry(row(1, 0, b"x", b"user:2"), key, "user:1", 1.0, json.loads) is k.REJECT
    assert k.open_entry(row(0x81, 0, b"lz4"), key, "user:1", 1.0, json.loads) is k.SLOW
    long_key = "k" * 600  # message over the kernel's stack buffer
    assert k.open_row(row(1, 0, b"v" * 300, long_key.encode()), key, long_key, 1.0, json.loads, miss) == "v" * 300


def test_encode_rows_matches_the_codec(impl) -> None:  # type: ignore[no-untyped-def]
    k = impl.load("cacheval")
    key = os.urandom(32)
    codec = Codec(mac_key=key, compress_threshold=100, max_value_bytes=200)
    fast = {"a": b"\x00b", "é": "ü", "empty": "", "edge": b"e" * 99}
    slow = {"j": [1], "zip": "x" * 100, "k" * 65: "long key", 5: "int key", "sur": "\ud800",
            "\udc00": "surrogate key", "ba": bytearray(b"b")}
    params, pending = k.encode_rows({**fast, **slow}, key, 99_000, 64, 200, 100)
    assert dict(pending) == slow
    assert params == [x for n, v in fast.items() for x in (n, codec.encode(v, 99.0, n.encode()))]
    for n, blob in zip(params[::2], params[1::2]):
        assert codec.decode(blob, n.encode(), 2.0) == (fast[n], 99.0)
    params, pending = k.encode_rows({"zip": "x" * 150}, key, 0, 64, 1000, -1)  # never compress
    assert pending == [] and codec.decode(params[1], b"zip", 1.0) == ("x" * 150, None)
    params, pending = k.encode_rows({"fits": b"y" * 174, "huge": b"y" * 175}, key, 0, 64, 200, -1)
    assert params[0] == "fits" and len(params) == 2 and len(params[1]) == 200 and pending == [("huge", b"y" * 175)]
    with pytest.raises(ValueError, match="mac_key"):
        k.encode_rows({}, b"short", 0, 64, 200, 100)


def test_decode_into(impl) -> None:  # type: ignore[no-untyped-def]
    k = impl.load("cacheval")
    keys = ["a", "b", "c", "d", "e", "f"]
    raws = [x.encode() for x in keys]
    replies = [_env(1, 0, b"A"), None, b"junk", _env(0x81, 0, b"lz"), _env(1, 0, b"E"), _env(1, 1000, b"old")]
    out: dict[str, object] = {}
    rejected, slow = k.decode_into(keys, raws, replies, 2.0, json.loads, out, {b"e"})
    assert out == {"a": ("A", None)} and rejected == ["c"] and slow == [3]
    rejected, slow = k.decode_into(keys, raws, replies, 2.0, json.loads, out, set())
    assert out["e"] == ("E", None)
    with pytest.raises(ValueError):
        k.decode_into(keys, raws, replies[:2], 0.0, json.loads, {}, set())


def test_pack_matches_layout(impl) -> None:  # type: ignore[no-untyped-def]
    from swfast._native import _cacheval_py

    k = impl.load("cacheval")
    assert k.pack(1, 5000, b"abc", None, b"") == _env(1, 5000, b"abc")
    key = os.urandom(32)
    packed = k.pack(2, 2**63, b"[1]", key, b"kk")
    assert packed == _cacheval_py.pack(2, 2**63, b"[1]", key, b"kk")
    assert packed[-16:] == k.mac(key, b"kk", packed[:-16])
    with pytest.raises(ValueError, match="mac_key"):
        k.pack(1, 0, b"", b"short", b"")


def test_prefix_keys(impl) -> None:  # type: ignore[no-untyped-def]
    k = impl.load("cacheval")
    assert k.prefix_keys("ns:", ["a", "é"], 100) == ([b"ns:a", "ns:é".encode()], -1)
    assert k.prefix_keys("ns:", ["a", 5, "b"], 100)[1] == 1
    assert k.prefix_keys("ns:", ["a", "b" * 98], 100)[1] == 1


def test_pack_command_is_redis_wire_form(impl) -> None:  # type: ignore[no-untyped-def]
    import redis

    k = impl.load("cacheval")
    conn = redis.Connection()
    for args in ([], [b"a"], [b"x" * 1234, b"", "k:é".encode()] * 40):
        assert k.pack_command(b"MGET", args) == b"".join(conn.pack_command("MGET", *args))
    with pytest.raises(TypeError, match="args"):
        k.pack_command(b"MGET", [b"a", "b"])


@pytest.mark.parametrize("mac_key", [None, b"m" * 32, b"x" * 20])
def test_codec_roundtrip_compression_and_limits(mac_key) -> None:  # type: ignore[no-untyped-def]
    c = Codec(mac_key=mac_key, compress_threshold=100, max_value_bytes=10_000)
    for v in (b"b", "s", None, 1, 2.5, True, [1, "x"], {"k": {"n": None}}, "z" * 5000, b"\x00" * 3000):
        blob = c.encode(v, 99.0, b"key")
        assert c.decode(blob, b"key", 1.0) == (v, 99.0)
    assert len(c.encode("z" * 5000, None)) < 200  # lz4 above the threshold
    assert c.decode(c.encode("z" * 5000, 99.0, b"key"), b"key", 100.0) is None  # expired
    with pytest.raises(CacheSerializationError, match="tuple"):  # issue 10 defect 9: never lossy
        c.encode((1, 2), None)
    with pytest.raises(CacheValueTooLarge) as info:
        c.encode(os.urandom(20_000), None)
    assert info.value.limit == 10_000
    with pytest.raises(TypeError, match="never pickles"):
        c.encode(object(), None)
    with pytest.raises(TypeError):
        c.encode(float("nan"), None)
    if mac_key is not None:
        assert c.decode(Codec().encode("v", None), b"key", 0.0) is REJECT  # no MAC: refused


def test_codec_config_errors() -> None:
    with pytest.raises(ConfigurationError, match="mac_key"):
        Codec(mac_key=b"short")
    with pytest.raises(ConfigurationError, match="compress_threshold"):
        Codec(compress_threshold=-1)
    with pytest.raises(ConfigurationError, match="max_value_bytes"):
        Codec(max_value_bytes=0)

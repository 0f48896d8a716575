"""The request path's memos (pipeline benchmark, issue 16) change speed, never answers.

* ``utc_now_iso`` formats the date once per second: the text equals ``datetime.isoformat``.
* ``TokenManager`` remembers the header segments of tokens another issuer signed: a removed
  key, a changed algorithm list or a different header are still refused.
* ``PersistentCache`` reuses the row its size check encoded for the write that follows, only
  for the same value object, key and ttl.
* A cache miss nobody joins creates no ``threading.Event``; one that is joined still wakes
  every follower.
"""
from __future__ import annotations

import json
import sys
import threading
from datetime import datetime, timezone
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from _security_helpers import NOW, FakeClock, b64  # noqa: E402

from swfast.cache.envelope import encode_once, recall_row
from swfast.cache.l1 import L1Cache
from swfast.cache.l3 import PersistentCache
from swfast.cache.manager import TieredCache
from swfast.errors import InvalidToken
from swfast.messaging import message_schemas
from swfast.security import HMACKey, KeySet, TokenManager

SECRET = bytes(range(32))


@pytest.mark.parametrize("ns", [
    1_796_659_782_000_000_000,  # microseconds 0: no fraction, as isoformat
    1_796_659_782_000_001_999,  # 1 us (nanoseconds floored)
    1_796_659_782_999_999_999,  # last microsecond of a second
    1_796_659_783_000_000_000,  # the next second: a new prefix
    946_684_799_500_000_000,  # 1999-12-31T23:59:59.5
    951_782_400_123_456_000,  # 2000-02-29 (leap day)
])
def test_utc_now_iso_equals_isoformat(monkeypatch: pytest.MonkeyPatch, ns: int) -> None:
    monkeypatch.setattr(message_schemas.time, "time_ns", lambda: ns)
    want = datetime.fromtimestamp(ns // 1000 / 1e6, timezone.utc).replace(microsecond=(ns // 1000) % 1_000_000)
    assert message_schemas.utc_now_iso() == want.isoformat()


def test_utc_now_iso_follows_the_clock_across_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    stamps = [5_000_000_123_000_000, 5_000_000_999_000_000, 5_000_001_000_500_000, 4_999_999_000_000_000]
    seq = iter(stamps)
    monkeypatch.setattr(message_schemas.time, "time_ns", lambda: next(seq))
    got = [message_schemas.utc_now_iso() for _ in stamps]
    want = [datetime.fromtimestamp(ns // 10**9, timezone.utc).replace(microsecond=(ns // 1000) % 10**6).isoformat()
            for ns in stamps]
    assert got == want


def _foreign_token(kid: str = "k1", alg: str = "HS256", exp: int = int(NOW) + 600) -> str:
    """A token signed elsewhere (another issuer service), header ordered differently from ours."""
    import hashlib
    import hmac
    header = b64(json.dumps({"typ": "JWT", "kid": kid, "alg": alg}).encode())
    body = b64(json.dumps({"iss": "urn:x", "aud": "api", "sub": "u1", "iat": int(NOW), "exp": exp,
                           "token_use": "access"}).encode())
    sig = b64(hmac.new(SECRET, f"{header}.{body}".encode(), hashlib.sha256).digest())
    return f"{header}.{body}.{sig}"


def test_foreign_header_memo_keeps_every_check() -> None:
    keys = KeySet(HMACKey("k1", SECRET))
    tm = TokenManager(keys, algorithms=["HS256"], issuer="urn:x", audience="api", clock=FakeClock())
    tok = _foreign_token()
    assert tm.validate_token(tok)["sub"] == "u1"
    assert tm.validate_token(tok)["sub"] == "u1"  # through the remembered header
    assert len(tm._kid_by_header) >= 1
    expired = _foreign_token(exp=int(NOW) - 600)
    with pytest.raises(InvalidToken, match="expired"):
        tm.validate_token(expired)
    forged = tok[: tok.rindex(".") + 1] + b64(b"\0" * 32)
    with pytest.raises(InvalidToken, match="signature"):
        tm.validate_token(forged)
    # the same header after the key is gone: refused, not served from the memo
    tm2 = TokenManager(KeySet(HMACKey("k2", SECRET)), algorithms=["HS256"], issuer="urn:x", audience="api",
                       clock=FakeClock())
    tm2._kid_by_header.update(tm._kid_by_header)
    with pytest.raises(InvalidToken, match="kid"):
        tm2.validate_token(tok)
    # an algorithm the manager no longer allows: refused although the header is remembered
    tm.algorithms = frozenset({"EdDSA"})
    with pytest.raises(InvalidToken):
        tm.validate_token(tok)


def test_foreign_header_memo_is_bounded() -> None:
    from swfast.security import tokens
    tm = TokenManager(KeySet(HMACKey("k1", SECRET)), algorithms=["HS256"], issuer="urn:x", audience="api",
                      clock=FakeClock())
    for i in range(tokens._HEADER_MEMO + 50):
        header = b64(json.dumps({"alg": "HS256", "kid": "k1", "typ": "JWT", "cty": f"c{i}"}).encode())
        tm._key_from_header(header)
    assert len(tm._kid_by_header) == tokens._HEADER_MEMO


def test_l3_write_reuses_the_checked_row_only_for_the_same_value(tmp_path: Path) -> None:
    l3 = PersistentCache(tmp_path / "l3")
    value = {"a": [1, 2, 3]}
    with encode_once(value):
        blob = l3.encode("k", value, 60.0)
        assert recall_row(l3, "k", value, 60.0)[2] == blob
        assert recall_row(l3, "other", value, 60.0) is None
        assert recall_row(l3, "k", value, 61.0) is None
        assert recall_row(l3, "k", {"a": [1, 2, 3]}, 60.0) is None  # another object: encoded afresh
        assert l3.persistent_set("k", value, 60.0)
    assert recall_row(l3, "k", value, 60.0) is None  # outside the block: nothing remembered
    assert l3.persistent_get("k") == {"a": [1, 2, 3]}
    with encode_once(value):
        l3.encode("z", value, 0.0)
        assert l3.persistent_set("z", value, 0.0)  # ttl 0 stays a delete
    assert l3.persistent_get("z") is None


def test_smart_set_stores_what_was_checked(tmp_path: Path) -> None:
    cache = TieredCache(l1=L1Cache(100, ttl=60.0), l3=PersistentCache(tmp_path / "l3"))
    for i in range(20):
        cache.smart_set(f"k{i}", {"i": i, "big": 2**70 + i})
    fresh = TieredCache(l1=L1Cache(100, ttl=60.0), l3=PersistentCache(tmp_path / "l3"))
    assert [fresh.smart_get(f"k{i}") for i in range(20)] == [{"i": i, "big": 2**70 + i} for i in range(20)]


def test_miss_without_followers_makes_no_event_and_followers_still_wake() -> None:
    cache = TieredCache(l1=L1Cache(100, ttl=60.0), l3=None)
    seen: list[object] = []

    def solo() -> int:
        seen.append(cache._flights["solo"].event)  # the leader's flight while it loads
        return 1

    assert cache.smart_get("solo", loader=solo) == 1
    assert seen == [None]
    gate, started = threading.Event(), threading.Event()

    def slow() -> int:
        started.set()
        gate.wait(10)
        return 7

    out: list[object] = []
    lead = threading.Thread(target=lambda: out.append(cache.smart_get("k", loader=slow)))
    lead.start()
    assert started.wait(10)
    followers = [threading.Thread(target=lambda: out.append(cache.smart_get("k", loader=lambda: -1)))
                 for _ in range(3)]
    for f in followers:
        f.start()
    for _ in range(10_000):  # until the first follower has joined (it makes the event)
        if cache._flights["k"].event is not None:
            break
        started.wait(0.001)
    assert cache._flights["k"].event is not None
    gate.set()
    for t in [lead, *followers]:
        t.join(10)
    assert out == [7, 7, 7, 7]
    assert "k" not in cache._flights


def test_memo_keeps_one_row_per_tier(tmp_path: Path) -> None:
    a, b = PersistentCache(tmp_path / "a"), PersistentCache(tmp_path / "b")
    value = [1, "x"]
    with encode_once(value):
        ra, rb = a.encode("k", value, 5.0), b.encode("k", value, 5.0)
        assert recall_row(a, "k", value, 5.0)[2] == ra  # b's check did not evict a's row
        assert recall_row(b, "k", value, 5.0)[2] == rb
        a.encode("j", value, 5.0)
        assert recall_row(a, "k", value, 5.0) is None  # a's row is now j's
        assert recall_row(b, "k", value, 5.0)[2] == rb


def test_enum_lookup_matches_the_value_lookup() -> None:
    """``_enum`` finds a member by one lookup: the same member the ``.value`` lookup found."""
    from enum import Enum

    from swfast.errors import ValidationError
    from swfast.messaging import _enums

    class Plain(Enum):  # a non-mixin enum: its members do not compare equal to their values
        A = "fetch_data"

    tables = [_enums._OP, _enums._DT, _enums._DS, _enums._RS, _enums._PRIO]
    for table in tables:
        members = list(table.values())
        probes = members + [m.value for m in members] + [Plain.A, "nope", 99, 1.0, True, None]
        for probe in probes:
            want = table.get(probe.value if isinstance(probe, Enum) else probe)
            if want is None:
                with pytest.raises(ValidationError):
                    _enums._enum(table, probe, "p", "L")
            else:
                assert _enums._enum(table, probe, "p", "L") is want


def test_to_dict_writes_plain_values() -> None:
    from swfast.messaging import create_data_request, create_data_response
    req = create_data_request("m", "analyze_data", parameters={"x": 1}, data_type="text", data_source="api")
    d = req.to_dict()
    for v in (d["payload"]["operation"], d["payload"]["data_type"], d["payload"]["data_source"],
              d["metadata"]["request_source"]):
        assert type(v) is str
    resp = create_data_response(req.metadata.request_id, "m", data_type="text", data_source="api").to_dict()
    assert [type(resp["payload"][k]) for k in ("operation", "data_type", "data_source")] == [str, str, str]

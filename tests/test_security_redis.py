"""Token revocation shared through the real Redis fixture (TK-11, TK-12 across processes)."""
from __future__ import annotations

import base64
import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from swfast.errors import ServiceUnavailable, TokenReuseDetected, TokenRevoked
from swfast.security import HMACKey, KeySet, RedisRevocationStore, TokenManager

ROOT = Path(__file__).resolve().parents[1]
SECRET = bytes(range(32, 64))


def _manager(client, **kw) -> TokenManager:  # type: ignore[no-untyped-def]
    return TokenManager(KeySet(HMACKey("k1", SECRET)), algorithms=["HS256"], issuer="urn:svc", audience="api",
                        store=RedisRevocationStore(client), **kw)


def test_redis_revocation_visible_to_other_manager(redis_client, redis_server) -> None:  # type: ignore[no-untyped-def]
    import redis

    other_client = redis.Redis(host=redis_server.host, port=redis_server.port)
    a, b = _manager(redis_client), _manager(other_client)
    token = a.generate_token("alice")
    assert b.validate_token(token)["sub"] == "alice"
    a.revoke_token(token)
    with pytest.raises(TokenRevoked):
        b.validate_token(token)
    jti = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))["jti"]
    ttl = redis_client.pttl(f"swfast:tok:rev:{jti}")
    assert 0 < ttl <= (a.access_ttl_s + a.leeway_s + 2) * 1000
    other_client.close()


def test_redis_refresh_reuse_detected_across_managers(redis_client, redis_server) -> None:  # type: ignore[no-untyped-def]
    import redis

    other_client = redis.Redis(host=redis_server.host, port=redis_server.port)
    a, b = _manager(redis_client), _manager(other_client)
    p1 = a.issue_tokens("bob")
    p2 = b.refresh_token(p1.refresh)
    with pytest.raises(TokenReuseDetected):
        a.refresh_token(p1.refresh)
    for token, use in ((p2.refresh, "refresh"), (p2.access, "access")):
        with pytest.raises(TokenRevoked):
            b.validate_token(token, token_use=use)
    other_client.close()


def test_redis_revocation_seen_by_another_process_within_1s(redis_client, redis_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    mgr = _manager(redis_client)
    token = mgr.generate_token("carol")
    out = tmp_path / "seen.json"
    script = textwrap.dedent(f"""
        import json, sys, time, redis
        sys.path.insert(0, {str(ROOT)!r})
        from swfast.errors import TokenRevoked
        from swfast.security import HMACKey, KeySet, RedisRevocationStore, TokenManager
        mgr = TokenManager(KeySet(HMACKey("k1", {SECRET!r})), algorithms=["HS256"], issuer="urn:svc",
                           audience="api", store=RedisRevocationStore(redis.Redis(port={redis_server.port})))
        mgr.validate_token({token!r})
        print("ready", flush=True)
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                mgr.validate_token({token!r})
            except TokenRevoked:
                open({str(out)!r}, "w").write(json.dumps({{"seen": time.time()}}))
                break
            time.sleep(0.005)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        revoked_at = time.time()
        mgr.revoke_token(token)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    seen = json.loads(out.read_text())["seen"]
    assert seen - revoked_at <= 1.0


def test_redis_down_fails_closed(caplog: pytest.LogCaptureFixture) -> None:
    import redis

    sys.path.insert(0, str(Path(__file__).parent))
    from _servers import ServerUnavailable, start_redis

    try:
        server = start_redis()
    except ServerUnavailable as exc:  # the session fixture has the same dependency
        pytest.fail(f"redis-server unavailable: {exc}")
    client = redis.Redis(host=server.host, port=server.port, socket_timeout=1, socket_connect_timeout=1)
    mgr = _manager(client)
    token = mgr.generate_token("dave")
    assert mgr.validate_token(token)
    server.kill()
    with pytest.raises(ServiceUnavailable):
        mgr.validate_token(token)
    assert "revocation_store" in caplog.text
    client.close()

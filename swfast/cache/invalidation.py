"""Cross-process L1 invalidation through Redis: pub/sub plus ``CLIENT TRACKING`` (Redis ≥ 6).

One background thread per Redis node (every L2 node; the first also carries the channel) holds
two raw connections:

* a *listener* subscribed to ``__redis__:invalidate`` (and, on the first node, to this cache's
  channel);
* a *control* connection that ran ``CLIENT TRACKING on REDIRECT <listener> BCAST PREFIX
  <namespace>``, so Redis itself reports every write, delete, expiry and ``FLUSHALL`` touching
  the namespace on that node — including writes by programs that are not swfast (and this
  process's own writes, which cost one extra L2 read afterwards).

Managers also publish explicit messages (keys, a pattern, or "everything") on the channel, for
entries that live only in L1/L3. A message carries its sender's id (its own are ignored) and
send time (the receive delay feeds ``swfast_cache_invalidation_delay_seconds``).

Redis' client-side caching rule applies: when any connection is lost or stops answering
PINGs within ``2 * ping_interval``, the local L1 is flushed, and flushed again after the
reconnection (anything cached while deaf may be stale). The raw RESP reader exists because
Redis 6.2 sends a RESP3 null inside RESP2 pub/sub for ``FLUSHALL``, which redis-py drops.
"""
from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from typing import Any, Sequence
from urllib.parse import urlparse

from ..monitoring.metrics import REGISTRY
from .pattern import KeyPattern

log = logging.getLogger("swfast.cache.invalidation")
_DELAY = REGISTRY.histogram("swfast_cache_invalidation_delay_seconds", "send-to-drop delay of invalidations",
                            (), buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0))
_LOST = REGISTRY.counter("swfast_cache_invalidation_lost_total", "invalidation connection losses (L1 flushed)")
_RECEIVED = REGISTRY.counter("swfast_cache_invalidation_received_total", "invalidation messages applied", ("kind",))


def _cmd(*args: str | bytes) -> bytes:
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        b = a.encode() if isinstance(a, str) else a
        out.append(b"$%d\r\n%s\r\n" % (len(b), b))
    return b"".join(out)


class _Incomplete(Exception):
    pass


class _Resp:
    """Minimal RESP2/RESP3 reader (arrays, bulk and simple strings, integers, nulls).

    Parses only complete messages from its buffer, so a socket timeout between two chunks
    loses nothing.
    """

    def __init__(self, sock: socket.socket) -> None:
        self.sock, self.buf = sock, b""

    def _parse(self, pos: int) -> tuple[Any, int]:
        end = self.buf.find(b"\r\n", pos)
        if end < 0:
            raise _Incomplete
        kind, rest, nxt = self.buf[pos:pos + 1], self.buf[pos + 1:end], end + 2
        if kind == b"+":
            return rest, nxt
        if kind == b":":
            return int(rest), nxt
        if kind == b"-":
            raise ConnectionError(f"Redis error: {rest.decode(errors='replace')}")
        if kind == b"_":
            return None, nxt
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None, nxt
            if len(self.buf) < nxt + n + 2:
                raise _Incomplete
            return self.buf[nxt:nxt + n], nxt + n + 2
        if kind in (b"*", b">"):
            n = int(rest)
            if n < 0:
                return None, nxt
            out = []
            for _ in range(n):
                item, nxt = self._parse(nxt)
                out.append(item)
            return out, nxt
        raise ConnectionError(f"unexpected RESP type {kind!r}")

    def read(self) -> Any:
        """The next complete reply; ``socket.timeout`` leaves the buffer intact."""
        while True:
            try:
                value, used = self._parse(0)
            except _Incomplete:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise ConnectionError("connection closed by Redis") from None
                self.buf += chunk
                continue
            self.buf = self.buf[used:]
            return value


class _Link:
    """One node's listener/control pair and its state."""

    __slots__ = ("host", "port", "password", "channel", "socks", "up")

    def __init__(self, url: str, channel: str | None) -> None:
        u = urlparse(url)
        self.host, self.port, self.password = u.hostname or "127.0.0.1", u.port or 6379, u.password
        self.channel = channel
        self.socks: list[socket.socket] = []
        self.up = False


class InvalidationBus:
    """Keeps a :class:`~swfast.cache.manager.TieredCache`'s L1 coherent across processes.

    Args:
        cache: the manager; the bus attaches itself as ``cache.bus``.
        url: the Redis node(s) to watch (``redis://host:port/db``): give every L2 node so
            that writes on any of them are seen; the first also carries explicit messages.
        namespace: the L2 key prefix to track (keys are reported without it).
        channel: pub/sub channel for explicit messages.
        ping_interval: seconds between health PINGs; silence for twice this flushes L1.
        timeout: socket timeout for connecting and publishing.
        track: also use ``CLIENT TRACKING`` (writes by anyone, ``FLUSHALL``).
    """

    def __init__(self, cache: Any, url: str | Sequence[str], *, namespace: str = "swfast:",
                 channel: str | None = None, ping_interval: float = 1.0, timeout: float = 0.5,
                 track: bool = True) -> None:
        urls = [url] if isinstance(url, str) else list(url)
        if not urls:
            raise ValueError("url: give at least one redis:// URL")
        self.cache, self.namespace, self.track = cache, namespace, track
        self.channel = channel or f"{namespace}invalidate"
        self.ping_interval, self.timeout = ping_interval, timeout
        self.origin = uuid.uuid4().hex[:16]
        self._links = [_Link(u, self.channel if i == 0 else None) for i, u in enumerate(urls)]
        home = self._links[0]
        self.host, self.port, self.password = home.host, home.port, home.password
        self.connected = threading.Event()
        self._stop = threading.Event()
        self._state = threading.Lock()
        self._pub: Any = None
        self._pid = os.getpid()
        self._threads = [threading.Thread(target=self._run, args=(link,), daemon=True,
                                          name=f"swfast-cache-invalidation-{link.port}") for link in self._links]
        cache.bus = self
        for t in self._threads:
            t.start()

    def _set_up(self, link: _Link, up: bool) -> None:
        with self._state:
            link.up = up
            if all(lk.up for lk in self._links):
                self.connected.set()
            else:
                self.connected.clear()

    # -- publishing ------------------------------------------------------------------------
    def _publish(self, body: dict[str, Any]) -> bool:
        body.update(o=self.origin, t=time.time())
        try:
            if self._pub is None or self._pid != os.getpid():
                import redis

                self._pub = redis.Redis(host=self.host, port=self.port, password=self.password,
                                        socket_timeout=self.timeout, socket_connect_timeout=self.timeout)
                self._pid = os.getpid()
            self._pub.publish(self.channel, json.dumps(body, separators=(",", ":")))
            return True
        except Exception as exc:
            log.error("publishing an invalidation failed; other processes rely on their L1 TTL: %s", exc)
            return False

    def publish_keys(self, keys: list[Any]) -> bool:
        """Tell other processes to drop ``keys`` (str keys only; others are process-local)."""
        keys = [k for k in keys if isinstance(k, str)]
        return self._publish({"k": keys}) if keys else True

    def publish_pattern(self, pattern: str) -> bool:
        """Tell other processes to drop keys matching ``pattern``."""
        return self._publish({"p": pattern})

    def publish_all(self) -> bool:
        """Tell other processes to empty their L1."""
        return self._publish({"a": 1})

    # -- listening -------------------------------------------------------------------------
    def _connect(self, link: _Link) -> tuple[socket.socket, socket.socket | None, _Resp]:
        lst = socket.create_connection((link.host, link.port), timeout=self.timeout)
        link.socks = [lst]
        r = _Resp(lst)
        if link.password:
            lst.sendall(_cmd("AUTH", link.password))
            r.read()
        lst.sendall(_cmd("CLIENT", "ID"))
        cid = r.read()
        channels = ["__redis__:invalidate"] + ([link.channel] if link.channel else [])
        lst.sendall(_cmd("SUBSCRIBE", *channels))
        for _ in channels:
            r.read()
        ctl = None
        if self.track:
            ctl = socket.create_connection((link.host, link.port), timeout=self.timeout)
            link.socks.append(ctl)
            cr = _Resp(ctl)
            if link.password:
                ctl.sendall(_cmd("AUTH", link.password))
                cr.read()
            ctl.sendall(_cmd("CLIENT", "TRACKING", "on", "REDIRECT", str(cid), "BCAST", "PREFIX", self.namespace))
            if cr.read() != b"OK":
                raise ConnectionError("CLIENT TRACKING was refused")
        return lst, ctl, r

    def _run(self, link: _Link) -> None:
        while not self._stop.is_set():
            try:
                lst, ctl, r = self._connect(link)
                self.cache.clear_local()  # whatever was cached while deaf may be stale
                self._set_up(link, True)
                self._listen(lst, ctl, r)
            except (OSError, ConnectionError, ValueError) as exc:
                if self._stop.is_set():
                    break
                if link.up:
                    _LOST.inc()
                    log.warning("invalidation connection to %s:%d lost (%s); flushing local L1",
                                link.host, link.port, exc)
                self._set_up(link, False)
                self.cache.clear_local()
                self._close_socks(link)
                self._stop.wait(min(self.ping_interval, 0.2))
        self._close_socks(link)

    def _listen(self, lst: socket.socket, ctl: socket.socket | None, r: _Resp) -> None:
        lst.settimeout(min(0.2, self.ping_interval))
        last_seen = last_ping = time.monotonic()
        cr = _Resp(ctl) if ctl is not None else None
        while not self._stop.is_set():
            now = time.monotonic()
            if now - last_ping >= self.ping_interval:
                lst.sendall(_cmd("PING"))
                if ctl is not None and cr is not None:
                    ctl.sendall(_cmd("PING"))
                    cr.read()  # bounded by the socket timeout; a dead control link raises
                last_ping = now
            if now - last_seen > 2 * self.ping_interval:
                raise ConnectionError(f"no reply to PING within {2 * self.ping_interval:.2f}s")
            try:
                msg = r.read()
            except socket.timeout:
                continue
            last_seen = time.monotonic()
            if isinstance(msg, list) and len(msg) == 3 and msg[0] == b"message":
                self._apply(msg[1], msg[2])

    def _apply(self, channel: bytes, data: Any) -> None:
        if channel == b"__redis__:invalidate":
            if data is None:
                _RECEIVED.labels("flush").inc()
                self.cache.clear_local()
                return
            n = len(self.namespace)
            keys = [k.decode(errors="replace")[n:] for k in data if isinstance(k, bytes)]
            _RECEIVED.labels("tracking").inc()
            self.cache.drop_local(keys)
            return
        try:
            body = json.loads(data)
        except ValueError:
            log.warning("ignoring a malformed invalidation message")
            return
        if body.get("o") == self.origin:
            return
        if "k" in body:
            self.cache.drop_local(body["k"])
            _RECEIVED.labels("keys").inc()
        elif "p" in body:
            self.cache.drop_matching(KeyPattern(body["p"]))
            _RECEIVED.labels("pattern").inc()
        else:
            self.cache.clear_local()
            _RECEIVED.labels("all").inc()
        _DELAY.observe(max(0.0, time.time() - float(body.get("t", time.time()))))

    @staticmethod
    def _close_socks(link: _Link) -> None:
        for s in link.socks:
            try:
                s.close()
            except OSError:
                pass
        link.socks = []

    def close(self) -> None:
        """Stop the listener threads and close their connections."""
        self._stop.set()
        for link in self._links:
            self._close_socks(link)
        for t in self._threads:
            t.join(timeout=2)
        if self._pub is not None:
            self._pub.close()


__all__ = ["InvalidationBus"]

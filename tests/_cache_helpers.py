"""Fault-injection helpers for the cache tests: a hung server, a delay/blocking TCP proxy,
and a dict-backed L1 stand-in with the L1Cache interface (for tests of the front's paths)."""
from __future__ import annotations

import socket
import threading
import time
from typing import Any, Callable

_MISSING = object()


class Clock:
    """A settable wall clock (Unix seconds) for tier expiry tests."""

    def __init__(self) -> None:
        self.t = 1_800_000_000.0

    def __call__(self) -> float:
        return self.t


class HungServer:
    """Accepts TCP connections on 127.0.0.1 and never replies (a hung Redis)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.conns: list[socket.socket] = []
        self._stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        self.sock.settimeout(0.1)
        while not self._stop:
            try:
                c, _ = self.sock.accept()
                self.conns.append(c)
            except OSError:
                continue

    def close(self) -> None:
        self._stop = True
        self.thread.join()
        for c in self.conns:
            c.close()
        self.sock.close()


class BlockingProxy:
    """A threaded TCP relay to ``port``; while ``blocked`` it forwards nothing (a partition)."""

    def __init__(self, port: int) -> None:
        self.target = port
        self.blocked = False
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self._stop = False
        self.held = 0  # chunks received and not yet forwarded
        self._held_lock = threading.Lock()
        self.socks: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        self.sock.settimeout(0.1)
        while not self._stop:
            try:
                c, _ = self.sock.accept()
            except OSError:
                continue
            u = socket.create_connection(("127.0.0.1", self.target))
            self.socks += [c, u]
            for a, b in ((c, u), (u, c)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, a: socket.socket, b: socket.socket) -> None:
        try:
            while True:
                data = a.recv(65536)
                if not data:
                    break
                with self._held_lock:
                    self.held += 1
                try:
                    while self.blocked and not self._stop:
                        time.sleep(0.005)
                    b.sendall(data)
                finally:
                    with self._held_lock:
                        self.held -= 1
        except OSError:
            pass
        finally:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def unblock(self) -> None:
        """End the partition and wait until what it held back has been forwarded (a late
        write then lands before the test goes on, not at a random later point)."""
        self.blocked = False
        for _ in range(2000):
            if not self.held:
                return
            time.sleep(0.005)

    def close(self) -> None:
        self._stop = True
        for s in self.socks:
            try:
                s.close()
            except OSError:
                pass
        self.sock.close()


class DictL1:
    """Minimal stand-in with the ``swfast.cache.l1.L1Cache`` interface the manager uses."""

    def __init__(self, maxsize: int = 1000, *, ttl: float | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.maxsize, self.ttl, self.clock = maxsize, ttl, clock
        self.data: dict[Any, tuple[Any, float | None]] = {}

    def _live(self, key: Any) -> tuple[Any, float | None] | None:
        e = self.data.get(key)
        if e is None:
            return None
        if e[1] is not None and e[1] <= self.clock():
            del self.data[key]
            return None
        return e

    def fast_get(self, key: Any, default: Any = None) -> Any:
        e = self._live(key)
        return default if e is None else e[0]

    def fast_set(self, key: Any, value: Any, ttl: float | None = None) -> None:
        ttl = self.ttl if ttl is None else ttl
        if ttl is not None and ttl <= 0:
            self.data.pop(key, None)
            return
        if len(self.data) >= self.maxsize and key not in self.data:
            self.data.pop(next(iter(self.data)))
        self.data[key] = (value, None if ttl is None else self.clock() + ttl)

    def check_vitality(self, key: Any) -> bool:
        return self._live(key) is not None

    def remaining_ttl(self, key: Any) -> float | None:
        e = self._live(key)
        if e is None:
            raise KeyError(key)
        return None if e[1] is None else e[1] - self.clock()

    def pop(self, key: Any, default: Any = _MISSING) -> Any:
        e = self.data.pop(key, None)
        if e is None:
            if default is _MISSING:
                raise KeyError(key)
            return default
        return e[0]

    def __delitem__(self, key: Any) -> None:
        del self.data[key]

    def __contains__(self, key: Any) -> bool:
        return self._live(key) is not None

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(list(self.data))

    def __len__(self) -> int:
        return len(self.data)

    def clear(self) -> None:
        self.data.clear()

    def expire(self) -> int:
        return 0

    def stats(self) -> dict[str, Any]:
        return {"size": len(self.data)}


def _cluster_port() -> int:
    """A free port <= 55535 whose cluster bus port (+10000) is free too."""
    for _ in range(200):
        with socket.socket() as a:
            a.bind(("127.0.0.1", 0))
            port = a.getsockname()[1]
        if port > 55535:
            continue
        try:
            with socket.socket() as a, socket.socket() as b:
                a.bind(("127.0.0.1", port))
                b.bind(("127.0.0.1", port + 10000))
        except OSError:
            continue
        return int(port)
    raise RuntimeError("no free port pair for a cluster node")


def start_cluster(n: int = 3, timeout: float = 20.0, full_coverage: bool = True) -> list[Any]:
    """Start ``n`` redis-servers in cluster mode and join them into one cluster (slots split evenly).

    ``full_coverage=False``: the masters keep serving their slots while another master is down
    (``cluster-require-full-coverage no``)."""
    import redis
    from _servers import start_redis

    servers: list[Any] = []
    try:
        for _ in range(n):
            servers.append(start_redis(_cluster_port(),
                                       extra_args=("--cluster-enabled", "yes", "--cluster-node-timeout", "2000",
                                                   "--cluster-require-full-coverage",
                                                   "yes" if full_coverage else "no")))
        clients = [redis.Redis(port=s.port) for s in servers]
        per = 16384 // n
        for i, c in enumerate(clients):
            hi = 16384 if i == n - 1 else (i + 1) * per
            c.execute_command("CLUSTER", "ADDSLOTS", *range(i * per, hi))
        for c in clients[1:]:
            c.execute_command("CLUSTER", "MEET", "127.0.0.1", servers[0].port)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            infos = [c.execute_command("CLUSTER", "INFO") for c in clients]
            if all(b"cluster_state:ok" in (i if isinstance(i, bytes) else str(i).encode()) for i in infos) and \
                    all(len(c.execute_command("CLUSTER", "NODES").splitlines()) == n for c in clients):
                return servers
            time.sleep(0.05)
        raise RuntimeError("redis cluster did not reach cluster_state:ok")
    except BaseException:
        for s in servers:
            s.stop()
        raise


def dbsize(client: Any) -> int:
    """Keys in a Redis database, not counting L2's per-run repair markers (``\\x00swfast-repaired:*``)."""
    markers = sum(1 for _ in client.scan_iter(match=b"\x00swfast-repaired:*", count=10_000))
    return int(client.dbsize()) - markers


def warm(cache: Any) -> None:
    """First contact of an L2 with its nodes: each proves itself repaired for its Redis run (an
    unproven node's namespace is swept), so keys planted afterwards stay for the test to read."""
    for node in cache.nodes.values():
        assert cache._verify(node)

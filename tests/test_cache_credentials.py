"""A Redis URL's password never reaches logs or metric labels of the L2 tier (issue 11, item 2):
nodes are labelled ``host:port/db``; redis-py's error text is redacted too."""
from __future__ import annotations

import logging

import pytest

from _servers import free_port
from swfast.cache.l2 import DistributedCache
from swfast.cache.l1 import L1Cache
from swfast.cache.manager import TieredCache
from swfast.monitoring.exporters import MetricsExporter

SECRET = "s3cretPassw0rd"


def test_failing_node_with_a_password_is_logged_and_counted_without_it(caplog: pytest.LogCaptureFixture) -> None:
    port = free_port()  # nothing listens there: every call fails
    url = f"redis://:{SECRET}@127.0.0.1:{port}/0"
    l2 = DistributedCache([url], trip_after=2)
    cache = TieredCache(l1=L1Cache(100), l2=l2)
    with caplog.at_level(logging.DEBUG):
        for i in range(4):
            assert l2.distributed_get(f"k{i}") is None
            l2.distributed_set(f"k{i}", i)
        cache.smart_set("t", 1, priority="high")
        cache.pattern_invalidate("t*")
    text = MetricsExporter().export_prometheus()
    text = text.decode() if isinstance(text, bytes) else text
    assert f"127.0.0.1:{port}/0" in text  # the node is there, labelled host:port/db
    assert SECRET not in text
    assert caplog.records and f"127.0.0.1:{port}/0" in caplog.text
    assert SECRET not in caplog.text
    for rec in caplog.records:
        assert SECRET not in rec.getMessage()

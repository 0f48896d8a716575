"""Multi-key Redis reads without redis-py's per-argument command packing.

redis-py's ``mget`` spends about 20 µs packing 100 arguments in Python and ~15 µs more in its
retry and observability wrapper; the L2 batch read packs the whole ``MGET`` in the envelope
kernel (:func:`swfast._native.cacheval.pack_command`) and sends it on a connection borrowed
from the client's own pool, read by the same (hiredis) parser, under the same socket timeouts.

Safety is redis-py's own rule: a connection whose send or read failed or was interrupted is
disconnected before it goes back to the pool, so a half-read reply never reaches another caller.
"""
from __future__ import annotations

from typing import Any

from .._native.cacheval import pack_command


def can_pack(client: Any) -> bool:
    """Whether ``client`` is a plain pooled sync ``redis.Redis`` whose ``MGET`` reply is unparsed.

    Needs redis-py >= 5.3 (``ConnectionPool.get_connection()`` without a command name);
    older versions keep redis-py's own ``mget``.
    """
    import redis

    return (tuple(redis.VERSION[:2]) >= (5, 3) and type(client) is redis.Redis and client.connection is None
            and "MGET" not in client.response_callbacks and hasattr(client.connection_pool, "get_connection"))


def mget(client: Any, raws: list[bytes]) -> list[Any]:
    """``MGET raws`` on one of ``client``'s pooled connections (see :func:`can_pack`)."""
    packed = pack_command(b"MGET", raws)
    pool = client.connection_pool
    conn = pool.get_connection()
    try:
        conn.send_packed_command((packed,))
        reply = conn.read_response()
    except BaseException:
        conn.disconnect()  # never hand a connection with an unread reply back to the pool
        raise
    finally:
        pool.release(conn)
    if type(reply) is not list or len(reply) != len(raws):
        raise TypeError(f"MGET: unexpected reply {type(reply).__name__} for {len(raws)} keys")
    return reply


__all__ = ["can_pack", "mget"]

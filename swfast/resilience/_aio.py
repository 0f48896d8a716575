"""asyncio, loaded only when a coroutine runs: ``import swfast.resilience`` stays cheap.

The default ``asleep`` of retry and rate limiting imports asyncio on its first sleep, and a
cancellation check needs no asyncio: a ``CancelledError`` can only exist once asyncio is loaded.
"""
from __future__ import annotations

import sys


async def asleep(delay: float) -> None:
    """``asyncio.sleep(delay)``."""
    import asyncio

    await asyncio.sleep(delay)


def is_cancelled(exc: BaseException) -> bool:
    """Whether ``exc`` is an ``asyncio.CancelledError`` (False while asyncio is not loaded)."""
    aio = sys.modules.get("asyncio")
    return aio is not None and isinstance(exc, aio.CancelledError)


__all__ = ["asleep", "is_cancelled"]

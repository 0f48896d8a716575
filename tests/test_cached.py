"""The cached decorator: single flight for threads and tasks, no cached errors or coroutines."""
from __future__ import annotations

import asyncio
import threading
import time

import pytest

from swfast.cache import L1Cache, cached


def test_thousand_threads_one_call():
    calls = 0
    barrier = threading.Barrier(1000)
    release = threading.Event()

    @cached
    def load(k: str) -> object:
        nonlocal calls
        calls += 1
        release.wait(5)
        return object()

    results: list[object] = []

    def worker() -> None:
        barrier.wait()
        results.append(load("k"))

    threads = [threading.Thread(target=worker) for _ in range(1000)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 10
    while load.in_flight() == 0 and time.monotonic() < deadline:
        time.sleep(0.001)
    release.set()
    for t in threads:
        t.join()
    assert calls == 1
    assert len(results) == 1000 and len({id(r) for r in results}) == 1


def test_exception_reaches_every_waiter_and_is_not_cached():
    calls = 0
    gate = threading.Event()

    @cached
    def load(k: int) -> int:
        nonlocal calls
        calls += 1
        gate.wait(5)
        if calls == 1:
            raise RuntimeError("backend down")
        return k

    errors: list[BaseException] = []

    def worker() -> None:
        try:
            load(1)
        except RuntimeError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(50)]
    for t in threads:
        t.start()
    while load.in_flight() == 0:
        time.sleep(0.001)
    time.sleep(0.05)
    gate.set()
    for t in threads:
        t.join()
    assert calls == 1 and len(errors) == 50
    assert load(1) == 1 and calls == 2  # the error was not cached


async def test_thousand_tasks_one_call():
    calls = 0

    @cached(ttl=60)
    async def load(k: str) -> dict[str, str]:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05)
        return {"k": k}

    results = await asyncio.gather(*(load("x") for _ in range(1000)))
    assert calls == 1 and all(r is results[0] for r in results)
    assert await load("x") is results[0]
    assert load.cache_info()["hits"] >= 1


async def test_async_exception_reaches_all_and_is_not_cached():
    calls = 0

    @cached
    async def load(k: int) -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        if calls == 1:
            raise KeyError("nope")
        return k

    results = await asyncio.gather(*(load(1) for _ in range(100)), return_exceptions=True)
    assert calls == 1 and all(isinstance(r, KeyError) for r in results)
    assert await load(1) == 1


async def test_cancelled_leader_hands_over_to_a_waiter():
    calls = 0

    @cached
    async def load(k: int) -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05)
        return k * 10

    leader = asyncio.create_task(load(3))
    await asyncio.sleep(0)
    waiter = asyncio.create_task(load(3))
    await asyncio.sleep(0.01)
    leader.cancel()
    assert await waiter == 30
    with pytest.raises(asyncio.CancelledError):
        await leader
    assert calls == 2


def test_coroutine_objects_are_never_cached():
    async def coro() -> int:
        return 1

    @cached
    def make(k: int):  # a sync function returning an awaitable
        return coro()

    first = make(1)
    second = make(1)
    assert first is not second
    for c in (first, second):
        assert asyncio.run(c) == 1


def test_shared_cache_key_function_and_ttl():
    store = L1Cache(10, registry=None)
    calls = []

    @cached(cache=store, key=lambda user, *, fresh=False: f"user:{user}", ttl=5)
    def get_user(user: int, *, fresh: bool = False) -> str:
        calls.append(user)
        return f"u{user}"

    assert get_user(1) == "u1" and get_user(1, fresh=True) == "u1"
    assert calls == [1] and store.remaining_ttl("user:1") <= 5
    get_user.cache_clear()
    assert get_user(1) == "u1" and calls == [1, 1]


def test_keyword_and_positional_keys_differ_safely():
    @cached
    def f(*args: object, **kwargs: object) -> tuple:
        return (args, tuple(sorted(kwargs.items())))

    assert f(1) == ((1,), ())
    assert f((1,)) == (((1,),), ())
    assert f(a=1) == ((), (("a", 1),))
    assert f("a", 1) == (("a", 1), ())

"""Contract tests: the in-process and Redis session stores and locks behave the same."""

from __future__ import annotations

import asyncio
import os
import stat
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from redis.asyncio import Redis

from bot.sessions import (
    MemoryConversationLock,
    MemorySessionStore,
    RedisConversationLock,
    RedisSessionStore,
)
from tests.conftest import TEST_REDIS_URL

T = TypeVar("T")


DEADLINE = 30.0  # seconds: a lock that never comes fails the test instead of hanging it


async def within_deadline(awaitable: Awaitable[T], what: str) -> T:
    try:
        return await asyncio.wait_for(awaitable, DEADLINE)
    except asyncio.TimeoutError:
        pytest.fail(f"{what}: not within {DEADLINE:g} s")


async def hold_and_leave(locks: Any, key: str) -> None:
    async with locks.hold(key):
        pass


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _params() -> list[Any]:
    return [pytest.param("memory", id="memory"),
            pytest.param("redis", id="redis", marks=[pytest.mark.redis, pytest.mark.skipif(
                not TEST_REDIS_URL, reason="TEST_REDIS_URL is not set")])]


@pytest.fixture(params=_params())
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Any, Any, str]]:
    if request.param == "memory":
        store = MemorySessionStore()
        yield store, MemoryConversationLock(), "memory"
        return
    redis = Redis.from_url(TEST_REDIS_URL)
    await redis.flushdb()
    yield RedisSessionStore(redis, prefix="test:session:"), RedisConversationLock(
        redis, prefix="test:lock:"), "redis"
    await redis.flushdb()
    await redis.aclose()


async def test_save_load_delete(backend: tuple[Any, Any, str]) -> None:
    store, _, _ = backend
    assert await store.load("k") is None
    await store.save("k", b"\x00secret", 60)
    assert await store.load("k") == b"\x00secret"
    await store.save("k", b"new", 60)
    assert await store.load("k") == b"new"
    await store.delete("k")
    assert await store.load("k") is None
    await store.delete("k")  # deleting twice is fine


async def test_ttl_is_refused_when_not_positive(backend: tuple[Any, Any, str]) -> None:
    store, _, _ = backend
    with pytest.raises(ValueError):
        await store.save("k", b"x", 0)


async def test_expiry(backend: tuple[Any, Any, str]) -> None:
    store, _, kind = backend
    if kind == "memory":
        clock = FakeClock()
        store = MemorySessionStore(clock=clock)
        await store.save("k", b"x", 30)
        clock.now += 29
        assert await store.load("k") == b"x"
        clock.now += 2
        assert await store.load("k") is None
    else:
        await store.save("k", b"x", 1)
        assert await store.load("k") == b"x"
        await asyncio.sleep(1.2)
        assert await store.load("k") is None


async def test_redis_keys_are_prefixed_and_expire() -> None:
    if not TEST_REDIS_URL:
        pytest.skip("TEST_REDIS_URL is not set")
    redis = Redis.from_url(TEST_REDIS_URL)
    try:
        await redis.flushdb()
        await RedisSessionStore(redis, prefix="amane-test:").save("abc", b"x", 1800)
        assert await redis.keys("*") == [b"amane-test:abc"]
        assert 1790 <= await redis.ttl("amane-test:abc") <= 1800
    finally:
        await redis.flushdb()
        await redis.aclose()


async def test_lock_serialises_one_conversation(backend: tuple[Any, Any, str]) -> None:
    _, locks, _ = backend
    order: list[str] = []

    async def worker(name: str) -> None:
        async with locks.hold("same"):
            order.append(f"{name}-in")
            await asyncio.sleep(0.05)
            order.append(f"{name}-out")

    await within_deadline(asyncio.gather(worker("a"), worker("b")), "both holders done")
    assert order in (["a-in", "a-out", "b-in", "b-out"], ["b-in", "b-out", "a-in", "a-out"])


async def test_lock_lets_other_conversations_run(backend: tuple[Any, Any, str]) -> None:
    _, locks, _ = backend
    inside = asyncio.Event()
    release = asyncio.Event()

    async def holder() -> None:
        async with locks.hold("one"):
            inside.set()
            await release.wait()

    task = asyncio.create_task(holder())
    try:
        await within_deadline(inside.wait(), "the first conversation's lock taken")
        # A lock that blocked every conversation would wait here forever.
        await within_deadline(hold_and_leave(locks, "two"),
                              "another conversation's lock, while one is held")
    finally:
        release.set()
        await within_deadline(task, "the first holder done")


async def test_memory_sessions_survive_a_clean_restart(tmp_path: Path) -> None:
    path = tmp_path / "sessions.json"
    clock, wall = FakeClock(), FakeClock()
    wall.now = 1_700_000_000.0
    store = MemorySessionStore(clock=clock, snapshot=path, wall_clock=wall)
    await store.save("alive", b"\x01data", 60)
    await store.save("dying", b"x", 5)
    await store.close()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    # The process is down for 10 seconds; the clocks of the new process differ.
    clock2, wall2 = FakeClock(), FakeClock()
    clock2.now, wall2.now = 5.0, wall.now + 10
    restored = MemorySessionStore(clock=clock2, snapshot=path, wall_clock=wall2)
    assert await restored.load("alive") == b"\x01data"
    assert await restored.load("dying") is None
    assert not path.exists()  # read once, then removed
    clock2.now += 51
    assert await restored.load("alive") is None


async def test_a_corrupt_snapshot_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "sessions.json"
    path.write_text("{not json", encoding="utf-8")
    store = MemorySessionStore(snapshot=path)
    assert await store.load("anything") is None


async def test_lock_without_waiting_says_busy(backend: tuple[Any, Any, str]) -> None:
    from bot.sessions import LockBusy

    _, locks, _ = backend
    async with locks.hold("busy"):
        with pytest.raises(LockBusy):
            async with locks.hold("busy", wait=0):
                pass
    async with locks.hold("busy", wait=0) as held:  # free again
        held.ensure()


@pytest.fixture
async def short_redis_locks() -> AsyncIterator[tuple[Redis, RedisConversationLock]]:
    """Redis locks that expire after 0.6 s unless renewed."""
    if not TEST_REDIS_URL:
        pytest.skip("TEST_REDIS_URL is not set")
    redis = Redis.from_url(TEST_REDIS_URL)
    await redis.flushdb()
    yield redis, RedisConversationLock(redis, prefix="test:lock:", timeout=0.6, wait=1.0)
    await redis.flushdb()
    await redis.aclose()


@pytest.mark.redis
async def test_redis_lock_is_renewed_while_held_and_expires_when_its_holder_dies(
        short_redis_locks: tuple[Redis, RedisConversationLock]) -> None:
    from bot.sessions import LockBusy

    redis, locks = short_redis_locks
    # Renewed every 0.5 s: a stall of the machine under 0.6 s loses nothing.
    renewed = RedisConversationLock(redis, prefix="test:lock:", timeout=1.5, wait=2.0)
    async with renewed.hold("her") as held:
        await asyncio.sleep(3.5)  # well past the timeout: the watchdog renews it
        held.ensure()
        with pytest.raises(LockBusy):
            async with locks.hold("her", wait=0):
                pass
    # A holder that dies never releases: the lock expires after its timeout.
    dead = redis.lock("test:lock:gone", timeout=0.6)
    assert await dead.acquire()
    async with locks.hold("gone", wait=2.0) as held:
        held.ensure()


@pytest.mark.redis
async def test_a_lost_redis_lock_is_noticed_before_committing(
        short_redis_locks: tuple[Redis, RedisConversationLock]) -> None:
    from bot.sessions import LockLost

    redis, locks = short_redis_locks
    async with locks.hold("her") as held:
        await redis.flushdb()  # as a Redis restart without persistence would
        async with locks.hold("her", wait=0):  # another worker takes it
            await asyncio.sleep(0.4)  # the watchdog finds it is not ours
            with pytest.raises(LockLost):
                held.ensure()
    # The first holder's exit did not free the second holder's lock: nothing left.
    assert await redis.keys("test:lock:*") == []

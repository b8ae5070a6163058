"""Case notices: published after the commit, never after a rollback. Contract tests: the
in-process notifier and the Redis pub/sub one (many workers) behave the same."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from bot.notify import CaseNotice, MemoryCaseNotifier, RedisCaseNotifier, publish_after_commit
from bot.storage.models import Base
from tests.conftest import TEST_REDIS_URL

# How long a notice may take to arrive (through Redis), and how long silence is awaited.
ARRIVAL = 2.0
SILENCE = 0.3


async def _maker(tmp_path: Path) -> async_sessionmaker:  # type: ignore[type-arg]
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'n.sqlite3'}")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    return async_sessionmaker(engine)


def _params() -> list[Any]:
    return [pytest.param("memory", id="memory"),
            pytest.param("redis", id="redis", marks=[pytest.mark.redis, pytest.mark.skipif(
                not TEST_REDIS_URL, reason="TEST_REDIS_URL is not set")])]


@pytest.fixture(params=_params())
async def notifiers(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Any, Any]]:
    """Two notifiers as two workers see them (the same one, in process)."""
    if request.param == "memory":
        notifier = MemoryCaseNotifier()
        yield notifier, notifier
        return
    clients = [Redis.from_url(TEST_REDIS_URL) for _ in range(2)]
    channel = f"test:notices:{id(clients)}"
    first, second = (RedisCaseNotifier(c, channel=channel) for c in clients)
    yield first, second
    for notifier, client in ((first, clients[0]), (second, clients[1])):
        await notifier.aclose()
        await client.aclose()


async def test_published_only_once_committed(tmp_path: Path,
                                             notifiers: tuple[Any, Any]) -> None:
    maker = await _maker(tmp_path)
    publisher, listener = notifiers
    notice = CaseNotice("created", "AM-AAAAAA", ("c1",))
    async with listener.subscribe() as subscription:
        async with maker() as db:
            publish_after_commit(db, publisher, [notice])
            assert await subscription.get(timeout=SILENCE) is None
            await db.commit()
        assert await subscription.get(timeout=ARRIVAL) == notice
        async with maker() as db:
            publish_after_commit(db, publisher, [notice])
            await db.rollback()
            await db.commit()
        assert await subscription.get(timeout=SILENCE) is None
    await maker.kw["bind"].dispose()


async def test_a_slow_console_loses_old_notices_but_never_blocks(
        notifiers: tuple[Any, Any]) -> None:
    publisher, listener = notifiers
    async with listener.subscribe() as slow, listener.subscribe() as witness:
        for index in range(300):
            publisher.publish(CaseNotice("message", f"AM-{index:06d}", (None,)))
        # A console that reads at once sees the last one arrive: by then the same
        # worker has handed all 300 to the slow one too, which kept the newest 256.
        last = None
        while last is None or last.reference != "AM-000299":
            last = await witness.get(timeout=ARRIVAL)
            assert last is not None, "the notices did not all arrive"
        first = await slow.get(timeout=SILENCE)
        assert first is not None and first.reference == "AM-000044"


async def test_every_subscriber_hears_every_notice_in_order(
        notifiers: tuple[Any, Any]) -> None:
    publisher, listener = notifiers
    async with listener.subscribe() as one, publisher.subscribe() as two:
        for index in range(5):
            publisher.publish(CaseNotice("claimed", f"AM-{index:06d}", ("c1",)))
        for subscription in (one, two):
            heard = [await subscription.get(timeout=ARRIVAL) for _ in range(5)]
            assert [n.reference for n in heard if n is not None] == \
                [f"AM-{i:06d}" for i in range(5)]


async def test_redis_notices_resume_after_a_redis_disconnection() -> None:
    if not TEST_REDIS_URL:
        pytest.skip("TEST_REDIS_URL is not set")
    client = Redis.from_url(TEST_REDIS_URL)
    notifier = RedisCaseNotifier(client, channel="test:notices:resume")
    try:
        async with notifier.subscribe() as subscription:
            # Cut this worker's connections, as a Redis restart would.
            await client.client_kill_filter(_type="pubsub", skipme=False)
            notice = CaseNotice("urgent", "AM-BBBBBB", ("c2",), urgent=True)
            for _ in range(40):  # until the subscription is back
                notifier.publish(notice)
                if await subscription.get(timeout=0.25) == notice:
                    break
            else:
                pytest.fail("no notice after the reconnection")
    finally:
        await notifier.aclose()
        await client.aclose()


def test_notice_round_trip_and_scope() -> None:
    notice = CaseNotice("escalated", "AM-AAAAAA", ("c1", None))
    assert CaseNotice.from_json(notice.to_json()) == notice
    assert notice.concerns("c1") and notice.concerns(None) and not notice.concerns("c2")
    assert notice.concerns("c2", everything=True)
    # Urgent and in no center's queue: every counselor sees it until one claims it.
    urgent = CaseNotice("escalated", "AM-AAAAAA", ("c1", None), urgent=True)
    assert CaseNotice.from_json(urgent.to_json()) == urgent and urgent.concerns("c2")

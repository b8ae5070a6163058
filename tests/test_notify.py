"""Case notices: published after the commit, never after a rollback."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from bot.notify import CaseNotice, MemoryCaseNotifier, publish_after_commit
from bot.storage.models import Base


async def _maker(tmp_path: Path) -> async_sessionmaker:  # type: ignore[type-arg]
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'n.sqlite3'}")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    return async_sessionmaker(engine)


async def test_published_only_once_committed(tmp_path: Path) -> None:
    maker = await _maker(tmp_path)
    notifier = MemoryCaseNotifier()
    notice = CaseNotice("created", "AM-AAAAAA", ("c1",))
    async with notifier.subscribe() as subscription:
        async with maker() as db:
            publish_after_commit(db, notifier, [notice])
            assert await subscription.get(timeout=0.01) is None
            await db.commit()
        assert await subscription.get(timeout=0.01) == notice
        async with maker() as db:
            publish_after_commit(db, notifier, [notice])
            await db.rollback()
            await db.commit()
        assert await subscription.get(timeout=0.01) is None
    await maker.kw["bind"].dispose()


def test_a_slow_console_loses_old_notices_but_never_blocks() -> None:
    notifier = MemoryCaseNotifier()

    async def run() -> None:
        async with notifier.subscribe() as subscription:
            for index in range(300):
                notifier.publish(CaseNotice("message", f"AM-{index:06d}", (None,)))
            first = await subscription.get(timeout=0.01)
            assert first is not None and first.reference == "AM-000044"

    import asyncio

    asyncio.run(run())


def test_notice_round_trip_and_scope() -> None:
    notice = CaseNotice("escalated", "AM-AAAAAA", ("c1", None), urgent=True)
    assert CaseNotice.from_json(notice.to_json()) == notice
    assert notice.concerns("c1") and notice.concerns(None) and not notice.concerns("c2")
    assert notice.concerns("c2", everything=True)

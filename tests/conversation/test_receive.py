"""Receiving her messages: stored before acknowledged; a message stored but never
processed (a crash between the acknowledgement and the processing) is processed at the
next start; one whose processing fails is marked failed and she gets an apology."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from bot.channels.base import InboundMessage
from bot.conversation.set_aside import APOLOGY
from bot.runtime import Runtime
from bot.storage.models import Message
from tests.channels.conftest import settings, telegram_api, twilio_api  # noqa: F401
from tests.channels.fakes import FakeTelegram


async def test_messages_stored_but_not_processed_are_processed_at_start(
        runtime: Runtime, telegram_api: FakeTelegram) -> None:
    for update_id, text in ((1, "salam"), (2, "1")):
        stored = await runtime.conversations.accept(InboundMessage(
            channel="telegram", address="5550001", text=text,
            provider_message_id=str(update_id)))
        assert stored is not None and stored.key == runtime.conversations.conversation_key(
            "telegram", "5550001")
    assert await runtime.conversations.accept(InboundMessage(
        channel="telegram", address="5550001", text="salam", provider_message_id="1")) is None
    # ... the process stops here, and starts again:
    assert await runtime.conversations.process_pending() == 2
    assert await runtime.conversations.process_pending() == 0
    await runtime.outbox.deliver()
    flow = runtime.flows.get("intake")
    assert [m["text"] for m in telegram_api.sent_messages()] == [
        flow.text("greeting", "ary_latn"), flow.text("ask_safe", "ary_latn"),
        flow.text("ask_consent", "ary_latn")]  # in order: "1" answered the first question


async def test_her_message_acknowledged_after_one_left_waiting_goes_after_it(
        runtime: Runtime, telegram_api: FakeTelegram) -> None:
    """A worker died after acknowledging her first message; her second is processed
    by another at once (`after_ack`), which finds the first still waiting and
    processes it first."""
    from bot.conversation.receive import accept, after_ack

    first = await runtime.conversations.accept(InboundMessage(
        channel="telegram", address="5550004", text="salam", provider_message_id="41"))
    assert first is not None
    accepted = await accept(runtime.reception, InboundMessage(
        channel="telegram", address="5550004", text="1", provider_message_id="42"))
    await after_ack(runtime.reception, accepted)
    await runtime.outbox.deliver()
    flow = runtime.flows.get("intake")
    assert [m["text"] for m in telegram_api.sent_messages()] == [
        flow.text("greeting", "ary_latn"), flow.text("ask_safe", "ary_latn"),
        flow.text("ask_consent", "ary_latn")]  # "1" answered the first question
    async with runtime.sessionmaker() as db:
        rows = [await db.get(Message, i) for i in (first.message_id, accepted.message_id)]
        assert [r.status for r in rows if r is not None] == ["processed", "processed"]
    assert await runtime.conversations.process_pending() == 0


async def test_a_failure_while_processing_is_recorded_and_she_gets_an_apology(
        runtime: Runtime, telegram_api: FakeTelegram, monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(text: str, *, expecting: str | None = None) -> Any:
        raise RuntimeError("the NLU fell over")

    monkeypatch.setattr(runtime.nlu, "parse", broken)
    stored = await runtime.conversations.accept(InboundMessage(
        channel="telegram", address="5550001", text="salam", provider_message_id="7"))
    assert stored is not None
    await runtime.conversations.process(stored.message_id)
    await runtime.outbox.deliver()
    assert [m["text"] for m in telegram_api.sent_messages()] == [APOLOGY["ary"]]
    async with runtime.sessionmaker() as db:
        row = await db.get(Message, stored.message_id)
        assert row is not None and row.status == "failed"
        assert await db.scalar(select(Message.status).where(Message.direction == "out")) \
            == "sent"


async def test_the_sweep_leaves_fresh_messages_to_the_worker_that_took_them(
        runtime: Runtime, telegram_api: FakeTelegram) -> None:
    from datetime import timedelta

    stored = await runtime.conversations.accept(InboundMessage(
        channel="telegram", address="5550002", text="salam", provider_message_id="21"))
    assert stored is not None
    assert await runtime.conversations.process_pending(timedelta(seconds=60), wait=0) == 0
    assert await runtime.conversations.process_pending(timedelta(0), wait=0) == 1
    async with runtime.sessionmaker() as db:
        row = await db.get(Message, stored.message_id)
        assert row is not None and row.status == "processed"


async def test_an_outage_while_processing_leaves_her_messages_waiting_in_order(
        runtime: Runtime, telegram_api: FakeTelegram, monkeypatch: pytest.MonkeyPatch) -> None:
    from redis.exceptions import ConnectionError as RedisConnectionError

    ids = []
    for update_id, text in ((31, "salam"), (32, "1")):
        stored = await runtime.conversations.accept(InboundMessage(
            channel="telegram", address="5550003", text=text,
            provider_message_id=str(update_id)))
        assert stored is not None
        ids.append(stored.message_id)
    real_load = runtime.sessions.load

    async def unreachable(key: str) -> Any:
        raise RedisConnectionError("Connection refused")

    monkeypatch.setattr(runtime.sessions, "load", unreachable)
    await runtime.conversations.process(ids[1])  # no apology, nothing marked failed
    async with runtime.sessionmaker() as db:
        rows = [await db.get(Message, i) for i in ids]
        assert [r.status for r in rows if r is not None] == ["received", "received"]
        assert await db.scalar(select(Message.id).where(Message.direction == "out")) is None
    monkeypatch.setattr(runtime.sessions, "load", real_load)  # Redis is back
    assert await runtime.conversations.process_pending(wait=0) == 2
    await runtime.outbox.deliver()
    flow = runtime.flows.get("intake")
    assert [m["text"] for m in telegram_api.sent_messages()] == [
        flow.text("greeting", "ary_latn"), flow.text("ask_safe", "ary_latn"),
        flow.text("ask_consent", "ary_latn")]


async def test_two_workers_sweeping_at_once_process_each_message_once(
        runtime: Runtime, telegram_api: FakeTelegram) -> None:
    """Two runtimes over one PostgreSQL and one Redis, as two workers."""
    import asyncio

    from bot.runtime import build_runtime

    if runtime.redis is None:
        pytest.skip("many workers run on PostgreSQL and Redis only")
    other = build_runtime(runtime.settings)
    try:
        for woman in range(10):
            for step, text in enumerate(("salam", "1", "1")):
                assert await runtime.conversations.accept(InboundMessage(
                    channel="telegram", address=f"55510{woman:02d}", text=text,
                    provider_message_id=f"4{woman:02d}{step}")) is not None
        swept = await asyncio.gather(runtime.conversations.process_pending(wait=0),
                                     other.conversations.process_pending(wait=0),
                                     runtime.conversations.process_pending(wait=None),
                                     other.conversations.process_pending(wait=None))
        assert sum(swept) >= 30
        await asyncio.gather(runtime.outbox.deliver(), other.outbox.deliver())
        async with runtime.sessionmaker() as db:
            statuses = (await db.scalars(select(Message.status).where(
                Message.direction == "in"))).all()
        assert sorted(statuses) == ["processed"] * 30
        sent = telegram_api.sent_messages()
        flow = runtime.flows.get("intake")
        for woman in range(10):
            mine = [m["text"] for m in sent if str(m["chat_id"]) == f"55510{woman:02d}"]
            assert mine == [flow.text("greeting", "ary_latn"), flow.text("ask_safe", "ary_latn"),
                            flow.text("ask_consent", "ary_latn"),
                            flow.text("ask_needs", "ary_latn")], mine
    finally:
        await other.close()

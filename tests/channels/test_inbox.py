"""Stored before acknowledged: a message stored but never processed (a crash between the
acknowledgement and the processing) is processed at the next start; one whose
processing fails is marked failed and she gets an apology."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from bot.channels.base import InboundMessage
from bot.dialogue import APOLOGY
from bot.runtime import Runtime
from bot.storage.models import Message
from tests.channels.fakes import FakeTelegram


async def test_messages_stored_but_not_processed_are_processed_at_start(
        runtime: Runtime, telegram_api: FakeTelegram) -> None:
    for update_id, text in ((1, "salam"), (2, "1")):
        stored = await runtime.dialogue.accept(InboundMessage(
            channel="telegram", address="5550001", text=text,
            provider_message_id=str(update_id)))
        assert stored is not None
    assert await runtime.dialogue.accept(InboundMessage(
        channel="telegram", address="5550001", text="salam", provider_message_id="1")) is None
    # ... the process stops here, and starts again:
    assert await runtime.dialogue.process_pending() == 2
    assert await runtime.dialogue.process_pending() == 0
    await runtime.outbox.deliver()
    flow = runtime.flows.get("intake")
    assert [m["text"] for m in telegram_api.sent_messages()] == [
        flow.text("greeting", "ary_latn"), flow.text("ask_safe", "ary_latn"),
        flow.text("ask_consent", "ary_latn")]  # in order: "1" answered the first question


async def test_a_failure_while_processing_is_recorded_and_she_gets_an_apology(
        runtime: Runtime, telegram_api: FakeTelegram, monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(text: str) -> Any:
        raise RuntimeError("the NLU fell over")

    monkeypatch.setattr(runtime.dialogue._nlu, "parse", broken)
    stored = await runtime.dialogue.accept(InboundMessage(
        channel="telegram", address="5550001", text="salam", provider_message_id="7"))
    assert stored is not None
    await runtime.dialogue.process(stored)
    await runtime.outbox.deliver()
    assert [m["text"] for m in telegram_api.sent_messages()] == [APOLOGY["ary"]]
    async with runtime.sessionmaker() as db:
        row = await db.get(Message, stored)
        assert row is not None and row.status == "failed"
        assert await db.scalar(select(Message.status).where(Message.direction == "out")) \
            == "sent"

"""Writing her replies into the outbox: how each way of delivery is recorded."""

from __future__ import annotations

from sqlalchemy import select

from bot.channels.base import BotReply, ReplyButton
from bot.outbox.queue import FAREWELL
from bot.runtime import Runtime
from bot.storage.models import Contact, Message

LINES = [BotReply("Bonjour."), BotReply("Pouvez-vous parler ?", (ReplyButton("yes", "Oui"),
                                                                 ReplyButton("no", "Non")))]


async def _contact(runtime: Runtime) -> int:
    async with runtime.sessionmaker() as db:
        contact = Contact(channel="terminal", address_hash="h" * 64,
                          address_enc=runtime.cipher.encrypt("+212600000030"))
        db.add(contact)
        await db.commit()
        return contact.id


async def _rows(runtime: Runtime) -> list[Message]:
    async with runtime.sessionmaker() as db:
        return list((await db.scalars(select(Message).order_by(Message.id))).all())


async def test_replies_for_the_outbox_are_pending_in_order_with_their_choices(
        runtime: Runtime) -> None:
    contact_id = await _contact(runtime)
    async with runtime.sessionmaker() as db:
        queued = await runtime.outbox.queue.queue_replies(
            db, LINES, contact_id=contact_id, channel="terminal", case_id=None,
            conversation_id="c1", delivery="outbox")
        await db.commit()
    rows = await _rows(runtime)
    assert queued.for_the_outbox == [m.id for m in rows] and not queued.needs_her_contact
    assert [(m.status, m.kind, m.attempts) for m in rows] == [("pending", "text", 0)] * 2
    assert [runtime.cipher.decrypt(m.body_enc) for m in rows if m.body_enc] == [
        "Bonjour.", "Pouvez-vous parler ?"]
    assert rows[0].payload_enc is None and rows[1].payload_enc is not None
    assert {m.conversation_id for m in rows} == {"c1"}


async def test_replies_claimed_by_the_caller_go_with_what_sending_needs(
        runtime: Runtime) -> None:
    contact_id = await _contact(runtime)
    async with runtime.sessionmaker() as db:
        queued = await runtime.outbox.queue.queue_replies(
            db, LINES, contact_id=contact_id, channel="terminal", case_id=None,
            conversation_id="c1", delivery="claimed")
        contact = await db.get(Contact, contact_id)
        claimed = queued.claimed(contact)
        await db.commit()
    rows = await _rows(runtime)
    assert queued.needs_her_contact and queued.for_the_outbox == []
    assert [(m.status, m.attempts) for m in rows] == [("sending", 1)] * 2
    assert [c.id for c in claimed] == [m.id for m in rows]
    assert {c.address_enc for c in claimed} == {contact.address_enc}  # type: ignore[union-attr]


async def test_last_lines_are_erased_once_sent_unless_the_answer_carries_them(
        runtime: Runtime) -> None:
    contact_id = await _contact(runtime)
    async with runtime.sessionmaker() as db:
        later = await runtime.outbox.queue.queue_replies(
            db, LINES[:1], contact_id=contact_id, channel="terminal", case_id=None,
            conversation_id=None, delivery="outbox", farewell=True)
        carried = await runtime.outbox.queue.queue_replies(
            db, LINES[:1], contact_id=contact_id, channel="terminal", case_id=None,
            conversation_id=None, delivery="inline", farewell=True)
        none = await runtime.outbox.queue.queue_replies(
            db, [], contact_id=contact_id, channel="terminal", case_id=None,
            conversation_id=None, delivery="claimed")
        await db.commit()
    kinds = {m.id: (m.status, m.kind) for m in await _rows(runtime)}
    assert kinds == {later.ids[0]: ("pending", FAREWELL), carried.ids[0]: ("inline", "text")}
    assert none.ids == [] and not none.needs_her_contact and none.claimed(None) == []

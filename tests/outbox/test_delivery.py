"""The outbox's delivery: what happens to a message the sender cannot send, her order,
the claims of many workers, and giving up."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from sqlalchemy import func, select

from bot.channels.base import (
    InboundMessage,
    OutboundMessage,
    SendResult,
    TransientSendError,
)
from bot.runtime import Runtime
from bot.storage.models import Message
from tests.support import eventually


class BrokenSender:
    channel = "terminal"
    free_text_window = None

    def __init__(self) -> None:
        self.calls = 0

    async def send(self, message: OutboundMessage) -> SendResult:
        self.calls += 1
        raise KeyError("a bug in a sender")


async def test_a_fault_of_ours_fails_the_message_for_good_instead_of_looping(
        runtime: Runtime) -> None:
    broken = BrokenSender()
    runtime.outbox.add_sender(broken)  # type: ignore[arg-type]
    await runtime.conversations.handle(InboundMessage(channel="terminal", address="x",
                                                 text="salam", provider_message_id="1"),
                                  inline=False)
    await runtime.outbox.deliver()
    await runtime.outbox.deliver()
    async with runtime.sessionmaker() as db:
        rows = (await db.scalars(select(Message).where(Message.direction == "out"))).all()
    assert rows and all(m.status == "failed" for m in rows)
    assert all(m.last_error == "unexpected error: KeyError" for m in rows)
    assert broken.calls == len(rows)  # one try each, not a loop


class RecordingSender:
    channel = "terminal"
    free_text_window = None

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def send(self, message: OutboundMessage) -> SendResult:
        self.sent.append((message.address, message.text))
        return SendResult(provider_message_id=None)


async def test_a_claim_in_flight_on_another_worker_holds_all_of_her_messages(
        runtime: Runtime) -> None:
    """Two workers claiming at once must not split one woman's messages (the second
    could be sent before the first): while another worker's claim holds her, none of
    hers is claimed; the other women's are."""
    from sqlalchemy import text

    from bot.outbox.claims import CLAIM_LOCK_SPACE
    from bot.storage.models import Contact

    if runtime.db_engine.dialect.name != "postgresql":
        pytest.skip("claims run at the same time only on PostgreSQL")
    recording = RecordingSender()
    runtime.outbox.add_sender(recording)  # type: ignore[arg-type]
    for address in ("held-woman", "other-woman"):
        await runtime.conversations.handle(InboundMessage(
            channel="terminal", address=address, text="salam",
            provider_message_id=address), inline=False)
    async with runtime.sessionmaker() as db:
        held_id = await db.scalar(select(Contact.id).where(
            Contact.address_hash == runtime.conversations.conversation_key("terminal",
                                                                      "held-woman")))
        queued = await db.scalar(select(func.count()).select_from(Message).where(
            Message.direction == "out", Message.contact_id == held_id))
    assert held_id is not None and queued >= 2
    async with runtime.db_engine.connect() as other_worker:
        await other_worker.execute(text("SELECT pg_advisory_xact_lock(:space, :contact)"),
                                   {"space": CLAIM_LOCK_SPACE, "contact": held_id})
        await runtime.outbox.deliver()
        assert recording.sent and {a for a, _ in recording.sent} == {"other-woman"}
        await other_worker.rollback()  # that claim ends
    await runtime.outbox.deliver()
    hers = [t for a, t in recording.sent if a == "held-woman"]
    theirs = [t for a, t in recording.sent if a == "other-woman"]
    assert len(hers) == queued and hers == theirs  # all of hers, in order


class GatedSender(RecordingSender):
    """Sends the first message only once `gate` is set: it stays 'sending' meanwhile."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.first_started = asyncio.Event()

    async def send(self, message: OutboundMessage) -> SendResult:
        if not self.sent and not self.first_started.is_set():
            self.first_started.set()
            await self.gate.wait()
        return await super().send(message)


async def test_a_reply_left_behind_her_earlier_one_goes_as_soon_as_that_one_is_sent(
        runtime: Runtime) -> None:
    """Her next reply cannot be claimed while her previous one is still being sent (her
    order). It must not then wait for the loop's next pass (an interval away): the
    delivery that finishes wakes the loop for it."""
    gated = GatedSender()
    runtime.outbox.add_sender(gated)  # type: ignore[arg-type]
    loop = asyncio.create_task(runtime.outbox.run(interval=3600))
    try:
        first = await runtime.conversations.handle(InboundMessage(
            channel="terminal", address="x", text="salam", provider_message_id="1"),
            inline=False)
        sending = asyncio.create_task(runtime.outbox.deliver(first.outbound))
        await asyncio.wait_for(gated.first_started.wait(), 30)
        second = await runtime.conversations.handle(InboundMessage(
            channel="terminal", address="x", text="1", provider_message_id="2"),
            inline=False)
        assert second.outbound
        assert await runtime.outbox.deliver(second.outbound) == 0  # behind the first
        gated.gate.set()
        await sending
        # A loop pass, not the hour-long interval.
        await eventually(lambda: len(gated.sent) >= len(first.outbound) + len(second.outbound),
                         "the reply behind her earlier one sent")
        assert len(gated.sent) == len(first.outbound) + len(second.outbound)
    finally:
        loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop


class FailsFirstOnce(RecordingSender):
    """The provider fails once on the first message it is given (a timeout, a 503)."""

    def __init__(self) -> None:
        super().__init__()
        self.failed = False

    async def send(self, message: OutboundMessage) -> SendResult:
        if not self.failed:
            self.failed = True
            raise TransientSendError("provider busy")
        return await super().send(message)


async def test_a_reply_that_must_be_retried_is_not_overtaken_by_the_next(
        runtime: Runtime) -> None:
    """Her replies leave in order even when the first must wait for a retry: the ones
    claimed with it go back to the queue, behind it, instead of being sent before it."""
    from sqlalchemy import update

    sender = FailsFirstOnce()
    runtime.outbox.add_sender(sender)  # type: ignore[arg-type]
    result = await runtime.conversations.handle(InboundMessage(
        channel="terminal", address="x", text="salam", provider_message_id="1"),
        inline=False)
    assert len(result.outbound) >= 2
    assert await runtime.outbox.deliver(result.outbound) == 0
    assert sender.sent == []  # the second did not overtake the first
    async with runtime.sessionmaker() as db:
        rows = (await db.scalars(select(Message).where(Message.direction == "out")
                                 .order_by(Message.id))).all()
        assert [m.status for m in rows] == ["pending"] * len(rows)
        assert [m.attempts for m in rows] == [1] + [0] * (len(rows) - 1)
        await db.execute(update(Message).values(next_attempt_at=func.now()))
        await db.commit()
    assert await runtime.outbox.deliver() == len(rows)
    assert [t for _, t in sender.sent] == [r.text for r in result.replies]


async def _two_women_one_slot(runtime: Runtime) -> tuple[GatedSender, asyncio.Task[int],
                                                          int]:
    """Two women's replies claimed together with one sending slot: the first woman's
    send holds it, the second's replies wait for their turn. Returns the sender, the
    delivery, and the second woman's contact id."""
    from bot.outbox import Outbox
    from bot.storage.models import Contact

    gated = GatedSender()
    outbox = Outbox(runtime.sessionmaker, runtime.cipher, {"terminal": gated},  # type: ignore[dict-item]
                    statements=runtime.statements, concurrency=1)
    for address in ("first", "second"):
        await runtime.conversations.handle(InboundMessage(
            channel="terminal", address=address, text="salam",
            provider_message_id=address), inline=False)
    sending = asyncio.create_task(outbox.deliver())
    await asyncio.wait_for(gated.first_started.wait(), 30)
    key = runtime.conversations.conversation_key("terminal", "second")
    async with runtime.sessionmaker() as db:
        contact = await db.scalar(select(Contact.id).where(Contact.address_hash == key))
    assert contact is not None
    return gated, sending, contact


@pytest.mark.parametrize("meanwhile", ["stop", "quick exit", "delivery report"])
async def test_a_message_that_waits_for_its_turn_is_read_again_before_it_is_sent(
        runtime: Runtime, meanwhile: str) -> None:
    """The claim reads what sending needs (PostgreSQL). A message that must then wait
    for a sending slot (a slow provider) is read again when its turn comes: what
    happened meanwhile counts. Her STOP: held. Her quick exit (her unsent replies
    erased): not sent. A report that an earlier attempt was delivered: not sent
    again."""
    from datetime import datetime, timezone

    from bot.storage.models import Contact

    gated, sending, contact_id = await _two_women_one_slot(runtime)
    async with runtime.sessionmaker() as db:
        waiting = (await db.scalars(select(Message).where(
            Message.contact_id == contact_id, Message.direction == "out")
            .order_by(Message.id))).all()
    assert waiting and {m.status for m in waiting} == {"sending"}
    if meanwhile == "stop":
        async with runtime.sessionmaker() as db:
            contact = await db.get(Contact, contact_id)
            assert contact is not None
            contact.opted_out_at = datetime.now(timezone.utc)
            await db.commit()
    elif meanwhile == "quick exit":
        await runtime.conversations.handle(InboundMessage(
            channel="terminal", address="second", text="stop", provider_message_id="s2"),
            inline=False)
    else:
        assert await runtime.outbox.record_delivery(["terminal"], "SM1", "delivered",
                                                    message_id=waiting[0].id)
    gated.gate.set()
    await asyncio.wait_for(sending, 10)
    hers = [text for address, text in gated.sent if address == "second"]
    if meanwhile == "delivery report":
        later = [runtime.cipher.decrypt(m.body_enc) for m in waiting[1:] if m.body_enc]
        assert hers == later  # the delivered one is not sent again
    else:
        assert hers == []
    if meanwhile == "stop":
        async with runtime.sessionmaker() as db:
            statuses = (await db.scalars(select(Message.status).where(
                Message.id.in_([m.id for m in waiting])))).all()
        assert set(statuses) == {"held"}


async def _processing_paused(runtime: Runtime, monkeypatch: pytest.MonkeyPatch,
                             address: str) -> tuple[asyncio.Task[object], asyncio.Event,
                                                    int]:
    """Her second message processed as `after_ack` does (`caller_delivers`), paused
    while it is read: returns the processing, the event that resumes it, and her
    contact's id (her first message was answered and its replies sent)."""
    from bot.storage.models import Contact

    async def stored(text: str, sid: str) -> int:
        stored = await runtime.conversations.accept(InboundMessage(
            channel="terminal", address=address, text=text, provider_message_id=sid))
        assert stored is not None
        return stored.message_id

    first = await runtime.conversations.process(await stored("salam", "1"), caller_delivers=True)
    await runtime.outbox.send_claimed(first.claimed)
    second = await stored("1", "2")
    reading, resume = asyncio.Event(), asyncio.Event()
    understand = runtime.understanding.read

    async def paused(*args: object) -> object:
        reading.set()
        await resume.wait()
        return await understand(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(runtime.understanding, "read", paused)
    processing = asyncio.create_task(runtime.conversations.process(second, caller_delivers=True))
    await asyncio.wait_for(reading.wait(), 5)
    async with runtime.sessionmaker() as db:
        contact = await db.scalar(select(Contact.id).where(
            Contact.address_hash == runtime.conversations.conversation_key("terminal", address)))
    assert contact is not None
    return processing, resume, contact


async def test_her_replies_claimed_as_they_are_queued_are_held_by_a_stop_sent_meanwhile(
        runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    """PostgreSQL: the worker that processes her message claims her replies as it
    queues them and sends them itself, from her contact as the end of the processing
    read it: a STOP she sent while her message was being processed holds them."""
    from datetime import datetime, timezone

    from bot.storage.models import Contact

    if runtime.db_engine.dialect.name != "postgresql":
        pytest.skip("replies are claimed as they are queued on PostgreSQL only")
    recording = RecordingSender()
    runtime.outbox.add_sender(recording)  # type: ignore[arg-type]
    processing, resume, contact_id = await _processing_paused(runtime, monkeypatch, "s")
    sent_before = len(recording.sent)
    async with runtime.sessionmaker() as db:  # her STOP, stored meanwhile
        contact = await db.get(Contact, contact_id)
        assert contact is not None
        contact.opted_out_at = datetime.now(timezone.utc)
        await db.commit()
    resume.set()
    result = await asyncio.wait_for(processing, 10)
    assert result.claimed  # nothing waited for her: claimed as queued
    await runtime.outbox.send_claimed(result.claimed)
    assert len(recording.sent) == sent_before
    async with runtime.sessionmaker() as db:
        statuses = (await db.scalars(select(Message.status).where(
            Message.id.in_([m.id for m in result.claimed])))).all()
    assert set(statuses) == {"held"}


async def test_no_claim_takes_her_messages_while_one_of_hers_is_processed(
        runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    """PostgreSQL: while her message is processed (its replies to be claimed as they
    are queued), a counselor's message to her is not claimed by another delivery: it
    could fail and wait for a retry, and her replies, claimed already, overtake it.
    It goes once the processing has committed."""
    if runtime.db_engine.dialect.name != "postgresql":
        pytest.skip("replies are claimed as they are queued on PostgreSQL only")
    recording = RecordingSender()
    runtime.outbox.add_sender(recording)  # type: ignore[arg-type]
    processing, resume, contact_id = await _processing_paused(runtime, monkeypatch, "c")
    async with runtime.sessionmaker() as db:
        counselor = runtime.outbox.queue.enqueue(db, contact_id=contact_id, channel="terminal",
                                                 text="counselor", sender="counselor")
        await db.commit()
    assert await runtime.outbox.deliver([counselor.id]) == 0  # her claims are held
    resume.set()
    result = await asyncio.wait_for(processing, 10)
    assert result.claimed
    assert await runtime.outbox.send_claimed(result.claimed) == len(result.claimed)
    assert await runtime.outbox.deliver([counselor.id]) == 1
    assert recording.sent[-1] == ("c", "counselor")


class AlwaysBusy(RecordingSender):
    """The provider never takes it (a long outage)."""

    def __init__(self) -> None:
        super().__init__()
        self.tried: list[int] = []

    async def send(self, message: OutboundMessage) -> SendResult:
        self.tried.append(message.message_id)
        raise TransientSendError("provider down")


async def test_a_message_the_provider_never_takes_is_given_up_after_the_last_attempt(
        runtime: Runtime) -> None:
    """Retried with backoff, then failed for good: never retried forever. Each retry is
    made due at once (rather than waiting out the backoff); a few more passes than
    attempts would show a loop that never gives up."""
    from datetime import datetime, timezone

    from sqlalchemy import update

    from bot.outbox.delivery import MAX_ATTEMPTS

    busy = AlwaysBusy()
    runtime.outbox.add_sender(busy)  # type: ignore[arg-type]
    sent = await runtime.conversations.handle(InboundMessage(
        channel="terminal", address="x", text="salam", provider_message_id="1"), inline=False)
    first = sent.outbound[0]
    for _ in range(MAX_ATTEMPTS + 3):
        async with runtime.sessionmaker() as db:
            await db.execute(update(Message).where(Message.direction == "out",
                                                   Message.status == "pending")
                             .values(next_attempt_at=datetime.now(timezone.utc)))
            await db.commit()
        await runtime.outbox.deliver([first])
    async with runtime.sessionmaker() as db:
        message = await db.get(Message, first)
    assert message is not None and message.status == "failed"
    assert message.last_error == f"gave up after {MAX_ATTEMPTS} attempts"
    assert message.attempts == MAX_ATTEMPTS
    assert busy.tried.count(first) == MAX_ATTEMPTS


async def test_a_message_interrupted_again_and_again_is_given_up(runtime: Runtime) -> None:
    """A worker dies while sending it, again and again (a message that crashes the
    worker): after MAX_ATTEMPTS claims it fails instead of being requeued forever."""
    from datetime import datetime, timedelta, timezone

    from sqlalchemy import update

    from bot.outbox.delivery import MAX_ATTEMPTS

    sent = await runtime.conversations.handle(InboundMessage(
        channel="terminal", address="x", text="salam", provider_message_id="1"), inline=False)
    first = sent.outbound[0]
    long_ago = datetime.now(timezone.utc) - timedelta(hours=1)
    for _ in range(MAX_ATTEMPTS + 3):
        async with runtime.sessionmaker() as db:  # claimed, then its worker died
            await db.execute(update(Message).where(Message.id == first,
                                                   Message.status == "pending")
                             .values(status="sending", attempts=Message.attempts + 1,
                                     next_attempt_at=long_ago))
            await db.commit()
        await runtime.outbox.requeue_stale()
    async with runtime.sessionmaker() as db:
        message = await db.get(Message, first)
    assert message is not None and message.status == "failed"
    assert message.last_error == "gave up: interrupted too many times"
    assert message.attempts == MAX_ATTEMPTS

"""The conversation manager: her order, case mode, erasure, danger after the handoff."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select

from bot.channels.base import InboundMessage
from bot.conversation.set_aside import APOLOGY
from bot.conversation.turn import HandleResult
from bot.runtime import Runtime
from bot.storage.models import AuditEvent, Case, Contact, Message
from tests.support import Woman

INTAKE_FR = ["Bonjour", "oui", "oui", "avocat", "Tiznit", "1", "le matin",
             "il m'insulte tous les jours"]


async def count(runtime: Runtime, model: type) -> int:
    async with runtime.sessionmaker() as db:
        return int(await db.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_redelivered_message_gets_no_second_reply(runtime: Runtime) -> None:
    first = InboundMessage(channel="sms", address="+212600000001", text="salam",
                           provider_message_id="SM123")
    result = await runtime.conversations.handle(first, inline=False)
    assert result.replies and not result.duplicate
    again = await runtime.conversations.handle(first, inline=False)
    assert again.duplicate and again.replies == []
    async with runtime.sessionmaker() as db:
        inbound = (await db.scalars(select(Message).where(Message.direction == "in"))).all()
        outbound = (await db.scalars(select(Message).where(Message.direction == "out"))).all()
    assert len(inbound) == 1 and inbound[0].status == "processed"
    assert len(outbound) == len(result.replies)
    assert all(m.status == "pending" for m in outbound)  # the outbox sends them


async def test_after_an_urgent_handoff_the_flow_still_asks_where_she_is(
        client: httpx.AsyncClient, runtime: Runtime) -> None:
    her = Woman(client)
    await her.says("il a un couteau il va me tuer")
    replies = await her.says("Tiznit")
    flow = runtime.flows.get("intake")
    assert replies[-1]["text"] == flow.text("ask_contact_how", "fr")
    async with runtime.sessionmaker() as db:
        case = await db.scalar(select(Case))
        assert case is not None and case.urgent
        assert case.city == "Tiznit" and case.center_id == "sample-09581-emf"
    replies = await her.says_all("1", "le soir", "Passer")
    assert replies[-1]["text"] == flow.text("case_updated", "fr")
    assert await count(runtime, Case) == 1  # one case, updated, never a second one


async def test_erasure_after_the_handoff(client: httpx.AsyncClient, runtime: Runtime) -> None:
    her = Woman(client)
    await her.says_all(*INTAKE_FR)
    flow = runtime.flows.get("intake")
    replies = await her.says("je veux supprimer mes données")
    assert replies[-1]["text"] == flow.text("confirm_erase", "fr")
    replies = await her.says("Non, garder")
    assert [r["text"] for r in replies] == [flow.text("erase_cancelled", "fr")]
    assert await count(runtime, Contact) == 1
    await her.says("effacez tout")
    replies = await her.says("Oui, tout effacer")
    assert [r["text"] for r in replies] == [flow.text("erased", "fr")]
    assert await count(runtime, Message) == 0
    assert await count(runtime, Contact) == 0
    async with runtime.sessionmaker() as db:
        case = await db.scalar(select(Case))
        assert case is not None
        # Only the anonymous statistical fields are left.
        assert case.contact_id is None and case.summary_enc is None
        assert case.safe_contact_enc is None
        assert case.status == "closed" and case.outcome == "erased"
        assert case.needs == ["need_legal"] and case.province_id == "09.581"
        actions = (await db.scalars(select(AuditEvent.action))).all()
        assert "her.erased" in actions
    # She can start again, from nothing.
    replies = await her.says("bonjour")
    assert replies[0]["text"] == flow.text("greeting", "fr")


async def test_erasure_on_an_async_channel_sends_the_last_line_then_forgets(
        runtime: Runtime) -> None:
    address = "+212600000002"
    for index, text in enumerate(("salam", "بغيت تمسحو كلشي", "ايه")):
        await runtime.conversations.handle(InboundMessage(
            channel="terminal", address=address, text=text, provider_message_id=str(index)),
            inline=False)
    assert await count(runtime, Contact) == 1  # waiting for the last line to go out
    assert await runtime.outbox.deliver() == 1
    assert await count(runtime, Message) == 0
    assert await count(runtime, Contact) == 0


async def test_danger_after_the_handoff_gives_the_numbers_and_marks_the_case_urgent(
        client: httpx.AsyncClient, runtime: Runtime) -> None:
    her = Woman(client)
    await her.says_all(*INTAKE_FR)
    replies = await her.says("il revient avec un couteau")
    assert "19" in replies[0]["text"] and "177" in replies[0]["text"]
    async with runtime.sessionmaker() as db:
        case = await db.scalar(select(Case))
        assert case is not None and case.urgent


async def test_a_quick_exit_never_swallows_what_she_wrote_after_it(runtime: Runtime) -> None:
    """She stops, then at once writes about danger: both are read, in order."""
    address = "+212600000009"

    async def stored(text: str, sid: str) -> int:
        stored = await runtime.conversations.accept(InboundMessage(
            channel="terminal", address=address, text=text, provider_message_id=sid))
        assert stored is not None
        return stored.message_id

    await runtime.conversations.process(await stored("salam", "1"))
    await stored("safi", "2")
    last = await stored("il est là avec un couteau il va me tuer", "3")
    result = await runtime.conversations.process(last)
    flow = runtime.flows.get("intake")
    texts = [r.text for r in result.replies]
    assert texts[0] == flow.text("quick_exit_done", "ary_latn")
    assert any("19" in t and "177" in t for t in texts[1:]), texts
    async with runtime.sessionmaker() as db:
        case = await db.scalar(select(Case))
    assert case is not None and case.urgent


async def test_over_the_rate_limit_danger_is_still_read_and_the_rest_goes_to_her_case(
        client: httpx.AsyncClient, runtime: Runtime) -> None:
    from bot.conversation.receive import accept, after_ack

    await Woman(client, "+212600000010").says_all(*INTAKE_FR)  # her case exists
    runtime.settings = runtime.settings.model_copy(update={"rate_limit_sender_per_minute": 1})

    async def send(text: str, sid: str) -> None:
        reception = runtime.reception
        await after_ack(reception, await accept(reception, InboundMessage(
            channel="simulator", address="+212600000010", text=text, provider_message_id=sid)))

    await send("j'ai une question", "a")  # within the limit
    await send("et une autre", "b")  # over it: set aside, on her case
    await send("il revient avec un couteau", "c")  # over it, but danger: read
    async with runtime.sessionmaker() as db:
        case = await db.scalar(select(Case))
        assert case is not None and case.urgent
        rows = (await db.scalars(select(Message).where(
            Message.direction == "in", Message.provider_message_id.in_(("b", "c"))))).all()
    assert {m.provider_message_id: (m.case_id, m.last_error) for m in rows} == {
        "b": (case.id, "rate limited"), "c": (case.id, None)}


async def test_a_failure_on_the_simulator_apologises_and_is_not_replayed(
        client: httpx.AsyncClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    her = Woman(client)
    await her.says("bonjour")

    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("a bug")

    monkeypatch.setattr(runtime.understanding, "engine_input", broken)  # the flow's input
    replies = await her.says("oui")
    assert [r["text"] for r in replies] == [APOLOGY["fr"]]
    monkeypatch.undo()
    replies = await her.says("oui")  # she is still at the first question
    assert replies[-1]["text"] == runtime.flows.get("intake").text("ask_consent", "fr")
    assert await runtime.conversations.process_pending() == 0  # nothing left to replay
    async with runtime.sessionmaker() as db:
        statuses = sorted((await db.scalars(select(Message.status).where(
            Message.direction == "in"))).all())
    assert statuses == ["failed", "processed", "processed"]


async def test_erasure_removes_notes_and_transfer_reasons(client: httpx.AsyncClient,
                                                          runtime: Runtime) -> None:
    from bot.storage.models import CaseEvent, CaseNote

    her = Woman(client)
    await her.says_all(*INTAKE_FR)
    async with runtime.sessionmaker() as db:
        case = await db.scalar(select(Case))
        assert case is not None
        db.add(CaseNote(case_id=case.id, body_enc=runtime.cipher.encrypt("note")))
        db.add(CaseEvent(case_id=case.id, kind="transferred", actor="x",
                         reason_enc=runtime.cipher.encrypt("raison")))
        await db.commit()
    await her.says("effacez tout")
    await her.says("Oui, tout effacer")
    async with runtime.sessionmaker() as db:
        assert (await db.scalars(select(CaseNote))).all() == []
        events = (await db.scalars(select(CaseEvent))).all()
    assert [e.reason_enc for e in events] == [None]


async def test_a_transfer_stands_when_she_later_shares_her_location(
        client: httpx.AsyncClient, runtime: Runtime) -> None:
    from bot.web.app import create_app  # noqa: F401  (the API below is the app's)
    from tests.support import add_account, login

    replies = await Woman(client, "w9").says_all("il a un couteau il va me tuer")
    reference = next(r["text"] for r in replies if "AM-" in r["text"])
    reference = reference[reference.index("AM-"):reference.index("AM-") + 9]
    await add_account(runtime, "boss", "admin")
    auth = await login(client, "boss")
    async with runtime.sessionmaker() as db:
        case = await db.scalar(select(Case))
        assert case is not None
        case.consent = True
        await db.commit()
    moved = await client.post(f"/api/v1/cases/{reference}/transfer", headers=auth,
                              json={"center_id": "sample-01051-emf", "reason": "proche"})
    assert moved.status_code == 200, moved.text
    await Woman(client, "w9").says("Tiznit")  # her town, after the transfer
    async with runtime.sessionmaker() as db:
        case = await db.scalar(select(Case))
    assert case is not None and case.city == "Tiznit"
    assert case.center_id == "sample-01051-emf"  # the counselor's transfer stands


async def test_each_of_her_messages_is_marked_processed_on_her_case(
        client: httpx.AsyncClient, runtime: Runtime) -> None:
    """The one that made her case too, and the ones written to it afterwards."""
    her = Woman(client)
    await her.says_all(*INTAKE_FR, "merci")
    async with runtime.sessionmaker() as db:
        case = await db.scalar(select(Case))
        inbound = (await db.scalars(select(Message).where(Message.direction == "in")
                                    .order_by(Message.id))).all()
        replies = (await db.scalars(select(Message).where(Message.direction == "out"))).all()
    assert case is not None and len(inbound) == len(INTAKE_FR) + 1
    assert all(m.status == "processed" and m.processed_at is not None for m in inbound)
    assert {m.case_id for m in inbound} == {case.id}
    assert len({m.conversation_id for m in inbound}) == 1
    assert inbound[0].conversation_id is not None
    assert {m.conversation_id for m in replies} == {inbound[0].conversation_id}


async def _processed(runtime: Runtime, address: str, text: str, sid: str) -> HandleResult:
    """Her message stored, then processed as `after_ack` does (`caller_delivers`)."""
    stored = await runtime.conversations.accept(InboundMessage(
        channel="terminal", address=address, text=text, provider_message_id=sid))
    assert stored is not None
    return await runtime.conversations.process(stored.message_id, caller_delivers=True)


async def test_the_caller_is_given_every_reply_to_send_a_last_line_too(
        runtime: Runtime) -> None:
    """`process(..., caller_delivers=True)`: the caller sends what it is given (on
    PostgreSQL her replies claimed as they were queued, when nothing else waited for
    her), the outbox loop is not woken; a quick exit's last line must be among them."""
    address = "+212600000010"

    async def waiting(status: str = "pending") -> list[tuple[int, str]]:
        async with runtime.sessionmaker() as db:
            return [tuple(r) for r in (await db.execute(
                select(Message.id, Message.kind).where(
                    Message.direction == "out", Message.status == status)
                .order_by(Message.id))).all()]

    first = await _processed(runtime, address, "salam", "1")
    if runtime.db_engine.dialect.name == "postgresql":
        assert first.claimed and not first.outbound
        assert [m.id for m in first.claimed] == [id_ for id_, _ in await waiting("sending")]
        assert await waiting() == []  # nothing for the loop: the caller sends them
        assert await runtime.outbox.send_claimed(first.claimed) == len(first.claimed)
        assert await waiting("sending") == []
    else:
        assert first.outbound and not first.claimed
        assert first.outbound == [id_ for id_, _ in await waiting()]
        assert await runtime.outbox.deliver(first.outbound) == len(first.outbound)
    last = (await _processed(runtime, address, "safi", "2")).outbound
    assert [(id_, "farewell") for id_ in last] == await waiting() and len(last) == 1
    assert await runtime.outbox.deliver(last) == 1
    assert await count(runtime, Contact) == 0  # nothing of hers stays


async def test_her_replies_are_not_claimed_ahead_of_a_message_already_waiting_for_her(
        runtime: Runtime) -> None:
    """A message to her waits for a retry (the provider was down): the replies to what
    she writes now are queued behind it, not claimed to go at once."""
    from datetime import datetime, timedelta, timezone

    address = "+212600000011"

    first = await _processed(runtime, address, "salam", "1")
    first_ids = [m.id for m in first.claimed] + first.outbound
    async with runtime.sessionmaker() as db:  # the provider failed: retry in a minute
        for message_id in first_ids:
            row = await db.get(Message, message_id)
            assert row is not None
            row.status = "pending"
            row.next_attempt_at = datetime.now(timezone.utc) + timedelta(minutes=1)
        await db.commit()
    second = await _processed(runtime, address, "1", "2")
    assert second.claimed == [] and second.outbound
    assert await runtime.outbox.deliver(second.outbound) == 0  # behind the first ones
    async with runtime.sessionmaker() as db:
        statuses = {m.id: m.status for m in (await db.scalars(
            select(Message).where(Message.direction == "out"))).all()}
    assert set(statuses.values()) == {"pending"} and len(statuses) == (
        len(first_ids) + len(second.outbound))


async def test_a_quick_exit_line_the_answer_carried_stays_on_her_case_as_text(
        client: httpx.AsyncClient, runtime: Runtime) -> None:
    """The simulator's answer carries the last line: it is not one the outbox must
    erase once sent (kind farewell), it stays on her case as what it was."""
    her = Woman(client)
    await her.says_all(*INTAKE_FR, "safi")
    async with runtime.sessionmaker() as db:
        last = await db.scalar(select(Message).where(Message.direction == "out")
                               .order_by(Message.id.desc()).limit(1))
    assert last is not None and last.status == "inline" and last.case_id is not None
    assert last.kind == "text"


async def test_a_conversation_held_by_a_worker_never_blocks_another_womans(
        runtime: Runtime) -> None:
    """Her lock held (another worker is on her message): the next woman is answered at
    once, and her own message waits for the lock, then goes. With deadlines: a lock
    that blocked every conversation would fail here instead of hanging the suite."""
    import asyncio

    busy_key = runtime.conversations.conversation_key("terminal", "+212600000020")
    async with runtime.locks.hold(busy_key):
        other = await asyncio.wait_for(runtime.conversations.handle(InboundMessage(
            channel="terminal", address="+212600000021", text="salam",
            provider_message_id="o1"), inline=True), 30)
        assert other.replies
        waiting = asyncio.create_task(runtime.conversations.handle(InboundMessage(
            channel="terminal", address="+212600000020", text="salam",
            provider_message_id="w1"), inline=True))
        await asyncio.sleep(0)
        assert not waiting.done()
    assert (await asyncio.wait_for(waiting, 30)).replies

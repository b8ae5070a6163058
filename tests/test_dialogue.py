"""The dialogue manager: inbox, case mode, erasure, danger after the handoff."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select

from bot.channels.base import InboundMessage
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
    result = await runtime.dialogue.handle(first, inline=False)
    assert result.replies and not result.duplicate
    again = await runtime.dialogue.handle(first, inline=False)
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
        await runtime.dialogue.handle(InboundMessage(
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

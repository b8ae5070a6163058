"""Issue 2's "done when": from her first message to a counselor's reply in her outbox,
in each of the four varieties, on the embedded default (and on PostgreSQL in CI)."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy import select

from bot.runtime import Runtime
from bot.storage.models import Case, Message
from tests.support import Woman, add_account, login

CONVERSATIONS = {
    "fr": ["Bonjour", "oui", "oui", "avocat", "Tiznit", "1", "le matin",
           "mon mari m'insulte tous les jours"],
    "ary_latn": ["salam", "wah", "ah", "2", "tiznit", "1", "f sba7", "rajli kaysebni kol nhar"],
    "ary": ["السلام عليكم", "ايه", "واخا", "2", "تيزنيت", "1", "فالصباح",
            "راجلي كيسبني وكياخد فلوسي"],
    "ar": ["مرحبا", "نعم", "نعم", "2", "تيزنيت", "1", "صباحا",
           "زوجي يهينني كل يوم وأنا خائفة منه كثيرا"],
}
REFERENCE = re.compile(r"AM-[ACDEFHJKMNPRTUVWXY3479]{6}")


@pytest.mark.parametrize("variety", sorted(CONVERSATIONS))
async def test_from_first_message_to_counselor_reply(variety: str, client: httpx.AsyncClient,
                                                     runtime: Runtime) -> None:
    her = Woman(client, sender=f"woman-{variety}")
    replies = await her.says(CONVERSATIONS[variety][0])
    # A short greeting in Arabic script is answered in Darija (most likely here, and
    # understood either way); her longer messages in MSA bring the replies to MSA.
    first = "ary" if variety == "ar" else variety
    assert replies[0]["text"] == runtime.flows.get("intake").text("greeting", first)
    assert replies[1]["buttons"]  # the first question offers choices
    replies = await her.says_all(*CONVERSATIONS[variety][1:])
    reference = REFERENCE.search(replies[-1]["text"])
    assert reference, her.transcript
    assert "8350" in replies[-1]["text"]

    async with runtime.sessionmaker() as db:
        case = await db.scalar(select(Case).where(Case.reference == reference.group()))
        assert case is not None
        assert case.needs == ["need_legal"]
        assert case.city == "Tiznit" and case.province_id == "09.581"
        assert case.center_id == "sample-09581-emf"  # the center in her town offers legal aid
        assert case.consent is True and case.status == "queued" and not case.urgent
        assert case.language == variety
        attached = (await db.scalars(select(Message).where(Message.case_id == case.id))).all()
        assert len(attached) >= 2 * len(CONVERSATIONS[variety])  # her words and the questions

    await add_account(runtime, "salma", "counselor", "sample-09581-emf")
    auth = await login(client, "salma")
    listed = (await client.get("/api/v1/cases?status=queued", headers=auth)).json()["cases"]
    assert [c["reference"] for c in listed] == [reference.group()]
    shown = (await client.get(f"/api/v1/cases/{reference.group()}", headers=auth)).json()
    assert shown["safe_contact"] == {"how": "messages_only", "when": "morning"}
    assert shown["center"]["id"] == "sample-09581-emf" and shown["center"]["lat"]
    assert shown["messages"][0]["direction"] == "in"
    assert shown["messages"][0]["text"] == CONVERSATIONS[variety][0]
    assert shown["summary"] == CONVERSATIONS[variety][-1]
    assert shown["address_masked"] != her.sender

    claim = await client.post(f"/api/v1/cases/{reference.group()}/claim", headers=auth)
    assert claim.status_code == 200 and claim.json()["status"] == "claimed"
    sent = await client.post(f"/api/v1/cases/{reference.group()}/messages", headers=auth,
                             json={"text": "Bonjour, je suis Salma. Je peux vous aider."})
    assert sent.status_code == 201 and sent.json()["status"] == "sent"
    outbox = await her.outbox()
    # She is told, in her variety, that someone took her request; then the answer.
    assert [m["text"] for m in outbox] == [
        runtime.flows.get("intake").text("case_taken", variety),
        "Bonjour, je suis Salma. Je peux vous aider."]
    assert [m["from"] for m in outbox] == ["bot", "counselor"]

    closed = await client.post(f"/api/v1/cases/{reference.group()}/close", headers=auth,
                               json={"outcome": "service_given"})
    assert closed.json() == {"reference": reference.group(), "status": "closed",
                             "outcome": "service_given"}


async def test_after_handoff_she_is_acknowledged_once_then_silence(
        client: httpx.AsyncClient, runtime: Runtime) -> None:
    her = Woman(client)
    await her.says_all(*CONVERSATIONS["fr"])
    first = await her.says("j'ai oublié de dire qu'il garde mes papiers")
    assert [r["text"] for r in first] == [runtime.flows.get("intake").text("case_ack", "fr")]
    assert await her.says("vous êtes là ?") == []
    async with runtime.sessionmaker() as db:
        case = await db.scalar(select(Case))
        assert case is not None
        texts = [runtime.cipher.decrypt(m.body_enc) for m in (await db.scalars(
            select(Message).where(Message.case_id == case.id, Message.direction == "in")
            .order_by(Message.id))).all() if m.body_enc]
    assert texts[-2:] == ["j'ai oublié de dire qu'il garde mes papiers", "vous êtes là ?"]


async def test_a_closed_case_reopens_when_she_comes_back_and_long_after_a_new_conversation(
        client: httpx.AsyncClient, runtime: Runtime) -> None:
    from datetime import datetime, timedelta, timezone

    from sqlalchemy import update

    flow = runtime.flows.get("intake")
    her = Woman(client)
    replies = await her.says_all(*CONVERSATIONS["fr"])
    reference = REFERENCE.search(replies[-1]["text"])
    assert reference
    await add_account(runtime, "admin", "admin")
    auth = await login(client, "admin")
    await client.post(f"/api/v1/cases/{reference.group()}/close", headers=auth,
                      json={"outcome": "referred"})
    replies = await her.says("bonjour, encore une question")
    assert [r["text"] for r in replies] == [flow.text("case_ack", "fr")]  # her case again
    await client.post(f"/api/v1/cases/{reference.group()}/close", headers=auth,
                      json={"outcome": "referred"})
    async with runtime.sessionmaker() as db:  # closed longer ago than CASE_REOPEN_DAYS
        await db.execute(update(Case).values(closed_at=datetime.now(timezone.utc)
                                             - timedelta(days=31)))
        await db.commit()
    replies = await her.says("bonjour")
    assert [r["text"] for r in replies][0] == flow.text("greeting", "fr")


async def test_danger_at_the_first_message_gives_numbers_and_an_urgent_case(
        client: httpx.AsyncClient, runtime: Runtime) -> None:
    her = Woman(client)
    replies = await her.says("il a un couteau il va me tuer")
    assert "19" in replies[0]["text"] and "177" in replies[0]["text"]
    assert "15" in replies[0]["text"] and "8350" in replies[0]["text"]
    async with runtime.sessionmaker() as db:
        case = await db.scalar(select(Case))
        assert case is not None and case.urgent and case.status == "queued"
    assert REFERENCE.search(replies[1]["text"])


async def test_quick_exit_leaves_no_trace_of_an_unfinished_conversation(
        client: httpx.AsyncClient, runtime: Runtime) -> None:
    her = Woman(client)
    await her.says_all("bonjour", "oui")
    replies = await her.says("stop")
    assert [r["text"] for r in replies] == [
        runtime.flows.get("intake").text("quick_exit_done", "fr")]
    async with runtime.sessionmaker() as db:
        assert (await db.scalars(select(Message))).all() == []
    replies = await her.says("bonjour")
    assert replies[0]["text"] == runtime.flows.get("intake").text("greeting", "fr")


async def test_a_restart_mid_conversation_loses_nothing(client: httpx.AsyncClient,
                                                        runtime: Runtime,
                                                        settings: object) -> None:
    her = Woman(client)
    await her.says_all("bonjour", "oui")
    await runtime.sessions.close()  # what a clean shutdown does
    from bot.runtime import build_runtime
    from bot.web.app import create_app

    restarted = build_runtime(runtime.settings)
    app = create_app(restarted, background=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://testserver") as again:
        replies = await Woman(again).says("oui")
        assert replies[-1]["text"] == restarted.flows.get("intake").text("ask_needs", "fr")
    await restarted.close()

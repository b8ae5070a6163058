"""Telegram: the real python-telegram-bot against a local fake Bot API, through the
real webhook (and polling), from recorded updates."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from bot.channels.base import OutboundMessage, ReplyButton
from bot.channels.telegram import MalformedUpdate, decode_update, inline_keyboard, read_update
from bot.cli import main
from bot.conversation.receive import accept_telegram, after_ack
from bot.runtime import Runtime
from bot.storage.models import Case, Contact, Message
from tests.channels.conftest import (
    PUBLIC,
    SECRET,
    TOKEN,
    TelegramUser,
    count,
    telegram_payload,
)
from tests.channels.fakes import FakeTelegram
from tests.support import add_account, eventually, login

REFERENCE = re.compile(r"AM-[A-Z0-9]{6}")


# --- reading updates ---------------------------------------------------------------------


@pytest.mark.parametrize(("name", "expected"), [
    ("text_message", {"text": "salam", "command": None}),
    ("start_command", {"command": "start"}),
    ("stop_command", {"command": "stop"}),
    ("callback_query", {"choice_id": "yes", "text": "Ah"}),
    ("location", {"location": (29.6974, -9.7316), "text": ""}),
])
def test_updates_become_inbound_messages(name: str, expected: dict[str, Any]) -> None:
    event = read_update(decode_update(telegram_payload(name)))
    assert event.inbound is not None
    assert event.inbound.channel == "telegram" and event.inbound.address == "5550001"
    assert event.inbound.provider_message_id == str(telegram_payload(name)["update_id"])
    for field, value in expected.items():
        assert getattr(event.inbound, field) == value
    assert (event.callback_query_id is not None) == (name == "callback_query")


@pytest.mark.parametrize(("name", "kind", "file_id", "content_type"), [
    ("voice", "voice", "AwACAgQAAxkBAAMQZvoice0001", "audio/ogg"),
    ("photo", "photo", "AgACAgQAAxkBAAMRZphotoLarge", "image/jpeg"),  # the largest size
    ("document", "document", "BQACAgQAAxkBAAMSZdocument01", "application/pdf"),
])
def test_attachments_are_media(name: str, kind: str, file_id: str, content_type: str) -> None:
    event = read_update(decode_update(telegram_payload(name)))
    assert event.inbound is not None and event.inbound.text == ""
    [media] = event.inbound.media
    assert (media.kind, media.url, media.content_type) == (kind, file_id, content_type)


def test_edits_groups_and_other_updates_are_not_her_messages() -> None:
    assert read_update(decode_update(telegram_payload("edited_message"))).ignored == \
        "edited message"
    assert read_update(decode_update(telegram_payload("chat_member"))).inbound is None
    group = read_update(decode_update(telegram_payload("group_message")))
    assert group.inbound is None and group.refuse_chat_id == -1001234567890


@pytest.mark.parametrize(("data", "reason"), [
    ([], "body: must be a JSON object"),
    ({}, "update_id: must be a non-negative integer"),
    ({"update_id": "12"}, "update_id: must be a non-negative integer"),
    ({"update_id": -1}, "update_id: must be a non-negative integer"),
    ({"update_id": 1, "message": "hi"}, "message: must be an object"),
    ({"update_id": 1, "message": {"message_id": 1, "date": 1}}, "message.chat: missing"),
    ({"update_id": 1, "callback_query": {"id": "1"}}, "body: not a valid Telegram Update"),
])
def test_malformed_updates_are_named(data: Any, reason: str) -> None:
    with pytest.raises(MalformedUpdate, match=reason):
        decode_update(data)


def test_choices_become_an_inline_keyboard() -> None:
    message = OutboundMessage(1, "telegram", "5", "?", (ReplyButton("yes", "Oui"),
                                                        ReplyButton("no", "Non")))
    markup = inline_keyboard(message)
    assert markup is not None
    assert [[(b.text, b.callback_data) for b in row] for row in markup.inline_keyboard] == [
        [("Oui", "yes")], [("Non", "no")]]
    assert inline_keyboard(OutboundMessage(1, "telegram", "5", "?")) is None


# --- the webhook -------------------------------------------------------------------------


@pytest.mark.parametrize("headers", [
    {}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"},
    {"X-Telegram-Bot-Api-Secret-Token": SECRET + "x"},
])
async def test_a_forged_update_is_refused_before_reading(
        client: httpx.AsyncClient, runtime: Runtime, headers: dict[str, str]) -> None:
    response = await client.post("/webhooks/telegram", content=b"not even json",
                                 headers=headers)
    assert response.status_code == 403
    assert "Secret-Token" in response.json()["error"]
    assert await count(runtime, Message) == 0


@pytest.mark.parametrize(("body", "reason"), [
    (b"{not json", "body: malformed JSON"),
    (b"[1, 2]", "body: must be a JSON object"),
    (b'{"update_id": 1, "message": {"text": "hi"}}', "body: not a valid Telegram Update"),
])
async def test_a_malformed_update_is_400_and_nothing_is_stored(
        client: httpx.AsyncClient, runtime: Runtime, body: bytes, reason: str) -> None:
    response = await client.post("/webhooks/telegram", content=body,
                                 headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
    assert response.status_code == 400
    assert reason in response.json()["error"]
    assert await count(runtime, Message) == 0 and await count(runtime, Contact) == 0


async def test_intake_over_telegram_with_buttons_and_a_shared_location(
        client: httpx.AsyncClient, runtime: Runtime, telegram_api: FakeTelegram) -> None:
    her = TelegramUser(client, runtime, telegram_api)
    flow = runtime.flows.get("intake")
    greeting, question = await her.send(her.update("start_command"))
    assert greeting["text"] == flow.text("greeting", "ary") and "reply_markup" not in greeting
    buttons = question["reply_markup"]["inline_keyboard"]
    assert [row[0]["callback_data"] for row in buttons] == ["yes", "no"]
    assert [row[0]["text"] for row in buttons] == [flow.text("choice_yes", "ary"),
                                                   flow.text("choice_not_now", "ary")]

    [consent] = await her.presses("yes")
    assert consent["text"] == flow.text("ask_consent", "ary")
    answered = telegram_api.calls_to("answerCallbackQuery")
    assert [c.params["callback_query_id"] for c in answered] == ["4382bfdwdsb323b2d9"]
    [needs] = await her.presses("yes")
    assert len(needs["reply_markup"]["inline_keyboard"]) == 6
    [town] = await her.presses("legal")
    assert town["text"] == flow.text("ask_town", "ary")
    [how] = await her.send(her.update("location"))  # Tiznit, shared from her phone
    assert how["text"] == flow.text("ask_contact_how", "ary")
    await her.presses("messages_only")
    await her.presses("morning")
    [done] = await her.says("rajli kaysebni")
    reference = REFERENCE.search(done["text"])
    assert reference is not None

    async with runtime.sessionmaker() as db:
        case = await db.scalar(select(Case).where(Case.reference == reference.group()))
        assert case is not None and case.channel == "telegram"
        assert case.city == "Tiznit" and case.center_id == "sample-09581-emf"
        assert case.needs == ["need_legal"]
    # The counselor answers; it reaches her chat.
    await add_account(runtime, "salma", "counselor", "sample-09581-emf")
    auth = await login(client, "salma")
    sent = await client.post(f"/api/v1/cases/{reference.group()}/messages", headers=auth,
                             json={"text": "Bonjour, je suis Salma."})
    assert sent.status_code == 201 and sent.json()["status"] == "sent"
    taken = runtime.flows.get("intake").text("case_taken", case.language)  # type: ignore[arg-type]
    assert [m["text"] for m in await her.received()] == [taken, "Bonjour, je suis Salma."]


async def test_a_redelivered_update_gets_no_second_reply(
        client: httpx.AsyncClient, runtime: Runtime, telegram_api: FakeTelegram) -> None:
    her = TelegramUser(client, runtime, telegram_api)
    update_ = her.update("text_message", text="salam")
    first = await her.send(update_)
    assert len(first) == 2
    again = await her.post(update_)
    assert again.status_code == 200 and again.json() == {"ok": True, "duplicate": True}
    assert await her.received() == []
    assert await count(runtime, Message) == 3  # hers, and the two replies


async def test_attachments_are_acknowledged_and_shown_on_her_case(
        client: httpx.AsyncClient, runtime: Runtime, telegram_api: FakeTelegram) -> None:
    her = TelegramUser(client, runtime, telegram_api)
    flow = runtime.flows.get("intake")
    await her.says("salam")
    received, again = await her.send(her.update("voice"))  # mid-flow: no NLU, ask again
    assert received["text"] == flow.text("received", "ary_latn")
    assert again["text"] == flow.text("ask_safe", "ary_latn") and again["reply_markup"]
    for step in ("yes", "yes", "legal"):
        await her.presses(step)
    await her.says("tiznit")
    await her.presses("yes")
    await her.presses("messages_only")
    await her.presses("morning")
    [done] = await her.says("douzi")
    reference = REFERENCE.search(done["text"])
    assert reference is not None
    [ack] = await her.send(her.update("photo"))  # after the handoff: attached to the case
    assert ack["text"] == flow.text("received", "ary_latn")

    await add_account(runtime, "salma", "counselor", "sample-09581-emf")
    shown = (await client.get(f"/api/v1/cases/{reference.group()}",
                              headers=await login(client, "salma"))).json()
    media = [m["media"] for m in shown["messages"] if m.get("media")]
    assert media == [[{"kind": "voice", "url": "AwACAgQAAxkBAAMQZvoice0001",
                       "content_type": "audio/ogg"}],
                     [{"kind": "photo", "url": "AgACAgQAAxkBAAMRZphotoLarge",
                       "content_type": "image/jpeg"}]]


async def test_group_chats_are_refused_politely_and_nothing_is_kept(
        client: httpx.AsyncClient, runtime: Runtime, telegram_api: FakeTelegram) -> None:
    her = TelegramUser(client, runtime, telegram_api)
    response = await her.post(telegram_payload("group_message"))
    assert response.status_code == 200 and response.json()["ignored"] == "group chat"
    [refusal] = telegram_api.sent_messages()
    assert int(refusal["chat_id"]) == -1001234567890
    texts = runtime.flows.get("intake").texts["private_only"]
    assert refusal["text"].splitlines() == [texts[v] for v in ("ary", "ary_latn", "ar", "fr")]
    assert await count(runtime, Message) == 0 and await count(runtime, Contact) == 0


async def test_edited_messages_are_ignored(
        client: httpx.AsyncClient, runtime: Runtime, telegram_api: FakeTelegram) -> None:
    her = TelegramUser(client, runtime, telegram_api)
    response = await her.post(her.update("edited_message"))
    assert response.json() == {"ok": True, "ignored": "edited message"}
    assert await her.received() == [] and await count(runtime, Message) == 0


async def test_stop_sends_a_neutral_line_then_forgets_her(
        client: httpx.AsyncClient, runtime: Runtime, telegram_api: FakeTelegram) -> None:
    her = TelegramUser(client, runtime, telegram_api)
    await her.says("salam")
    [line] = await her.send(her.update("stop_command"))
    assert line["text"] == runtime.flows.get("intake").text("quick_exit_done", "ary_latn")
    assert await count(runtime, Message) == 0 and await count(runtime, Contact) == 0


async def test_help_answers_without_touching_the_conversation(
        client: httpx.AsyncClient, runtime: Runtime, telegram_api: FakeTelegram) -> None:
    her = TelegramUser(client, runtime, telegram_api)
    await her.says("salam")
    [help_] = await her.says("/help")
    assert help_["text"] == runtime.flows.get("intake").text("help", "ary_latn")
    [consent] = await her.presses("yes")  # still at the first question
    assert consent["text"] == runtime.flows.get("intake").text("ask_consent", "ary_latn")


async def test_telegram_down_delays_then_delivers(
        client: httpx.AsyncClient, runtime: Runtime, telegram_api: FakeTelegram) -> None:
    her = TelegramUser(client, runtime, telegram_api)
    telegram_api.fail_next("sendMessage", 502, {"ok": False, "error_code": 502,
                                                "description": "Bad Gateway"}, times=1)
    assert await her.says("salam") == []
    async with runtime.sessionmaker() as db:
        rows = (await db.scalars(select(Message).where(Message.direction == "out")
                                 .order_by(Message.id))).all()
        # The first was refused and waits for a retry; the second waits behind it.
        assert [(m.status, m.attempts) for m in rows] == [("pending", 1), ("pending", 0)]
        assert rows[0].next_attempt_at is not None
        await db.execute(update(Message).values(
            next_attempt_at=datetime.now(timezone.utc) - timedelta(seconds=1)))
        await db.commit()
    greeting, question = await her.received()  # the provider is back: both, in order
    assert greeting["text"].startswith("Salam") and question["reply_markup"]
    assert len(telegram_api.calls_to("sendMessage")) == 3  # one refused, two answered


async def test_a_blocked_bot_is_a_permanent_failure_shown_on_the_case(
        client: httpx.AsyncClient, runtime: Runtime, telegram_api: FakeTelegram) -> None:
    her = TelegramUser(client, runtime, telegram_api)
    await her.says("salam")
    for step in ("yes", "yes", "legal"):
        await her.presses(step)
    await her.says("tiznit")
    for step in ("yes", "messages_only", "morning"):
        await her.presses(step)
    [done] = await her.says("douzi")
    reference = REFERENCE.search(done["text"])
    assert reference is not None
    await add_account(runtime, "salma", "counselor", "sample-09581-emf")
    auth = await login(client, "salma")
    await client.post(f"/api/v1/cases/{reference.group()}/claim", headers=auth)
    assert len(await her.received()) == 1  # she is told her case is taken
    telegram_api.fail_next("sendMessage", 403, {
        "ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"})
    sent = await client.post(f"/api/v1/cases/{reference.group()}/messages", headers=auth,
                             json={"text": "Bonjour"})
    assert sent.json()["status"] == "failed"
    shown = (await client.get(f"/api/v1/cases/{reference.group()}", headers=auth)).json()
    last = shown["messages"][-1]
    assert (last["sender"], last["status"]) == ("counselor", "failed")
    assert "Forbidden" in last["error"] and "blocked" in last["error"]


async def test_polling_stores_then_confirms_each_update(
        runtime: Runtime, telegram_api: FakeTelegram) -> None:
    assert runtime.channels.telegram is not None
    telegram_api.queue_update(telegram_payload("text_message"))

    async def receive(update_: Any) -> None:
        await after_ack(runtime.reception, await accept_telegram(runtime.reception, update_))

    task = asyncio.create_task(runtime.channels.telegram.poll(receive, timeout=0,
                                                              retry_delay=0.05))
    try:
        await eventually(lambda: len(telegram_api.calls_to("getUpdates")) >= 2,
                         "a second getUpdates")
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert telegram_api.calls[0].method == "deleteWebhook"
    offsets = [c.params.get("offset") for c in telegram_api.calls_to("getUpdates")]
    assert offsets[:2] == [None, "810000002"]  # confirmed only after it was stored
    await runtime.outbox.deliver()
    assert len(telegram_api.sent_messages()) == 2
    assert await count(runtime, Message) == 3


def test_set_webhook_registers_the_public_url_with_the_secret(
        telegram_api: FakeTelegram, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    for name, value in {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_WEBHOOK_SECRET": SECRET,
                        "TELEGRAM_API_BASE_URL": telegram_api.url + "/bot",
                        "PUBLIC_BASE_URL": PUBLIC}.items():
        monkeypatch.setenv(name, value)
    assert main(["telegram", "set-webhook"]) == 0
    [call] = telegram_api.calls_to("setWebhook")
    assert call.params["url"] == PUBLIC + "/webhooks/telegram"
    assert call.params["secret_token"] == SECRET
    assert call.params["allowed_updates"] == ["message", "edited_message", "callback_query"]
    # The bot's profile is discreet: the neutral sender name, no description.
    [name] = telegram_api.calls_to("setMyName")
    assert name.params["name"] == "Info"
    assert telegram_api.calls_to("setMyDescription")[0].params.get("description", "") == ""
    assert "/webhooks/telegram" in capsys.readouterr().out
    monkeypatch.delenv("TELEGRAM_WEBHOOK_SECRET")
    assert main(["telegram", "set-webhook"]) == 2

"""SMS and WhatsApp: the real twilio library (request validator, async REST client)
against a local fake Twilio API, through the real webhooks, from recorded payloads."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from bot.channels.twilio import MalformedRequest, read_message, read_status
from bot.runtime import Runtime
from bot.storage.models import Case, Contact, Message
from tests.channels.conftest import (
    ACCOUNT_SID,
    PUBLIC,
    SMS_FROM,
    TEMPLATE_SID,
    WHATSAPP_FROM,
    Phone,
    count,
    sign,
    twilio_payload,
)
from tests.channels.fakes import DATA, FakeTwilio
from tests.support import add_account, login

REFERENCE = re.compile(r"AM-[A-Z0-9]{6}")
INTAKE = ("salam", "1", "1", "2", "tiznit", "1", "2", "douzi")


async def make_case(phone: Phone) -> str:
    replies: list[str] = []
    for text in INTAKE:
        replies = await phone.says(text)
    found = REFERENCE.search(replies[-1])
    assert found, replies
    return found.group()


async def counselor(client: httpx.AsyncClient, runtime: Runtime) -> dict[str, str]:
    await add_account(runtime, "salma", "counselor", "sample-09581-emf")
    return await login(client, "salma")


# --- reading the forms --------------------------------------------------------------------


def test_an_sms_and_a_whatsapp_message() -> None:
    sms = read_message(twilio_payload("sms_text"))
    assert (sms.channel, sms.address, sms.text) == ("sms", "+212600000001", "salam")
    assert sms.provider_message_id == "SM1f0e3c9a7b6d5e4f3a2b1c0d9e8f7a6b"
    whatsapp = read_message(twilio_payload("whatsapp_text"))
    assert (whatsapp.channel, whatsapp.address) == ("whatsapp", "whatsapp:+212600000002")


def test_voice_notes_locations_and_keywords() -> None:
    [voice] = read_message(twilio_payload("whatsapp_voice")).media
    assert (voice.kind, voice.content_type) == ("voice", "audio/ogg")
    assert voice.url.startswith("https://api.twilio.com/")
    assert read_message(twilio_payload("whatsapp_location")).location == (29.6974, -9.7316)
    assert read_message(twilio_payload("sms_stop")).command == "stop"
    for body, command in (("start", "start"), (" Help ", "help"), ("stop please", None)):
        params = twilio_payload("sms_text") | {"Body": body}
        assert read_message(params).command == command


@pytest.mark.parametrize(("change", "reason"), [
    ({"From": ""}, "From: missing"),
    ({"From": "not a number!"}, "From: not a phone number"),
    ({"MessageSid": "", "SmsMessageSid": ""}, "MessageSid: missing"),
    ({"MessageSid": "SM123"}, "MessageSid: not a Twilio message SID"),
    ({"NumMedia": "x"}, "NumMedia: must be an integer"),
    ({"NumMedia": "1"}, "MediaUrl0: missing"),
    ({"NumMedia": "1", "MediaUrl0": "file:///etc/passwd"}, "MediaUrl0: not a URL"),
    ({"Latitude": "north"}, "Latitude: not a number"),
    ({"Latitude": "29.7"}, "Longitude: missing"),
    ({"Latitude": "129.7", "Longitude": "1"}, "Latitude: out of range"),
    ({"Body": "x" * 4097}, "Body: longer than 4096"),
])
def test_malformed_forms_are_named(change: dict[str, str], reason: str) -> None:
    with pytest.raises(MalformedRequest, match=reason):
        read_message(twilio_payload("sms_text") | change)


def test_status_reports() -> None:
    report = read_status(twilio_payload("status_undelivered"))
    assert (report.status, report.error_code) == ("undelivered", "30003")
    with pytest.raises(MalformedRequest, match="MessageStatus: unknown"):
        read_status(twilio_payload("status_delivered") | {"MessageStatus": "lost"})


# --- the webhook: authenticate, parse, store, acknowledge -----------------------------------


@pytest.mark.parametrize("signature", ["", "bm90IGEgc2lnbmF0dXJl", "wrong-url"])
async def test_a_forged_webhook_is_refused(client: httpx.AsyncClient, runtime: Runtime,
                                           twilio_api: FakeTwilio, signature: str) -> None:
    her = Phone(client, runtime, twilio_api)
    params = her.message()
    headers = {"content-type": "application/x-www-form-urlencoded"}
    if signature == "wrong-url":  # signed for another address
        headers["X-Twilio-Signature"] = sign("/webhooks/other", params)
    elif signature:
        headers["X-Twilio-Signature"] = signature
    body = "&".join(f"{k}={v}" for k, v in params.items())
    response = await client.post("/webhooks/twilio", content=body, headers=headers)
    assert response.status_code == 403
    assert "X-Twilio-Signature" in response.json()["error"]
    tampered = params | {"Body": "something else"}
    response = await her.post(tampered, signature=sign("/webhooks/twilio", params))
    assert response.status_code == 403
    assert await count(runtime, Message) == 0 and await count(runtime, Contact) == 0


@pytest.mark.parametrize(("change", "reason"), [
    ({"MessageSid": "", "SmsMessageSid": ""}, "MessageSid: missing"),
    ({"NumMedia": "99"}, "NumMedia: must be an integer from 0 to 10"),
])
async def test_a_malformed_webhook_is_400_and_nothing_is_stored(
        client: httpx.AsyncClient, runtime: Runtime, twilio_api: FakeTwilio,
        change: dict[str, str], reason: str) -> None:
    her = Phone(client, runtime, twilio_api)
    response = await her.post(her.message() | change)
    assert response.status_code == 400 and reason in response.json()["error"]
    assert await count(runtime, Message) == 0 and await count(runtime, Contact) == 0


async def test_intake_by_sms_with_numbered_choices(
        client: httpx.AsyncClient, runtime: Runtime, twilio_api: FakeTwilio) -> None:
    her = Phone(client, runtime, twilio_api)
    flow = runtime.flows.get("intake")
    response = await her.post(her.message(Body="salam"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    assert "<Response></Response>" in response.text
    greeting, question = await her.received()
    assert greeting == flow.text("greeting", "ary_latn")
    assert question.splitlines() == [flow.text("ask_safe", "ary_latn"),
                                     "1. " + flow.text("choice_yes", "ary_latn"),
                                     "2. " + flow.text("choice_not_now", "ary_latn")]
    first = twilio_api.calls_to("Messages")[0]
    assert first.params["From"] == SMS_FROM and first.params["To"] == "+212600000001"
    assert first.params["_account"] == ACCOUNT_SID
    async with runtime.sessionmaker() as db:
        sent = await db.scalar(select(Message).where(Message.direction == "out")
                               .order_by(Message.id).limit(1))
        assert sent is not None and sent.status == "sent"
        assert sent.provider_message_id == "SM" + "1".rjust(32, "0")
    assert first.params["StatusCallback"] == f"{PUBLIC}/webhooks/twilio/status?message={sent.id}"

    reference = REFERENCE.search((await her.says_all(*INTAKE[1:]))[-1])
    assert reference is not None
    async with runtime.sessionmaker() as db:
        case = await db.scalar(select(Case).where(Case.reference == reference.group()))
        assert case is not None and case.channel == "sms" and case.city == "Tiznit"
        assert case.needs == ["need_legal"] and case.center_id == "sample-09581-emf"


async def test_a_redelivered_message_gets_no_second_reply(
        client: httpx.AsyncClient, runtime: Runtime, twilio_api: FakeTwilio) -> None:
    her = Phone(client, runtime, twilio_api)
    params = her.message(Body="salam")
    assert len(await her.send(params)) == 2
    assert (await her.post(params)).status_code == 200
    assert await her.received() == []
    assert await count(runtime, Message) == 3


async def test_delivery_reports_update_the_message_and_never_go_back(
        client: httpx.AsyncClient, runtime: Runtime, twilio_api: FakeTwilio) -> None:
    her = Phone(client, runtime, twilio_api)
    await her.says("salam")
    async with runtime.sessionmaker() as db:
        first, second = (await db.scalars(select(Message).where(Message.direction == "out")
                                          .order_by(Message.id))).all()
    path = "/webhooks/twilio/status"
    delivered = twilio_payload("status_delivered") | {"MessageSid": first.provider_message_id}
    response = await her.post(delivered, path=path)
    assert response.status_code == 200 and response.json()["updated"] is True
    late_sent = delivered | {"MessageStatus": "sent"}
    assert (await her.post(late_sent, path=path)).status_code == 200
    failed = twilio_payload("status_undelivered") | {"MessageSid": second.provider_message_id}
    assert (await her.post(failed, path=path)).status_code == 200
    unknown = delivered | {"MessageSid": "SM" + "f" * 32}
    assert (await her.post(unknown, path=path)).json()["updated"] is False
    forged = await her.post(delivered | {"MessageStatus": "read"}, path=path,
                            signature=sign(path, delivered))
    assert forged.status_code == 403
    async with runtime.sessionmaker() as db:
        rows = (await db.scalars(select(Message).where(Message.direction == "out")
                                 .order_by(Message.id))).all()
        assert [(m.status, m.last_error) for m in rows] == [
            ("delivered", None), ("undelivered", "undelivered (provider error 30003)")]


async def test_her_messages_their_reports_and_the_answer_go_without_a_thread(
        client: httpx.AsyncClient, runtime: Runtime, twilio_api: FakeTwilio,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """FastAPI runs an endpoint or a dependency that is a plain function in a worker
    thread: a hand-off to another thread and back on each request. The runtime's
    dependency was one, 8 to 15% of a worker's CPU per message (`bench/load.py`); on
    the path every message takes, nothing is."""
    import anyio.to_thread

    auth = await counselor(client, runtime)
    handed: list[str] = []
    run_sync = anyio.to_thread.run_sync

    async def recorded(func: Any, *args: Any, **kwargs: Any) -> Any:
        handed.append(getattr(func, "__qualname__", repr(func)))
        return await run_sync(func, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", recorded)
    her = Phone(client, runtime, twilio_api)
    reference = await make_case(her)
    async with runtime.sessionmaker() as db:
        sid = await db.scalar(select(Message.provider_message_id).where(
            Message.direction == "out").order_by(Message.id).limit(1))
    path = "/webhooks/twilio/status"
    report = twilio_payload("status_delivered") | {"MessageSid": sid}
    assert (await her.post(report, path=path)).json()["updated"] is True
    assert (await client.get("/api/v1/cases", headers=auth)).status_code == 200
    assert (await client.post(f"/api/v1/cases/{reference}/claim",
                              headers=auth)).status_code == 200
    answer = await client.post(f"/api/v1/cases/{reference}/messages", headers=auth,
                               json={"text": "Bonjour, je suis Salma."})
    assert answer.status_code == 201
    assert await her.received() == [runtime.flows.get("intake").text("case_taken", "ary_latn"),
                                    "Bonjour, je suis Salma."]
    assert handed == []


async def test_a_report_before_the_sid_is_recorded_finds_the_message_by_our_id(
        client: httpx.AsyncClient, runtime: Runtime, twilio_api: FakeTwilio) -> None:
    her = Phone(client, runtime, twilio_api)
    await her.says("salam")
    async with runtime.sessionmaker() as db:
        message = await db.scalar(select(Message).where(Message.direction == "out")
                                  .order_by(Message.id).limit(1))
        assert message is not None
        sid, message.provider_message_id, message.status = message.provider_message_id, None, \
            "sending"
        await db.commit()
    path = f"/webhooks/twilio/status?message={message.id}"
    report = twilio_payload("status_delivered") | {"MessageSid": str(sid)}
    assert (await her.post(report, path=path)).json()["updated"] is True
    async with runtime.sessionmaker() as db:
        again = await db.get(Message, message.id)
        assert again is not None
        assert (again.status, again.provider_message_id) == ("delivered", sid)


async def test_twilio_down_delays_then_delivers_and_a_refusal_is_shown_on_the_case(
        client: httpx.AsyncClient, runtime: Runtime, twilio_api: FakeTwilio) -> None:
    her = Phone(client, runtime, twilio_api)
    reference = await make_case(her)
    auth = await counselor(client, runtime)
    await client.post(f"/api/v1/cases/{reference}/claim", headers=auth)
    assert await her.received() == [runtime.flows.get("intake").text("case_taken", "ary_latn")]
    twilio_api.fail_next("Messages", 500, {"code": 20500, "message": "error", "status": 500})
    sent = await client.post(f"/api/v1/cases/{reference}/messages", headers=auth,
                             json={"text": "Bonjour, je suis Salma."})
    assert sent.json()["status"] == "pending"  # delayed, not dropped
    async with runtime.sessionmaker() as db:
        await db.execute(update(Message).where(Message.status == "pending").values(
            next_attempt_at=datetime.now(timezone.utc) - timedelta(seconds=1)))
        await db.commit()
    assert await her.received() == ["Bonjour, je suis Salma."]

    twilio_api.fail_next("Messages", 400, json.loads((DATA / "twilio" / "error_21211.json")
                                                     .read_text()))
    sent = await client.post(f"/api/v1/cases/{reference}/messages", headers=auth,
                             json={"text": "Êtes-vous là ?"})
    assert sent.json()["status"] == "failed"
    shown = (await client.get(f"/api/v1/cases/{reference}", headers=auth)).json()
    statuses = [(m["status"], m["error"]) for m in shown["messages"]
                if m["sender"] == "counselor"]
    assert statuses == [("sent", None), ("failed", "twilio error 21211")]


async def test_whatsapp_24_hour_window_holds_replies_and_sends_the_template_once(
        client: httpx.AsyncClient, runtime: Runtime, twilio_api: FakeTwilio) -> None:
    her = Phone(client, runtime, twilio_api, number="+212600000002", whatsapp=True)
    reference = await make_case(her)
    assert twilio_api.sent_messages()[0]["From"] == WHATSAPP_FROM
    async with runtime.sessionmaker() as db:
        await db.execute(update(Contact).values(
            last_inbound_at=datetime.now(timezone.utc) - timedelta(hours=25)))
        await db.commit()
    auth = await counselor(client, runtime)
    for text in ("Bonjour, je suis Salma.", "Je reste disponible."):
        sent = await client.post(f"/api/v1/cases/{reference}/messages", headers=auth,
                                 json={"text": text})
        assert sent.json()["status"] == "held"
    assert await her.received() == [f"[template {TEMPLATE_SID}]"]  # once, not twice
    template = twilio_api.sent_messages()[-1]
    assert "Body" not in template and template["ContentSid"] == TEMPLATE_SID
    shown = (await client.get(f"/api/v1/cases/{reference}", headers=auth)).json()
    assert [m["status"] for m in shown["messages"] if m["sender"] == "counselor"] == \
        ["held", "held"]

    replies = await her.says("salam")  # she answers: the window is open again
    taken = runtime.flows.get("intake").text("case_taken", "ary_latn")
    assert replies[:3] == [taken, "Bonjour, je suis Salma.", "Je reste disponible."]


async def test_whatsapp_voice_note_and_location(
        client: httpx.AsyncClient, runtime: Runtime, twilio_api: FakeTwilio) -> None:
    her = Phone(client, runtime, twilio_api, number="+212600000002", whatsapp=True)
    flow = runtime.flows.get("intake")
    for text in INTAKE[:4]:
        await her.says(text)
    received, question = await her.send(her.message("whatsapp_voice"))
    assert received == flow.text("received", "ary_latn")
    assert question.startswith(flow.text("ask_town", "ary_latn"))
    [how] = await her.send(her.message("whatsapp_location"))  # at the town question
    assert how.startswith(flow.text("ask_contact_how", "ary_latn"))
    async with runtime.sessionmaker() as db:
        voice = await db.scalar(select(Message).where(Message.kind == "media"))
        assert voice is not None and voice.status == "processed"


async def test_stop_and_start_by_sms(client: httpx.AsyncClient, runtime: Runtime,
                                     twilio_api: FakeTwilio) -> None:
    her = Phone(client, runtime, twilio_api)
    reference = await make_case(her)
    [help_] = await her.says("HELP")
    assert help_ == runtime.flows.get("intake").text("help", "ary_latn")
    assert await her.send(her.message("sms_stop")) == []  # Twilio confirms STOP itself
    auth = await counselor(client, runtime)
    sent = await client.post(f"/api/v1/cases/{reference}/messages", headers=auth,
                             json={"text": "Bonjour"})
    assert sent.json()["status"] == "held"
    assert await her.received() == []
    replies = await her.says("START")
    assert replies[:2] == [runtime.flows.get("intake").text("case_taken", "ary_latn"),
                           "Bonjour"]
    async with runtime.sessionmaker() as db:
        contact = await db.scalar(select(Contact))
        assert contact is not None and contact.opted_out_at is None


async def test_stop_before_any_case_forgets_her(client: httpx.AsyncClient, runtime: Runtime,
                                                twilio_api: FakeTwilio) -> None:
    her = Phone(client, runtime, twilio_api)
    await her.says("salam")
    assert await her.send(her.message("sms_stop")) == []
    assert await count(runtime, Message) == 0 and await count(runtime, Contact) == 0


async def test_whatsapp_stop_gets_the_neutral_line_then_nothing_is_kept(
        client: httpx.AsyncClient, runtime: Runtime, twilio_api: FakeTwilio) -> None:
    her = Phone(client, runtime, twilio_api, number="+212600000002", whatsapp=True)
    await her.says("salam")
    assert await her.says("STOP") == [runtime.flows.get("intake").text("quick_exit_done",
                                                                         "ary_latn")]
    assert await count(runtime, Message) == 0 and await count(runtime, Contact) == 0


async def test_a_sender_over_the_rate_limit_is_told_once_and_kept(
        client: httpx.AsyncClient, runtime: Runtime, twilio_api: FakeTwilio) -> None:
    from bot.ratelimit import SLOW_DOWN

    runtime.settings = runtime.settings.model_copy(update={"rate_limit_sender_per_minute": 2})
    her = Phone(client, runtime, twilio_api)
    assert len(await her.says("salam")) == 2
    assert len(await her.says("1")) == 1
    # Over the limit: the webhook still answers 200, she is told once to wait...
    assert await her.says("1") == [SLOW_DOWN["ary_latn"]]
    assert await her.says("2") == []
    # ...and her messages are kept, not run through the flow.
    async with runtime.sessionmaker() as db:
        inbound = (await db.scalars(select(Message).where(Message.direction == "in")
                                    .order_by(Message.id))).all()
    assert [m.status for m in inbound] == ["processed"] * 4
    assert [m.last_error for m in inbound] == [None, None, "rate limited", "rate limited"]


async def test_stop_on_whatsapp_with_a_case_gets_its_answer_now_not_later(
        client: httpx.AsyncClient, runtime: Runtime, twilio_api: FakeTwilio) -> None:
    her = Phone(client, runtime, twilio_api, number="+212600000002", whatsapp=True)
    await make_case(her)
    replies = await her.says("STOP")
    assert replies == [runtime.flows.get("intake").text("quick_exit_done", "ary_latn")]
    async with runtime.sessionmaker() as db:
        held = (await db.scalars(select(Message).where(Message.status == "held"))).all()
    assert held == []  # nothing waits to be sent when she writes START again

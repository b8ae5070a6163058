"""What she attaches (voice notes above all) reaches the counselor: the case page lists
it and plays it, fetched from her channel's provider when opened, with the provider's
credentials sent to the provider only; audited, never cached, other centers refused."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bot.channels.base import MediaUnavailable
from bot.channels.twilio import TwilioApi
from bot.runtime import Runtime
from bot.storage.models import AuditEvent
from bot.web.app import create_app
from tests.channels.conftest import ACCOUNT_SID, AUTH_TOKEN, PUBLIC, Phone
from tests.channels.fakes import FakeTelegram, FakeTwilio
from tests.channels.test_twilio import make_case
from tests.support import add_account, console_login

MEDIA_SID = "ME3b0e3c9a7b6d5e4f3a2b1c0d9e8f7a6b"  # in tests/data/twilio/whatsapp_voice.txt
VOICE = b"OggS\x00\x02" + bytes(range(256)) * 40
LINK = re.compile(r'href="(/console/cases/AM-[A-Z0-9]{6}/media/\d+/0)"')


@pytest.fixture
async def console(runtime: Runtime) -> Any:
    """The console as the counselor's browser reaches it: over https (PUBLIC_BASE_URL is
    https here, so the session cookie is Secure)."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(
            app=create_app(runtime, background=False)), base_url=PUBLIC) as http:
        yield http


async def _salma_sees_her_voice_note(client: httpx.AsyncClient, console: httpx.AsyncClient,
                                     runtime: Runtime, twilio_api: FakeTwilio
                                     ) -> tuple[str, str]:
    """She sends a voice note on her case; Salma, of her center, opens the case page.
    Returns the case's reference and the page's link to the voice note."""
    her = Phone(client, runtime, twilio_api)
    reference = await make_case(her)
    await her.send(her.message("whatsapp_voice"))
    await add_account(runtime, "salma", "counselor", "sample-09581-emf")
    await console_login(console, "salma")
    page = await console.get(f"/console/cases/{reference}")
    assert page.status_code == 200
    assert "رسالة صوتية" in page.text and "<audio" in page.text
    assert "api.twilio.com" not in page.text  # the provider's address stays on the server
    [link] = LINK.findall(page.text)
    return reference, link


async def test_the_counselor_plays_her_voice_note_fetched_from_twilio(
        client: httpx.AsyncClient, console: httpx.AsyncClient, runtime: Runtime,
        twilio_api: FakeTwilio) -> None:
    twilio_api.media[MEDIA_SID] = (VOICE, "audio/ogg")
    reference, link = await _salma_sees_her_voice_note(client, console, runtime, twilio_api)
    opened = await console.get(link)
    assert opened.status_code == 200 and opened.content == VOICE
    assert opened.headers["content-type"] == "audio/ogg"
    assert opened.headers["cache-control"] == "no-store"
    [asked] = twilio_api.calls_to("Media")
    assert asked.params["account"] == ACCOUNT_SID
    [stored] = twilio_api.calls_to("MediaStore")
    assert "Authorization" not in stored.headers  # credentials never leave Twilio's API
    async with runtime.sessionmaker() as db:
        actions = (await db.scalars(select(AuditEvent.action).where(
            AuditEvent.case_reference == reference))).all()
    assert "case.attachment_opened" in actions


async def test_another_center_an_analyst_and_a_wrong_index_get_nothing(
        client: httpx.AsyncClient, console: httpx.AsyncClient, runtime: Runtime,
        twilio_api: FakeTwilio) -> None:
    twilio_api.media[MEDIA_SID] = (VOICE, "audio/ogg")
    _, link = await _salma_sees_her_voice_note(client, console, runtime, twilio_api)
    await add_account(runtime, "houda", "counselor", "sample-01051-emf")
    await add_account(runtime, "nadia", "analyst")
    assert (await console.get(link[:-1] + "1")).status_code == 404
    assert (await console.get(link.replace("/media/", "/media/9999"))).status_code == 404
    for other in ("houda", "nadia"):
        console.cookies.clear()
        await console_login(console, other)
        refused = await console.get(link)
        assert refused.status_code in (403, 404) and refused.content != VOICE
    assert twilio_api.calls_to("Media") == []


async def test_a_voice_note_twilio_no_longer_has_gives_a_clear_page(
        client: httpx.AsyncClient, console: httpx.AsyncClient, runtime: Runtime,
        twilio_api: FakeTwilio) -> None:
    # Twilio does not have it (any more)
    _, link = await _salma_sees_her_voice_note(client, console, runtime, twilio_api)
    gone = await console.get(link)
    assert gone.status_code == 502
    assert "تعذر جلب المرفق" in gone.text


async def test_a_media_address_outside_twilio_is_never_fetched(
        twilio_api: FakeTwilio) -> None:
    api = TwilioApi(ACCOUNT_SID, AUTH_TOKEN, base_url=twilio_api.url)
    try:
        for url in ("https://attacker.example/2010-04-01/Accounts/AC0/Messages/MM0/Media/ME0",
                    "http://api.twilio.com/2010-04-01/Accounts/AC0/Messages/MM0/Media/ME0"):
            with pytest.raises(MediaUnavailable):
                await api.fetch_media(url)
    finally:
        await api.aclose()
    assert twilio_api.calls_to("Media") == []


async def test_a_telegram_voice_note_is_fetched_by_its_file_id(
        runtime: Runtime, telegram_api: FakeTelegram) -> None:
    assert runtime.channels.telegram is not None
    telegram_api.files["voice-file-1"] = VOICE
    data, _ = await runtime.channels.fetch_media("telegram", "voice-file-1")
    assert data == VOICE
    with pytest.raises(MediaUnavailable):
        await runtime.channels.fetch_media("telegram", "a-file-telegram-lost")
    [fetched] = telegram_api.calls_to("file")
    assert fetched.params["path"] == "voice/voice-file-1"

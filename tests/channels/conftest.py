"""A running Amane with Telegram, SMS and WhatsApp on, whose clients talk to local fake
servers; and helpers that write to it as she would, through the real webhooks."""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
import pytest
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from bot.runtime import Runtime
from bot.settings import Settings
from tests.channels.fakes import DATA, FakeTelegram, FakeTwilio

TOKEN = "7000001:AAFakeTokenForTestsOnly_abcdefghijklm"
SECRET = "webhook-secret_123"
ACCOUNT_SID = "AC00000000000000000000000000000000"
AUTH_TOKEN = "0123456789abcdef0123456789abcdef"
PUBLIC = "https://amane.example.org"
SMS_FROM = "+212500000001"
WHATSAPP_FROM = "whatsapp:+212500000002"
TEMPLATE_SID = "HX" + "a" * 32


@pytest.fixture
def telegram_api() -> Iterator[FakeTelegram]:
    server = FakeTelegram(TOKEN)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def twilio_api() -> Iterator[FakeTwilio]:
    server = FakeTwilio(AUTH_TOKEN)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def settings(settings: Settings, telegram_api: FakeTelegram, twilio_api: FakeTwilio) -> Settings:
    return settings.model_copy(update={
        "public_base_url": PUBLIC,
        "telegram_bot_token": TOKEN,
        "telegram_webhook_secret": SECRET,
        "telegram_api_base_url": telegram_api.url + "/bot",
        "twilio_account_sid": ACCOUNT_SID,
        "twilio_auth_token": AUTH_TOKEN,
        "twilio_sms_from": SMS_FROM,
        "twilio_whatsapp_from": WHATSAPP_FROM,
        "twilio_api_base_url": twilio_api.url,
        "twilio_whatsapp_template_sid": TEMPLATE_SID,
    })


async def count(runtime: Runtime, model: Any) -> int:
    """How many rows of `model` are stored."""
    async with runtime.sessionmaker() as db:
        return int(await db.scalar(select(func.count()).select_from(model)) or 0)


def telegram_payload(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / "telegram" / f"{name}.json").read_text())
    return data


def twilio_payload(name: str) -> dict[str, str]:
    return dict(parse_qsl((DATA / "twilio" / f"{name}.txt").read_text(),
                          keep_blank_values=True))


def sign(path: str, params: dict[str, str]) -> str:
    return str(RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC + path, params))


_update_ids = itertools.count(900000001)
_sids = itertools.count(1)


class TelegramUser:
    """She writes to the bot; what the bot sends arrives at the fake Bot API."""

    def __init__(self, client: httpx.AsyncClient, runtime: Runtime, api: FakeTelegram,
                 chat_id: int = 5550001) -> None:
        self.client, self.runtime, self.api, self.chat_id = client, runtime, api, chat_id
        self._seen = 0

    def update(self, name: str, **message: Any) -> dict[str, Any]:
        """A recorded update, made hers, with a fresh update_id."""
        data = copy.deepcopy(telegram_payload(name))
        data["update_id"] = next(_update_ids)
        for key in ("message", "edited_message"):
            if key in data:
                data[key]["chat"]["id"] = data[key]["from"]["id"] = self.chat_id
                data[key].update(message)
        return data

    async def post(self, update: dict[str, Any]) -> httpx.Response:
        return await self.client.post("/webhooks/telegram", json=update,
                                      headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})

    async def send(self, update: dict[str, Any]) -> list[dict[str, Any]]:
        response = await self.post(update)
        assert response.status_code == 200, response.text
        return await self.received()

    async def says(self, text: str) -> list[dict[str, Any]]:
        return await self.send(self.update("text_message", text=text))

    async def presses(self, choice_id: str) -> list[dict[str, Any]]:
        """She presses the button `choice_id` under the last message she received."""
        last = self.api.sent_messages()[-1]
        keyboard = last.get("reply_markup") or {"inline_keyboard": []}
        data = copy.deepcopy(telegram_payload("callback_query"))
        data["update_id"] = next(_update_ids)
        query = data["callback_query"]
        query["data"] = choice_id
        query["from"]["id"] = query["message"]["chat"]["id"] = self.chat_id
        query["message"]["text"] = last["text"]
        query["message"]["reply_markup"] = keyboard
        return await self.send(data)

    async def received(self) -> list[dict[str, Any]]:
        """Deliver the outbox; what reached her chat since the last look."""
        await self.runtime.outbox.deliver()
        mine = [m for m in self.api.sent_messages() if int(m["chat_id"]) == self.chat_id]
        new, self._seen = mine[self._seen:], len(mine)
        return new


class Phone:
    """She writes by SMS or WhatsApp; Twilio (the fake) receives what Amane sends."""

    def __init__(self, client: httpx.AsyncClient, runtime: Runtime, api: FakeTwilio,
                 number: str = "+212600000001", whatsapp: bool = False) -> None:
        self.client, self.runtime, self.api = client, runtime, api
        self.address = ("whatsapp:" if whatsapp else "") + number
        self._seen = 0

    def message(self, name: str = "sms_text", **fields: str) -> dict[str, str]:
        params = twilio_payload(name)
        sid = f"SM{next(_sids):032x}"
        params.update(MessageSid=sid, SmsMessageSid=sid, SmsSid=sid, From=self.address)
        params.update(fields)
        return params

    async def post(self, params: dict[str, str], path: str = "/webhooks/twilio",
                   signature: str | None = None) -> httpx.Response:
        return await self.client.post(
            path, content=urlencode(params),
            headers={"content-type": "application/x-www-form-urlencoded",
                     "X-Twilio-Signature": signature or sign(path, params)})

    async def send(self, params: dict[str, str]) -> list[str]:
        response = await self.post(params)
        assert response.status_code == 200, response.text
        return await self.received()

    async def says(self, text: str) -> list[str]:
        return await self.send(self.message(
            "whatsapp_text" if self.address.startswith("whatsapp:") else "sms_text", Body=text))

    async def says_all(self, *texts: str) -> list[str]:
        replies: list[str] = []
        for text in texts:
            replies = await self.says(text)
        return replies

    async def received(self) -> list[str]:
        await self.runtime.outbox.deliver()
        mine = [m for m in self.api.sent_messages() if m["To"] == self.address]
        new, self._seen = mine[self._seen:], len(mine)
        return [m.get("Body", f"[template {m.get('ContentSid')}]") for m in new]

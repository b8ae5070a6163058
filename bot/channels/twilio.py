"""Twilio SMS and WhatsApp, with the twilio library: webhooks in, the REST API out.

`signature_valid` checks `X-Twilio-Signature` with the library's `RequestValidator`;
`read_message` turns a webhook's form into an `InboundMessage` (media, WhatsApp
locations, STOP / START / HELP), `read_status` a status callback into a delivery state.
`TwilioSender` sends with the async client (aiohttp) so the event loop never blocks;
`TwilioApi` points it at `TWILIO_API_BASE_URL` when set (tests use a local fake).
Nothing here sees flows, NLU or the database.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final
from urllib.parse import SplitResult, urljoin, urlsplit, urlunsplit

import aiohttp
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from bot.channels.base import (
    MAX_MEDIA_BYTES,
    Command,
    InboundMessage,
    Media,
    MediaUnavailable,
    OutboundMessage,
    PermanentSendError,
    SendResult,
    TransientSendError,
    numbered_text,
)
from bot.types import Channel

logger = logging.getLogger(__name__)

SIGNATURE_HEADER: Final = "X-Twilio-Signature"
WEBHOOK_PATH: Final = "/webhooks/twilio"
STATUS_PATH: Final = "/webhooks/twilio/status"
WHATSAPP_PREFIX: Final = "whatsapp:"
MEDIA_HOST: Final = "api.twilio.com"  # where Twilio keeps what she attached
WHATSAPP_WINDOW: Final = timedelta(hours=24)
MAX_BODY: Final = 4096
MAX_MEDIA: Final = 10
SID_RE: Final = re.compile(r"^[A-Z]{2}[0-9a-fA-F]{32}$")
ADDRESS_RE: Final = re.compile(r"^(whatsapp:)?\+?[0-9A-Za-z]{3,20}$")

# Twilio's standard keywords (the OptOutType parameter says it when Advanced Opt-Out is on).
KEYWORDS: Final[dict[str, Command]] = {
    "STOP": "stop", "STOPALL": "stop", "UNSUBSCRIBE": "stop", "CANCEL": "stop",
    "END": "stop", "QUIT": "stop", "START": "start", "UNSTOP": "start", "HELP": "help",
}
DELIVERY_STATES: Final = ("queued", "accepted", "scheduled", "sending", "sent", "delivered",
                          "read", "failed", "undelivered", "canceled", "receiving", "received")


class MalformedRequest(ValueError):
    """The form is not what Twilio sends; the message names the field."""


def signature_valid(auth_token: str, url: str, params: Any, signature: str | None) -> bool:
    """`url` is the full URL Twilio called (PUBLIC_BASE_URL + path + query)."""
    if not auth_token or not signature:
        return False
    return bool(RequestValidator(auth_token).validate(url, params, signature))


def _field(params: Mapping[str, str], name: str, *, required: bool = False) -> str:
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise MalformedRequest(f"{name}: missing")
        return ""
    return str(value)


def _coordinate(params: Mapping[str, str], name: str, limit: float) -> float:
    raw = _field(params, name, required=True)
    try:
        value = float(raw)
    except ValueError:
        raise MalformedRequest(f"{name}: not a number") from None
    if not math.isfinite(value) or abs(value) > limit:
        raise MalformedRequest(f"{name}: out of range")
    return value


def _media_kind(content_type: str) -> str:
    if content_type.startswith("audio/"):
        return "voice"
    if content_type.startswith("image/"):
        return "photo"
    if content_type.startswith("video/"):
        return "video"
    return "document"


def read_message(params: Mapping[str, str]) -> InboundMessage:
    """An incoming SMS or WhatsApp message (`From` starting `whatsapp:`)."""
    sender = _field(params, "From", required=True)
    if not ADDRESS_RE.match(sender):
        raise MalformedRequest("From: not a phone number or WhatsApp address")
    sid = _field(params, "MessageSid") or _field(params, "SmsMessageSid")
    if not sid:
        raise MalformedRequest("MessageSid: missing")
    if not SID_RE.match(sid):
        raise MalformedRequest("MessageSid: not a Twilio message SID")
    channel: Channel = "whatsapp" if sender.startswith(WHATSAPP_PREFIX) else "sms"
    body = _field(params, "Body")
    if len(body) > MAX_BODY:
        raise MalformedRequest(f"Body: longer than {MAX_BODY} characters")
    raw_count = _field(params, "NumMedia") or "0"
    if not raw_count.isdigit() or int(raw_count) > MAX_MEDIA:
        raise MalformedRequest(f"NumMedia: must be an integer from 0 to {MAX_MEDIA}")
    media: list[Media] = []
    for index in range(int(raw_count)):
        url = _field(params, f"MediaUrl{index}", required=True)
        if urlsplit(url).scheme not in ("http", "https"):
            raise MalformedRequest(f"MediaUrl{index}: not a URL")
        content_type = _field(params, f"MediaContentType{index}") or "application/octet-stream"
        media.append(Media(_media_kind(content_type), url, content_type))
    location = None
    if "Latitude" in params or "Longitude" in params:
        location = (_coordinate(params, "Latitude", 90.0), _coordinate(params, "Longitude", 180.0))
    keyword = (_field(params, "OptOutType") or body).strip().upper()
    return InboundMessage(channel=channel, address=sender, text=body, provider_message_id=sid,
                          location=location, media=tuple(media), command=KEYWORDS.get(keyword))


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    message_sid: str
    status: str  # one of DELIVERY_STATES
    error_code: str | None = None


def read_status(params: Mapping[str, str]) -> DeliveryReport:
    """A status callback: `MessageSid`, `MessageStatus`, `ErrorCode`."""
    sid = _field(params, "MessageSid", required=True)
    if not SID_RE.match(sid):
        raise MalformedRequest("MessageSid: not a Twilio message SID")
    status = _field(params, "MessageStatus", required=True).lower()
    if status not in DELIVERY_STATES:
        raise MalformedRequest(f"MessageStatus: unknown status '{status[:20]}'")
    error = _field(params, "ErrorCode")
    if error and not error.isdigit():
        raise MalformedRequest("ErrorCode: must be a number")
    return DeliveryReport(message_sid=sid, status=status, error_code=error or None)


def _rebased(url: str, base: SplitResult) -> str:
    """`url` on another base (a local fake Twilio in tests), same path and query."""
    parts = urlsplit(url)
    return urlunsplit((base.scheme, base.netloc, base.path + parts.path, parts.query,
                       parts.fragment))


def _basic(username: str, password: str) -> str:
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


class _TwilioHttpClient(AsyncTwilioHttpClient):
    """Twilio's async HTTP client, optionally sending to another base URL (a local fake
    in tests). Credentials go in the Authorization header: aiohttp deprecates the
    `BasicAuth` object the library would build."""

    def __init__(self, base_url: str = "", *, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self._base = urlsplit(base_url.rstrip("/")) if base_url else None

    async def request(self, method: str, url: str, params: Any = None, data: Any = None,
                      headers: dict[str, str] | None = None,
                      auth: tuple[str, str] | None = None, **kwargs: Any) -> Response:
        if self._base is not None:
            url = _rebased(url, self._base)
        headers = dict(headers or {})
        if auth is not None:
            headers["Authorization"] = _basic(*auth)
        return await super().request(method, url, params=params, data=data, headers=headers,
                                     auth=None, **kwargs)


class TwilioApi:
    """One REST client for both channels, created on first use inside the event loop
    (its aiohttp session belongs to that loop) and closed with the runtime."""

    def __init__(self, account_sid: str, auth_token: str, *, base_url: str = "",
                 timeout: float = 15.0) -> None:
        self._account_sid = account_sid
        self._auth_token = auth_token
        self._base_url = base_url
        self._timeout = timeout
        self._http: AsyncTwilioHttpClient | None = None
        self._client: Client | None = None

    @property
    def client(self) -> Client:
        if self._client is None:
            self._http = _TwilioHttpClient(self._base_url, timeout=self._timeout)
            self._http.logger.setLevel(logging.WARNING)  # it would log every request
            self._client = Client(self._account_sid, self._auth_token, http_client=self._http)
        return self._client

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.close()
        self._http = self._client = None

    async def fetch_media(self, url: str, *, limit: int = MAX_MEDIA_BYTES) -> tuple[bytes, str]:
        """An attachment she sent (`MediaUrl0`...), for the counselor: fetched with the
        account's credentials from Twilio's API only (never sent to another host), then
        from where Twilio redirects, without them. Returns the bytes and their type."""
        parts = urlsplit(url)
        if parts.scheme != "https" or parts.hostname != MEDIA_HOST:
            raise MediaUnavailable("not a Twilio media address")
        if self._base_url:  # a local fake Twilio (tests)
            url = _rebased(url, urlsplit(self._base_url.rstrip("/")))
        credentials = _basic(self._account_sid, self._auth_token)
        timeout = aiohttp.ClientTimeout(total=self._timeout * 2)
        try:
            async with aiohttp.ClientSession(timeout=timeout) as http:
                async with http.get(url, headers={"Authorization": credentials},
                                    allow_redirects=False) as response:
                    if response.status in (301, 302, 303, 307, 308):
                        url = urljoin(url, response.headers.get("Location", ""))
                        if urlsplit(url).scheme not in ("https", "http"):
                            raise MediaUnavailable("a redirect to nowhere")
                    else:
                        return await _read_media(response, limit)
                async with http.get(url) as response:
                    return await _read_media(response, limit)
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise MediaUnavailable(f"twilio: {type(exc).__name__}") from None


async def _read_media(response: aiohttp.ClientResponse, limit: int) -> tuple[bytes, str]:
    if response.status != 200:
        raise MediaUnavailable(f"HTTP {response.status}")
    if (response.content_length or 0) > limit:
        raise MediaUnavailable("too large")
    data = bytearray()
    async for chunk in response.content.iter_chunked(64 * 1024):
        data += chunk
        if len(data) > limit:
            raise MediaUnavailable("too large")
    return bytes(data), response.content_type or "application/octet-stream"


class TwilioSender:
    """Sends one channel's messages (`sms` or `whatsapp`). Choices become numbered
    lines. On WhatsApp, free text is only allowed within 24 hours of her last message:
    outside it the outbox sends the approved template (`kind="template"`)."""

    def __init__(self, channel: Channel, api: TwilioApi, *, from_: str = "",
                 messaging_service_sid: str = "", status_callback: str = "",
                 template_sid: str = "") -> None:
        self.channel = channel
        self.free_text_window: timedelta | None = WHATSAPP_WINDOW if channel == "whatsapp" else None
        self._api = api
        self._from = from_
        self._service = messaging_service_sid
        self._status_callback = status_callback
        self._template_sid = template_sid

    async def send(self, message: OutboundMessage) -> SendResult:
        kwargs: dict[str, Any] = {"to": message.address}
        if self._from:
            kwargs["from_"] = self._from
        if self._service:
            kwargs["messaging_service_sid"] = self._service
        if self._status_callback:
            kwargs["status_callback"] = f"{self._status_callback}?message={message.message_id}"
        if message.kind == "template":
            if not self._template_sid:
                raise PermanentSendError("no WhatsApp template (TWILIO_WHATSAPP_TEMPLATE_SID)")
            kwargs["content_sid"] = self._template_sid
        else:
            kwargs["body"] = numbered_text(message.text, message.buttons)
        try:
            created = await self._api.client.messages.create_async(**kwargs)
        except TwilioRestException as exc:
            if exc.status == 429 or exc.status >= 500:
                raise TransientSendError(f"twilio: HTTP {exc.status}") from None
            raise PermanentSendError(f"twilio error {exc.code or exc.status}") from None
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise TransientSendError(f"twilio: {type(exc).__name__}") from None
        return SendResult(provider_message_id=created.sid)

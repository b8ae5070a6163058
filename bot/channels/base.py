"""What every channel adapter hands on and receives: the only types a channel shares
with the rest of Amane. A channel authenticates and parses its wire format into an
`InboundMessage`; it never sees flows, NLU or the database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Literal, Protocol

from bot.types import Channel

Command = Literal["start", "stop", "help"]
"""A channel-level command: Telegram's /start, /stop, /help; Twilio's START, STOP, HELP
keywords. `stop` is a quick exit (and, on SMS and WhatsApp, no more sends until
`start`)."""


def _now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True, slots=True)
class Media:
    kind: str  # voice | audio | photo | video | document
    url: str  # where the counselor console can fetch it (provider URL or file id)
    content_type: str | None = None


@dataclass(frozen=True, slots=True)
class InboundMessage:
    channel: Channel
    address: str  # her address on that channel: phone number, chat id, simulator name
    text: str = ""
    provider_message_id: str | None = None  # the dedup key (MessageSid, update_id)
    choice_id: str | None = None  # a pressed button
    location: tuple[float, float] | None = None
    media: tuple[Media, ...] = ()
    command: Command | None = None
    received_at: datetime = field(default_factory=_now)


@dataclass(frozen=True, slots=True)
class ReplyButton:
    id: str
    label: str


@dataclass(frozen=True, slots=True)
class BotReply:
    """A line of the bot's for her, with its choices: Telegram shows them as buttons,
    SMS and WhatsApp as numbered lines (`numbered_text`)."""
    text: str
    buttons: tuple[ReplyButton, ...] = ()


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """One message to her, as stored in the outbox."""

    message_id: int  # our row id: senders use it as an idempotency key
    channel: Channel
    address: str
    text: str
    buttons: tuple[ReplyButton, ...] = ()
    kind: Literal["text", "template"] = "text"  # template: the channel's approved template


@dataclass(frozen=True, slots=True)
class SendResult:
    provider_message_id: str | None = None


class TransientSendError(Exception):
    """The provider is down or slow: try again later."""


class PermanentSendError(Exception):
    """The provider refused the message for good (blocked, invalid number)."""


class OutboundSender(Protocol):
    """Sends one message on one channel. Never logs the text or the address.

    `free_text_window`: how long after her last message free text may be sent (WhatsApp:
    24 hours); None: no limit. Outside it the outbox holds the message and sends the
    channel's approved template instead (`kind="template"`)."""

    channel: Channel
    free_text_window: timedelta | None

    async def send(self, message: OutboundMessage) -> SendResult: ...


def numbered_text(text: str, buttons: tuple[ReplyButton, ...]) -> str:
    """Buttons as numbered lines, for channels without buttons (SMS, WhatsApp text)."""
    if not buttons:
        return text
    lines = [text] + [f"{index}. {button.label}" for index, button in enumerate(buttons, 1)]
    return "\n".join(lines)


MAX_MEDIA_BYTES = 16 * 1024 * 1024  # WhatsApp's own limit for audio and video


class MediaUnavailable(Exception):
    """An attachment cannot be fetched from the provider: gone, refused, too large, or
    not at the provider's address."""

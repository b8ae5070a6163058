"""Telegram, with python-telegram-bot: the wire format in, the Bot API out.

`decode_update` turns a webhook body into a `telegram.Update` (or says why it is
malformed); `read_update` turns an update into what Amane does with it: an
`InboundMessage`, a group chat to refuse politely, or nothing (edited messages and
update types Amane does not use). `TelegramSender` sends with inline keyboards;
`TelegramChannel` holds the bot and the webhook secret, answers callback queries,
registers the webhook and polls for updates on a laptop. Nothing here sees flows, NLU
or the database.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    TelegramError,
)
from telegram.request import HTTPXRequest

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
)
from bot.types import VARIETIES, Channel, Variety

logger = logging.getLogger(__name__)

SECRET_HEADER: Final = "X-Telegram-Bot-Api-Secret-Token"
WEBHOOK_PATH: Final = "/webhooks/telegram"
ALLOWED_UPDATES: Final = ("message", "edited_message", "callback_query")
COMMANDS: Final[dict[str, Command]] = {"start": "start", "stop": "stop", "help": "help"}
MAX_CALLBACK_DATA: Final = 64  # bytes, Telegram's limit


class MalformedUpdate(ValueError):
    """The body is not a Telegram Update; the message says what is wrong."""


def decode_update(data: object, bot: Bot | None = None) -> Update:
    """A webhook body (already JSON-decoded) as an Update, or `MalformedUpdate`."""
    if not isinstance(data, Mapping):
        raise MalformedUpdate("body: must be a JSON object (a Telegram Update)")
    update_id = data.get("update_id")
    if not isinstance(update_id, int) or isinstance(update_id, bool) or update_id < 0:
        raise MalformedUpdate("update_id: must be a non-negative integer")
    for field in ("message", "edited_message", "callback_query"):
        if field in data and not isinstance(data[field], Mapping):
            raise MalformedUpdate(f"{field}: must be an object")
    try:
        update = Update.de_json(dict(data), bot)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise MalformedUpdate(f"body: not a valid Telegram Update ({type(exc).__name__})")
    message = update.message
    if message is not None and (message.chat is None or not isinstance(message.chat.id, int)):
        raise MalformedUpdate("message.chat: missing")
    query = update.callback_query
    if query is not None and (not isinstance(query.id, str) or query.from_user is None):
        raise MalformedUpdate("callback_query: id and from are required")
    return update


@dataclass(frozen=True, slots=True)
class TelegramEvent:
    """What one update asks of Amane: exactly one field is set."""

    inbound: InboundMessage | None = None
    callback_query_id: str | None = None  # to answer, so her button stops spinning
    refuse_chat_id: int | None = None  # a group or channel: refused politely
    ignored: str | None = None  # why nothing is done


def _command(text: str) -> Command | None:
    if not text.startswith("/"):
        return None
    word = text.split(maxsplit=1)[0][1:].split("@", 1)[0].lower()
    return COMMANDS.get(word)


def _media(message: Message) -> tuple[Media, ...]:
    found: list[Media] = []
    if message.voice is not None:
        found.append(Media("voice", message.voice.file_id, message.voice.mime_type))
    if message.audio is not None:
        found.append(Media("audio", message.audio.file_id, message.audio.mime_type))
    if message.photo:
        largest = message.photo[-1]
        found.append(Media("photo", largest.file_id, "image/jpeg"))
    if message.video is not None:
        found.append(Media("video", message.video.file_id, message.video.mime_type))
    if message.video_note is not None:
        found.append(Media("video", message.video_note.file_id, "video/mp4"))
    if message.document is not None:
        found.append(Media("document", message.document.file_id, message.document.mime_type))
    return tuple(found)


def _button_label(message: object, data: str) -> str:
    markup = getattr(message, "reply_markup", None)
    for row in getattr(markup, "inline_keyboard", ()) or ():
        for button in row:
            if button.callback_data == data:
                return str(button.text)
    return ""


def read_update(update: Update) -> TelegramEvent:
    """What Amane does with one update (see `TelegramEvent`)."""
    update_id = str(update.update_id)
    if update.edited_message is not None or update.edited_channel_post is not None:
        return TelegramEvent(ignored="edited message")
    query = update.callback_query
    if query is not None:
        chat = query.message.chat if query.message is not None else None
        if chat is not None and chat.type != "private":
            return TelegramEvent(callback_query_id=query.id, ignored="button in a group chat")
        data = query.data
        if not data:
            return TelegramEvent(callback_query_id=query.id, ignored="button without data")
        address = str(chat.id if chat is not None else query.from_user.id)
        return TelegramEvent(callback_query_id=query.id, inbound=InboundMessage(
            channel="telegram", address=address, provider_message_id=update_id,
            text=_button_label(query.message, data), choice_id=data))
    message = update.message
    if message is None:
        kind = "channel post" if update.channel_post is not None else "update"
        return TelegramEvent(ignored=f"{kind} not used")
    if message.chat.type != "private":
        return TelegramEvent(refuse_chat_id=message.chat.id)
    text = message.text or message.caption or ""
    location = None
    if message.location is not None:
        location = (float(message.location.latitude), float(message.location.longitude))
    return TelegramEvent(inbound=InboundMessage(
        channel="telegram", address=str(message.chat.id), provider_message_id=update_id,
        text=text, command=_command(text), location=location, media=_media(message),
        received_at=message.date))


def inline_keyboard(message: OutboundMessage) -> InlineKeyboardMarkup | None:
    """Her choices as one button per row; the button's data is the choice id."""
    buttons = [b for b in message.buttons if 0 < len(b.id.encode()) <= MAX_CALLBACK_DATA]
    if not buttons:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(b.label, callback_data=b.id)]
                                 for b in buttons])


class TelegramSender:
    """Sends through the Bot API; a blocked bot or an unknown chat fails for good, a
    network problem or a rate limit is tried again later."""

    channel: Channel = "telegram"
    free_text_window: timedelta | None = None

    def __init__(self, bot: Bot) -> None:
        self._bot = bot

    async def send(self, message: OutboundMessage) -> SendResult:
        if message.kind != "text":
            raise PermanentSendError(f"Telegram has no '{message.kind}' messages")
        try:
            chat_id = int(message.address)
        except ValueError:
            raise PermanentSendError("not a Telegram chat id") from None
        try:
            await self._bot.send_message(chat_id=chat_id, text=message.text,
                                         reply_markup=inline_keyboard(message))
        except (BadRequest, Forbidden, ChatMigrated) as exc:
            raise PermanentSendError(f"telegram: {type(exc).__name__}: {exc.message}"[:200])
        except InvalidToken:
            raise TransientSendError("telegram: the bot token was refused") from None
        except TelegramError as exc:  # NetworkError, TimedOut, RetryAfter, server errors
            raise TransientSendError(f"telegram: {type(exc).__name__}") from None
        # Telegram's message ids count per chat: not a global key, so none is recorded.
        return SendResult(provider_message_id=None)


def group_refusal(texts: Mapping[Variety, str]) -> str:
    """One line per variety, for a group where nobody's language is known."""
    return "\n".join(texts[v] for v in VARIETIES if v in texts)


class TelegramChannel:
    """The bot (its HTTP client is shared by the sender), the webhook secret, and the
    calls the transports need besides sending."""

    def __init__(self, token: str, *, base_url: str, webhook_secret: str) -> None:
        self._requests = (HTTPXRequest(), HTTPXRequest())
        # Files are served beside the methods: .../bot<token>/ -> .../file/bot<token>/
        file_url = base_url[:-len("bot")] + "file/bot" if base_url.endswith("/bot") else None
        self.bot = Bot(token, base_url=base_url, request=self._requests[0],
                       get_updates_request=self._requests[1],
                       **({"base_file_url": file_url} if file_url else {}))
        self.sender = TelegramSender(self.bot)
        self._secret = webhook_secret

    async def fetch_media(self, file_id: str, *,
                          limit: int = MAX_MEDIA_BYTES) -> tuple[bytes, str | None]:
        """An attachment she sent, for the counselor, by its file id (`getFile`, then
        the file). The type is the one her message declared."""
        try:
            file = await self.bot.get_file(file_id)
            if file.file_size is not None and file.file_size > limit:
                raise MediaUnavailable("too large")
            data = await file.download_as_bytearray()
        except TelegramError as exc:
            raise MediaUnavailable(f"telegram: {type(exc).__name__}") from None
        if len(data) > limit:
            raise MediaUnavailable("too large")
        return bytes(data), None

    @property
    def webhook_ready(self) -> bool:
        return bool(self._secret)

    def authentic(self, header: str | None) -> bool:
        """The webhook's secret-token header equals TELEGRAM_WEBHOOK_SECRET."""
        if not self._secret or header is None:
            return False
        return hmac.compare_digest(header.encode(), self._secret.encode())

    async def answer_callback(self, query_id: str) -> None:
        try:
            await self.bot.answer_callback_query(query_id)
        except TelegramError as exc:  # best effort: her message is already stored
            logger.info("callback query not answered: %s", type(exc).__name__)

    async def refuse_chat(self, chat_id: int, text: str) -> None:
        try:
            await self.bot.send_message(chat_id=chat_id, text=text)
        except TelegramError as exc:
            logger.info("group chat refusal not sent: %s", type(exc).__name__)

    async def set_webhook(self, public_base_url: str) -> bool:
        return await self.bot.set_webhook(url=public_base_url + WEBHOOK_PATH,
                                          secret_token=self._secret or None,
                                          allowed_updates=list(ALLOWED_UPDATES))

    async def set_discreet_profile(self, sender_name: str) -> None:
        """The name her phone shows for the bot, and no description that could say what
        this is (someone else may look at her chat list)."""
        await self.bot.set_my_name(name=sender_name)
        await self.bot.set_my_description(description="")
        await self.bot.set_my_short_description(short_description="")

    async def delete_webhook(self) -> bool:
        return await self.bot.delete_webhook(drop_pending_updates=False)

    async def poll(self, receive: Callable[[Update], Awaitable[None]], *,
                   timeout: int = 30, retry_delay: float = 5.0) -> None:
        """Fetch updates until cancelled. An update is confirmed to Telegram (the next
        offset) only once `receive` has returned, that is once it is stored."""
        await self.delete_webhook()  # getUpdates is refused while a webhook is set
        logger.info("Telegram polling started")
        offset: int | None = None
        while True:
            try:
                updates = await self.bot.get_updates(offset=offset, timeout=timeout,
                                                     allowed_updates=list(ALLOWED_UPDATES))
            except asyncio.CancelledError:
                raise
            except Conflict:
                logger.warning("Telegram polling conflicts with a webhook or another poller")
                await asyncio.sleep(retry_delay)
                continue
            except TelegramError as exc:
                logger.warning("Telegram polling failed (%s); retrying", type(exc).__name__)
                await asyncio.sleep(retry_delay)
                continue
            for update in updates:
                try:
                    await receive(update)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    logger.exception("update %s not stored; it will be fetched again",
                                     update.update_id)
                    await asyncio.sleep(retry_delay)
                    break
                offset = update.update_id + 1

    async def aclose(self) -> None:
        await asyncio.gather(*(request.shutdown() for request in self._requests))


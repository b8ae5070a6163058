"""Where the transports (webhooks, Telegram polling) hand what a channel adapter parsed.

`accept` stores her message and returns once it is committed, so that the transport
may acknowledge it to the provider; `after_ack` does the rest after the
acknowledgement: answer a button press, hold a sender over the rate limit, process her
message, send her replies. `sweep` processes what was stored and never processed (a
worker killed after the acknowledgement, an outage).

Each receives a `Reception`: the few things receiving uses, not the whole runtime.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from telegram import Update

from bot.channels.base import InboundMessage
from bot.channels.telegram import TelegramChannel, group_refusal, read_update
from bot.conversation.manager import ConversationManager
from bot.flows.schema import Flow
from bot.outages import log_failure
from bot.outbox.delivery import DeliveryWorker
from bot.ratelimit import RateLimiter, sender_verdict

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Reception:
    """What receiving her messages uses."""

    conversations: ConversationManager
    delivery: DeliveryWorker
    rate_limiter: RateLimiter
    sender_limit_per_minute: int
    telegram: TelegramChannel | None
    current_flow: Callable[[], Flow]


@dataclass(frozen=True, slots=True)
class Accepted:
    message_id: int | None = None  # the stored row, to process after the acknowledgement
    duplicate: bool = False  # a redelivery of a message already stored
    ignored: str | None = None  # why nothing was stored
    callback_query_id: str | None = None  # Telegram: a button press to answer
    refuse_chat_id: int | None = None  # Telegram: a group chat, refused politely
    sender_key: str | None = None  # her conversation's key: the keyed hash of her address
    channel: str = ""  # where it came from

    def summary(self) -> dict[str, object]:
        """The acknowledgement's body: nothing about her."""
        if self.ignored is not None:
            return {"ok": True, "ignored": self.ignored}
        return {"ok": True, "duplicate": self.duplicate}


async def accept_telegram(reception: Reception, update: Update) -> Accepted:
    event = read_update(update)
    if event.refuse_chat_id is not None:
        return Accepted(ignored="group chat", refuse_chat_id=event.refuse_chat_id)
    if event.inbound is None:
        return Accepted(ignored=event.ignored, callback_query_id=event.callback_query_id)
    return await accept(reception, event.inbound, callback_query_id=event.callback_query_id)


async def accept(reception: Reception, inbound: InboundMessage,
                 callback_query_id: str | None = None) -> Accepted:
    """Store her message (committed when this returns): what `after_ack` needs."""
    stored = await reception.conversations.accept(inbound)
    if stored is None:
        return Accepted(duplicate=True, callback_query_id=callback_query_id,
                        channel=inbound.channel)
    return Accepted(message_id=stored.message_id, callback_query_id=callback_query_id,
                    channel=inbound.channel, sender_key=stored.key)


async def _over_the_limit(reception: Reception, message_id: int, key: str) -> bool:
    """Per-sender rate limit on provider channels: the webhook has already answered
    200 (a 429 would only make the provider retry); over the limit her message is set
    aside and she is told once, politely, to wait."""
    verdict = await sender_verdict(reception.rate_limiter, key,
                                   reception.sender_limit_per_minute)
    if verdict.allowed:
        return False
    if not await reception.conversations.set_aside(message_id,
                                                   say_so=verdict.first_refusal):
        return False  # danger: read and answered whatever the limit
    logger.info("sender %s over the rate limit; message %s set aside", key[:12], message_id)
    return True


async def after_ack(reception: Reception, accepted: Accepted) -> None:
    """After the acknowledgement: never raises (the message is stored; a failure is
    logged, and she gets an apology from the conversation manager)."""
    telegram = reception.telegram
    try:
        if telegram is not None and accepted.callback_query_id is not None:
            await telegram.answer_callback(accepted.callback_query_id)
        if telegram is not None and accepted.refuse_chat_id is not None:
            texts = reception.current_flow().texts["private_only"]
            await telegram.refuse_chat(accepted.refuse_chat_id, group_refusal(texts))
        if accepted.message_id is not None:
            assert accepted.sender_key is not None, "`accept` gives both"
            if await _over_the_limit(reception, accepted.message_id, accepted.sender_key):
                return
            result = await reception.conversations.process(
                accepted.message_id, caller_delivers=True, key=accepted.sender_key,
                channel=accepted.channel)
            # Her replies, sent at once by this worker; the outbox loop (of any
            # worker) takes them if this one dies first.
            await reception.delivery.send_claimed(result.claimed)
            await reception.delivery.deliver(result.outbound)
    except Exception:  # the dispatch boundary: one failure must not stop the bot
        logger.exception("processing after acknowledgement failed (message %s)",
                         accepted.message_id)


async def sweep(conversations: ConversationManager, interval: float) -> None:
    """Until cancelled: process the messages stored but not processed, at start and then
    every `interval` seconds those stored more than that long ago (a worker killed
    after acknowledging one, an outage of the database or Redis). Safe with many
    workers: a conversation another worker holds is left to it, and a message is
    committed processed once at most (`ConversationManager.process`)."""
    older_than = timedelta(0)  # at start: everything
    while True:
        try:
            await conversations.process_pending(older_than, wait=0)
            older_than = timedelta(seconds=interval)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log_failure(logger, "inbox sweep", exc)
        await asyncio.sleep(interval)

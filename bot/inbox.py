"""The inbox: where the transports (webhooks, Telegram polling) hand what a channel
adapter parsed. `accept_*` stores her message and returns once it is committed, so the
transport may acknowledge it to the provider; `after_ack` does the rest (answer a
button press, process the message, send the replies) after the acknowledgement.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from telegram import Update

from bot.channels.base import InboundMessage
from bot.channels.telegram import group_refusal, read_update
from bot.outages import log_failure
from bot.ratelimit import sender_verdict

if TYPE_CHECKING:
    from bot.runtime import Runtime

logger = logging.getLogger(__name__)


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


async def accept_telegram(runtime: Runtime, update: Update) -> Accepted:
    event = read_update(update)
    if event.refuse_chat_id is not None:
        return Accepted(ignored="group chat", refuse_chat_id=event.refuse_chat_id)
    if event.inbound is None:
        return Accepted(ignored=event.ignored, callback_query_id=event.callback_query_id)
    return await accept(runtime, event.inbound, callback_query_id=event.callback_query_id)


async def accept(runtime: Runtime, inbound: InboundMessage,
                 callback_query_id: str | None = None) -> Accepted:
    """Store her message (committed when this returns): what `after_ack` needs."""
    message_id = await runtime.dialogue.accept(inbound)
    return Accepted(message_id=message_id, duplicate=message_id is None,
                    callback_query_id=callback_query_id, channel=inbound.channel,
                    sender_key=runtime.dialogue.conversation_key(inbound.channel,
                                                                 inbound.address))


async def _over_the_limit(runtime: Runtime, message_id: int, key: str) -> bool:
    """Per-sender rate limit on provider channels: the webhook has already answered
    200 (a 429 would only make the provider retry); over the limit her message is set
    aside and she is told once, politely, to wait."""
    verdict = await sender_verdict(runtime.rate_limiter, key,
                                   runtime.settings.rate_limit_sender_per_minute)
    if verdict.allowed:
        return False
    if not await runtime.dialogue.set_aside(message_id, say_so=verdict.first_refusal):
        return False  # danger: read and answered whatever the limit
    logger.info("sender %s over the rate limit; message %s set aside", key[:12], message_id)
    return True


async def after_ack(runtime: Runtime, accepted: Accepted) -> None:
    """After the acknowledgement: never raises (the message is stored; a failure is
    logged, and she gets an apology from the dialogue manager)."""
    telegram = runtime.channels.telegram
    try:
        if telegram is not None and accepted.callback_query_id is not None:
            await telegram.answer_callback(accepted.callback_query_id)
        if telegram is not None and accepted.refuse_chat_id is not None:
            texts = runtime.flows.get(runtime.settings.default_flow).texts["private_only"]
            await telegram.refuse_chat(accepted.refuse_chat_id, group_refusal(texts))
        if accepted.message_id is not None:
            assert accepted.sender_key is not None, "`accept` gives both"
            if await _over_the_limit(runtime, accepted.message_id, accepted.sender_key):
                return
            result = await runtime.dialogue.process(
                accepted.message_id, caller_delivers=True, key=accepted.sender_key,
                channel=accepted.channel)
            # Her replies, sent at once by this worker; the outbox loop (of any
            # worker) takes them if this one dies first.
            await runtime.outbox.send_claimed(result.claimed)
            await runtime.outbox.deliver(result.outbound)
    except Exception:  # the dispatch boundary: one failure must not stop the bot
        logger.exception("processing after acknowledgement failed (message %s)",
                         accepted.message_id)


async def sweep(runtime: Runtime) -> None:
    """Until cancelled: process the messages stored but not processed, at start and then
    every INBOX_SWEEP_SECONDS those stored more than that long ago (a worker killed
    after acknowledging one, an outage of the database or Redis). Safe with many
    workers: a conversation another worker holds is left to it, and a message is
    committed processed once at most (`DialogueManager.process`)."""
    interval = runtime.settings.inbox_sweep_seconds
    older_than = timedelta(0)  # at start: everything
    while True:
        try:
            await runtime.dialogue.process_pending(older_than, wait=0)
            older_than = timedelta(seconds=interval)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log_failure(logger, "inbox sweep", exc)
        await asyncio.sleep(interval)

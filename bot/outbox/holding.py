"""Why a message may not go to her now, and what is done with it then.

She sent STOP: nothing but the answer to it goes until she sends START. The channel's
free-text window is closed (WhatsApp: 24 hours after her last message): the message
is held, and the channel's approved template is sent once, so that she writes again;
what was held goes as soon as she does (`OutboxQueue.release_held`). A message whose
contact was erased, or whose channel is off, fails for good."""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.base import OutboundSender
from bot.outbox.queue import FAREWELL, TEMPLATE, OutboxQueue
from bot.storage.models import Contact, Message

logger = logging.getLogger(__name__)

# What `Holding.set_aside` did: failed for good, held, back to the queue (she wrote
# meanwhile), or nothing (the message is no longer claimed).
SetAside = Literal["failed", "held", "requeued", "skipped"]


def aware(value: datetime | None) -> datetime | None:
    """A time read from SQLite (naive, UTC) made aware."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


def hold_reason(kind: str, opted_out_at: datetime | None, last_inbound_at: datetime | None,
                sender: OutboundSender) -> str | None:
    """Why a message of `kind` may not be sent to her now, if it may not."""
    if opted_out_at is not None and kind != FAREWELL:
        return "she sent STOP: held until she sends START"
    window = sender.free_text_window
    if window is None or kind == TEMPLATE:
        return None
    last = aware(last_inbound_at)
    if last is None or datetime.now(timezone.utc) - last > window:
        return "her last message is too old for free text: held until she writes"
    return None


class Holding:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession],
                 queue: OutboxQueue) -> None:
        self._sessionmaker = sessionmaker
        self._queue = queue

    async def set_aside(self, message_id: int, sender: OutboundSender | None) -> SetAside:
        """A claimed message that cannot go now: failed for good (her contact was
        erased, the channel is off) or held (STOP, a closed free-text window)."""
        async with self._sessionmaker() as db:
            found = (await db.execute(
                select(Message, Contact).outerjoin(Contact, Contact.id == Message.contact_id)
                .where(Message.id == message_id))).first()
            if found is None or found[0].status != "sending":
                return "skipped"
            message, contact = found
            if contact is None or sender is None or message.body_enc is None:
                message.status = "failed"
                message.last_error = ("no contact (erased)" if contact is None
                                      else f"channel '{message.channel}' is off")
                await db.commit()
                logger.warning("outbound message %s failed: %s", message_id, message.last_error)
                return "failed"
            hold = hold_reason(message.kind, contact.opted_out_at, contact.last_inbound_at,
                               sender)
            message.attempts -= 1  # not an attempt
            if hold is None:  # she wrote meanwhile: back to the queue
                message.status = "pending"
                await db.commit()
                self._queue.wake()
                return "requeued"
            message.status = "held"
            message.last_error = hold
            if contact.opted_out_at is None:
                await self._send_template_once(db, message, contact)
            await db.commit()
            logger.info("outbound message %s held on %s", message_id, message.channel)
            return "held"

    async def _send_template_once(self, db: AsyncSession, message: Message,
                                  contact: Contact) -> None:
        """The approved template, once per closed window, so that she writes again."""
        since = aware(contact.last_inbound_at)
        query = select(Message.id).where(Message.contact_id == contact.id,
                                         Message.direction == "out", Message.kind == TEMPLATE)
        if since is not None:
            query = query.where(Message.created_at >= since)
        if await db.scalar(query.limit(1)) is not None:
            return
        self._queue.enqueue(db, contact_id=contact.id, channel=message.channel, text="",
                            sender="bot", case_id=message.case_id, kind=TEMPLATE)
        self._queue.wake()

"""The outbox: every message to her is written here before it is sent, then sent by
the channel's sender with retries and exponential backoff. A provider that is down
delays messages, never drops them; a permanent failure is recorded on the message
(and so shown on her case)."""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.base import (
    OutboundMessage,
    OutboundSender,
    PermanentSendError,
    ReplyButton,
    TransientSendError,
)
from bot.crypto import Cipher
from bot.storage.models import Contact, Message

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
BASE_DELAY = 2.0
MAX_DELAY = 15 * 60.0
STALE_SENDING = timedelta(minutes=5)


def backoff_delay(attempts: int, rng: random.Random | None = None) -> float:
    """Seconds to wait after `attempts` failed attempts: 2, 4, 8 ... capped at 15 min,
    with up to 10% jitter so that retries from many workers do not align."""
    delay = min(BASE_DELAY * (2 ** max(attempts - 1, 0)), MAX_DELAY)
    return delay * (1 + (rng or random).random() * 0.1)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Outbox:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], cipher: Cipher,
                 senders: Mapping[str, OutboundSender]) -> None:
        self._sessionmaker = sessionmaker
        self._cipher = cipher
        self._senders = dict(senders)
        self._wakeup = asyncio.Event()

    def add_sender(self, sender: OutboundSender) -> None:
        self._senders[sender.channel] = sender

    def enqueue(self, db: AsyncSession, *, contact_id: int | None, channel: str, text: str,
                sender: str, case_id: int | None = None, conversation_id: str | None = None,
                author_id: int | None = None, buttons: Sequence[ReplyButton] = (),
                status: str = "pending") -> Message:
        """Add a message to the transaction. `status='inline'` records a reply that the
        webhook answer itself carries (simulator, terminal): it is not sent again."""
        payload = None
        if buttons:
            payload = self._cipher.encrypt(json.dumps(
                {"buttons": [[b.id, b.label] for b in buttons]}, ensure_ascii=False))
        message = Message(
            contact_id=contact_id, case_id=case_id, conversation_id=conversation_id,
            channel=channel, direction="out", sender=sender, author_id=author_id,
            kind="text", body_enc=self._cipher.encrypt(text), payload_enc=payload,
            status=status, next_attempt_at=_utcnow() if status == "pending" else None,
        )
        db.add(message)
        return message

    def wake(self) -> None:
        self._wakeup.set()

    async def deliver(self, message_ids: Sequence[int] | None = None, *, limit: int = 100) -> int:
        """Send due messages (or the given ones). Returns how many were sent."""
        now = _utcnow()
        async with self._sessionmaker() as db:
            query = select(Message.id).where(Message.direction == "out",
                                             Message.status == "pending")
            if message_ids is not None:
                query = query.where(Message.id.in_(list(message_ids)))
            else:
                query = query.where(Message.next_attempt_at <= now)
            ids = list((await db.scalars(query.order_by(Message.id).limit(limit))).all())
        sent = 0
        for message_id in ids:
            if await self._deliver_one(message_id):
                sent += 1
        return sent

    async def _claim(self, message_id: int) -> bool:
        async with self._sessionmaker() as db:
            result = await db.execute(
                update(Message).where(Message.id == message_id, Message.status == "pending")
                .values(status="sending", next_attempt_at=_utcnow()))
            await db.commit()
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def _deliver_one(self, message_id: int) -> bool:
        if not await self._claim(message_id):
            return False  # another worker has it
        async with self._sessionmaker() as db:
            message = await db.get(Message, message_id)
            if message is None:
                return False
            contact = await db.get(Contact, message.contact_id) if message.contact_id else None
            sender = self._senders.get(message.channel)
            if contact is None or sender is None or message.body_enc is None:
                message.status = "failed"
                message.last_error = ("no contact (erased)" if contact is None
                                      else f"channel '{message.channel}' is off")
                await db.commit()
                logger.warning("outbound message %s failed: %s", message_id, message.last_error)
                return False
            buttons: tuple[ReplyButton, ...] = ()
            if message.payload_enc is not None:
                payload = json.loads(self._cipher.decrypt(message.payload_enc))
                buttons = tuple(ReplyButton(b[0], b[1]) for b in payload.get("buttons", []))
            outbound = OutboundMessage(
                message_id=message.id, channel=message.channel,  # type: ignore[arg-type]
                address=self._cipher.decrypt(contact.address_enc),
                text=self._cipher.decrypt(message.body_enc), buttons=buttons,
            )
            message.attempts += 1
            try:
                result = await sender.send(outbound)
            except PermanentSendError as exc:
                message.status = "failed"
                message.last_error = str(exc)[:200]
                logger.warning("outbound message %s failed for good on %s", message_id,
                               message.channel)
                await self._after_erasure(db, contact, message)
                await db.commit()
                return False
            except (TransientSendError, OSError, asyncio.TimeoutError) as exc:
                if message.attempts >= MAX_ATTEMPTS:
                    message.status = "failed"
                    message.last_error = f"gave up after {message.attempts} attempts"
                else:
                    message.status = "pending"
                    message.next_attempt_at = _utcnow() + timedelta(
                        seconds=backoff_delay(message.attempts))
                    message.last_error = type(exc).__name__
                logger.info("outbound message %s attempt %d failed on %s; status %s",
                            message_id, message.attempts, message.channel, message.status)
                await db.commit()
                return False
            message.status = "sent"
            message.processed_at = _utcnow()
            message.provider_message_id = result.provider_message_id
            await self._after_erasure(db, contact, message)
            await db.commit()
            return True

    @staticmethod
    async def _after_erasure(db: AsyncSession, contact: Contact, message: Message) -> None:
        """She asked for erasure: once the last line to her is out, nothing of hers stays."""
        if contact.erase_requested_at is None:
            return
        await db.delete(message)
        await db.flush()
        left = await db.scalar(select(func.count()).select_from(Message).where(
            Message.contact_id == contact.id))
        if not left:
            await db.delete(contact)

    async def requeue_stale(self) -> int:
        """Messages left 'sending' by a worker that died go back to the queue."""
        async with self._sessionmaker() as db:
            result = await db.execute(
                update(Message).where(Message.status == "sending",
                                      Message.next_attempt_at < _utcnow() - STALE_SENDING)
                .values(status="pending"))
            await db.commit()
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def run(self, interval: float = 1.0) -> None:
        """Deliver due messages until cancelled."""
        while True:
            try:
                await self.requeue_stale()
                await self.deliver()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("outbox pass failed; retrying")
            self._wakeup.clear()
            try:
                await asyncio.wait_for(self._wakeup.wait(), timeout=interval)
            except asyncio.TimeoutError:
                pass

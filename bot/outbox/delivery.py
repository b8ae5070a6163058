"""The delivery worker: claims the messages due (`claims.py`), sends each through its
channel's sender, and records what became of it. A provider that is down gets the
message again later (exponential backoff: 2 s, 4 s, 8 s ... up to 15 minutes, with
jitter), up to `MAX_ATTEMPTS`; a permanent refusal, or a fault of ours, fails it for
good. Her messages go one after the other; different women's go concurrently."""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.base import (
    OutboundMessage,
    OutboundSender,
    PermanentSendError,
    ReplyButton,
    TransientSendError,
)
from bot.crypto import Cipher
from bot.outages import is_outage, log_failure
from bot.outbox.claims import CLAIMS, MARK_SENT, TO_SEND, UNCLAIM, Claimed
from bot.outbox.holding import Holding, SetAside, hold_reason
from bot.outbox.queue import FAREWELL, TEMPLATE, Doorbell, OutboxQueue
from bot.storage.erasure import forget_sent_farewell
from bot.storage.models import Contact, Message
from bot.storage.statements import Statements

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
BASE_DELAY = 2.0
MAX_DELAY = 15 * 60.0
STALE_SENDING = timedelta(minutes=5)  # longer than any send takes (the HTTP timeout)
# What became of one delivery attempt
SENT, RETRY, FAILED, HELD, SKIPPED = "sent", "retry", "failed", "held", "skipped"
_AFTER_SET_ASIDE: dict[SetAside, str] = {"failed": FAILED, "held": HELD, "requeued": RETRY,
                                         "skipped": SKIPPED}


def backoff_delay(attempts: int, rng: random.Random | None = None) -> float:
    """Seconds to wait after `attempts` failed attempts: 2, 4, 8 ... capped at 15 min,
    with up to 10% jitter so that retries from many workers do not align."""
    delay = min(BASE_DELAY * (2 ** max(attempts - 1, 0)), MAX_DELAY)
    return delay * (1 + (rng or random).random() * 0.1)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class DeliveryWorker:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], cipher: Cipher,
                 senders: Mapping[str, OutboundSender], queue: OutboxQueue, *,
                 statements: Statements, doorbell: Doorbell,
                 stale_sending: timedelta = STALE_SENDING, concurrency: int = 8) -> None:
        self._sessionmaker = sessionmaker
        self._statements = statements
        self._postgres = statements.postgres
        self._cipher = cipher
        self._senders = dict(senders)
        self._doorbell = doorbell
        self._holding = Holding(sessionmaker, queue)
        # Given messages were left behind an earlier one of hers still being sent: the
        # next delivery to finish wakes the loop for them (else they wait a whole
        # interval).
        self._left_behind = False
        self._stale = stale_sending
        self._sending = asyncio.Semaphore(concurrency)

    def add_sender(self, sender: OutboundSender) -> None:
        self._senders[sender.channel] = sender

    async def deliver(self, message_ids: Sequence[int] | None = None, *, limit: int = 100) -> int:
        """Send due messages (or the given ones, due or not, and the due ones of the same
        women). Returns how many were sent. Her messages go in order (`claims.py`);
        different women's messages are sent concurrently."""
        claimed = await self._claim(message_ids, limit)
        if message_ids is not None and not set(message_ids) <= {r.id for r in claimed}:
            self._left_behind = True
        chains: dict[int | None, list[Any]] = {}
        for row in claimed:
            chains.setdefault(row.contact_id, []).append(row)
        sent = await asyncio.gather(*(self._deliver_chain(rows, read=self._postgres)
                                      for rows in chains.values()))
        if claimed and self._left_behind:
            self._left_behind = False
            self._doorbell.ring()
        return sum(sent)

    async def send_claimed(self, claimed: Sequence[Claimed]) -> int:
        """Send messages claimed when they were queued (hers, in order). Returns how
        many were sent. If this worker dies first, they go back to the queue after the
        stale delay (`requeue_stale`), as a claim of `deliver` would."""
        if not claimed:
            return 0
        return await self._deliver_chain(list(claimed), read=True)

    async def _claim(self, message_ids: Sequence[int] | None, limit: int) -> list[Any]:
        """The claimed messages, in order: rows with `id` and `contact_id`, and on
        PostgreSQL what `TO_SEND` reads too."""
        if message_ids is not None and not message_ids:
            return []
        statement = CLAIMS[message_ids is not None, self._postgres]
        params: dict[str, object] = {"now": _utcnow(), "limit": limit}
        if message_ids is not None:
            params["ids"] = list(message_ids)
        rows = await self._statements.rows(statement, params)
        return sorted(rows, key=lambda r: int(r.id))

    async def _deliver_chain(self, claimed: list[Any], *, read: bool) -> int:
        """Her claimed messages, one after the other. None overtakes an earlier one: if
        one must wait for a retry, the ones after it go back to the queue, behind it;
        in an outage they stay claimed with it and are requeued with it after the
        stale delay. `read`: the rows carry what sending needs (the claim on
        PostgreSQL, `Claimed`); the first is then sent as it was read if a sending slot
        is free at once. If it must wait for one, and for the next ones of hers, it is
        read again when its turn comes: she may have sent STOP or left quickly
        meanwhile (her replies erased), a report may have come for it."""
        sent = 0
        message_ids = [int(r.id) for r in claimed]
        first = claimed[0] if read and not self._sending.locked() else None
        async with self._sending:
            for index, message_id in enumerate(message_ids):
                try:
                    outcome = await self._deliver_one(message_id,
                                                      first if index == 0 else None)
                except Exception as exc:
                    if is_outage(exc):
                        logger.warning("outbound message %s: delivery interrupted (%s)",
                                       message_id, type(exc).__name__)
                        return sent
                    # A fault of ours (a sender's bug, an undecryptable row): retrying
                    # would fail the same way, forever. It fails for good, on her case.
                    logger.exception("outbound message %s could not be sent (%s)",
                                     message_id, type(exc).__name__)
                    await self._record_failure(message_id,
                                               f"unexpected error: {type(exc).__name__}",
                                               permanent=True)
                    continue
                if outcome == SENT:
                    sent += 1
                elif outcome == RETRY and index + 1 < len(message_ids):
                    await self._statements.execute(UNCLAIM, {"ids": message_ids[index + 1:]})
                    return sent
        return sent

    def _outbound(self, message_id: int, found: Any) -> OutboundMessage:
        buttons: tuple[ReplyButton, ...] = ()
        if found.payload_enc is not None:
            payload = json.loads(self._cipher.decrypt(found.payload_enc))
            buttons = tuple(ReplyButton(b[0], b[1]) for b in payload.get("buttons", []))
        return OutboundMessage(
            message_id=message_id, channel=found.channel,
            address=self._cipher.decrypt(found.address_enc),
            text=self._cipher.decrypt(found.body_enc), buttons=buttons,
            kind="template" if found.kind == TEMPLATE else "text",
        )

    async def _deliver_one(self, message_id: int, found: Any = None) -> str:
        """Send one claimed message (`found`: as `TO_SEND` reads it, if already read).
        The database is not held during the send: the message is read in one
        statement, and written again only once sent, failed or held."""
        if found is None:
            found = await self._statements.first(TO_SEND, {"message_id": message_id})
        if found is None or found.status != "sending":
            return SKIPPED
        sender = self._senders.get(found.channel)
        if (found.contact is None or sender is None or found.body_enc is None
                or hold_reason(found.kind, found.opted_out_at, found.last_inbound_at,
                               sender) is not None):
            return _AFTER_SET_ASIDE[await self._holding.set_aside(message_id, sender)]
        outbound = self._outbound(message_id, found)
        try:
            result = await sender.send(outbound)
        except PermanentSendError as exc:
            await self._record_failure(message_id, str(exc)[:200], permanent=True)
            logger.warning("outbound message %s failed for good on %s", message_id,
                           outbound.channel)
            return FAILED
        except (TransientSendError, OSError, asyncio.TimeoutError) as exc:
            await self._record_failure(message_id, type(exc).__name__, permanent=False)
            logger.info("outbound message %s attempt %d failed on %s", message_id,
                        found.attempts, outbound.channel)  # attempts: counted by the claim
            return RETRY
        await self._record_sent(message_id, result.provider_message_id,
                                farewell=found.kind == FAREWELL)
        return SENT

    async def _record_failure(self, message_id: int, error: str, *, permanent: bool) -> None:
        async with self._sessionmaker() as db:
            message = await db.get(Message, message_id)
            if message is None:
                return
            contact = await db.get(Contact, message.contact_id) if message.contact_id else None
            if not permanent and message.attempts < MAX_ATTEMPTS:
                message.status = "pending"
                message.next_attempt_at = _utcnow() + timedelta(
                    seconds=backoff_delay(message.attempts))
                message.last_error = error
            else:
                message.status = "failed"
                message.last_error = (error if permanent
                                      else f"gave up after {message.attempts} attempts")
                if message.kind == FAREWELL and contact is not None:
                    await forget_sent_farewell(db, message, contact)
            await db.commit()

    async def _record_sent(self, message_id: int, provider_message_id: str | None, *,
                           farewell: bool = False) -> None:
        """The provider took it: record that, retrying through a database outage (a
        message left 'sending' would be sent again after the stale delay)."""
        deadline = asyncio.get_running_loop().time() + self._stale.total_seconds() / 2
        delay = 0.5
        while True:
            try:
                if farewell:
                    await self._record_farewell_sent(message_id, provider_message_id)
                else:
                    await self._statements.execute(MARK_SENT, {
                        "message_id": message_id, "now": _utcnow(),
                        "provider_id": provider_message_id})
                return
            except Exception as exc:
                if not is_outage(exc) or asyncio.get_running_loop().time() > deadline:
                    raise
                logger.warning("outbound message %s sent, not yet recorded (%s); retrying",
                               message_id, type(exc).__name__)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _record_farewell_sent(self, message_id: int,
                                    provider_message_id: str | None) -> None:
        """Her last line is sent: it goes, and her contact with it if nothing else of
        hers is left."""
        async with self._sessionmaker() as db:
            message = await db.get(Message, message_id)
            if message is None:
                return
            if message.status == "sending":  # else a delivery report came first
                message.status = "sent"
            message.processed_at = _utcnow()
            message.provider_message_id = provider_message_id
            if message.kind == FAREWELL:
                contact = (await db.get(Contact, message.contact_id)
                           if message.contact_id else None)
                if contact is not None:
                    await forget_sent_farewell(db, message, contact)
            await db.commit()

    async def requeue_stale(self) -> int:
        """Messages left 'sending' by a worker that died go back to the queue (README,
        "Nothing lost, nothing twice": the one case where she may get a message twice),
        unless they were interrupted `MAX_ATTEMPTS` times already: then they fail. A
        Twilio message the provider did take is not among them: its status callback,
        which carries our id, has marked it sent meanwhile."""
        stale = (Message.status == "sending",
                 Message.next_attempt_at < _utcnow() - self._stale)
        async with self._sessionmaker() as db:
            await db.execute(update(Message).where(*stale, Message.attempts >= MAX_ATTEMPTS)
                             .values(status="failed",
                                     last_error="gave up: interrupted too many times"))
            result = await db.execute(update(Message).where(*stale).values(status="pending"))
            await db.commit()
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def run(self, interval: float = 1.0) -> None:
        """Deliver due messages until cancelled. Stale ones are looked for every
        `interval` at most, however often the loop is woken."""
        loop = asyncio.get_running_loop()
        stale_checked = -interval
        while True:
            self._doorbell.clear()  # before the pass: a wake-up during it is not lost
            try:
                if loop.time() - stale_checked >= interval:
                    await self.requeue_stale()
                    stale_checked = loop.time()
                await self.deliver()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log_failure(logger, "outbox pass", exc)
            await self._doorbell.wait(interval)

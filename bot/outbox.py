"""The outbox: every message to her is written here before it is sent, then sent by
the channel's sender with retries and exponential backoff. A provider that is down
delays messages, never drops them; a permanent failure is recorded on the message
(and so shown on her case).

A message that may not be sent now is held: she sent STOP (until START), or the
channel's free-text window is closed (WhatsApp, 24 hours after her last message), in
which case the channel's approved template is sent once instead. Held messages go
back to the queue when she writes again. Delivery reports (Twilio status callbacks)
move a sent message on to delivered, read, failed or undelivered."""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import String, and_, bindparam, exists, func, insert, or_, select, update
from sqlalchemy import case as sql_case
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from bot.channels.base import (
    OutboundMessage,
    OutboundSender,
    PermanentSendError,
    ReplyButton,
    TransientSendError,
)
from bot.crypto import Cipher
from bot.outages import is_outage, log_failure
from bot.storage.models import Case, Contact, Message
from bot.storage.statements import Statements

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
BASE_DELAY = 2.0
MAX_DELAY = 15 * 60.0
STALE_SENDING = timedelta(minutes=5)  # longer than any send takes (the HTTP timeout)
# What became of one delivery attempt
SENT, RETRY, FAILED, HELD, SKIPPED = "sent", "retry", "failed", "held", "skipped"
CLAIM_LOCK_SPACE = 0x616D  # PostgreSQL advisory locks of the outbox's claims ("am")
FAREWELL = "farewell"  # kind of the quick-exit line: erased with her contact once sent
TEMPLATE = "template"  # kind of the channel's approved template (window closed)
# How far along a sent message is: a delivery report never moves it back.
DELIVERY_RANK = {"pending": 0, "held": 0, "sending": 1, "sent": 2, "delivered": 3, "read": 4,
                 "undelivered": 5, "failed": 5}
REPORTED_STATUS = {"sent": "sent", "delivered": "delivered", "read": "read",
                   "failed": "failed", "undelivered": "undelivered", "canceled": "failed"}


def _claim_statement(given: bool, postgres: bool) -> Any:
    """pending -> sending in one statement, for due messages (the loop) or given ones
    and the due ones of the same women (`deliver(ids)`). Her messages go in order: one
    is not claimed while an earlier one of hers is being sent, or waits for a retry.
    On PostgreSQL, where workers claim at the same time, rows another worker is
    claiming are skipped, and so are all her messages while another worker's claim
    holds her (an advisory lock on her contact for the statement): else it could take
    her second message while the other takes her first. Built once: building it costs
    more than running it."""
    earlier = aliased(Message)
    now = bindparam("now")
    candidates = select(Message.id).where(Message.direction == "out",
                                          Message.status == "pending")
    if given:
        ids = bindparam("ids", expanding=True)
        theirs = select(Message.contact_id).where(Message.id.in_(ids))
        candidates = candidates.where(or_(
            Message.id.in_(ids),
            and_(Message.next_attempt_at <= now, Message.contact_id.in_(theirs))))
    else:
        candidates = candidates.where(Message.next_attempt_at <= now)
    behind = exists().where(
        earlier.contact_id == Message.contact_id, earlier.direction == "out",
        earlier.id < Message.id,
        or_(earlier.status == "sending",
            and_(earlier.status == "pending", earlier.next_attempt_at > now)))
    candidates = candidates.where(~behind)
    if postgres:
        candidates = candidates.where(or_(
            Message.contact_id.is_(None),
            func.pg_try_advisory_xact_lock(CLAIM_LOCK_SPACE, Message.contact_id)))
    candidates = (candidates.order_by(Message.id).limit(bindparam("limit"))
                  .with_for_update(skip_locked=True))
    claim = (update(_M).where(_M.c.id.in_(candidates), _M.c.status == "pending")
             .values(status="sending", next_attempt_at=now, attempts=_M.c.attempts + 1))
    if not postgres:
        return claim.returning(_M.c.id, _M.c.contact_id)
    # PostgreSQL: with each claimed message, what sending it needs (`_TO_SEND`), read
    # in the same statement.
    claimed = claim.returning(*(_M.c[name] for name in _SENDING)).cte("claimed")
    return (select(*(claimed.c[name] for name in _SENDING), *_HER)
            .select_from(claimed.outerjoin(_C, _C.c.id == claimed.c.contact_id)))


_M = Message.__table__
_INSERT = insert(_M)
_C = Contact.__table__
# What sending one claimed message needs, in one read: the message and her contact.
_SENDING = ("id", "status", "channel", "kind", "body_enc", "payload_enc", "attempts",
            "contact_id")
_HER = (_C.c.id.label("contact"), _C.c.address_enc, _C.c.opted_out_at,
        _C.c.last_inbound_at)
_TO_SEND = (select(*(_M.c[name] for name in _SENDING), *_HER)
            .select_from(_M.outerjoin(_C, _C.c.id == _M.c.contact_id))
            .where(_M.c.id == bindparam("message_id")))
_CLAIMS = {(given, postgres): _claim_statement(given, postgres)
           for given in (False, True) for postgres in (False, True)}
# The provider took it (one statement; a delivery report may have come first).
_SENT = (update(_M).where(_M.c.id == bindparam("message_id"))
         .values(status=sql_case((_M.c.status == "sending", "sent"), else_=_M.c.status),
                 processed_at=bindparam("now"),
                 provider_message_id=bindparam("provider_id")))

_UNCLAIM = (update(_M).where(_M.c.id.in_(bindparam("ids", expanding=True)),
                             _M.c.status == "sending")
            .values(status="pending", attempts=_M.c.attempts - 1))


def _rank(column: Any) -> Any:
    return sql_case(DELIVERY_RANK, value=column, else_=0)


def _delivery_statement(by_our_id: bool) -> Any:
    """A delivery report in one statement: the message moves on only if the report
    is further along (never back); found by the provider's id, or by ours while the
    provider's id is not recorded yet (the report outran `_record_sent`)."""
    status = bindparam("reported", type_=String)
    found = [_M.c.channel.in_(bindparam("channels", expanding=True)),
             _M.c.direction == "out"]
    if by_our_id:
        found += [_M.c.id == bindparam("message_id"), _M.c.provider_message_id.is_(None)]
    else:
        found.append(_M.c.provider_message_id == bindparam("provider_id"))
    further = _rank(status) > _rank(_M.c.status)
    return (update(_M).where(*found)
            .values(status=sql_case((further, status), else_=_M.c.status),
                    last_error=sql_case((and_(further, status.in_(("failed", "undelivered"))),
                                         bindparam("error", type_=String)), else_=_M.c.last_error),
                    provider_message_id=bindparam("provider_id", type_=String))
            .returning(_M.c.id, _M.c.status, _M.c.channel))


_DELIVERY_BY_PROVIDER_ID = _delivery_statement(by_our_id=False)
_DELIVERY_BY_OUR_ID = _delivery_statement(by_our_id=True)


@dataclass(frozen=True, slots=True)
class Claimed:
    """A message queued already claimed ('sending', one attempt) by the worker that
    will send it (`Outbox.send_claimed`), with what `_TO_SEND` would read for it."""
    id: int
    channel: str
    kind: str
    body_enc: bytes
    payload_enc: bytes | None
    contact_id: int
    address_enc: bytes
    opted_out_at: datetime | None
    last_inbound_at: datetime | None
    status: str = "sending"
    attempts: int = 1

    @property
    def contact(self) -> int:
        return self.contact_id


def backoff_delay(attempts: int, rng: random.Random | None = None) -> float:
    """Seconds to wait after `attempts` failed attempts: 2, 4, 8 ... capped at 15 min,
    with up to 10% jitter so that retries from many workers do not align."""
    delay = min(BASE_DELAY * (2 ** max(attempts - 1, 0)), MAX_DELAY)
    return delay * (1 + (rng or random).random() * 0.1)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


class Outbox:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], cipher: Cipher,
                 senders: Mapping[str, OutboundSender], *, statements: Statements,
                 stale_sending: timedelta = STALE_SENDING, concurrency: int = 8) -> None:
        self._sessionmaker = sessionmaker
        self._statements = statements
        self._postgres = statements.postgres
        self._cipher = cipher
        self._senders = dict(senders)
        self._wakeup = asyncio.Event()
        # Given messages were left behind an earlier one of hers still being sent: the
        # next delivery to finish wakes the loop for them (else they wait a whole
        # interval).
        self._left_behind = False
        self._stale = stale_sending
        self._sending = asyncio.Semaphore(concurrency)

    def add_sender(self, sender: OutboundSender) -> None:
        self._senders[sender.channel] = sender

    def enqueue(self, db: AsyncSession, *, contact_id: int | None, channel: str, text: str,
                sender: str, case_id: int | None = None, conversation_id: str | None = None,
                author_id: int | None = None, buttons: Sequence[ReplyButton] = (),
                status: str = "pending", kind: str = "text") -> Message:
        """Add a message to the transaction. `status='inline'` records a reply that the
        webhook answer itself carries (simulator, terminal): it is not sent again."""
        message = Message(**self.row(
            contact_id=contact_id, channel=channel, text=text, sender=sender,
            case_id=case_id, conversation_id=conversation_id, author_id=author_id,
            buttons=buttons, status=status, kind=kind))
        db.add(message)
        return message

    def row(self, *, contact_id: int | None, channel: str, text: str, sender: str,
            case_id: int | None = None, conversation_id: str | None = None,
            author_id: int | None = None, buttons: Sequence[ReplyButton] = (),
            status: str = "pending", kind: str = "text") -> dict[str, Any]:
        """A message for the outbox as the values of its row (`enqueue`, `insert`).
        `status='sending'`: claimed at once by the worker that queues it, which sends
        it itself (`send_claimed`)."""
        payload = None
        if buttons:
            payload = self._cipher.encrypt(json.dumps(
                {"buttons": [[b.id, b.label] for b in buttons]}, ensure_ascii=False))
        return {"contact_id": contact_id, "case_id": case_id,
                "conversation_id": conversation_id, "channel": channel, "direction": "out",
                "sender": sender, "author_id": author_id, "kind": kind,
                "body_enc": self._cipher.encrypt(text), "payload_enc": payload,
                "status": status, "attempts": 1 if status == "sending" else 0,
                "next_attempt_at": _utcnow() if status in ("pending", "sending") else None}

    @staticmethod
    async def insert(db: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> list[int]:
        """Messages (`row`) added to the transaction without the ORM's unit of work
        (the dialogue's path for every message): one INSERT on PostgreSQL, one per row
        on SQLite. Returns their ids, in the order of `rows`."""
        if not rows:
            return []
        result = await db.execute(
            _INSERT.returning(_M.c.id, sort_by_parameter_order=True), list(rows))
        return [int(r.id) for r in result]

    @staticmethod
    def as_claimed(ids: Sequence[int], rows: Sequence[Mapping[str, Any]], her: Any
                   ) -> list[Claimed]:
        """Messages to one woman inserted (`insert`) with status 'sending': claimed by
        the caller, which sends them once its transaction commits (`send_claimed`).
        `her`: her contact's `address_enc`, `opted_out_at` and `last_inbound_at`, read
        as late as possible in that transaction (a STOP she sent meanwhile holds
        them). The caller makes sure nothing else waits to go to her, and holds her
        claims' advisory lock to the commit."""
        return [Claimed(id=message_id, channel=row["channel"], kind=row["kind"],
                        body_enc=row["body_enc"], payload_enc=row["payload_enc"],
                        contact_id=row["contact_id"], address_enc=her.address_enc,
                        opted_out_at=her.opted_out_at, last_inbound_at=her.last_inbound_at)
                for message_id, row in zip(ids, rows)]

    def wake(self) -> None:
        self._wakeup.set()

    async def release_held(self, db: AsyncSession | AsyncConnection, contact_id: int) -> int:
        """She wrote: what was held for her goes back to the queue (in the caller's
        transaction)."""
        result = await db.execute(
            update(_M).where(_M.c.contact_id == contact_id, _M.c.direction == "out",
                             _M.c.status == "held")
            .values(status="pending", next_attempt_at=_utcnow(), last_error=None))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    @staticmethod
    def _hold_reason(kind: str, opted_out_at: datetime | None,
                     last_inbound_at: datetime | None, sender: OutboundSender) -> str | None:
        """Why a message of `kind` may not be sent to her now, if it may not."""
        if opted_out_at is not None and kind != FAREWELL:
            return "she sent STOP: held until she sends START"
        window = sender.free_text_window
        if window is None or kind == TEMPLATE:
            return None
        last = _aware(last_inbound_at)
        if last is None or _utcnow() - last > window:
            return "her last message is too old for free text: held until she writes"
        return None

    async def _send_template_once(self, db: AsyncSession, message: Message,
                                  contact: Contact) -> None:
        """The approved template, once per closed window, so that she writes again."""
        since = _aware(contact.last_inbound_at)
        query = select(Message.id).where(Message.contact_id == contact.id,
                                         Message.direction == "out", Message.kind == TEMPLATE)
        if since is not None:
            query = query.where(Message.created_at >= since)
        if await db.scalar(query.limit(1)) is not None:
            return
        self.enqueue(db, contact_id=contact.id, channel=message.channel, text="",
                     sender="bot", case_id=message.case_id, kind=TEMPLATE)
        self.wake()

    async def _erase_farewell(self, db: AsyncSession, message: Message,
                              contact: Contact) -> None:
        """After a quick exit or an erasure, the last line was all that was kept of her
        conversation: once it is sent (or has failed), it goes, and her contact too if
        she has no case and nothing else is kept."""
        await db.delete(message)
        await db.flush()
        others = await db.scalar(select(exists().where(Message.contact_id == contact.id)))
        cases = await db.scalar(select(func.count()).select_from(Case)
                                .where(Case.contact_id == contact.id))
        if not others and not cases:
            await db.delete(contact)

    async def deliver(self, message_ids: Sequence[int] | None = None, *, limit: int = 100) -> int:
        """Send due messages (or the given ones, due or not, and the due ones of the same
        women). Returns how many were sent.

        Messages are claimed in one statement (pending -> sending), so that no two
        workers send one message; her messages go in order: one waits while an earlier
        one of hers is being sent or waits for a retry. Different women's messages are
        sent concurrently."""
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
            self.wake()
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
        PostgreSQL what `_TO_SEND` reads too."""
        if message_ids is not None and not message_ids:
            return []
        statement = _CLAIMS[message_ids is not None, self._postgres]
        params: dict[str, object] = {"now": _utcnow(), "limit": limit}
        if message_ids is not None:
            params["ids"] = list(message_ids)
        rows = await self._statements.rows(statement, params)
        return sorted(rows, key=lambda r: int(r.id))

    async def _deliver_chain(self, claimed: list[Any], *, read: bool) -> int:
        """Her claimed messages, one after the other. None overtakes an earlier one: if
        one must wait for a retry, the ones after it go back to the queue, behind it
        (see `_claim`); in an outage they stay claimed with it and are requeued with
        it after the stale delay. `read`: the rows carry what sending needs (the
        claim on PostgreSQL, `Claimed`); the first is then sent as it was read if a
        sending slot is free at once. If it must wait for one, and for the next ones
        of hers, it is read again when its turn comes: she may have sent STOP or left
        quickly meanwhile (her replies erased), a report may have come for it."""
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
                    await self._unclaim(message_ids[index + 1:])
                    return sent
        return sent

    async def _unclaim(self, message_ids: list[int]) -> None:
        """Claimed messages back to the queue, not counted as an attempt."""
        await self._statements.execute(_UNCLAIM, {"ids": message_ids})

    async def _deliver_one(self, message_id: int, found: Any = None) -> str:
        """Send one claimed message (`found`: as `_TO_SEND` reads it, if already read).
        The database is not held during the send: the message is read in one
        statement, and written again only once sent, failed or held."""
        if found is None:
            found = await self._statements.first(_TO_SEND, {"message_id": message_id})
        if found is None or found.status != "sending":
            return SKIPPED
        sender = self._senders.get(found.channel)
        if (found.contact is None or sender is None or found.body_enc is None
                or self._hold_reason(found.kind, found.opted_out_at, found.last_inbound_at,
                                     sender) is not None):
            return await self._set_aside(message_id, sender)
        buttons: tuple[ReplyButton, ...] = ()
        if found.payload_enc is not None:
            payload = json.loads(self._cipher.decrypt(found.payload_enc))
            buttons = tuple(ReplyButton(b[0], b[1]) for b in payload.get("buttons", []))
        outbound = OutboundMessage(
            message_id=message_id, channel=found.channel,
            address=self._cipher.decrypt(found.address_enc),
            text=self._cipher.decrypt(found.body_enc), buttons=buttons,
            kind="template" if found.kind == TEMPLATE else "text",
        )
        attempts = found.attempts  # counted by the claim
        farewell = found.kind == FAREWELL
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
                        attempts, outbound.channel)
            return RETRY
        await self._record_sent(message_id, result.provider_message_id, farewell=farewell)
        return SENT

    async def _set_aside(self, message_id: int, sender: OutboundSender | None) -> str:
        """A claimed message that cannot go now: failed for good (her contact was erased,
        the channel is off) or held (STOP, a closed free-text window)."""
        async with self._sessionmaker() as db:
            found = (await db.execute(
                select(Message, Contact).outerjoin(Contact, Contact.id == Message.contact_id)
                .where(Message.id == message_id))).first()
            if found is None or found[0].status != "sending":
                return SKIPPED
            message, contact = found
            if contact is None or sender is None or message.body_enc is None:
                message.status = "failed"
                message.last_error = ("no contact (erased)" if contact is None
                                      else f"channel '{message.channel}' is off")
                await db.commit()
                logger.warning("outbound message %s failed: %s", message_id, message.last_error)
                return FAILED
            hold = self._hold_reason(message.kind, contact.opted_out_at,
                                     contact.last_inbound_at, sender)
            if hold is None:  # she wrote meanwhile: back to the queue, not an attempt
                message.attempts -= 1
                message.status = "pending"
                await db.commit()
                self.wake()
                return RETRY
            message.attempts -= 1  # not an attempt
            message.status = "held"
            message.last_error = hold
            if contact.opted_out_at is None:
                await self._send_template_once(db, message, contact)
            await db.commit()
            logger.info("outbound message %s held on %s", message_id, message.channel)
            return HELD

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
                    await self._erase_farewell(db, message, contact)
            await db.commit()

    async def _record_sent(self, message_id: int, provider_message_id: str | None, *,
                           farewell: bool = False) -> None:
        """The provider took it: record that, retrying through a database outage (a
        message left 'sending' would be sent again after the stale delay)."""
        deadline = asyncio.get_running_loop().time() + self._stale.total_seconds() / 2
        delay = 0.5
        while True:
            try:
                if not farewell:
                    await self._statements.execute(_SENT, {
                        "message_id": message_id, "now": _utcnow(),
                        "provider_id": provider_message_id})
                    return
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
                            await self._erase_farewell(db, message, contact)
                    await db.commit()
                    return
            except Exception as exc:
                if not is_outage(exc) or asyncio.get_running_loop().time() > deadline:
                    raise
                logger.warning("outbound message %s sent, not yet recorded (%s); retrying",
                               message_id, type(exc).__name__)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def record_delivery(self, channels: Sequence[str], provider_message_id: str,
                              reported: str, error_code: str | None = None,
                              message_id: int | None = None) -> bool:
        """A provider's delivery report. The message is found by the provider's id, or
        by ours (`message_id`) when the report outran the recording of the provider's
        id. Returns whether a message was updated."""
        status = REPORTED_STATUS.get(reported)
        if status is None:  # queued, sending, ...: nothing new
            return False
        params = {"channels": list(channels), "provider_id": provider_message_id,
                  "reported": status, "message_id": message_id,
                  "error": f"{status} (provider error {error_code or 'unknown'})"}
        row = await self._statements.first(_DELIVERY_BY_PROVIDER_ID, params)
        if row is None and message_id is not None:
            row = await self._statements.first(_DELIVERY_BY_OUR_ID, params)
        if row is None:
            return False
        if row.status == status and status in ("failed", "undelivered"):
            logger.warning("outbound message %s %s on %s", row.id, status, row.channel)
        return True

    async def requeue_stale(self) -> int:
        """Messages left 'sending' by a worker that died go back to the queue (README,
        "Nothing lost, nothing twice": the one case where she may get a message twice).
        A Twilio message the provider did took is not among them: its status callback,
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
            self._wakeup.clear()  # before the pass: a wake-up during it is not lost
            try:
                if loop.time() - stale_checked >= interval:
                    await self.requeue_stale()
                    stale_checked = loop.time()
                await self.deliver()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log_failure(logger, "outbox pass", exc)
            try:
                await asyncio.wait_for(self._wakeup.wait(), timeout=interval)
            except asyncio.TimeoutError:
                pass

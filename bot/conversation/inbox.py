"""The inbox: every statement on her inbound messages, and her conversation's key.

Her message is stored (keyed by the provider's message id, so a redelivery is stored
once) before anything else, and committed: only then may the webhook acknowledge it.
It is processed later, in her order, read under a row lock (the fence: one commit per
message, whatever happened to her conversation lock), and marked processed in the
transaction that answers it.

Her conversation's key is the keyed hash of her channel and address (`crypto`): it
names her session, her lock and her contact row, and is computed here only, once per
message.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import (
    String,
    bindparam,
    exists,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    update,
)
from sqlalchemy import case as sql_case
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.base import InboundMessage, Media
from bot.crypto import AddressHasher, Cipher
from bot.outbox.claims import claimable_for
from bot.outbox.queue import OutboxQueue, release_held_statement
from bot.storage.database import engine_of
from bot.storage.models import Case, Contact, Message
from bot.storage.statements import Statements

logger = logging.getLogger(__name__)

OPT_OUT_CHANNELS = ("sms", "whatsapp")  # where STOP also means: send nothing until START

MESSAGES = Message.__table__
CONTACTS = Contact.__table__
CASES = Case.__table__
_EARLIER = MESSAGES.alias("earlier")

# Her messages stored but not processed, up to and including one: the ones to process
# in order (that one last, if it still waits), with her conversation's key.
_WAITING = (select(MESSAGES.c.id, CONTACTS.c.address_hash, CONTACTS.c.channel)
            .select_from(MESSAGES.join(CONTACTS, CONTACTS.c.id == MESSAGES.c.contact_id))
            .where(MESSAGES.c.contact_id == select(MESSAGES.c.contact_id)
                   .where(MESSAGES.c.id == bindparam("message_id")).scalar_subquery(),
                   MESSAGES.c.direction == "in", MESSAGES.c.status == "received",
                   MESSAGES.c.id <= bindparam("message_id"))
            .order_by(MESSAGES.c.id))

# The id of her latest case still open (add her contact: `.where`).
LATEST_OPEN_CASE = (select(CASES.c.id).where(CASES.c.status != "closed")
                    .order_by(CASES.c.id.desc()).limit(1))
# The same, or closed since `closed_since` (her message reopens it).
_LATEST_CASE_TO_RESUME = (select(CASES.c.id).where(or_(
    CASES.c.status != "closed", CASES.c.closed_at >= bindparam("closed_since")))
    .order_by(CASES.c.id.desc()).limit(1))


def _to_process(claiming: bool) -> Any:
    """The message to process, locked (the fence: one commit per message), with her
    contact, the id of her latest case to resume (open, or closed recently enough to be
    reopened) and whether an earlier message of hers still waits (then that one goes
    first), in one read. Her message's columns are read
    as such (not as an object of the ORM's session): `_PROCESSED` writes its new state.
    `claiming` (PostgreSQL): also whether her replies may be claimed as they are queued
    (`bot.outbox.claims.claimable_for`, which holds her claims' lock to the commit)."""
    columns = [MESSAGES.c.status, MESSAGES.c.channel, MESSAGES.c.body_enc,
               MESSAGES.c.payload_enc, MESSAGES.c.provider_message_id, MESSAGES.c.created_at,
               Contact,
               _LATEST_CASE_TO_RESUME.where(CASES.c.contact_id == Contact.id)
               .scalar_subquery().label("latest"),
               exists().where(_EARLIER.c.contact_id == Contact.id,
                              _EARLIER.c.direction == "in", _EARLIER.c.status == "received",
                              _EARLIER.c.id < MESSAGES.c.id).label("earlier")]
    if claiming:
        columns.append(claimable_for(Contact.id).label("claim"))
    return (select(*columns).join(Contact, Contact.id == MESSAGES.c.contact_id)
            .where(MESSAGES.c.id == bindparam("message_id")).with_for_update(of=MESSAGES))


_TO_PROCESS = {claiming: _to_process(claiming) for claiming in (False, True)}
_PROCESSED = (update(MESSAGES).where(MESSAGES.c.id == bindparam("message_id"))
              .values(status="processed", processed_at=bindparam("now"),
                      conversation_id=bindparam("to_conversation"),
                      case_id=bindparam("to_case")))
# PostgreSQL, her replies claimed as they were queued: the same, reading her contact as
# it is then (what sending them needs: `QueuedReplies.claimed`).
_PROCESSED_READING_HER_CONTACT = (
    _PROCESSED.where(CONTACTS.c.id == MESSAGES.c.contact_id)
    .returning(CONTACTS.c.address_enc, CONTACTS.c.opted_out_at, CONTACTS.c.last_inbound_at))

# Her contact touched (and locked) by her message: STOP and START set her opt-out.
_TOUCH = (update(CONTACTS).where(CONTACTS.c.channel == bindparam("her_channel"),
                                 CONTACTS.c.address_hash == bindparam("key"))
          .values(last_inbound_at=bindparam("now"),
                  opted_out_at=sql_case((bindparam("opt", type_=String) == "stop",
                                         bindparam("now")),
                                        (bindparam("opt", type_=String) == "start", null()),
                                        else_=CONTACTS.c.opted_out_at))
          .returning(CONTACTS.c.id, CONTACTS.c.opted_out_at))
_INBOUND_VALUES = ("channel", "kind", "body_enc", "payload_enc", "provider_message_id",
                   "created_at")


def _store_in_one_statement() -> Any:
    """PostgreSQL: `Inbox.store` for a contact that exists, as one statement committed
    by itself (no BEGIN and COMMIT, one round trip instead of five): her contact
    touched and locked, her message inserted once the lock is held (so ids follow her
    order), what was held for her released unless she opted out. Returns her message's
    id (None when she has no contact yet) and how many were released."""
    touched = _TOUCH.cte("touched")
    row = [touched.c.id.label("contact_id"), literal("in").label("direction"),
           literal("her").label("sender"), literal("received").label("status"),
           literal(0).label("attempts"),
           *(bindparam(f"in_{name}", type_=MESSAGES.c[name].type).label(name)
             for name in _INBOUND_VALUES)]
    stored = (insert(MESSAGES).from_select([c.name for c in row], select(*row))
              .returning(MESSAGES.c.id).cte("stored"))
    released = (release_held_statement(MESSAGES.c.contact_id.in_(
        select(touched.c.id).where(touched.c.opted_out_at.is_(None))))
        .returning(MESSAGES.c.id).cte("released"))
    return select(select(stored.c.id).scalar_subquery().label("message_id"),
                  select(func.count()).select_from(released).scalar_subquery()
                  .label("released"))


_STORE = _store_in_one_statement()
_WAITING_BY_WOMAN = (select(MESSAGES.c.contact_id, func.max(MESSAGES.c.id).label("last_id"),
                            func.count().label("waiting"))
                     .where(MESSAGES.c.direction == "in", MESSAGES.c.status == "received",
                            MESSAGES.c.created_at <= bindparam("before"))
                     .group_by(MESSAGES.c.contact_id))


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """Her message in the inbox, committed."""

    message_id: int
    key: str  # her conversation's key
    channel: str


@dataclass(frozen=True, slots=True)
class _Stored:
    message_id: int
    released: int


class Inbox:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], *,
                 statements: Statements, cipher: Cipher, hasher: AddressHasher,
                 outbox: OutboxQueue) -> None:
        self._sessionmaker = sessionmaker
        self._engine = engine_of(sessionmaker)
        self._statements = statements
        self._cipher = cipher
        self._hasher = hasher
        self._outbox = outbox

    def conversation_key(self, channel: str, address: str) -> str:
        """Her conversation's key: the keyed hash of her channel and address."""
        return self._hasher.hash(channel, address)

    # --- storing -------------------------------------------------------------------------

    async def store(self, inbound: InboundMessage, *, key: str | None = None
                    ) -> StoredMessage | None:
        """Her message into the inbox, committed; None for a redelivery (same provider
        message id). `key`: her conversation's key, if the caller has it. Her contact's
        row is locked from the first statement to the commit (PostgreSQL), so her
        messages are stored one at a time and their ids follow the order they were
        committed in. Needs the database only: a Redis outage does not stop Amane from
        taking her messages."""
        key = key if key is not None else self.conversation_key(inbound.channel,
                                                                 inbound.address)
        now = datetime.now(timezone.utc)
        opt = inbound.command if inbound.command == "start" or (
            inbound.command == "stop" and inbound.channel in OPT_OUT_CHANNELS) else None
        touch = {"her_channel": inbound.channel, "key": key, "now": now, "opt": opt}
        try:
            stored = None
            if self._statements.postgres:
                stored = await self._statements.first(_STORE, {**touch, **{
                    f"in_{k}": v for k, v in self._inbound_values(inbound).items()}})
            if stored is None or stored.message_id is None:  # SQLite, or her first message
                stored = await self._store_in_transaction(touch, inbound)
        except IntegrityError:
            logger.info("duplicate %s message ignored", inbound.channel)
            return None
        if stored.released:
            logger.info("%d held message(s) released for %s", stored.released, key[:12])
            self._outbox.wake()
        return StoredMessage(int(stored.message_id), key, inbound.channel)

    async def _store_in_transaction(self, touch: dict[str, Any],
                                    inbound: InboundMessage) -> _Stored:
        async with self._engine.begin() as conn:
            contact = (await conn.execute(_TOUCH, touch)).first()
            if contact is None:  # her first message on this channel
                try:
                    async with conn.begin_nested():
                        await conn.execute(insert(CONTACTS).values(
                            channel=inbound.channel, address_hash=touch["key"],
                            address_enc=self._cipher.encrypt(inbound.address)))
                except IntegrityError:
                    pass  # created meanwhile by another worker
                contact = (await conn.execute(_TOUCH, touch)).one()
            message_id = (await conn.execute(
                insert(MESSAGES).values(contact_id=contact.id, direction="in", sender="her",
                                        status="received", **self._inbound_values(inbound))
                .returning(MESSAGES.c.id))).scalar_one()
            released = 0
            if contact.opted_out_at is None:
                released = await self._outbox.release_held(conn, contact.id)
        return _Stored(int(message_id), released)

    def _inbound_values(self, inbound: InboundMessage) -> dict[str, Any]:
        """Her message as a row of the inbox (`_INBOUND_VALUES`): everything she sent,
        encrypted."""
        kind = "text"
        payload: dict[str, Any] = {}
        if inbound.media:
            kind = "media"
            payload["media"] = [{"kind": m.kind, "url": m.url, "content_type": m.content_type}
                                for m in inbound.media]
        if inbound.location is not None:
            kind = "location" if not inbound.media else kind
            payload["location"] = list(inbound.location)
        if inbound.choice_id is not None:
            payload["choice_id"] = inbound.choice_id
        if inbound.command is not None:
            payload["command"] = inbound.command
        return {
            "channel": inbound.channel, "kind": kind,
            "body_enc": self._cipher.encrypt(inbound.text) if inbound.text else None,
            "payload_enc": self._cipher.encrypt(json.dumps(payload)) if payload else None,
            "provider_message_id": inbound.provider_message_id,
            "created_at": inbound.received_at,
        }

    # --- processing ----------------------------------------------------------------------

    async def waiting_up_to(self, message_id: int) -> list[Any]:
        """Her messages still waiting, in order, up to and including `message_id`:
        rows of `id`, `address_hash` (her conversation's key) and `channel`."""
        return await self._statements.rows(_WAITING, {"message_id": message_id})

    async def waiting_by_woman(self, older_than: timedelta) -> list[Any]:
        """For each woman with messages stored more than `older_than` ago and not
        processed: `contact_id`, `last_id` (her latest such message), `waiting` (how
        many)."""
        before = datetime.now(timezone.utc) - older_than
        async with self._sessionmaker() as db:
            return list((await db.execute(_WAITING_BY_WOMAN, {"before": before})).all())

    @staticmethod
    async def read_to_process(db: AsyncSession, message_id: int, *, claiming: bool,
                              closed_since: datetime) -> Any:
        """Her message, locked to the end of `db`'s transaction, with her contact
        (`Contact`), the id of her latest case open or closed since `closed_since`
        (`latest`), whether an earlier message of hers still waits (`earlier`) and, if
        `claiming`, whether her replies may be claimed as they are queued (`claim`).
        None if it is gone."""
        return (await db.execute(_TO_PROCESS[claiming], {
            "message_id": message_id, "closed_since": closed_since})).first()

    def message_of(self, row: Any) -> InboundMessage:
        """Her message as the inbox stored it (`row`: from `read_to_process`)."""
        payload: dict[str, Any] = {}
        if row.payload_enc is not None:
            payload = json.loads(self._cipher.decrypt(row.payload_enc))
        location = payload.get("location")
        command = payload.get("command")
        return InboundMessage(
            channel=row.channel,
            address=self._cipher.decrypt(row.Contact.address_enc),
            text=self._cipher.decrypt_optional(row.body_enc) or "",
            provider_message_id=row.provider_message_id,
            choice_id=payload.get("choice_id"),
            location=(float(location[0]), float(location[1])) if location else None,
            media=tuple(Media(m["kind"], m["url"], m.get("content_type"))
                        for m in payload.get("media", [])),
            command=command if command in ("start", "stop", "help") else None,
            received_at=row.created_at,
        )

    @staticmethod
    async def mark_processed(db: AsyncSession, message_id: int, *,
                             conversation_id: str | None, case_id: int | None,
                             reading_her_contact: bool = False) -> Any:
        """Her message processed, in `db`'s transaction, with the conversation and the
        case it goes with. `reading_her_contact`: in the same statement, her contact's
        `address_enc`, `opted_out_at` and `last_inbound_at` as they are now (returned)."""
        processed = {"message_id": message_id, "now": datetime.now(timezone.utc),
                     "to_conversation": conversation_id, "to_case": case_id}
        if reading_her_contact:
            return (await db.execute(_PROCESSED_READING_HER_CONTACT, processed)).one()
        await db.execute(_PROCESSED, processed)
        return None

    def text_of(self, row: Message) -> str:
        """Her words in a stored message (none for a location or an attachment)."""
        return self._cipher.decrypt_optional(row.body_enc) or ""

    @staticmethod
    async def received_for_update(db: AsyncSession, message_id: int) -> Message | None:
        """Her message, locked, if it still waits to be processed."""
        row = await db.get(Message, message_id, with_for_update=True)
        if row is None or row.contact_id is None or row.status != "received":
            return None
        return row

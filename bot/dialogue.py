"""The dialogue manager: one inbound message in, her replies out.

It holds the per-conversation lock, stores her message before anything else (the
inbox), reads it with the NLU, runs the pure flow engine and applies the events it
returns: replies, a case created or updated, a session wiped. Once her case exists,
what she writes goes to the case: the bot acknowledges once, then stays silent, except
to give the emergency numbers when she is in danger.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

from sqlalchemy import (
    String,
    and_,
    bindparam,
    delete,
    exists,
    func,
    insert,
    literal,
    null,
    select,
    update,
)
from sqlalchemy import case as sql_case
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.base import InboundMessage, Media, ReplyButton
from bot.checkpoints import Checkpoint
from bot.crypto import AddressHasher, Cipher, DecryptionError
from bot.flows import engine
from bot.flows.registry import FlowRegistry
from bot.flows.schema import Flow
from bot.handoff.cases import CaseService, IntakeFacts
from bot.nlu.result import NluBackend, NluResult, Place
from bot.outages import is_outage
from bot.outbox import CLAIM_LOCK_SPACE, FAREWELL, Claimed, Outbox
from bot.ratelimit import SLOW_DOWN
from bot.sessions import ConversationLock, HeldLock, LockBusy, SessionStore
from bot.storage.database import engine_of
from bot.storage.models import Case, Contact, Message
from bot.storage.statements import Statements
from bot.types import DEFAULT_VARIETY, NEEDS, VARIETIES, Variety

logger = logging.getLogger(__name__)

QUICK_EXIT_CONFIDENCE = 0.75
OPT_OUT_CHANNELS = ("sms", "whatsapp")  # where STOP also means: send nothing until START
NEED_CONFIDENCE = 0.35

_M = Message.__table__
_C = Contact.__table__
# Her messages stored but not processed, up to and including one: the ones to process
# in order (that one last, if it still waits), with her conversation's key.
_WAITING = (select(_M.c.id, _C.c.address_hash, _C.c.channel)
            .select_from(_M.join(_C, _C.c.id == _M.c.contact_id))
            .where(_M.c.contact_id == select(_M.c.contact_id)
                   .where(_M.c.id == bindparam("message_id")).scalar_subquery(),
                   _M.c.direction == "in", _M.c.status == "received",
                   _M.c.id <= bindparam("message_id"))
            .order_by(_M.c.id))

_CASES = Case.__table__
# The id of her latest case still open (add her contact: `.where`).
_LATEST_OPEN_CASE = (select(_CASES.c.id).where(_CASES.c.status != "closed")
                     .order_by(_CASES.c.id.desc()).limit(1))
_EARLIER = _M.alias("earlier")


def _to_process(claiming: bool) -> Any:
    """The message to process, locked (the fence: one commit per message), with her
    contact, the id of her latest open case and whether an earlier message of hers
    still waits (then that one goes first), in one read. Her message's columns are read
    as such (not as an object of the ORM's session): `_PROCESSED` writes its new state.
    `claiming` (PostgreSQL): also whether her replies may be claimed as they are
    queued: not if a message to her waits in the outbox or is being sent (they queue
    behind it), nor if another worker's claim holds her. Her claims' advisory lock
    (`bot.outbox`) is then held to the commit, so that no claim takes a message of hers
    meanwhile: a counselor's message claimed during the processing could be overtaken."""
    columns = [_M.c.status, _M.c.channel, _M.c.body_enc, _M.c.payload_enc,
               _M.c.provider_message_id, _M.c.created_at, Contact,
               _LATEST_OPEN_CASE.where(_CASES.c.contact_id == Contact.id)
               .scalar_subquery().label("latest"),
               exists().where(_EARLIER.c.contact_id == Contact.id,
                              _EARLIER.c.direction == "in", _EARLIER.c.status == "received",
                              _EARLIER.c.id < _M.c.id).label("earlier")]
    if claiming:
        columns.append(and_(
            func.pg_try_advisory_xact_lock(CLAIM_LOCK_SPACE, Contact.id),
            ~exists().where(_EARLIER.c.contact_id == Contact.id,
                            _EARLIER.c.direction == "out",
                            _EARLIER.c.status.in_(("pending", "sending")))).label("claim"))
    return (select(*columns).join(Contact, Contact.id == _M.c.contact_id)
            .where(_M.c.id == bindparam("message_id")).with_for_update(of=_M))


_TO_PROCESS = {claiming: _to_process(claiming) for claiming in (False, True)}
_PROCESSED = (update(_M).where(_M.c.id == bindparam("message_id"))
              .values(status="processed", processed_at=bindparam("now"),
                      conversation_id=bindparam("to_conversation"),
                      case_id=bindparam("to_case")))
# PostgreSQL, her replies claimed as they were queued: the same, reading her contact as
# it is then (what sending them needs: `Outbox.as_claimed`).
_PROCESSED_READING_HER = (_PROCESSED.where(_C.c.id == _M.c.contact_id)
                          .returning(_C.c.address_enc, _C.c.opted_out_at,
                                     _C.c.last_inbound_at))


class _Unknown:
    """Not read yet (as opposed to None: read, and there is none)."""


# Her contact touched (and locked) by her message: STOP and START set her opt-out.
_TOUCH = (update(_C).where(_C.c.channel == bindparam("her_channel"),
                           _C.c.address_hash == bindparam("key"))
          .values(last_inbound_at=bindparam("now"),
                  opted_out_at=sql_case((bindparam("opt", type_=String) == "stop",
                                         bindparam("now")),
                                        (bindparam("opt", type_=String) == "start", null()),
                                        else_=_C.c.opted_out_at))
          .returning(_C.c.id, _C.c.opted_out_at))
_INBOUND_VALUES = ("channel", "kind", "body_enc", "payload_enc", "provider_message_id",
                   "created_at")


def _store_in_one_statement() -> Any:
    """PostgreSQL: `_store` for a contact that exists, as one statement committed by
    itself (no BEGIN and COMMIT, one round trip instead of five): her contact touched
    and locked, her message inserted once the lock is held (so ids follow her order),
    what was held for her released unless she opted out. Returns her message's id
    (None when she has no contact yet) and how many were released."""
    touched = _TOUCH.cte("touched")
    row = [touched.c.id.label("contact_id"), literal("in").label("direction"),
           literal("her").label("sender"), literal("received").label("status"),
           literal(0).label("attempts"),
           *(bindparam(f"in_{name}", type_=_M.c[name].type).label(name)
             for name in _INBOUND_VALUES)]
    stored = (insert(_M).from_select([c.name for c in row], select(*row))
              .returning(_M.c.id).cte("stored"))
    released = (update(_M).where(
        _M.c.contact_id.in_(select(touched.c.id).where(touched.c.opted_out_at.is_(None))),
        _M.c.direction == "out", _M.c.status == "held")
        .values(status="pending", next_attempt_at=bindparam("now"), last_error=None)
        .returning(_M.c.id).cte("released"))
    return select(select(stored.c.id).scalar_subquery().label("message_id"),
                  select(func.count()).select_from(released).scalar_subquery()
                  .label("released"))


_STORE = _store_in_one_statement()

# Sent when processing fails: it cannot come from the flow, which may be what failed.
APOLOGY: dict[Variety, str] = {
    "ary": "سمحي لينا، وقع مشكل. عاودي كتبي من بعد شوية.",
    "ary_latn": "Sm7i lina, w9e3 mochkil. 3awdi ktbi mn b3d chwiya.",
    "ar": "عذرا، حدث خطأ. أعيدي الكتابة بعد قليل.",
    "fr": "Désolée, un problème est survenu. Réessayez dans un instant.",
}


class PlaceFinder(Protocol):
    def lookup(self, text: str) -> Place | None: ...

    def nearest(self, lat: float, lon: float) -> Place | None: ...


class VarietyChooser(Protocol):
    def __call__(self, current: Variety | None, result: NluResult, text: str) -> Variety: ...


@dataclass(frozen=True, slots=True)
class _Stored:
    message_id: int
    released: int


@dataclass(frozen=True, slots=True)
class BotReply:
    text: str
    buttons: tuple[ReplyButton, ...] = ()


@dataclass(slots=True)
class _Outcome:
    session: engine.Session
    replies: list[BotReply]
    wipe: bool = False  # quick exit: forget the unfinished conversation
    erased: bool = False  # she asked for erasure: everything of hers is gone


@dataclass(slots=True)
class HandleResult:
    replies: list[BotReply] = field(default_factory=list)
    duplicate: bool = False
    language: Variety | None = None
    outbound: list[int] = field(default_factory=list)  # replies queued, to be claimed
    claimed: list[Claimed] = field(default_factory=list)  # replies queued claimed


class _NotFirst:
    """`_process_locked`: an earlier message of hers still waits; nothing was done."""


_NOT_FIRST = _NotFirst()


def place_slot(place: Place) -> dict[str, Any]:
    return {"id": place.id, "name_fr": place.name_fr, "name_ar": place.name_ar,
            "province_id": place.province_id, "region_id": place.region_id,
            "lat": place.lat, "lon": place.lon}


def engine_input(flow: Flow, session: engine.Session, result: NluResult,
                 inbound: InboundMessage, variety: Variety, places: PlaceFinder) -> engine.Input:
    """Her message as the flow engine sees it: the NLU's reading, her town, her needs.
    Shared by the dialogue and the console's rehearsal of a draft flow."""
    place: Place | None = None
    if inbound.location is not None:
        place = places.nearest(*inbound.location)
    elif engine.expected_input(flow, session) == "place" and inbound.text.strip():
        place = places.lookup(inbound.text)
    if place is None and result.place is not None:
        place = result.place.place
    needs = tuple(intent for intent, score in result.intent_ranking
                  if intent in NEEDS and score >= NEED_CONFIDENCE)
    if result.intent in NEEDS and result.intent not in needs:
        needs = (result.intent, *needs)
    return engine.Input(
        text=inbound.text, language=variety, choice_id=inbound.choice_id,
        intent=result.intent, intent_confidence=result.confidence,
        urgent=result.urgent or result.intent == "emergency",
        quick_exit=(result.intent == "quick_exit"
                    and result.confidence >= QUICK_EXIT_CONFIDENCE),
        needs=needs, violence=result.violence,
        place=place_slot(place) if place is not None else None,
    )


class DialogueManager:
    def __init__(self, *, sessionmaker: async_sessionmaker[AsyncSession],
                 sessions: SessionStore, locks: ConversationLock, nlu: NluBackend,
                 places: PlaceFinder, choose_variety: VarietyChooser, flows: FlowRegistry,
                 flow_name: str, cipher: Cipher, hasher: AddressHasher, cases: CaseService,
                 outbox: Outbox, statements: Statements, session_ttl: int) -> None:
        self._sessionmaker = sessionmaker
        self._engine = engine_of(sessionmaker)
        self._statements = statements
        self._postgres = statements.postgres
        self._sessions = sessions
        self._locks = locks
        self._nlu = nlu
        self._places = places
        self._choose_variety = choose_variety
        self._flows = flows
        self._flow_name = flow_name
        self._cipher = cipher
        self._hasher = hasher
        self._cases = cases
        self._outbox = outbox
        self._session_ttl = session_ttl

    @property
    def flow(self) -> Flow:
        return self._flows.get(self._flow_name)

    def conversation_key(self, channel: str, address: str) -> str:
        return self._hasher.hash(channel, address)

    async def current_session(self, channel: str, address: str) -> engine.Session | None:
        """Her conversation as it stands, if there is one."""
        return await self._load_session(self.conversation_key(channel, address))

    async def variety_of(self, channel: str, address: str) -> Variety | None:
        """The variety of her current conversation, if there is one."""
        session = await self.current_session(channel, address)
        return session.language if session is not None else None

    # --- sessions --------------------------------------------------------------------

    async def _load_checkpoint(self, key: str) -> Checkpoint:
        raw = await self._sessions.load(key)
        if raw is None:
            return Checkpoint()
        try:
            return Checkpoint.decode(self._cipher.decrypt(raw))
        except (DecryptionError, ValueError, KeyError, TypeError):
            logger.warning("session %s unreadable; starting afresh", key[:12])
            return Checkpoint()

    @staticmethod
    def _session_from(key: str, data: dict[str, Any] | None) -> engine.Session | None:
        if data is None:
            return None
        try:
            return engine.Session.from_dict(data)
        except (ValueError, KeyError, TypeError, AttributeError):
            logger.warning("session %s unreadable; starting afresh", key[:12])
            return None

    async def _load_session(self, key: str) -> engine.Session | None:
        return self._session_from(key, (await self._load_checkpoint(key)).session_for(None))

    async def _save_checkpoint(self, key: str, checkpoint: Checkpoint) -> None:
        await self._sessions.save(key, self._cipher.encrypt(checkpoint.encode()),
                                  self._session_ttl)

    async def _rewind(self, key: str, message_id: int) -> None:
        """Processing `message_id` failed after its checkpoint was saved: the session
        goes back to what it was before (the message will not be processed again)."""
        checkpoint = await self._load_checkpoint(key)
        if checkpoint.applied == message_id:
            await self._save_checkpoint(key, Checkpoint(after=checkpoint.before))

    # --- the inbox ---------------------------------------------------------------------

    async def _open_case(self, db: AsyncSession, contact: Contact, case_id: int | None,
                         *, latest: int | None | type[_Unknown] = _Unknown) -> Case | None:
        """Her case: the one of her session (`case_id`), else her latest open one
        (`latest`, its id when the caller read it already; None: she has none)."""
        if case_id is None and latest is _Unknown:
            latest = await db.scalar(_LATEST_OPEN_CASE.where(
                _CASES.c.contact_id == contact.id))
        wanted = case_id if case_id is not None else latest
        case = await db.get(Case, wanted) if isinstance(wanted, int) else None
        if case is None or case.status == "closed" or case.contact_id != contact.id:
            return None
        return case

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

    def _inbound_from_row(self, row: Any, contact: Contact) -> InboundMessage:
        """Her message as the inbox stored it (`row`: the columns `_TO_PROCESS` reads)."""
        payload: dict[str, Any] = {}
        if row.payload_enc is not None:
            payload = json.loads(self._cipher.decrypt(row.payload_enc))
        location = payload.get("location")
        command = payload.get("command")
        return InboundMessage(
            channel=row.channel,  # type: ignore[arg-type]
            address=self._cipher.decrypt(contact.address_enc),
            text=self._cipher.decrypt_optional(row.body_enc) or "",
            provider_message_id=row.provider_message_id,
            choice_id=payload.get("choice_id"),
            location=(float(location[0]), float(location[1])) if location else None,
            media=tuple(Media(m["kind"], m["url"], m.get("content_type"))
                        for m in payload.get("media", [])),
            command=command if command in ("start", "stop", "help") else None,
            received_at=row.created_at,
        )

    # --- entry points --------------------------------------------------------------------

    async def handle(self, inbound: InboundMessage, *, inline: bool) -> HandleResult:
        """Store and process one message. `inline`: the replies travel in the webhook's
        answer (simulator, terminal) instead of through the outbox."""
        key = self.conversation_key(inbound.channel, inbound.address)
        async with self._locks.hold(key) as held:
            message_id = await self._store(key, inbound)
            if message_id is None:
                return HandleResult(duplicate=True)
            try:
                result = await self._process_locked(key, message_id, inline, held)
                assert not isinstance(result, _NotFirst), "only when in_order"
            except Exception as exc:
                if is_outage(exc):
                    raise  # stored, left for the inbox sweep; the caller says "later"
                # The dispatch boundary: her message is marked failed (never replayed
                # against a later state of her conversation) and she gets an apology.
                logger.exception("inbound message %s failed on %s", message_id,
                                 inbound.channel)
                await self._rewind(key, message_id)
                text = await self._fail(message_id, inline=inline)
                return HandleResult(replies=[BotReply(text)] if text else [])
        if not inline:
            self._outbox.wake()
        return result or HandleResult()

    async def accept(self, inbound: InboundMessage) -> int | None:
        """Store her message (the inbox) and commit: after this, it may be acknowledged
        to the provider. Returns the stored row's id, or None for a redelivery of a
        message already stored (same provider message id). Needs the database only:
        her contact's row lock orders her messages, so a Redis outage does not stop
        Amane from taking them."""
        key = self.conversation_key(inbound.channel, inbound.address)
        return await self._store(key, inbound)

    async def _store(self, key: str, inbound: InboundMessage) -> int | None:
        """Her message into the inbox, committed; None for a redelivery. Her contact's
        row is locked from the first statement to the commit (PostgreSQL), so her
        messages are stored one at a time and their ids follow the order they were
        committed in."""
        now = datetime.now(timezone.utc)
        opt = inbound.command if inbound.command == "start" or (
            inbound.command == "stop" and inbound.channel in OPT_OUT_CHANNELS) else None
        touch = {"her_channel": inbound.channel, "key": key, "now": now, "opt": opt}
        try:
            stored = None
            if self._postgres:
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
        return int(stored.message_id)

    async def _store_in_transaction(self, touch: dict[str, Any],
                                    inbound: InboundMessage) -> _Stored:
        async with self._engine.begin() as conn:
            contact = (await conn.execute(_TOUCH, touch)).first()
            if contact is None:  # her first message on this channel
                try:
                    async with conn.begin_nested():
                        await conn.execute(insert(_C).values(
                            channel=inbound.channel, address_hash=touch["key"],
                            address_enc=self._cipher.encrypt(inbound.address)))
                except IntegrityError:
                    pass  # created meanwhile by another worker
                contact = (await conn.execute(_TOUCH, touch)).one()
            message_id = (await conn.execute(
                insert(_M).values(contact_id=contact.id, direction="in", sender="her",
                                  status="received", **self._inbound_values(inbound))
                .returning(_M.c.id))).scalar_one()
            released = 0
            if contact.opted_out_at is None:
                released = await self._outbox.release_held(conn, contact.id)
        return _Stored(int(message_id), released)

    async def process(self, message_id: int, *, wait: float | None = None,
                      caller_delivers: bool = False, key: str | None = None,
                      channel: str = "") -> HandleResult:
        """Process a stored message, and before it any older one of hers still waiting,
        in order. A message that fails is marked failed and she gets a short apology;
        the next ones are still processed. One that meets an outage (database or Redis
        unreachable) stays waiting, with the ones after it. Replies go through the
        outbox. `wait`: seconds to wait for her conversation lock (0: raise `LockBusy`
        if another worker has it). `caller_delivers`: the caller sends
        `result.claimed` (her replies, claimed as they are queued when nothing else
        waits to go to her) and `result.outbound` itself, so the outbox loop is woken
        only for an apology (else it would race the caller for the same messages, a
        claim in vain each time).
        `key`, `channel`: her conversation's key and channel, when the caller has just
        stored the message: her lock is taken at once, and hers waiting before it are
        looked for only if the read of this one finds one (`_TO_PROCESS`), which saves
        a statement on almost every message."""
        # Hers stored before this one are all committed (`_store` orders them).
        queue = [message_id]
        if key is None:
            rows = await self._statements.rows(_WAITING, {"message_id": message_id})
            if not rows or rows[-1].id != message_id:
                return HandleResult(duplicate=True)  # processed meanwhile, or gone
            queue = [r.id for r in rows]
            key, channel = rows[-1].address_hash, rows[-1].channel
        result = HandleResult()
        apologised = False
        async with self._locks.hold(key, wait=wait) as held:
            while queue:
                waiting_id = queue.pop(0)
                try:
                    # Only her last message's replies are claimed as they are queued:
                    # an earlier one's would wait, claimed, while the next are read.
                    done = await self._process_locked(
                        key, waiting_id, inline=False, held=held, in_order=True,
                        claim=caller_delivers and self._postgres and not queue)
                except Exception as exc:
                    if is_outage(exc):
                        # Left as received, with the later ones (her order): the inbox
                        # sweep processes them once the server is back.
                        logger.warning("inbound message %s left for later: %s",
                                       waiting_id, type(exc).__name__)
                        break
                    logger.exception("inbound message %s failed on %s", waiting_id,
                                     channel)
                    await self._rewind(key, waiting_id)
                    apologised = await self._fail(waiting_id) is not None or apologised
                    continue
                if isinstance(done, _NotFirst):
                    # An earlier one of hers waits (a worker died, an outage): all of
                    # them, in order, this one last.
                    rows = await self._statements.rows(_WAITING, {"message_id": waiting_id})
                    queue = [r.id for r in rows] + queue
                elif done is not None:
                    result.replies.extend(done.replies)
                    result.language = done.language
                    result.outbound.extend(done.outbound)
                    result.claimed.extend(done.claimed)
        if apologised or not caller_delivers:
            self._outbox.wake()
        return result

    async def process_pending(self, older_than: timedelta = timedelta(0), *,
                              wait: float | None = None) -> int:
        """Process what was stored but not processed (a crash between the
        acknowledgement and the processing, an outage), stored more than `older_than`
        ago. Returns how many such messages there were. Safe with many workers: a
        conversation another worker holds is skipped when `wait` is 0 (it is on it)."""
        before = datetime.now(timezone.utc) - older_than
        async with self._sessionmaker() as db:
            rows = (await db.execute(select(Message.contact_id, func.max(Message.id),
                                            func.count()).where(
                Message.direction == "in", Message.status == "received",
                Message.created_at <= before)
                .group_by(Message.contact_id))).all()
        count = 0
        for _contact_id, last_id, waiting in rows:
            try:
                await self.process(int(last_id), wait=wait)
            except LockBusy:
                continue  # another worker is processing her messages
            count += int(waiting)
        if count:
            logger.info("%d stored message(s) processed by the inbox sweep", count)
        return count

    async def set_aside(self, message_id: int, *, say_so: bool) -> bool:
        """She wrote more than the rate limit allows: her message is kept, on her case if
        she has one, but not run through the flow; `say_so` (once per window): a polite
        line asks her to wait. A message about danger is never set aside: returns False,
        and the caller processes it as usual."""
        async with self._sessionmaker() as db:
            row = await db.get(Message, message_id, with_for_update=True)
            if row is None or row.contact_id is None or row.status != "received":
                return True
            text = self._cipher.decrypt_optional(row.body_enc) or ""
            if text.strip():
                read = await self._nlu.parse(text)
                if read.urgent or read.intent == "emergency":
                    return False
            contact = await db.get(Contact, row.contact_id)
            assert contact is not None
            case = await self._open_case(db, contact, None)
            row.status = "processed"
            row.processed_at = datetime.now(timezone.utc)
            row.last_error = "rate limited"
            row.case_id = case.id if case is not None else None
            if say_so:
                session = await self._load_session(contact.address_hash)
                variety = session.language if session is not None else None
                self._outbox.enqueue(db, contact_id=row.contact_id, channel=row.channel,
                                     text=SLOW_DOWN[variety or DEFAULT_VARIETY], sender="bot",
                                     case_id=row.case_id, conversation_id=row.conversation_id)
            await db.commit()
        if say_so:
            self._outbox.wake()
        return True

    async def _fail(self, message_id: int, *, inline: bool = False) -> str | None:
        """Processing failed: mark her message, keep her session, apologise (through the
        outbox, or returned when the answer carries the replies). Returns the apology."""
        async with self._sessionmaker() as db:
            row = await db.get(Message, message_id, with_for_update=True)
            if row is None or row.contact_id is None or row.status != "received":
                return None
            row.status = "failed"
            row.last_error = "processing failed"
            contact = await db.get(Contact, row.contact_id)
            session = await self._load_session(contact.address_hash) if contact else None
            case = await db.get(Case, row.case_id) if row.case_id else None
            variety = session.language if session is not None else (
                case.language if case is not None and case.language in VARIETIES else None)
            text = apology(variety)  # type: ignore[arg-type]
            self._outbox.enqueue(db, contact_id=row.contact_id, channel=row.channel,
                                 text=text, sender="bot", case_id=row.case_id,
                                 conversation_id=row.conversation_id,
                                 status="inline" if inline else "pending")
            await db.commit()
            return text

    async def _process_locked(self, key: str, message_id: int, inline: bool,
                              held: HeldLock | None = None, *, in_order: bool = False,
                              claim: bool = False) -> HandleResult | _NotFirst | None:
        """Her message, her lock held: None if it was processed meanwhile (or erased).
        `in_order`: `_NOT_FIRST` if an earlier one of hers still waits (nothing is
        done: that one goes first). `claim` (PostgreSQL): her replies are queued
        claimed by this worker (`HandleResult.claimed`, for the caller to send) if
        nothing else waits in the outbox for her (`_to_process`); else they queue
        behind it."""
        checkpoint = await self._load_checkpoint(key)
        before = checkpoint.session_for(message_id)
        session = self._session_from(key, before)
        async with self._sessionmaker() as db:
            # The fence: whatever happened to the lock, one commit per message. A second
            # worker on the same message waits on this row lock, then finds it done.
            found = (await db.execute(_TO_PROCESS[claim],
                                      {"message_id": message_id})).first()
            if found is None or found.status != "received":
                return None  # processed meanwhile, or erased by a quick exit
            if in_order and found.earlier:
                return _NOT_FIRST
            contact = found.Contact
            inbound = self._inbound_from_row(found, contact)
            case_id = session.host.get("case_id") if session is not None else None
            case = await self._open_case(db, contact, case_id if isinstance(case_id, int)
                                         else None, latest=found.latest)
            if case is None and session is not None and (session.host.get("case_id")
                                                          or session.status != "active"):
                session = None  # her case was closed, or the last conversation ended
            if session is None:
                session = engine.Session(flow=self._flow_name)
                if case is not None:
                    session.host.update(case_id=case.id, case_reference=case.reference)
                    session.language = case.language if case.language in VARIETIES else None
            conversation_id = session.conversation_id  # hers goes with the one it came in

            result = await self._understand(session, inbound)
            # A question of the flow still waits for her answer (after an urgent handoff,
            # or a confirmation asked after her case exists): the flow takes the message.
            answering_flow = session.status == "active" and session.node is not None
            outcome = await self._channel_event(db, session, contact, inbound)
            if outcome is None:
                if case is not None and not answering_flow:
                    outcome = await self._case_mode(db, session, contact, result, inbound)
                else:
                    outcome = await self._flow_mode(db, session, contact, result, inbound)
            session, replies = outcome.session, outcome.replies
            # Her message goes with her case: the one she had, else the one it made.
            to_case = case.id if case is not None else session.host.get("case_id")
            outbound: list[int] = []
            claimed: list[Claimed] = []
            if outcome.wipe or outcome.erased:
                outbound = await self._forget(db, message_id, contact, outcome, inline=inline,
                                              conversation_id=conversation_id,
                                              to_case=to_case)
            else:
                # Every other message, in two statements: her replies queued, her
                # message marked processed.
                status = ("inline" if inline else "sending"
                          if claim and found.claim else "pending")
                rows = [self._outbox.row(
                    contact_id=contact.id, channel=inbound.channel, text=reply.text,
                    sender="bot", case_id=session.host.get("case_id"),
                    conversation_id=session.conversation_id, buttons=reply.buttons,
                    status=status) for reply in replies]
                ids = await self._outbox.insert(db, rows)
                processed = {"message_id": message_id, "now": datetime.now(timezone.utc),
                             "to_conversation": conversation_id, "to_case": to_case}
                if status == "sending":
                    her = (await db.execute(_PROCESSED_READING_HER, processed)).one()
                    claimed = self._outbox.as_claimed(ids, rows, her)
                else:
                    await db.execute(_PROCESSED, processed)
                    outbound = ids if status == "pending" else []
            forget = outcome.wipe or outcome.erased
            if held is not None:
                held.ensure()
            await self._save_checkpoint(key, Checkpoint(
                applied=message_id, before=before,
                after=None if forget else session.to_dict()))
            await db.commit()
        if forget:
            await self._sessions.delete(key)
        return HandleResult(replies=replies, language=session.language, outbound=outbound,
                            claimed=claimed)

    async def _forget(self, db: AsyncSession, message_id: int, contact: Contact,
                      outcome: _Outcome, *, inline: bool, conversation_id: str,
                      to_case: int | None) -> list[int]:
        """A quick exit (`outcome.wipe`) or her erasure (`outcome.erased`): her last
        line is queued to go once sent, and what must not stay goes. `conversation_id`,
        `to_case`: her message's, if it stays. Returns the ids of the lines to send."""
        if outcome.erased:
            await self._cases.erase_her(db, contact, up_to=message_id)
            if inline:
                await self._delete_if_empty(db, contact)  # the last line goes inline
                return []
        enqueued = [self._outbox.enqueue(
            db, contact_id=contact.id, channel=contact.channel, text=reply.text,
            sender="bot", case_id=outcome.session.host.get("case_id"),
            conversation_id=outcome.session.conversation_id, buttons=reply.buttons,
            status="inline" if inline else "pending",
            # What the answer carried stays, on her case, as what it was: text.
            kind="text" if inline else FAREWELL)
            for reply in outcome.replies]
        if outcome.erased:
            # Everything of hers is gone but the last line: the outbox erases it, and
            # her contact, once sent.
            await db.flush()
            return [m.id for m in enqueued if m.status == "pending"]
        message = await db.get(Message, message_id)
        if message is not None:
            message.status = "processed"
            message.processed_at = datetime.now(timezone.utc)
            message.conversation_id = conversation_id
            message.case_id = to_case
        # Her last line goes once it is sent (even if she has just opted out: it is the
        # answer to her STOP), and nothing of an unfinished conversation stays.
        keep = [] if inline else enqueued
        await db.flush()
        await self._forget_conversation(db, contact, keep, up_to=message_id,
                                        also=[] if keep else enqueued)
        return [m.id for m in keep if m.status == "pending"]

    async def _understand(self, session: engine.Session, inbound: InboundMessage) -> NluResult:
        """Her words through the NLU; never a command, a location or an attachment."""
        text = inbound.text.strip()
        if text and inbound.command is None:
            return await self._nlu.parse(text)
        return NluResult(text="", language="other", language_confidence=0.0,
                         intent="out_of_scope", confidence=0.0)

    # --- what the channel says beyond words ----------------------------------------------

    def _question(self, session: engine.Session) -> list[BotReply]:
        reply = engine.current_question(self.flow, session)
        if reply is None:
            return []
        return [BotReply(reply.text, tuple(ReplyButton(c.id, c.label) for c in reply.choices))]

    async def _channel_event(self, db: AsyncSession, session: engine.Session,
                             contact: Contact, inbound: InboundMessage) -> _Outcome | None:
        """Commands (/start, STOP, HELP ...), attachments and locations sent without
        words. None: her message is words (or a button) for the flow or the case."""
        flow = self.flow
        variety: Variety = session.language or DEFAULT_VARIETY
        case_id = session.host.get("case_id")
        case = await db.get(Case, case_id) if case_id else None
        if case is not None:
            case.last_inbound_at = datetime.now(timezone.utc)
        if inbound.command == "stop":
            # SMS: Twilio confirms STOP itself and would refuse any reply.
            replies = [] if inbound.channel == "sms" else [BotReply(flow.text(
                "quick_exit_done", variety))]
            return _Outcome(session, replies, wipe=True)
        if inbound.command == "help":
            return _Outcome(session, [BotReply(flow.text("help", variety))])
        if inbound.text.strip() and inbound.command is None or inbound.choice_id is not None:
            return None
        if inbound.location is not None and not inbound.media:
            place = self._places.nearest(*inbound.location)
            if case is not None:
                if place is not None:
                    await self._cases.update_from_intake(db, case, IntakeFacts(
                        needs=(), violence=(), urgent=False, consent=case.consent,
                        place=place_slot(place), safe_contact={}, summary=None))
                return _Outcome(session, [BotReply(flow.text("received", variety))])
            if engine.expected_input(flow, session) == "place" or session.node is None:
                return None  # the flow takes it: her town, or her first message
            if place is not None and not session.slots.get("city"):
                session.slots["city"] = place_slot(place)
            return _Outcome(session, [BotReply(flow.text("received", variety)),
                                      *self._question(session)])
        if case is not None:
            if inbound.media:
                return _Outcome(session, [BotReply(flow.text("received", variety))])
            if inbound.command == "start":
                return _Outcome(session, [BotReply(flow.text("case_ack", variety))])
            return _Outcome(session, [])
        if session.node is None:
            return None  # a first message without words: the flow starts
        ack = [BotReply(flow.text("received", variety))] if inbound.media else []
        return _Outcome(session, [*ack, *self._question(session)])

    # --- after the handoff: her messages go to the case ---------------------------------

    async def _case_mode(self, db: AsyncSession, session: engine.Session, contact: Contact,
                         result: NluResult, inbound: InboundMessage) -> _Outcome:
        flow = self.flow
        variety = self._choose_variety(session.language, result, result.text)
        session.language = variety
        case = await db.get(Case, session.host["case_id"])
        assert case is not None
        case.last_inbound_at = datetime.now(timezone.utc)
        self._cases.notify(db, case, "message")
        erase = engine.is_erase_request(flow, inbound.text)
        quick = engine.is_quick_exit(flow, inbound.text) or (
            not erase and result.intent == "quick_exit"
            and result.confidence >= QUICK_EXIT_CONFIDENCE)
        if quick:
            return _Outcome(session, [BotReply(flow.text("quick_exit_done", variety))],
                            wipe=True)
        if erase:
            # Ask for confirmation through the flow; her next answer goes to it.
            asking = engine.Session(flow=self._flow_name, conversation_id=session.conversation_id,
                                    language=variety, slots={"case_requested": True},
                                    host=session.host)
            return await self._flow_mode(db, asking, contact, result, inbound)
        replies: list[BotReply] = []
        if result.urgent or result.intent == "emergency":
            replies.append(BotReply(flow.text("emergency_numbers", variety)))
            await self._cases.update_from_intake(db, case, IntakeFacts(
                needs=(), violence=result.violence, urgent=True, consent=case.consent,
                place=None, safe_contact={}, summary=None))
        elif result.violence:
            case.violence = list(dict.fromkeys([*case.violence, *result.violence]))
        if not session.host.get("acked") and not replies:
            replies.append(BotReply(flow.text("case_ack", variety)))
            session.host["acked"] = True
        return _Outcome(session, replies)

    # --- before the handoff: the flow ----------------------------------------------------

    def _input(self, session: engine.Session, result: NluResult, inbound: InboundMessage,
               variety: Variety) -> engine.Input:
        return engine_input(self.flow, session, result, inbound, variety, self._places)

    async def _flow_mode(self, db: AsyncSession, session: engine.Session, contact: Contact,
                         result: NluResult, inbound: InboundMessage) -> _Outcome:
        flow = self.flow
        variety = self._choose_variety(session.language, result, result.text)
        inp = self._input(session, result, inbound, variety)
        host = session.host
        session, events = engine.run(flow, session, inp)
        session.host = host
        replies: list[BotReply] = []
        wipe = erased = False
        for event in events:
            if isinstance(event, engine.Reply):
                text = event.text.replace("{reference}", str(host.get("case_reference", "")))
                replies.append(BotReply(text, tuple(ReplyButton(c.id, c.label)
                                                    for c in event.choices)))
            elif isinstance(event, engine.HandoffRequested):
                case = await self._cases.create_from_intake(
                    db, contact=contact, channel=contact.channel,
                    language=session.language or variety,
                    conversation_id=session.conversation_id,
                    facts=IntakeFacts.from_slots(event.slots, urgent=event.urgent))
                host.update(case_id=case.id, case_reference=case.reference)
            elif isinstance(event, engine.CaseUpdateRequested):
                case_id = host.get("case_id")
                existing = await db.get(Case, case_id) if case_id else None
                if existing is not None:
                    await self._cases.update_from_intake(db, existing,
                                                         IntakeFacts.from_slots(event.slots))
            elif isinstance(event, engine.EraseRequested):
                host.clear()  # the erasure itself is done by the caller (it knows up to
                erased = True  # which of her messages)
            elif isinstance(event, engine.QuickExit):
                wipe = True
        return _Outcome(session, replies, wipe=wipe and not erased, erased=erased)

    async def _forget_conversation(self, db: AsyncSession, contact: Contact,
                                   keep: list[Message], *, up_to: int,
                                   also: list[Message]) -> None:
        """After a quick exit, nothing of a conversation that did not become a case is
        kept: its messages up to the quick exit go, with `also` (the last line, when the
        answer carries it), while anything she wrote after it is still to be read; her
        contact goes too if nothing of hers is left. `keep`: the last line still to be
        sent; the outbox erases it, and her contact, once sent."""
        kept = [m.id for m in keep]
        query = delete(Message).where(
            Message.contact_id == contact.id, Message.case_id.is_(None),
            (Message.id <= up_to) | Message.id.in_([m.id for m in also]))
        if kept:
            query = query.where(Message.id.not_in(kept))
        await db.execute(query)
        if not kept:
            await self._delete_if_empty(db, contact)

    @staticmethod
    async def _delete_if_empty(db: AsyncSession, contact: Contact) -> None:
        """Her contact goes when no case and no message of hers is left."""
        await db.flush()
        cases = await db.scalar(select(func.count()).select_from(Case)
                                .where(Case.contact_id == contact.id))
        messages = await db.scalar(select(func.count()).select_from(Message)
                                   .where(Message.contact_id == contact.id))
        if not cases and not messages:
            await db.delete(contact)


def apology(variety: Variety | None) -> str:
    return APOLOGY[variety or DEFAULT_VARIETY]

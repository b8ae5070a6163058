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
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Protocol

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.base import InboundMessage, ReplyButton
from bot.crypto import AddressHasher, Cipher, DecryptionError
from bot.flows import engine
from bot.flows.registry import FlowRegistry
from bot.flows.schema import Flow
from bot.handoff.cases import CaseService, IntakeFacts
from bot.nlu.result import NluBackend, NluResult, Place
from bot.outbox import Outbox
from bot.sessions import ConversationLock, SessionStore
from bot.storage.models import Case, Contact, Message
from bot.types import NEEDS, VARIETIES, Variety

logger = logging.getLogger(__name__)

QUICK_EXIT_CONFIDENCE = 0.75
NEED_CONFIDENCE = 0.35

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
class BotReply:
    text: str
    buttons: tuple[ReplyButton, ...] = ()


@dataclass(slots=True)
class HandleResult:
    replies: list[BotReply] = field(default_factory=list)
    duplicate: bool = False
    language: Variety | None = None


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
                 outbox: Outbox, session_ttl: int) -> None:
        self._sessionmaker = sessionmaker
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

    # --- sessions --------------------------------------------------------------------

    async def _load_session(self, key: str) -> engine.Session | None:
        raw = await self._sessions.load(key)
        if raw is None:
            return None
        try:
            return engine.Session.from_dict(json.loads(self._cipher.decrypt(raw)))
        except (DecryptionError, ValueError, KeyError, TypeError):
            logger.warning("session %s unreadable; starting afresh", key[:12])
            return None

    async def _save_session(self, key: str, session: engine.Session) -> None:
        data = self._cipher.encrypt(json.dumps(session.to_dict(), ensure_ascii=False))
        await self._sessions.save(key, data, self._session_ttl)

    # --- the inbox ---------------------------------------------------------------------

    async def _contact(self, db: AsyncSession, channel: str, address: str,
                       key: str) -> Contact:
        contact = await db.scalar(select(Contact).where(Contact.channel == channel,
                                                        Contact.address_hash == key))
        if contact is not None:
            return contact
        contact = Contact(channel=channel, address_hash=key,
                          address_enc=self._cipher.encrypt(address))
        try:
            async with db.begin_nested():
                db.add(contact)
        except IntegrityError:  # created meanwhile by another worker
            contact = await db.scalar(select(Contact).where(Contact.channel == channel,
                                                            Contact.address_hash == key))
            assert contact is not None
        return contact

    async def _open_case(self, db: AsyncSession, contact: Contact,
                         case_id: int | None) -> Case | None:
        if case_id is not None:
            case = await db.get(Case, case_id)
        else:
            case = await db.scalar(select(Case).where(
                Case.contact_id == contact.id, Case.status != "closed")
                .order_by(Case.id.desc()).limit(1))
        if case is None or case.status == "closed" or case.contact_id != contact.id:
            return None
        return case

    def _inbound_row(self, inbound: InboundMessage, contact: Contact,
                     session: engine.Session, case: Case | None) -> Message:
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
        return Message(
            contact_id=contact.id, case_id=case.id if case else None,
            conversation_id=session.conversation_id, channel=inbound.channel,
            direction="in", sender="her", kind=kind,
            body_enc=self._cipher.encrypt(inbound.text) if inbound.text else None,
            payload_enc=self._cipher.encrypt(json.dumps(payload)) if payload else None,
            provider_message_id=inbound.provider_message_id, status="received",
            created_at=inbound.received_at,
        )

    # --- entry point ---------------------------------------------------------------------

    async def handle(self, inbound: InboundMessage, *, inline: bool) -> HandleResult:
        """Process one message. `inline`: the replies travel in the webhook's answer
        (simulator, terminal) instead of through the outbox."""
        key = self.conversation_key(inbound.channel, inbound.address)
        async with self._locks.hold(key):
            return await self._handle_locked(key, inbound, inline)

    async def _handle_locked(self, key: str, inbound: InboundMessage,
                             inline: bool) -> HandleResult:
        session = await self._load_session(key)
        async with self._sessionmaker() as db:
            contact = await self._contact(db, inbound.channel, inbound.address, key)
            case_id = session.host.get("case_id") if session is not None else None
            case = await self._open_case(db, contact, case_id if isinstance(case_id, int)
                                         else None)
            if case is None and session is not None and (session.host.get("case_id")
                                                          or session.status != "active"):
                session = None  # her case was closed, or the last conversation ended
            if session is None:
                session = engine.Session(flow=self._flow_name)
                if case is not None:
                    session.host.update(case_id=case.id, case_reference=case.reference)
                    session.language = case.language if case.language in VARIETIES else None
            row = self._inbound_row(inbound, contact, session, case)
            db.add(row)
            now = datetime.now(timezone.utc)
            contact.last_inbound_at = now
            try:
                await db.commit()
            except IntegrityError:
                await db.rollback()
                logger.info("duplicate %s message ignored", inbound.channel)
                return HandleResult(duplicate=True)
            inbound_id = row.id

        result = await self._understand(session, inbound)
        async with self._sessionmaker() as db:
            contact = await db.get(Contact, contact.id)
            assert contact is not None
            if case is not None:
                outcome = await self._case_mode(db, session, contact, result, inbound)
            else:
                outcome = await self._flow_mode(db, session, contact, result, inbound)
            session, replies, wipe = outcome
            for reply in replies:
                self._outbox.enqueue(
                    db, contact_id=contact.id, channel=inbound.channel, text=reply.text,
                    sender="bot", case_id=session.host.get("case_id"),
                    conversation_id=session.conversation_id, buttons=reply.buttons,
                    status="inline" if inline else "pending")
            message = await db.get(Message, inbound_id)
            if message is not None:
                message.status = "processed"
                message.processed_at = datetime.now(timezone.utc)
                if message.case_id is None and session.host.get("case_id"):
                    message.case_id = session.host["case_id"]
            if wipe:
                await self._forget_conversation(db, contact, session)
            await db.commit()
        if wipe:
            await self._sessions.delete(key)
        else:
            await self._save_session(key, session)
        if not inline and replies:
            self._outbox.wake()
        return HandleResult(replies=replies, language=session.language)

    async def _understand(self, session: engine.Session, inbound: InboundMessage) -> NluResult:
        text = inbound.text.strip()
        result = await self._nlu.parse(text) if text else NluResult(
            text="", language="other", language_confidence=0.0, intent="out_of_scope",
            confidence=0.0)
        return result

    # --- after the handoff: her messages go to the case ---------------------------------

    async def _case_mode(self, db: AsyncSession, session: engine.Session, contact: Contact,
                         result: NluResult, inbound: InboundMessage
                         ) -> tuple[engine.Session, list[BotReply], bool]:
        flow = self.flow
        variety = self._choose_variety(session.language, result, inbound.text)
        session.language = variety
        case = await db.get(Case, session.host["case_id"])
        assert case is not None
        case.last_inbound_at = datetime.now(timezone.utc)
        self._cases.notify(db, case, "message")
        quick = engine.is_quick_exit(flow, inbound.text) or (
            result.intent == "quick_exit" and result.confidence >= QUICK_EXIT_CONFIDENCE)
        if quick:
            return session, [BotReply(flow.text("quick_exit_done", variety))], True
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
        return session, replies, False

    # --- before the handoff: the flow ----------------------------------------------------

    def _input(self, session: engine.Session, result: NluResult, inbound: InboundMessage,
               variety: Variety) -> engine.Input:
        return engine_input(self.flow, session, result, inbound, variety, self._places)

    async def _flow_mode(self, db: AsyncSession, session: engine.Session, contact: Contact,
                         result: NluResult, inbound: InboundMessage
                         ) -> tuple[engine.Session, list[BotReply], bool]:
        flow = self.flow
        variety = self._choose_variety(session.language, result, inbound.text)
        inp = self._input(session, result, inbound, variety)
        host = session.host
        session, events = engine.run(flow, session, inp)
        session.host = host
        replies: list[BotReply] = []
        wipe = False
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
            elif isinstance(event, engine.QuickExit):
                wipe = True
        return session, replies, wipe

    async def _forget_conversation(self, db: AsyncSession, contact: Contact,
                                   session: engine.Session) -> None:
        """After a quick exit, nothing of a conversation that did not become a case is
        kept: its messages go, and her contact too if she has no case."""
        await db.execute(delete(Message).where(
            Message.contact_id == contact.id, Message.case_id.is_(None)))
        cases = await db.scalar(select(func.count()).select_from(Case)
                                .where(Case.contact_id == contact.id))
        if not cases:
            await db.delete(contact)


def apology(variety: Variety | None) -> str:
    return APOLOGY[variety or "ary"]


def facts_preview(slots: Mapping[str, Any]) -> IntakeFacts:
    return IntakeFacts.from_slots(slots)

"""The case queue: cases created from the intake, routed to a center, claimed,
answered and closed by counselors. SQL is the source of truth; every counselor action
is audited."""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import case as sql_case
from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot import audit
from bot.crypto import Cipher, mask_address
from bot.handoff.directory import CenterDirectory
from bot.handoff.history import moves_of
from bot.handoff.routing import route_to_nearest_center
from bot.notify import CaseNotice, CaseNotifier, MemoryCaseNotifier, publish_after_commit
from bot.handoff.updates import UpdatesToHer
from bot.outbox.queue import OutboxQueue
from bot.storage.models import Account, Case, CaseEvent, CaseNote, Center, Contact, Message
from bot.types import NEEDS, VIOLENCE_TYPES

logger = logging.getLogger(__name__)

REFERENCE_ALPHABET = "ACDEFHJKMNPRTUVWXY3479"  # no 0/O, 1/I/L, 2/Z, 5/S, 6/G, 8/B
REFERENCE_PREFIX = "AM-"
REFERENCE_LENGTH = 6
OUTCOMES = ("service_given", "referred", "unreachable", "withdrew", "duplicate", "other")
ERASED = "erased"  # the outcome of a case closed because she asked for erasure
MAX_COUNSELOR_TEXT = 4096


# Urgent cases no center has (her town unknown, or the last center's time ran out):
# every counselor sees them in her queue until one claims it.
UNROUTED_URGENT = and_(Case.center_id.is_(None), Case.urgent.is_(True),
                       Case.status == "queued")


class CaseNotFound(Exception):
    """No such case, or not one this account may see (both answer 404)."""


class CaseConflict(Exception):
    """The case is not in a state that allows this action (answers 409)."""


class CaseForbidden(Exception):
    """This role may not do this at all (answers 403)."""


async def forget_free_text(db: AsyncSession, case_ids: Sequence[int]) -> None:
    """What counselors wrote about her on these cases: notes go, transfer and escalation
    reasons are blanked (the moves themselves stay, for the case's history)."""
    if not case_ids:
        return
    await db.execute(delete(CaseNote).where(CaseNote.case_id.in_(list(case_ids))))
    await db.execute(update(CaseEvent).where(CaseEvent.case_id.in_(list(case_ids)))
                     .values(reason_enc=None))


def new_reference() -> str:
    return REFERENCE_PREFIX + "".join(secrets.choice(REFERENCE_ALPHABET)
                                      for _ in range(REFERENCE_LENGTH))


def normalise_reference(reference: str) -> str:
    reference = reference.strip().upper()
    if not reference.startswith(REFERENCE_PREFIX):
        reference = REFERENCE_PREFIX + reference
    return reference


@dataclass(frozen=True, slots=True)
class IntakeFacts:
    """What the intake flow learnt, as the case will keep it."""

    needs: tuple[str, ...]
    violence: tuple[str, ...]
    urgent: bool
    consent: bool
    place: Mapping[str, Any] | None
    safe_contact: Mapping[str, str]
    summary: str | None

    @classmethod
    def from_slots(cls, slots: Mapping[str, Any], urgent: bool = False) -> IntakeFacts:
        needs = slots.get("needs") or []
        if isinstance(needs, str):
            needs = [needs]
        place = slots.get("city")
        safe_contact = {k: str(slots[s]) for k, s in (("how", "contact_how"),
                                                      ("when", "contact_when"))
                        if slots.get(s)}
        told = [str(t) for t in slots.get("disclosures") or []]
        story = slots.get("story")
        summary = "\n".join([*told, str(story)] if story else told) or None
        return cls(
            needs=tuple(n for n in dict.fromkeys(needs) if n in NEEDS),
            violence=tuple(v for v in dict.fromkeys(slots.get("violence") or [])
                           if v in VIOLENCE_TYPES),
            urgent=urgent or bool(slots.get("urgent")) or bool(slots.get("urgent_signal")),
            consent=slots.get("consent") == "yes",
            place=place if isinstance(place, Mapping) and place.get("lat") is not None else None,
            safe_contact=safe_contact,
            summary=str(summary) if summary else None,
        )


class CaseService:
    def __init__(self, cipher: Cipher, directory: CenterDirectory, outbox: OutboxQueue,
                 updates: UpdatesToHer, notifier: CaseNotifier | None = None) -> None:
        self._cipher = cipher
        self._directory = directory
        self._outbox = outbox
        self._updates = updates
        self.notifier: CaseNotifier = notifier or MemoryCaseNotifier()

    def notify(self, db: AsyncSession, case: Case, kind: str,
               *also: str | None) -> None:
        """Tell the consoles watching the case's queue (and the queues in `also`), once
        the transaction commits."""
        publish_after_commit(db, self.notifier, [CaseNotice(
            kind, case.reference, tuple(dict.fromkeys((case.center_id, *also))),
            urgent=case.urgent)])

    # --- from the intake -------------------------------------------------------------

    async def create_from_intake(self, db: AsyncSession, *, contact: Contact, channel: str,
                                 language: str, conversation_id: str,
                                 facts: IntakeFacts) -> Case:
        # A new intake after her earlier case was closed for good: linked to it.
        earlier = await db.scalar(select(Case.id).where(Case.contact_id == contact.id)
                                  .order_by(Case.id.desc()).limit(1))
        case = Case(channel=channel, language=language, contact_id=contact.id,
                    last_inbound_at=datetime.now(timezone.utc), previous_case_id=earlier)
        await self._apply_facts(case, facts)
        for _ in range(8):
            reference = new_reference()
            if await db.scalar(select(Case.id).where(Case.reference == reference)) is None:
                break
        else:
            raise RuntimeError("could not find a free case reference")
        case.reference = reference
        db.add(case)
        await db.flush()
        await db.execute(update(Message).where(
            Message.conversation_id == conversation_id, Message.contact_id == contact.id,
            Message.case_id.is_(None)).values(case_id=case.id))
        audit.record(db, "case.created", actor="bot", case_reference=case.reference,
                     urgent=case.urgent, center_id=case.center_id, needs=list(case.needs))
        logger.info("case %s created (urgent=%s, center=%s)", case.reference, case.urgent,
                    case.center_id or "national")
        self.notify(db, case, "created")
        return case

    async def update_from_intake(self, db: AsyncSession, case: Case, facts: IntakeFacts) -> None:
        """Later answers (town, contact preference, a few words) fill the case; danger
        makes it urgent. A case still queued is routed again if her town is new."""
        had_place = case.city_id
        if facts.urgent and not case.urgent:
            case.urgent = True
            audit.record(db, "case.urgent", actor="bot", case_reference=case.reference)
            self.notify(db, case, "urgent")
        if facts.needs:
            case.needs = list(dict.fromkeys([*case.needs, *facts.needs]))
        if facts.violence:
            case.violence = list(dict.fromkeys([*case.violence, *facts.violence]))
        if facts.place is not None and case.city_id != facts.place.get("id"):
            self._apply_place(case, facts.place)
        if facts.safe_contact:
            case.safe_contact_enc = self._cipher.encrypt(json.dumps(dict(facts.safe_contact),
                                                                    ensure_ascii=False))
        if facts.summary:
            case.summary_enc = self._cipher.encrypt(facts.summary)
        if case.status == "queued" and case.city_id != had_place:
            await self._route_again(db, case, facts.place)

    async def _route_again(self, db: AsyncSession, case: Case,
                           place: Mapping[str, Any] | None) -> None:
        """Her town is new: a case nobody has claimed, transferred or escalated yet goes
        to the center nearest to it. A counselor's transfer or the SLA's escalation
        stands; a claim made meanwhile wins (conditional update)."""
        if (await moves_of(db, [case.id]))[case.id]:
            return
        before = case.center_id
        target = await self._nearest_center(case, place)
        if target == before:
            return
        same_center = Case.center_id.is_(None) if before is None else Case.center_id == before
        result = await db.execute(
            update(Case).where(Case.id == case.id, Case.status == "queued", same_center)
            .values(center_id=target).execution_options(synchronize_session=False))
        if not result.rowcount:  # type: ignore[attr-defined]
            return
        case.center_id = target
        audit.record(db, "case.routed", actor="bot", case_reference=case.reference,
                     center_id=target)
        self.notify(db, case, "routed", before)

    async def _apply_facts(self, case: Case, facts: IntakeFacts) -> None:
        case.needs = list(facts.needs)
        case.violence = list(facts.violence)
        case.urgent = facts.urgent
        case.consent = facts.consent
        if facts.place is not None:
            self._apply_place(case, facts.place)
        if facts.safe_contact:
            case.safe_contact_enc = self._cipher.encrypt(json.dumps(dict(facts.safe_contact),
                                                                    ensure_ascii=False))
        case.summary_enc = self._cipher.encrypt_optional(facts.summary)
        await self._route(case, facts.place)

    @staticmethod
    def _apply_place(case: Case, place: Mapping[str, Any]) -> None:
        case.city = str(place.get("name_fr") or "") or None
        case.city_id = str(place.get("id") or "") or None
        case.province_id = str(place.get("province_id") or "") or None
        case.region_id = str(place.get("region_id") or "") or None

    async def _route(self, case: Case, place: Mapping[str, Any] | None) -> None:
        case.center_id = await self._nearest_center(case, place)

    async def _nearest_center(self, case: Case, place: Mapping[str, Any] | None) -> str | None:
        if place is None:
            return None
        routing = route_to_nearest_center(await self._directory.points(), place.get("lat"),
                                          place.get("lon"), case.needs)
        return routing.center_id if routing else None

    async def erase_her(self, db: AsyncSession, contact: Contact, *, up_to: int) -> list[str]:
        """She asked that her data be deleted: her messages up to the request (`up_to`,
        a message id; anything she wrote after it is still to be read), the notes and
        transfer reasons about her go; her cases keep only their anonymous statistical
        fields (needs, urgency, place, dates) and are closed. Returns their references."""
        now = datetime.now(timezone.utc)
        cases = (await db.scalars(select(Case).where(Case.contact_id == contact.id))).all()
        for case in cases:
            case.contact_id = None
            case.summary_enc = None
            case.safe_contact_enc = None
            if case.status != "closed":
                case.status, case.outcome, case.closed_at = "closed", ERASED, now
            audit.record(db, "her.erased", actor="bot", case_reference=case.reference)
        await forget_free_text(db, [c.id for c in cases])
        await db.execute(delete(Message).where(Message.contact_id == contact.id,
                                               Message.id <= up_to))
        if not cases:
            audit.record(db, "her.erased", actor="bot")
        logger.info("erasure done for %d case(s)", len(cases))
        return [c.reference for c in cases]

    # --- for counselors ----------------------------------------------------------------

    @staticmethod
    def _visible(account: Account) -> Any:
        """What the account may see: an admin everything; a counselor her center's
        cases, and every urgent case no center has, until one claims it."""
        if account.role == "admin":
            return True
        if account.role == "counselor" and account.center_id is not None:
            return or_(Case.center_id == account.center_id, UNROUTED_URGENT)
        return False

    async def list_cases(self, db: AsyncSession, account: Account, *,
                         status: str | None = None, limit: int = 200) -> Sequence[Case]:
        if account.role == "analyst":
            raise CaseForbidden("analysts see aggregate figures only")
        visible = self._visible(account)
        if visible is False:
            return []
        query = select(Case).where(visible) if visible is not True else select(Case)
        if status is not None:
            query = query.where(Case.status == status)
        query = query.order_by(sql_case((Case.status == "closed", 1), else_=0),
                               Case.urgent.desc(), Case.created_at.asc()).limit(limit)
        return (await db.scalars(query)).all()

    async def get_visible(self, db: AsyncSession, account: Account, reference: str,
                          *, for_update: bool = False) -> Case:
        if account.role == "analyst":
            raise CaseNotFound(reference)
        visible = self._visible(account)
        query = select(Case).where(Case.reference == normalise_reference(reference))
        if visible is not True:
            if visible is False:
                raise CaseNotFound(reference)
            query = query.where(visible)
        if for_update:
            query = query.with_for_update()
        case = await db.scalar(query)
        if case is None:
            raise CaseNotFound(reference)
        return case

    async def claim(self, db: AsyncSession, account: Account, reference: str) -> Case:
        case = await self.get_visible(db, account, reference)
        if case.status == "claimed" and case.claimed_by_id == account.id:
            return case
        now = datetime.now(timezone.utc)
        # An urgent case no center had goes to the center of the counselor who takes it.
        unrouted = case.center_id is None
        result = await db.execute(
            update(Case).where(Case.id == case.id, Case.status == "queued")
            .values(status="claimed", claimed_by_id=account.id, claimed_at=now, updated_at=now,
                    center_id=func.coalesce(Case.center_id, account.center_id))
            .execution_options(synchronize_session=False))
        if not result.rowcount:  # type: ignore[attr-defined]
            raise CaseConflict(f"case {case.reference} is {case.status}, it cannot be claimed")
        await db.refresh(case)
        audit.record(db, "case.claimed", account=account, case_reference=case.reference,
                     center_id=case.center_id)
        # Every console that showed it as unrouted hears that it is taken.
        self.notify(db, case, "claimed", *((None,) if unrouted else ()))
        self._updates.tell(db, case, "taken")
        return case

    async def send_to_her(self, db: AsyncSession, account: Account, reference: str,
                          text: str) -> Message:
        text = text.strip()
        if not text:
            raise ValueError("text: empty")
        if len(text) > MAX_COUNSELOR_TEXT:
            raise ValueError(f"text: longer than {MAX_COUNSELOR_TEXT} characters")
        case = await self.get_visible(db, account, reference)
        if case.status == "closed":
            raise CaseConflict(f"case {case.reference} is closed")
        if case.contact_id is None:
            raise CaseConflict(f"case {case.reference} has no contact any more (erased)")
        if case.status == "queued":
            await self.claim(db, account, case.reference)
        message = self._outbox.enqueue(db, contact_id=case.contact_id, channel=case.channel,
                                       text=text, sender="counselor", case_id=case.id,
                                       author_id=account.id)
        await db.flush()
        audit.record(db, "case.message_sent", account=account, case_reference=case.reference,
                     message_id=message.id)
        return message

    async def reopen(self, db: AsyncSession, case: Case) -> None:
        """She wrote again soon after her case was closed: it opens again, with the
        counselor who had it if her account is still active, else back in its queue."""
        counselor = await db.get(Account, case.claimed_by_id) if case.claimed_by_id else None
        now = datetime.now(timezone.utc)
        keep = counselor is not None and counselor.active
        case.status = "claimed" if keep else "queued"
        if not keep:
            case.claimed_by_id, case.claimed_at = None, None
        case.closed_at, case.outcome, case.reopened_at, case.updated_at = None, None, now, now
        audit.record(db, "case.reopened", actor="bot", case_reference=case.reference)
        logger.info("case %s reopened (%s)", case.reference, case.status)
        self.notify(db, case, "reopened")

    async def close(self, db: AsyncSession, account: Account, reference: str,
                    outcome: str) -> Case:
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome: must be one of {', '.join(OUTCOMES)}")
        case = await self.get_visible(db, account, reference)
        if case.status == "closed":
            raise CaseConflict(f"case {case.reference} is already closed")
        now = datetime.now(timezone.utc)
        case.status, case.outcome, case.closed_at, case.updated_at = "closed", outcome, now, now
        audit.record(db, "case.closed", account=account, case_reference=case.reference,
                     outcome=outcome)
        self.notify(db, case, "closed")
        self._updates.tell(db, case, "closed")
        return case

    async def view(self, db: AsyncSession, account: Account, case: Case,
                   *, with_messages: bool = True) -> dict[str, Any]:
        """The case as the API shows it to this account (her address masked)."""
        center = await db.get(Center, case.center_id) if case.center_id else None
        contact = await db.get(Contact, case.contact_id) if case.contact_id else None
        safe_contact: dict[str, Any] = {}
        if case.safe_contact_enc is not None:
            safe_contact = json.loads(self._cipher.decrypt(case.safe_contact_enc))
        data: dict[str, Any] = {
            "reference": case.reference,
            "status": case.status,
            "urgent": case.urgent,
            "needs": list(case.needs),
            "violence": list(case.violence),
            "city": case.city,
            "province_id": case.province_id,
            "region_id": case.region_id,
            "channel": case.channel,
            "language": case.language,
            "consent": case.consent,
            "safe_contact": {"how": safe_contact.get("how"), "when": safe_contact.get("when")},
            "summary": self._cipher.decrypt_optional(case.summary_enc),
            "center": None if center is None else {
                "id": center.id, "name": center.name, "city": center.city,
                "lat": center.lat, "lon": center.lon, "sample": center.is_sample},
            "address_masked": (mask_address(self._cipher.decrypt(contact.address_enc))
                               if contact is not None else None),
            "created_at": case.created_at,
            "claimed_at": case.claimed_at,
            "closed_at": case.closed_at,
            "outcome": case.outcome,
            "reopened_at": case.reopened_at,
            "previous_case": (await db.scalar(select(Case.reference).where(
                Case.id == case.previous_case_id)) if case.previous_case_id else None),
        }
        if with_messages:
            rows = (await db.scalars(select(Message).where(Message.case_id == case.id)
                                     .order_by(Message.id))).all()
            data["messages"] = [self._message_view(m) for m in rows]
        return data

    def _message_view(self, message: Message) -> dict[str, Any]:
        """One message as the counselor sees it: with its delivery state (and why it
        failed or is held), and what she attached (media, a shared location)."""
        view: dict[str, Any] = {
            "id": message.id,
            "direction": message.direction,
            "sender": message.sender,
            "kind": message.kind,
            "text": self._cipher.decrypt_optional(message.body_enc),
            "at": message.created_at,
            "status": message.status,
            "error": message.last_error if message.status in ("failed", "undelivered",
                                                               "held") else None,
        }
        if message.direction == "in" and message.payload_enc is not None:
            payload = json.loads(self._cipher.decrypt(message.payload_enc))
            view["media"] = payload.get("media", [])
            view["location"] = payload.get("location")
        return view

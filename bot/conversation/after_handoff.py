"""Her messages once her case exists, and what a channel says beyond words.

Once her case exists, what she writes goes to the case, for the counselor: the bot
acknowledges it at most once an hour (`CASE_ACK_INTERVAL_MINUTES`), never echoes every
message, and says more only to give the emergency numbers when she is in danger (the
case becomes urgent), to leave at once on a quick exit, and to ask her to confirm an
erasure she asks for (through the flow). Within `CASE_REOPEN_DAYS` of its close, her
message reopens her case (`CaseService.reopen`) instead of starting a new intake.

Commands (/start, STOP, HELP), attachments and locations sent without words are
answered here, whether or not her case exists, without the NLU.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels.base import BotReply, InboundMessage, ReplyButton
from bot.conversation.effects import Outcome
from bot.conversation.inbox import CASES, LATEST_OPEN_CASE
from bot.conversation.understanding import (
    PlaceFinder,
    Understanding,
    in_danger,
    place_slot,
    wants_to_leave,
)
from bot.flows import engine
from bot.flows.schema import Flow
from bot.handoff.cases import CaseService, IntakeFacts
from bot.nlu.result import NluResult
from bot.storage.models import Case, Contact
from bot.types import DEFAULT_VARIETY, Variety


class _NotReadYet:
    """Her latest open case was not read with her message (as opposed to None: read,
    and she has none)."""


NOT_READ_YET = _NotReadYet()


async def open_case_of(db: AsyncSession, contact: Contact, case_id: int | None, *,
                       latest: int | None | _NotReadYet = NOT_READ_YET,
                       closed_since: datetime | None = None) -> Case | None:
    """Her case still open: the one of her conversation (`case_id`), else her latest
    open one (`latest`: its id, when the caller read it with her message). With
    `closed_since`, a case of hers closed since then counts too (to be reopened)."""
    if case_id is None and isinstance(latest, _NotReadYet):
        latest = await db.scalar(LATEST_OPEN_CASE.where(CASES.c.contact_id == contact.id))
    wanted = case_id if case_id is not None else latest
    case = await db.get(Case, wanted) if isinstance(wanted, int) else None
    if case is None or case.contact_id != contact.id:
        return None
    if case.status == "closed" and not (closed_since is not None and case.closed_at is not None
                                        and case.closed_at >= closed_since):
        return None
    return case


@dataclass(frozen=True, slots=True)
class ConfirmThroughTheFlow:
    """Her message to the case asks for erasure: the flow asks her to confirm, with
    this session, and takes her next answer."""

    session: engine.Session


def current_question(flow: Flow, session: engine.Session) -> list[BotReply]:
    """The question she is at, asked again (none if she is at none)."""
    question = engine.current_question(flow, session)
    if question is None:
        return []
    return [BotReply(question.text, tuple(ReplyButton(c.id, c.label)
                                          for c in question.choices))]


class AfterHandoff:
    def __init__(self, cases: CaseService, places: PlaceFinder,
                 understanding: Understanding, *,
                 ack_interval: timedelta = timedelta(hours=1)) -> None:
        self._cases = cases
        self._places = places
        self._understanding = understanding
        self._ack_interval = ack_interval

    async def channel_event(self, db: AsyncSession, flow: Flow, session: engine.Session,
                            inbound: InboundMessage) -> Outcome | None:
        """Commands (/start, STOP, HELP ...), attachments and locations sent without
        words. None: her message is words (or a button) for the flow or the case."""
        variety: Variety = session.language or DEFAULT_VARIETY
        case_id = session.case.case_id
        case = await db.get(Case, case_id) if case_id else None
        if case is not None:
            case.last_inbound_at = datetime.now(timezone.utc)
        if inbound.command == "stop":
            # SMS: Twilio confirms STOP itself and would refuse any reply.
            replies = [] if inbound.channel == "sms" else [BotReply(flow.text(
                "quick_exit_done", variety))]
            return Outcome(session, replies, wipe=True)
        if inbound.command == "help":
            return Outcome(session, [BotReply(flow.text("help", variety))])
        if inbound.text.strip() and inbound.command is None or inbound.choice_id is not None:
            return None
        if inbound.location is not None and not inbound.media:
            return await self._location(db, flow, session, case, inbound.location)
        if case is not None:
            if inbound.media:
                return Outcome(session, [BotReply(flow.text("received", variety))])
            if inbound.command == "start":
                return Outcome(session, [BotReply(flow.text("case_ack", variety))])
            return Outcome(session, [])
        if session.node is None:
            return None  # a first message without words: the flow starts
        ack = [BotReply(flow.text("received", variety))] if inbound.media else []
        return Outcome(session, [*ack, *current_question(flow, session)])

    async def _location(self, db: AsyncSession, flow: Flow, session: engine.Session,
                        case: Case | None, location: tuple[float, float]) -> Outcome | None:
        """A shared location without words: her town, the nearest one."""
        variety: Variety = session.language or DEFAULT_VARIETY
        place = self._places.nearest(*location)
        if case is not None:
            if place is not None:
                await self._cases.update_from_intake(db, case, IntakeFacts(
                    needs=(), violence=(), urgent=False, consent=case.consent,
                    place=place_slot(place), safe_contact={}, summary=None))
            return Outcome(session, [BotReply(flow.text("received", variety))])
        if engine.expected_input(flow, session) == "place" or session.node is None:
            return None  # the flow takes it: her town, or her first message
        if place is not None and not session.slots.get("city"):
            session.slots["city"] = place_slot(place)
        return Outcome(session, [BotReply(flow.text("received", variety)),
                                 *current_question(flow, session)])

    async def to_her_case(self, db: AsyncSession, flow: Flow, session: engine.Session,
                          result: NluResult, inbound: InboundMessage
                          ) -> Outcome | ConfirmThroughTheFlow:
        """Her words once her case exists (and no question of the flow waits)."""
        variety = self._understanding.variety(session, result)
        session.language = variety
        case = await db.get(Case, session.case.case_id)
        assert case is not None
        case.last_inbound_at = datetime.now(timezone.utc)
        self._cases.notify(db, case, "message")
        erase = engine.is_erase_request(flow, inbound.text)
        if engine.is_quick_exit(flow, inbound.text) or (not erase and wants_to_leave(result)):
            return Outcome(session, [BotReply(flow.text("quick_exit_done", variety))],
                           wipe=True)
        if erase:
            return ConfirmThroughTheFlow(engine.Session(
                flow=flow.name, conversation_id=session.conversation_id, language=variety,
                slots={"case_requested": True}, case=session.case))
        replies: list[BotReply] = []
        if in_danger(result):
            replies.append(BotReply(flow.text("emergency_numbers", variety)))
            await self._cases.update_from_intake(db, case, IntakeFacts(
                needs=(), violence=result.violence, urgent=True, consent=case.consent,
                place=None, safe_contact={}, summary=None))
        elif result.violence:
            case.violence = list(dict.fromkeys([*case.violence, *result.violence]))
        now = datetime.now(timezone.utc)
        last = case.acknowledged_at  # read back aware (UTCDateTime)
        if not replies and (last is None or now - last >= self._ack_interval):
            replies.append(BotReply(flow.text("case_ack", variety)))
            case.acknowledged_at = now
        return Outcome(session, replies)

"""One turn of her conversation: one of her messages, her conversation lock held,
answered in one transaction.

1. Her session: from her checkpoint (`checkpoints.py`), as it was before this message.
2. Her message, read under its row lock (`inbox.py`: the fence), with her contact and
   her latest open case; the conversation resumed, or started afresh (her case was
   closed, or the last conversation ended).
3. Her words read (`understanding.py`); a command, a location or an attachment
   answered without them; else her message goes to her case (`after_handoff.py`), or
   through the flow, whose events are applied (`effects.py`).
4. Her replies queued (`bot.outbox.queue`), her message marked processed; or, on a
   quick exit or her erasure, what must not stay goes (`forgetting.py`).
5. Her checkpoint saved, then the commit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.base import BotReply, InboundMessage
from bot.conversation.after_handoff import AfterHandoff, open_case_of
from bot.conversation.checkpoints import Checkpoint, CheckpointStore, session_from
from bot.conversation.effects import IntakeCases, Outcome, run_flow
from bot.conversation.forgetting import Forgetting
from bot.conversation.inbox import Inbox
from bot.conversation.understanding import Understanding
from bot.flows import engine
from bot.flows.schema import Flow
from bot.handoff.cases import CaseService
from bot.nlu.result import NluResult
from bot.outbox.claims import Claimed
from bot.outbox.queue import Delivery, OutboxQueue
from bot.sessions import HeldLock
from bot.storage.models import Case, Contact
from bot.types import VARIETIES, Variety


@dataclass(slots=True)
class HandleResult:
    """What processing her message(s) gave."""

    replies: list[BotReply] = field(default_factory=list)
    duplicate: bool = False
    language: Variety | None = None
    outbound: list[int] = field(default_factory=list)  # replies queued, to be claimed
    claimed: list[Claimed] = field(default_factory=list)  # replies queued claimed


class EarlierWaiting:
    """`Turn.take` with `in_order`: an earlier message of hers still waits; nothing was
    done (that one goes first)."""


EARLIER_WAITING = EarlierWaiting()


@dataclass(slots=True)
class _Resumed:
    session: engine.Session
    case: Case | None  # her case still open, if any


class Turn:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], *,
                 current_flow: Callable[[], Flow], inbox: Inbox,
                 checkpoints: CheckpointStore, understanding: Understanding,
                 after_handoff: AfterHandoff, cases: CaseService, forgetting: Forgetting,
                 outbox: OutboxQueue, reopen_within: timedelta = timedelta(days=30)) -> None:
        self._sessionmaker = sessionmaker
        self._reopen_within = reopen_within
        self._current_flow = current_flow
        self._inbox = inbox
        self._checkpoints = checkpoints
        self._understanding = understanding
        self._after_handoff = after_handoff
        self._cases = cases
        self._forgetting = forgetting
        self._outbox = outbox

    async def take(self, key: str, message_id: int, *, inline: bool,
                   held: HeldLock | None = None, in_order: bool = False,
                   claim: bool = False) -> HandleResult | EarlierWaiting | None:
        """Her message, her lock held: None if it was processed meanwhile (or erased).
        `in_order`: `EARLIER_WAITING` if an earlier one of hers still waits. `claim`
        (PostgreSQL): her replies are queued claimed by this worker
        (`HandleResult.claimed`, for the caller to send) if nothing else waits in the
        outbox for her; else they queue behind it. `inline`: the webhook's answer
        carries her replies."""
        before = (await self._checkpoints.load(key)).session_for(message_id)
        async with self._sessionmaker() as db:
            closed_since = datetime.now(timezone.utc) - self._reopen_within
            found = await self._inbox.read_to_process(db, message_id, claiming=claim,
                                                      closed_since=closed_since)
            if found is None or found.status != "received":
                return None  # processed meanwhile, or erased by a quick exit
            if in_order and found.earlier:
                return EARLIER_WAITING
            contact: Contact = found.Contact
            inbound = self._inbox.message_of(found)
            flow = self._current_flow()
            resumed = await self._resume(db, flow, session_from(key, before), contact,
                                         found.latest, closed_since)
            # Hers goes with the conversation it came in.
            conversation_id = resumed.session.conversation_id
            outcome = await self._answer(db, flow, resumed, contact, inbound)
            # Her message goes with her case: the one she had, else the one it made.
            to_case = resumed.case.id if resumed.case is not None else outcome.session.case.case_id
            result = HandleResult(replies=outcome.replies, language=outcome.session.language)
            forget = outcome.wipe or outcome.erased
            if outcome.erased:
                result.outbound = await self._forgetting.erase(
                    db, contact, outcome, up_to=message_id, inline=inline)
            elif outcome.wipe:
                await self._inbox.mark_processed(db, message_id, case_id=to_case,
                                                 conversation_id=conversation_id)
                result.outbound = await self._forgetting.quick_exit(
                    db, contact, outcome, up_to=message_id, inline=inline)
            else:
                delivery: Delivery = ("inline" if inline else "claimed"
                                      if claim and found.claim else "outbox")
                await self._queue_replies(db, message_id, contact, outcome, result,
                                          delivery=delivery, conversation_id=conversation_id,
                                          to_case=to_case)
            if held is not None:
                held.ensure()
            await self._checkpoints.save(key, Checkpoint(
                applied=message_id, before=before,
                after=None if forget else outcome.session.to_dict()))
            await db.commit()
        if forget:
            await self._checkpoints.forget(key)
        return result

    async def _resume(self, db: AsyncSession, flow: Flow, session: engine.Session | None,
                      contact: Contact, latest: int | None,
                      closed_since: datetime) -> _Resumed:
        """Her conversation as this message finds it, and her case still open (or
        reopened: closed since `closed_since`, she comes back to it)."""
        case_id = session.case.case_id if session is not None else None
        case = await open_case_of(db, contact, case_id if isinstance(case_id, int) else None,
                                  latest=latest, closed_since=closed_since)
        if case is not None and case.status == "closed":
            await self._cases.reopen(db, case)
        if case is None and session is not None and (session.case.case_id
                                                      or session.status != "active"):
            session = None  # her case was closed, or the last conversation ended
        if session is None:
            session = engine.Session(flow=flow.name)
            if case is not None:
                session.case = engine.CaseLink(case.id, case.reference)
                session.language = case.language if case.language in VARIETIES else None
        return _Resumed(session, case)

    async def _answer(self, db: AsyncSession, flow: Flow, resumed: _Resumed,
                      contact: Contact, inbound: InboundMessage) -> Outcome:
        session = resumed.session
        result = await self._understanding.read(flow, session, inbound)
        # A question of the flow still waits for her answer (after an urgent handoff,
        # or a confirmation asked after her case exists): the flow takes the message.
        answering_flow = session.status == "active" and session.node is not None
        outcome = await self._after_handoff.channel_event(db, flow, session, inbound)
        if outcome is not None:
            return outcome
        if resumed.case is not None and not answering_flow:
            to_case = await self._after_handoff.to_her_case(db, flow, session, result, inbound)
            if isinstance(to_case, Outcome):
                return to_case
            session = to_case.session  # she asked for erasure: the flow confirms it
        return await self._through_the_flow(db, flow, session, contact, result, inbound)

    async def _through_the_flow(self, db: AsyncSession, flow: Flow, session: engine.Session,
                                contact: Contact, result: NluResult,
                                inbound: InboundMessage) -> Outcome:
        variety = self._understanding.variety(session, result)
        return await run_flow(flow, session,
                              self._understanding.engine_input(result, inbound, variety),
                              IntakeCases(db, self._cases, contact, variety))

    async def _queue_replies(self, db: AsyncSession, message_id: int, contact: Contact,
                             outcome: Outcome, result: HandleResult, *, delivery: Delivery,
                             conversation_id: str, to_case: int | None) -> None:
        """Every other message, in two statements: her replies queued, her message marked
        processed (reading her contact last when her replies are claimed)."""
        queued = await self._outbox.queue_replies(
            db, outcome.replies, contact_id=contact.id, channel=contact.channel,
            case_id=outcome.session.case.case_id,
            conversation_id=outcome.session.conversation_id, delivery=delivery)
        contact_now = await self._inbox.mark_processed(
            db, message_id, conversation_id=conversation_id, case_id=to_case,
            reading_her_contact=queued.needs_her_contact)
        result.outbound = queued.for_the_outbox
        result.claimed = queued.claimed(contact_now)


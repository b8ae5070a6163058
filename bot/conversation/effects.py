"""What the flow engine's events do: one small handler per event type, registered in
`EFFECTS`.

The engine decides and does no I/O; its events are applied here, in order, to an
`Outcome` (her replies, whether to forget the conversation) through a `CaseDesk` (where
a handoff creates her case). The live conversation gives `IntakeCases`, which writes in
the turn's transaction; the console's rehearsal of a draft flow gives a desk that only
notes what would have happened. Both use this same table: a new event type needs a
handler here, or `apply_events` refuses it by name.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels.base import BotReply, ReplyButton
from bot.flows import engine
from bot.flows.schema import Flow
from bot.handoff.cases import CaseService, IntakeFacts
from bot.storage.models import Case, Contact
from bot.types import Variety


@dataclass(slots=True)
class Outcome:
    """What her message came to."""

    session: engine.Session  # her conversation after it
    replies: list[BotReply] = field(default_factory=list)
    wipe: bool = False  # a quick exit: forget the unfinished conversation
    erased: bool = False  # she confirmed her erasure: everything of hers goes
    noted: list[str] = field(default_factory=list)  # what the rehearsal shows, in order


class CaseDesk(Protocol):
    """Where the events about her case go."""

    def reference(self, session: engine.Session) -> str:
        """Her case's reference, as her replies name it."""
        ...

    async def create(self, session: engine.Session, event: engine.HandoffRequested) -> None:
        ...

    async def update(self, session: engine.Session,
                     event: engine.CaseUpdateRequested) -> None:
        ...


E = TypeVar("E")
EffectHandler = Callable[[Any, Outcome, CaseDesk], Awaitable[None]]
EFFECTS: dict[type, EffectHandler] = {}


def handles(event_type: type[E]) -> Callable[[Callable[[E, Outcome, CaseDesk], Awaitable[None]]],
                                             Callable[[E, Outcome, CaseDesk], Awaitable[None]]]:
    """Register the handler of one event type."""
    def register(handler: Callable[[E, Outcome, CaseDesk], Awaitable[None]]
                 ) -> Callable[[E, Outcome, CaseDesk], Awaitable[None]]:
        EFFECTS[event_type] = handler
        return handler
    return register


@handles(engine.Reply)
async def reply(event: engine.Reply, outcome: Outcome, desk: CaseDesk) -> None:
    """A line for her, with its choices; `{reference}` is her case's."""
    text = event.text.replace("{reference}", desk.reference(outcome.session))
    outcome.replies.append(BotReply(text, tuple(ReplyButton(c.id, c.label)
                                                for c in event.choices)))


@handles(engine.HandoffRequested)
async def handoff(event: engine.HandoffRequested, outcome: Outcome, desk: CaseDesk) -> None:
    """Her case is created, from what she said (urgent in danger)."""
    await desk.create(outcome.session, event)
    outcome.noted.append("handoff_urgent" if event.urgent else "handoff")


@handles(engine.CaseUpdateRequested)
async def case_update(event: engine.CaseUpdateRequested, outcome: Outcome,
                      desk: CaseDesk) -> None:
    """What she said after the handoff goes to her case."""
    await desk.update(outcome.session, event)
    outcome.noted.append("case_update")


@handles(engine.EraseRequested)
async def erase(event: engine.EraseRequested, outcome: Outcome, desk: CaseDesk) -> None:
    """She confirmed her erasure. The conversation forgets her case; the erasure itself
    is done once the events are applied (`forgetting.py`: it knows up to which of her
    messages)."""
    outcome.session.case = engine.CaseLink()
    outcome.erased = True
    outcome.noted.append("erase")


@handles(engine.QuickExit)
async def quick_exit(event: engine.QuickExit, outcome: Outcome, desk: CaseDesk) -> None:
    outcome.wipe = True
    outcome.noted.append("quick_exit")


@handles(engine.ConversationEnded)
async def ended(event: engine.ConversationEnded, outcome: Outcome, desk: CaseDesk) -> None:
    outcome.noted.append("ended")


@handles(engine.LanguageChanged)
async def language_changed(event: engine.LanguageChanged, outcome: Outcome,
                           desk: CaseDesk) -> None:
    outcome.noted.append("language_changed")


class UnknownEvent(TypeError):
    """An event type with no handler in `EFFECTS`."""


async def apply_events(events: Iterable[object], outcome: Outcome, desk: CaseDesk) -> Outcome:
    """Each event through its handler, in order. An erasure is more than a quick exit:
    the outcome is one or the other."""
    for event in events:
        handler = EFFECTS.get(type(event))
        if handler is None:
            raise UnknownEvent(f"no effect registered for engine event {type(event).__name__}")
        await handler(event, outcome, desk)
    if outcome.erased:
        outcome.wipe = False
    return outcome


async def run_flow(flow: Flow, session: engine.Session, inp: engine.Input,
                   desk: CaseDesk) -> Outcome:
    """One message through the pure engine, then its events applied. The engine only
    carries her case's link; the conversation keeps it."""
    case = session.case
    after, events = engine.run(flow, session, inp)
    after.case = case
    return await apply_events(events, Outcome(after), desk)


class IntakeCases:
    """The live `CaseDesk`: her case created or updated in the turn's transaction."""

    def __init__(self, db: AsyncSession, cases: CaseService, contact: Contact,
                 variety: Variety) -> None:
        self._db = db
        self._cases = cases
        self._contact = contact
        self._variety = variety

    def reference(self, session: engine.Session) -> str:
        return session.case.reference or ""

    async def create(self, session: engine.Session, event: engine.HandoffRequested) -> None:
        case = await self._cases.create_from_intake(
            self._db, contact=self._contact, channel=self._contact.channel,
            language=session.language or self._variety,
            conversation_id=session.conversation_id,
            facts=IntakeFacts.from_slots(event.slots, urgent=event.urgent))
        session.case.case_id, session.case.reference = case.id, case.reference

    async def update(self, session: engine.Session,
                     event: engine.CaseUpdateRequested) -> None:
        case_id = session.case.case_id
        existing = await self._db.get(Case, case_id) if case_id else None
        if existing is not None:
            await self._cases.update_from_intake(self._db, existing,
                                                 IntakeFacts.from_slots(event.slots))

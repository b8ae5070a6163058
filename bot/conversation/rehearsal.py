"""Trying a draft flow before it is published: her messages are read as the live
conversation reads them (`understanding.py`) and run through the pure engine, in
memory, their events applied by the same table as the live path (`effects.py`) as a
dry run. Nothing is written: no session, no message, no case; a handoff only says that
a case would be created."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.channels.base import InboundMessage
from bot.conversation.effects import run_flow
from bot.conversation.understanding import Understanding
from bot.flows import engine
from bot.flows.schema import Flow

SAMPLE_REFERENCE = "AM-XXXXXX"
MAX_MESSAGES = 40


@dataclass(slots=True)
class RehearsalReply:
    text: str
    buttons: list[str] = field(default_factory=list)


@dataclass(slots=True)
class RehearsalTurn:
    text: str  # what she wrote
    replies: list[RehearsalReply] = field(default_factory=list)
    events: list[str] = field(default_factory=list)  # handoff, handoff_urgent, quick_exit, ...
    language: str | None = None
    error: str | None = None


class NoCases:
    """The rehearsal's `CaseDesk`: a handoff creates nothing; replies name a sample
    reference."""

    def reference(self, session: engine.Session) -> str:
        return SAMPLE_REFERENCE

    async def create(self, session: engine.Session, event: engine.HandoffRequested) -> None:
        return None

    async def update(self, session: engine.Session,
                     event: engine.CaseUpdateRequested) -> None:
        return None


async def rehearse(flow: Flow, messages: Sequence[str], *,
                   understanding: Understanding) -> list[RehearsalTurn]:
    session = engine.Session(flow=flow.name)
    turns: list[RehearsalTurn] = []
    for text in list(messages)[:MAX_MESSAGES]:
        turn = RehearsalTurn(text=text)
        turns.append(turn)
        inbound = InboundMessage(channel="simulator", address="rehearsal", text=text)
        result = await understanding.read(flow, session, inbound)
        variety = understanding.variety(session, result)
        try:
            outcome = await run_flow(flow, session,
                                     understanding.engine_input(result, inbound, variety),
                                     NoCases())
        except engine.FlowRuntimeError as exc:
            turn.error = str(exc)
            break
        session = outcome.session
        turn.language = session.language
        turn.replies = [RehearsalReply(r.text, [b.label for b in r.buttons])
                        for r in outcome.replies]
        turn.events = outcome.noted
    return turns

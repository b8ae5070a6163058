"""Trying a draft flow before it is published: her messages are read by the NLU and run
through the pure engine, in memory. Nothing is written: no session, no message, no
case; a handoff only says that a case would be created."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.channels.base import InboundMessage
from bot.dialogue import PlaceFinder, VarietyChooser, engine_input
from bot.flows import engine
from bot.flows.schema import Flow
from bot.nlu.result import NluBackend

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


async def rehearse(flow: Flow, messages: Sequence[str], *, nlu: NluBackend,
                   places: PlaceFinder, choose_variety: VarietyChooser) -> list[RehearsalTurn]:
    session = engine.Session(flow=flow.name)
    turns: list[RehearsalTurn] = []
    for text in list(messages)[:MAX_MESSAGES]:
        turn = RehearsalTurn(text=text)
        turns.append(turn)
        result = await nlu.parse(text.strip())
        variety = choose_variety(session.language, result, text)
        inbound = InboundMessage(channel="simulator", address="rehearsal", text=text)
        try:
            session, events = engine.run(flow, session, engine_input(
                flow, session, result, inbound, variety, places))
        except engine.FlowRuntimeError as exc:
            turn.error = str(exc)
            break
        turn.language = session.language
        for event in events:
            if isinstance(event, engine.Reply):
                turn.replies.append(RehearsalReply(
                    event.text.replace("{reference}", SAMPLE_REFERENCE),
                    [c.label for c in event.choices]))
            elif isinstance(event, engine.HandoffRequested):
                turn.events.append("handoff_urgent" if event.urgent else "handoff")
            elif isinstance(event, engine.CaseUpdateRequested):
                turn.events.append("case_update")
            elif isinstance(event, engine.QuickExit):
                turn.events.append("quick_exit")
            elif isinstance(event, engine.ConversationEnded):
                turn.events.append("ended")
            elif isinstance(event, engine.LanguageChanged):
                turn.events.append("language_changed")
    return turns

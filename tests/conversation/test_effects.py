"""The table of effects: one handler per engine event, shared by the live path and the
rehearsal. No database: a fake case desk records what it is asked."""

from __future__ import annotations

import typing
from dataclasses import dataclass, field

import pytest

from bot.channels.base import BotReply, ReplyButton
from bot.conversation.effects import EFFECTS, Outcome, UnknownEvent, apply_events, run_flow
from bot.flows import engine
from bot.flows.schema import Flow


@dataclass
class RecordingDesk:
    made: str = "AM-TEST01"
    asked: list[tuple[str, object]] = field(default_factory=list)

    def reference(self, session: engine.Session) -> str:
        return session.case.reference or ""

    async def create(self, session: engine.Session, event: engine.HandoffRequested) -> None:
        self.asked.append(("create", event))
        session.case.case_id, session.case.reference = 7, self.made

    async def update(self, session: engine.Session,
                     event: engine.CaseUpdateRequested) -> None:
        self.asked.append(("update", event))


def test_every_event_the_engine_can_emit_has_its_handler() -> None:
    assert set(typing.get_args(engine.Event)) == set(EFFECTS)


async def test_an_event_without_a_handler_is_refused_by_name() -> None:
    class Unheard:
        pass

    with pytest.raises(UnknownEvent, match="Unheard"):
        await apply_events([Unheard()], Outcome(engine.Session(flow="f")), RecordingDesk())


async def test_a_handoff_makes_her_case_and_the_next_reply_names_it() -> None:
    desk = RecordingDesk()
    handoff = engine.HandoffRequested(urgent=True, slots={"needs": ["need_legal"]})
    outcome = await apply_events([
        handoff,
        engine.Reply("handoff_done", "Votre référence : {reference}.",
                     (engine.ReplyChoice("1", "Oui"),)),
    ], Outcome(engine.Session(flow="f")), desk)
    assert desk.asked == [("create", handoff)]
    assert outcome.replies == [BotReply("Votre référence : AM-TEST01.",
                                        (ReplyButton("1", "Oui"),))]
    assert outcome.noted == ["handoff_urgent"] and outcome.session.case.case_id == 7
    assert not (outcome.wipe or outcome.erased)


async def test_an_update_goes_to_her_case() -> None:
    desk = RecordingDesk()
    update = engine.CaseUpdateRequested(slots={"contact_how": "messages_only"})
    outcome = await apply_events([update], Outcome(engine.Session(flow="f")), desk)
    assert desk.asked == [("update", update)] and outcome.noted == ["case_update"]


async def test_an_erasure_forgets_her_case_link_and_is_more_than_a_quick_exit() -> None:
    session = engine.Session(flow="f", case=engine.CaseLink(3, "AM-OLD001"))
    outcome = await apply_events([engine.QuickExit(), engine.EraseRequested(),
                                  engine.Reply("erased", "{reference}")],
                                 Outcome(session), RecordingDesk())
    assert outcome.erased and not outcome.wipe
    assert outcome.session.case == engine.CaseLink()
    assert outcome.replies == [BotReply("")]  # no reference left to name


async def test_a_quick_exit_wipes_and_the_rest_is_only_noted() -> None:
    outcome = await apply_events([engine.LanguageChanged("fr"), engine.QuickExit(),
                                  engine.ConversationEnded("quick_exit")],
                                 Outcome(engine.Session(flow="f")), RecordingDesk())
    assert outcome.wipe and not outcome.erased and outcome.replies == []
    assert outcome.noted == ["language_changed", "quick_exit", "ended"]


async def test_the_engine_carries_her_case_link_and_the_conversation_keeps_it(
        intake: Flow) -> None:
    link = engine.CaseLink(5, "AM-KEPT01")
    session = engine.Session(flow=intake.name, case=link)
    outcome = await run_flow(intake, session, engine.Input(text="bonjour", language="fr",
                                                           intent="greet"), RecordingDesk())
    assert outcome.session.case is link  # the same object: the turn reads what it became
    assert outcome.replies and outcome.replies[0].text == intake.text("greeting", "fr")
    assert session.node is None  # the engine is pure: her session before is untouched

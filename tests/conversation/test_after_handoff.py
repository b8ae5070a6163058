"""Her messages once her case exists, and channel events: no database (a fake one that
holds her case), no trained model, a fake case service that records what it is asked."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from bot.channels.base import InboundMessage, Media
from bot.conversation.after_handoff import AfterHandoff, ConfirmThroughTheFlow
from bot.conversation.effects import Outcome
from bot.conversation.understanding import Understanding, place_slot
from bot.flows import engine
from bot.flows.schema import Flow
from bot.handoff.cases import IntakeFacts
from bot.nlu.result import NluResult, Place
from bot.storage.models import Case
from bot.types import Variety

TIZNIT = Place(id="09.581.01.05", name_fr="Tiznit", name_ar="تيزنيت", province_id="09.581",
               region_id="09", lat=29.6974, lon=-9.7316, population=80000,
               kind="commune_urban")


class OneCase:
    """What `db.get(Case, id)` finds: her case, and nothing else."""

    def __init__(self, case: Case) -> None:
        self.case = case

    async def get(self, model: type, ident: Any) -> Any:
        return self.case if model is Case and ident == self.case.id else None


@dataclass
class RecordingCases:
    notified: list[str] = field(default_factory=list)
    updates: list[IntakeFacts] = field(default_factory=list)

    def notify(self, db: Any, case: Case, kind: str) -> None:
        self.notified.append(kind)

    async def update_from_intake(self, db: Any, case: Case, facts: IntakeFacts) -> None:
        self.updates.append(facts)
        if facts.urgent:
            case.urgent = True


class AlwaysTiznit:
    def nearest(self, lat: float, lon: float) -> Place:
        return TIZNIT


class NoNlu:
    async def parse(self, text: str, *, expecting: str | None = None) -> NluResult:
        raise AssertionError("after the handoff, the words come already read")


def keep(current: Variety | None, result: NluResult, text: str) -> Variety:
    return current or "fr"


def her_case() -> Case:
    return Case(id=1, reference="AM-ABC123", contact_id=1, channel="simulator",
                language="fr", needs=["need_legal"], violence=["psychological"],
                urgent=False, consent=True, status="queued")


def linked(session_language: Variety = "fr") -> engine.Session:
    return engine.Session(flow="intake", language=session_language,
                          case=engine.CaseLink(1, "AM-ABC123"))


def acknowledged(db: OneCase, minutes_ago: float = 0) -> OneCase:
    db.case.acknowledged_at = datetime.now(timezone.utc) - timedelta(minutes=minutes_ago)
    return db


def read(text: str, intent: str = "out_of_scope", *, urgent: bool = False,
         confidence: float = 0.9, violence: tuple[str, ...] = ()) -> NluResult:
    return NluResult(text=text, language="fr", language_confidence=1.0, intent=intent,  # type: ignore[arg-type]
                     confidence=confidence, urgent=urgent, violence=violence)  # type: ignore[arg-type]


def her(text: str = "", channel: str = "simulator", **kwargs: Any) -> InboundMessage:
    return InboundMessage(channel=channel, address="a", text=text, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def setting() -> tuple[AfterHandoff, RecordingCases, OneCase]:
    cases = RecordingCases()
    after = AfterHandoff(cases, AlwaysTiznit(), Understanding(NoNlu(), AlwaysTiznit(), keep))  # type: ignore[arg-type]
    return after, cases, OneCase(her_case())


async def test_while_she_waits_her_words_are_acknowledged_at_most_once_an_hour(
        intake: Flow, setting: tuple[AfterHandoff, RecordingCases, OneCase]) -> None:
    after, cases, db = setting
    session = linked()
    first = await after.to_her_case(db, intake, session, read("merci"), her("merci"))  # type: ignore[arg-type]
    assert isinstance(first, Outcome)
    assert [r.text for r in first.replies] == [intake.text("case_ack", "fr")]
    assert db.case.acknowledged_at is not None
    again = await after.to_her_case(db, intake, session, read("encore"), her("encore"))  # type: ignore[arg-type]
    assert isinstance(again, Outcome) and again.replies == []
    acknowledged(db, minutes_ago=59)
    still = await after.to_her_case(db, intake, session, read("x"), her("x"))  # type: ignore[arg-type]
    assert isinstance(still, Outcome) and still.replies == []
    acknowledged(db, minutes_ago=61)
    later = await after.to_her_case(db, intake, session, read("y"), her("y"))  # type: ignore[arg-type]
    assert isinstance(later, Outcome)
    assert [r.text for r in later.replies] == [intake.text("case_ack", "fr")]
    assert cases.notified == ["message"] * 4  # the counselor hears each one
    assert db.case.last_inbound_at is not None


async def test_danger_after_the_handoff_gives_the_numbers_and_makes_the_case_urgent(
        intake: Flow, setting: tuple[AfterHandoff, RecordingCases, OneCase]) -> None:
    after, cases, db = setting
    outcome = await after.to_her_case(acknowledged(db), intake, linked(),  # type: ignore[arg-type]
                                      read("couteau", urgent=True, violence=("physical",)),
                                      her("il revient avec un couteau"))
    assert isinstance(outcome, Outcome)
    assert [r.text for r in outcome.replies] == [intake.text("emergency_numbers", "fr")]
    assert [(f.urgent, f.violence) for f in cases.updates] == [(True, ("physical",))]
    assert db.case.urgent


async def test_violence_she_names_later_is_added_to_her_case(
        intake: Flow, setting: tuple[AfterHandoff, RecordingCases, OneCase]) -> None:
    after, _, db = setting
    await after.to_her_case(acknowledged(db), intake, linked(),  # type: ignore[arg-type]
                            read("photos", violence=("digital", "psychological")), her("x"))
    assert db.case.violence == ["psychological", "digital"]


@pytest.mark.parametrize(("text", "result"), [
    ("stop", read("stop")),  # a quick-exit word of the flow
    ("je pars", read("je pars", "quick_exit", confidence=0.9)),  # the NLU is sure
])
async def test_a_quick_exit_after_the_handoff_leaves_at_once(
        intake: Flow, setting: tuple[AfterHandoff, RecordingCases, OneCase], text: str,
        result: NluResult) -> None:
    after, _, db = setting
    outcome = await after.to_her_case(db, intake, linked(), result, her(text))  # type: ignore[arg-type]
    assert isinstance(outcome, Outcome) and outcome.wipe
    assert [r.text for r in outcome.replies] == [intake.text("quick_exit_done", "fr")]


async def test_an_erasure_request_is_never_taken_for_a_quick_exit_the_flow_confirms_it(
        intake: Flow, setting: tuple[AfterHandoff, RecordingCases, OneCase]) -> None:
    after, _, db = setting
    session = linked()
    step = await after.to_her_case(db, intake, session,  # type: ignore[arg-type]
                                   read("x", "quick_exit", confidence=1.0),
                                   her("je veux supprimer mes données"))
    assert isinstance(step, ConfirmThroughTheFlow)
    assert step.session.slots == {"case_requested": True}
    assert step.session.case is session.case
    assert step.session.conversation_id == session.conversation_id


async def test_stop_is_a_quick_exit_with_no_reply_on_sms(
        intake: Flow, setting: tuple[AfterHandoff, RecordingCases, OneCase]) -> None:
    after, _, db = setting
    on_sms = await after.channel_event(db, intake, linked(), her("STOP", "sms", command="stop"))  # type: ignore[arg-type]
    on_telegram = await after.channel_event(db, intake, linked(),  # type: ignore[arg-type]
                                            her("/stop", "telegram", command="stop"))
    assert on_sms is not None and on_sms.wipe and on_sms.replies == []
    assert on_telegram is not None and on_telegram.wipe
    assert [r.text for r in on_telegram.replies] == [intake.text("quick_exit_done", "fr")]


async def test_a_location_goes_to_her_case(
        intake: Flow, setting: tuple[AfterHandoff, RecordingCases, OneCase]) -> None:
    after, cases, db = setting
    outcome = await after.channel_event(db, intake, linked(), her(location=(29.7, -9.7)))  # type: ignore[arg-type]
    assert outcome is not None
    assert [r.text for r in outcome.replies] == [intake.text("received", "fr")]
    assert [f.place for f in cases.updates] == [place_slot(TIZNIT)]


async def test_before_her_case_a_location_at_another_question_is_kept_and_asked_again(
        intake: Flow, setting: tuple[AfterHandoff, RecordingCases, OneCase]) -> None:
    after, _, db = setting
    session = engine.Session(flow="intake", language="fr", node="ask_safe")
    outcome = await after.channel_event(db, intake, session, her(location=(29.7, -9.7)))  # type: ignore[arg-type]
    assert outcome is not None and session.slots["city"] == place_slot(TIZNIT)
    assert outcome.replies[0].text == intake.text("received", "fr")
    assert outcome.replies[1].text == engine.current_question(intake, session).text  # type: ignore[union-attr]


async def test_words_and_first_messages_go_on_to_the_flow(
        intake: Flow, setting: tuple[AfterHandoff, RecordingCases, OneCase]) -> None:
    after, _, db = setting
    fresh = engine.Session(flow="intake")
    assert await after.channel_event(db, intake, fresh, her("salam")) is None  # type: ignore[arg-type]
    assert await after.channel_event(db, intake, fresh, her(choice_id="yes")) is None  # type: ignore[arg-type]
    assert await after.channel_event(db, intake, fresh, her(command="start")) is None  # type: ignore[arg-type]


async def test_an_attachment_is_acknowledged_and_the_question_asked_again(
        intake: Flow, setting: tuple[AfterHandoff, RecordingCases, OneCase]) -> None:
    after, _, db = setting
    voice = her(media=(Media("audio", "https://example.invalid/v", "audio/ogg"),))
    to_case = await after.channel_event(db, intake, linked(), voice)  # type: ignore[arg-type]
    assert to_case is not None and [r.text for r in to_case.replies] == [
        intake.text("received", "fr")]
    asking = engine.Session(flow="intake", language="fr", node="ask_safe")
    in_flow = await after.channel_event(db, intake, asking, voice)  # type: ignore[arg-type]
    assert in_flow is not None and len(in_flow.replies) == 2

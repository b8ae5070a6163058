"""From her message to the engine's input: no database, no trained model (fakes)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from bot.channels.base import InboundMessage
from bot.conversation.understanding import (
    NOTHING_TO_READ,
    Understanding,
    in_danger,
    place_slot,
    wants_to_leave,
)
from bot.flows import engine
from bot.flows.schema import Flow
from bot.nlu.result import NluResult, Place, PlaceMatch
from bot.types import Variety

TIZNIT = Place(id="09.581.01.05", name_fr="Tiznit", name_ar="تيزنيت", province_id="09.581",
               region_id="09", lat=29.6974, lon=-9.7316, population=80000,
               kind="commune_urban")
AGADIR = Place(id="09.001.01.01", name_fr="Agadir", name_ar="أكادير", province_id="09.001",
               region_id="09", lat=30.42, lon=-9.6, population=420000, kind="commune_urban")


@dataclass
class RecordingNlu:
    """Answers what it is given to answer, and records what it was asked."""

    answer: NluResult = field(default_factory=lambda: NluResult(
        text="x", language="fr", language_confidence=1.0, intent="greet", confidence=1.0))
    asked: list[tuple[str, str | None]] = field(default_factory=list)

    async def parse(self, text: str, *, expecting: str | None = None) -> NluResult:
        self.asked.append((text, expecting))
        return self.answer


class NearestIsAgadir:
    def __init__(self) -> None:
        self.asked: list[tuple[float, float]] = []

    def nearest(self, lat: float, lon: float) -> Place:
        self.asked.append((lat, lon))
        return AGADIR


def keep_or_french(current: Variety | None, result: NluResult, text: str) -> Variety:
    return current or "fr"


def understanding(nlu: RecordingNlu) -> tuple[Understanding, NearestIsAgadir]:
    places = NearestIsAgadir()
    return Understanding(nlu, places, keep_or_french), places


def at_the_town_question(intake: Flow) -> engine.Session:
    node = next(name for name, node in intake.nodes.items()
                if node.ask is not None and node.ask.input == "place")
    return engine.Session(flow=intake.name, node=node)


def her(text: str = "", **kwargs: object) -> InboundMessage:
    return InboundMessage(channel="simulator", address="a", text=text, **kwargs)  # type: ignore[arg-type]


async def test_at_the_town_question_the_nlu_is_told_a_town_is_expected(intake: Flow) -> None:
    nlu = RecordingNlu()
    reader, _ = understanding(nlu)
    await reader.read(intake, at_the_town_question(intake), her("  Safi "))
    assert nlu.asked == [("Safi", "place")]


async def test_elsewhere_the_nlu_is_told_what_the_question_expects(intake: Flow) -> None:
    nlu = RecordingNlu()
    reader, _ = understanding(nlu)
    await reader.read(intake, engine.Session(flow=intake.name), her("salam"))
    await reader.read(intake, engine.Session(flow=intake.name, node="ask_safe"), her("oui"))
    assert nlu.asked == [("salam", None), ("oui", intake.nodes["ask_safe"].ask.input)]


@pytest.mark.parametrize("inbound", [
    her("stop", command="stop"), her(""), her("   "),
    her("", location=(30.0, -9.0)),
], ids=["command", "nothing", "blank", "location"])
async def test_what_is_not_words_never_reaches_the_nlu(intake: Flow,
                                                       inbound: InboundMessage) -> None:
    nlu = RecordingNlu()
    reader, _ = understanding(nlu)
    assert await reader.read(intake, at_the_town_question(intake), inbound) is NOTHING_TO_READ
    assert nlu.asked == []


async def test_words_with_a_location_are_read_without_a_town_expected(intake: Flow) -> None:
    nlu = RecordingNlu()
    reader, _ = understanding(nlu)
    await reader.read(intake, at_the_town_question(intake), her("ici", location=(30.0, -9.0)))
    assert nlu.asked == [("ici", None)]  # her town is where she is, not what she wrote


def test_a_shared_location_is_her_town_before_any_town_she_names() -> None:
    reader, places = understanding(RecordingNlu())
    named = NluResult(text="tiznit", language="fr", language_confidence=1.0,
                      intent="out_of_scope", confidence=0.2,
                      place=PlaceMatch(TIZNIT, 1.0, "tiznit"))
    inp = reader.engine_input(named, her("tiznit", location=(30.4, -9.6)), "fr")
    assert inp.place == place_slot(AGADIR) and places.asked == [(30.4, -9.6)]
    inp = reader.engine_input(named, her("tiznit"), "fr")
    assert inp.place == place_slot(TIZNIT)


def test_needs_come_from_the_ranking_above_the_threshold_and_the_intent_first() -> None:
    reader, _ = understanding(RecordingNlu())
    result = NluResult(text="x", language="fr", language_confidence=1.0, intent="need_legal",
                       confidence=0.5, intent_ranking=(
                           ("need_shelter", 0.6), ("greet", 0.9), ("need_medical", 0.36),
                           ("need_psychological", 0.34)))
    assert reader.engine_input(result, her("x"), "fr").needs == (
        "need_legal", "need_shelter", "need_medical")


@pytest.mark.parametrize(("intent", "confidence", "urgent", "leave", "danger"), [
    ("quick_exit", 0.75, False, True, False),
    ("quick_exit", 0.74, False, False, False),
    ("emergency", 0.2, False, False, True),
    ("greet", 1.0, True, False, True),
    ("need_legal", 0.9, False, False, False),
])
def test_leaving_and_danger_as_the_engine_reads_them(intent: str, confidence: float,
                                                     urgent: bool, leave: bool,
                                                     danger: bool) -> None:
    result = NluResult(text="x", language="fr", language_confidence=1.0,
                       intent=intent, confidence=confidence, urgent=urgent)  # type: ignore[arg-type]
    reader, _ = understanding(RecordingNlu())
    inp = reader.engine_input(result, her("x"), "fr")
    assert (wants_to_leave(result), in_danger(result)) == (leave, danger)
    assert (inp.quick_exit, inp.urgent) == (leave, danger)


async def test_a_message_set_aside_is_read_without_a_conversation() -> None:
    nlu = RecordingNlu()
    reader, _ = understanding(nlu)
    assert await reader.read_words("  ") is NOTHING_TO_READ
    await reader.read_words("il a un couteau")
    assert nlu.asked == [("il a un couteau", None)]

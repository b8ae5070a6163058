"""From her message to what the flow engine reads: the NLU's reading, her variety,
her town, her needs.

The NLU is told what the question asked of her expects, so that an answer to "which
town?" is looked up once, as an answer ("Safi" alone is the town there, "safi" in a
sentence elsewhere means "enough"). A shared location is her town, the nearest one.
Shared by the live conversation and the console's rehearsal of a draft flow."""

from __future__ import annotations

from typing import Any, Protocol

from bot.channels.base import InboundMessage
from bot.flows import engine
from bot.flows.schema import Flow
from bot.nlu.result import NluBackend, NluResult, Place
from bot.types import NEEDS, Variety

QUICK_EXIT_CONFIDENCE = 0.75  # the NLU's quick-exit intent acts from this confidence
NEED_CONFIDENCE = 0.35  # a need in the ranking counts from this probability

# What a message without words reads as (a command, a location, an attachment).
NOTHING_TO_READ = NluResult(text="", language="other", language_confidence=0.0,
                            intent="out_of_scope", confidence=0.0)


class PlaceFinder(Protocol):
    def nearest(self, lat: float, lon: float) -> Place | None: ...


class VarietyChooser(Protocol):
    def __call__(self, current: Variety | None, result: NluResult, text: str) -> Variety: ...


def place_slot(place: Place, *, guessed: bool = False) -> dict[str, Any]:
    """A town as the flow's `city` slot holds it. `guessed`: read back to her before it
    is used (a misspelling, a place that is not a commune, a quick-exit word)."""
    slot: dict[str, Any] = {
        "id": place.id, "name_fr": place.name_fr, "name_ar": place.name_ar,
        "province_id": place.province_id, "region_id": place.region_id,
        "province_fr": place.province_fr, "province_ar": place.province_ar,
        "lat": place.lat, "lon": place.lon}
    if guessed:
        slot["guessed"] = True
    return slot


def wants_to_leave(result: NluResult) -> bool:
    """The NLU is confident enough that she wants to stop."""
    return result.intent == "quick_exit" and result.confidence >= QUICK_EXIT_CONFIDENCE


def names_a_town(result: NluResult) -> bool:
    """Her whole message is a known town's name, and nothing else: no quick exit, no
    danger, no need (the NLU has already decided so: `LocalNlu._town_answer`)."""
    return (result.place is not None and result.place.whole and not result.urgent
            and result.intent == "out_of_scope")


def in_danger(result: NluResult) -> bool:
    return result.urgent or result.intent == "emergency"


class Understanding:
    def __init__(self, nlu: NluBackend, places: PlaceFinder,
                 choose_variety: VarietyChooser) -> None:
        self._nlu = nlu
        self._places = places
        self._choose_variety = choose_variety

    async def read(self, flow: Flow, session: engine.Session,
                   inbound: InboundMessage) -> NluResult:
        """Her words through the NLU; never a command, a location or an attachment."""
        text = inbound.text.strip()
        if not text or inbound.command is not None:
            return NOTHING_TO_READ
        expecting = engine.expected_input(flow, session) if inbound.location is None else None
        return await self._nlu.parse(text, expecting=expecting)

    async def read_words(self, text: str) -> NluResult:
        """Words out of any conversation (a message set aside by the rate limit)."""
        return await self._nlu.parse(text) if text.strip() else NOTHING_TO_READ

    def variety(self, session: engine.Session, result: NluResult) -> Variety:
        """The variety to answer her in (`bot.nlu.variety.choose_reply_variety`)."""
        return self._choose_variety(session.language, result, result.text)

    def engine_input(self, result: NluResult, inbound: InboundMessage,
                     variety: Variety) -> engine.Input:
        """Her message as the flow engine sees it."""
        place: Place | None = None
        guessed = False
        if inbound.location is not None:
            place = self._places.nearest(*inbound.location)
        if place is None and result.place is not None:
            place, guessed = result.place.place, result.place.guessed
        needs = tuple(intent for intent, score in result.intent_ranking
                      if intent in NEEDS and score >= NEED_CONFIDENCE)
        if result.intent in NEEDS and result.intent not in needs:
            needs = (result.intent, *needs)
        return engine.Input(
            text=inbound.text, language=variety, choice_id=inbound.choice_id,
            intent=result.intent, intent_confidence=result.confidence,
            urgent=in_danger(result), quick_exit=wants_to_leave(result),
            needs=needs, violence=result.violence,
            place=place_slot(place, guessed=guessed) if place is not None else None,
            names_a_town=names_a_town(result) and inbound.location is None,
        )

"""What the NLU tells the rest of Amane about one message.

This is the seam between `bot/nlu/` and the conversation (`bot/conversation/`): it only
ever sees an `NluResult`, whichever backend (the local model, a Rasa server) made it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from bot.types import DetectedLanguage, Intent, Violence


@dataclass(frozen=True, slots=True)
class Place:
    """A town or village from `data/geo/cities.csv`."""

    id: str  # HCP code, e.g. "01.051.01.01", or "gn:<geonameid>"
    name_fr: str  # canonical French name (the `city` of DESIGN.md)
    name_ar: str
    province_id: str
    region_id: str
    lat: float
    lon: float
    population: int
    kind: str  # commune_urban | commune_rural | arrondissement | locality | province
    province_fr: str = ""  # her province's name, to read a guessed town back to her
    province_ar: str = ""


@dataclass(frozen=True, slots=True)
class PlaceMatch:
    place: Place
    confidence: float  # 0..1; aliases and fuzzy matches score lower than exact names
    matched: str  # the normalised words of the message that matched
    whole: bool = False  # the message is only this place ("Safi", "ana f safi", "من آسفي")
    guessed: bool = False  # matched by likeness or a rare alias: to be read back to her


@dataclass(frozen=True, slots=True)
class NluResult:
    text: str
    language: DetectedLanguage
    language_confidence: float
    intent: Intent
    confidence: float
    intent_ranking: tuple[tuple[Intent, float], ...] = ()
    urgent: bool = False
    place: PlaceMatch | None = None
    violence: tuple[Violence, ...] = field(default=())

    @property
    def city(self) -> str | None:
        return self.place.place.name_fr if self.place else None


class NluBackend(Protocol):
    """Anything that can read one message. Implementations must be safe to call
    concurrently and must never log the text."""

    async def parse(self, text: str, *, expecting: str | None = None) -> NluResult:
        """Read `text`. `expecting`: what the question she answers expects (`place`,
        `choice`, `text`), if any: an answer to "which town?" is read as one."""
        ...

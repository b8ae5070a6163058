"""Types of violence named in a message (GBVIMS, plus digital violence).

DESIGN.md labels: `rape`, `sexual_assault` (any sexual violence short of rape,
attempted rape included), `physical`, `forced_marriage` (forced or child marriage),
`economic` (denial of resources: money, work, property), `psychological` (insults,
humiliation, threats, control, confinement), `digital` (blackmail with photos or
videos, fake accounts, online harassment).

A lexicon on `normalize()`d text (`data/lexicon/violence.yml`), in the four
varieties, kept deliberately literal: counselors read these labels and figures are
published from them, so a label is only given when the words are there. The training data's violence labels measure
it (`evaluate`).
"""

from __future__ import annotations

from typing import Final

from bot.nlu.lexicon import scripts
from bot.nlu.lexicon_files import required_patterns
from bot.types import Violence

__all__ = ["detect_violence"]


_PATTERNS: Final = required_patterns(
    "violence.yml",
    (
        "rape",
        "attempted_rape",
        "sexual_assault",
        "physical",
        "not_physical",
        "lethal_threat",
        "marriage",
        "forced",
        "child_age",
        "economic",
        "psychological",
        "digital_media",
        "digital_act",
        "digital_alone",
    ),
    only=True,
)
_RAPE: Final = _PATTERNS["rape"]
_ATTEMPT: Final = _PATTERNS["attempted_rape"]
_SEXUAL_ASSAULT: Final = _PATTERNS["sexual_assault"]
_PHYSICAL: Final = _PATTERNS["physical"]
# A heart that beats ("9albi kaydrb", "قلبي كيضرب") is not a blow.
_NOT_PHYSICAL: Final = _PATTERNS["not_physical"]
# Threats with a weapon, to kill or to slaughter are physical violence in GBVIMS
# ("use of any weapon"), not only psychological.
_LETHAL: Final = _PATTERNS["lethal_threat"]
_FORCED_MARRIAGE_EVENT: Final = _PATTERNS["marriage"]
_FORCED: Final = _PATTERNS["forced"]
_CHILD: Final = _PATTERNS["child_age"]
_ECONOMIC: Final = _PATTERNS["economic"]
_PSYCHOLOGICAL: Final = _PATTERNS["psychological"]
_DIGITAL_MEDIA: Final = _PATTERNS["digital_media"]
_DIGITAL_ACT: Final = _PATTERNS["digital_act"]
_DIGITAL_ALONE: Final = _PATTERNS["digital_alone"]


def detect_violence(norm: str) -> tuple[Violence, ...]:
    """The violence types named in `normalize()`d text, in the DESIGN.md order."""
    present = scripts(norm)
    found: list[Violence] = []
    rape = bool(_RAPE.search_in(norm, present))
    attempt = bool(_ATTEMPT.search_in(norm, present))
    if rape and not attempt:
        found.append("rape")
    if attempt or _SEXUAL_ASSAULT.search_in(norm, present):
        found.append("sexual_assault")
    lethal = bool(_LETHAL.search_in(norm, present))
    if lethal or (
        _PHYSICAL.search_in(norm, present) and not _NOT_PHYSICAL.search_in(norm, present)
    ):
        found.append("physical")
    if _FORCED_MARRIAGE_EVENT.search_in(norm, present) and (
        _FORCED.search_in(norm, present) or _CHILD.search_in(norm, present)
    ):
        found.append("forced_marriage")
    if _ECONOMIC.search_in(norm, present):
        found.append("economic")
    digital = bool(
        _DIGITAL_ALONE.search_in(norm, present)
        or (_DIGITAL_MEDIA.search_in(norm, present) and _DIGITAL_ACT.search_in(norm, present))
    )
    if _PSYCHOLOGICAL.search_in(norm, present) and not digital and not lethal:
        found.append("psychological")
    if digital:
        found.append("digital")
    return tuple(found)

"""Type aliases and constants shared by every part of Amane."""

from __future__ import annotations

from typing import Final, Literal, get_args

Variety = Literal["ary", "ary_latn", "ar", "fr"]
"""A language variety she can be answered in (DESIGN.md "Language varieties")."""

DetectedLanguage = Literal["ary", "ary_latn", "ar", "fr", "other"]
"""What the language detector may return: a variety, or `other`."""

VARIETIES: Final[tuple[Variety, ...]] = get_args(Variety)
DEFAULT_VARIETY: Final[Variety] = "ary"

Need = Literal[
    "need_listening",
    "need_legal",
    "need_psychological",
    "need_shelter",
    "need_medical",
    "need_accompaniment",
]
NEEDS: Final[tuple[Need, ...]] = get_args(Need)

Intent = Literal[
    "need_listening",
    "need_legal",
    "need_psychological",
    "need_shelter",
    "need_medical",
    "need_accompaniment",
    "emergency",
    "greet",
    "quick_exit",
    "ask_human",
    "out_of_scope",
]
INTENTS: Final[tuple[Intent, ...]] = get_args(Intent)

Violence = Literal[
    "rape",
    "sexual_assault",
    "physical",
    "forced_marriage",
    "economic",
    "psychological",
    "digital",
]
VIOLENCE_TYPES: Final[tuple[Violence, ...]] = get_args(Violence)

Channel = Literal["simulator", "terminal", "telegram", "sms", "whatsapp"]
CHANNELS: Final[tuple[Channel, ...]] = get_args(Channel)

Role = Literal["counselor", "admin", "analyst"]
ROLES: Final[tuple[Role, ...]] = get_args(Role)

CaseStatus = Literal["queued", "claimed", "closed"]
CASE_STATUSES: Final[tuple[CaseStatus, ...]] = get_args(CaseStatus)

# The service a center offers for each need (centers list services, cases list needs).
SERVICE_FOR_NEED: Final[dict[Need, str]] = {
    "need_listening": "listening",
    "need_legal": "legal",
    "need_psychological": "psychological",
    "need_shelter": "shelter",
    "need_medical": "medical",
    "need_accompaniment": "accompaniment",
}
SERVICES: Final[tuple[str, ...]] = tuple(SERVICE_FOR_NEED.values())

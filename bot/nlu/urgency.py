"""Is she in danger right now? (`urgent` in DESIGN.md "Intents and labels")

Urgent: immediate physical danger, an attack in progress, a threat to life, suicidal
intent, serious injury or bleeding, sexual assault within the last 72 hours.

A missed danger is the worst error Amane can make and a false alarm costs little,
so a message is urgent if ANY of these says so:

1. the danger lexicon of `data/lexicon/danger.yml` (all four varieties, on
   `normalize()`d text): words for killing, weapons, strangling, "save me", being
   locked in, suicide, bleeding, not breathing, and rape together with a word for
   "now / last night / today";
2. the urgency model (logistic regression on the shared features, trained on the
   `urgent` labels of `data/intents/`) above a low threshold;
3. the intent model giving `emergency` more than a low probability.

The lexicon is what keeps recall on messages unlike the training data; the
thresholds are chosen on cross-validation for recall first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from bot.nlu.lexicon import ScriptRegex, scripts
from bot.nlu.lexicon_files import required_patterns
from bot.types import Intent

__all__ = [
    "EMERGENCY_PROBABILITY_THRESHOLD",
    "URGENT_PROBABILITY_THRESHOLD",
    "danger_signals",
    "is_urgent",
]

URGENT_PROBABILITY_THRESHOLD: Final = 0.3
EMERGENCY_PROBABILITY_THRESHOLD: Final = 0.25


# Entries that count only in pairs: a word for rape AND one for a recent time
# (sexual assault within 72 hours); a verb of beating AND "now" (an attack now).
_PAIR_PARTS: Final = ("rape", "recent", "beating", "now")
_DANGER_PATTERNS: Final = required_patterns("danger.yml", _PAIR_PARTS)
_LEXICON: Final[tuple[tuple[str, ScriptRegex], ...]] = tuple(
    (name, pattern) for name, pattern in _DANGER_PATTERNS.items() if name not in _PAIR_PARTS
)
_RAPE: Final = _DANGER_PATTERNS["rape"]
_RECENT: Final = _DANGER_PATTERNS["recent"]
_BEATING: Final = _DANGER_PATTERNS["beating"]
_NOW: Final = _DANGER_PATTERNS["now"]


def danger_signals(norm: str) -> tuple[str, ...]:
    """Names of the danger-lexicon entries found in `normalize()`d text."""
    present = scripts(norm)
    found = [name for name, pattern in _LEXICON if pattern.search_in(norm, present)]
    if _RAPE.search_in(norm, present) and _RECENT.search_in(norm, present):
        found.append("recent_sexual_assault")
    if _BEATING.search_in(norm, present) and _NOW.search_in(norm, present):
        found.append("beating_now")
    return tuple(found)


def is_urgent(
    norm: str,
    urgent_probability: float,
    intent_ranking: Sequence[tuple[Intent, float]],
) -> bool:
    """The urgent flag for one message (see the module docstring)."""
    if danger_signals(norm):
        return True
    if urgent_probability >= URGENT_PROBABILITY_THRESHOLD:
        return True
    for intent, probability in intent_ranking:
        if intent == "emergency":
            return probability >= EMERGENCY_PROBABILITY_THRESHOLD
    return False

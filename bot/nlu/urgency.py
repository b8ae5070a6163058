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
thresholds are chosen on cross-validation for recall first. Urgent means danger
now: violence she describes as habitual or past ("he hits me when he drinks") is
recorded as violence, and the answers to Amane's own questions need the models to
be sure (`is_urgent`).
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
    "says_not_now",
]

URGENT_PROBABILITY_THRESHOLD: Final = 0.3
EMERGENCY_PROBABILITY_THRESHOLD: Final = 0.25


# Entries that count only in pairs: a word for rape AND one for a recent time
# (sexual assault within 72 hours); a verb of beating AND "now" (an attack now).
# `not_now` (habitual or past violence) is no signal: see `is_urgent`.
_PAIR_PARTS: Final = ("rape", "recent", "beating", "now", "not_now")
_DANGER_PATTERNS: Final = required_patterns("danger.yml", _PAIR_PARTS)
_LEXICON: Final[tuple[tuple[str, ScriptRegex], ...]] = tuple(
    (name, pattern) for name, pattern in _DANGER_PATTERNS.items() if name not in _PAIR_PARTS
)
_RAPE: Final = _DANGER_PATTERNS["rape"]
_RECENT: Final = _DANGER_PATTERNS["recent"]
_BEATING: Final = _DANGER_PATTERNS["beating"]
_NOW: Final = _DANGER_PATTERNS["now"]
_NOT_NOW: Final = _DANGER_PATTERNS["not_now"]

# Answering one of Amane's questions in a few words ("le matin", "في الصباح", "par
# message"), a message is urgent by the models alone only when they are this sure.
ANSWER_WORDS: Final = 4
ANSWER_URGENT_PROBABILITY: Final = 0.6
ANSWER_EMERGENCY_PROBABILITY: Final = 0.5


def danger_signals(norm: str) -> tuple[str, ...]:
    """Names of the danger-lexicon entries found in `normalize()`d text."""
    present = scripts(norm)
    found = [name for name, pattern in _LEXICON if pattern.search_in(norm, present)]
    if _RAPE.search_in(norm, present) and _RECENT.search_in(norm, present):
        found.append("recent_sexual_assault")
    if _BEATING.search_in(norm, present) and _NOW.search_in(norm, present):
        found.append("beating_now")
    return tuple(found)


def says_not_now(norm: str) -> bool:
    """The violence she describes is habitual or past ("il me frappe quand il boit",
    "hadi snin", "الأسبوع الماضي") and nothing in the message says it is now."""
    present = scripts(norm)
    return _NOT_NOW.search_in(norm, present) and not _NOW.search_in(norm, present)


def is_urgent(
    norm: str,
    urgent_probability: float,
    intent_ranking: Sequence[tuple[Intent, float]],
    *,
    answering: bool = False,
) -> bool:
    """The urgent flag for one message: danger now (see the module docstring).

    The danger lexicon always counts. The models count unless the message says the
    violence is habitual or past (`says_not_now`), and, when she is `answering` one
    of Amane's questions in a few words, only when they are sure: an answer about a
    time or a way to be contacted is no emergency."""
    if danger_signals(norm):
        return True
    if says_not_now(norm):
        return False
    short_answer = answering and len(norm.split()) <= ANSWER_WORDS
    urgent_threshold, emergency_threshold = (
        (ANSWER_URGENT_PROBABILITY, ANSWER_EMERGENCY_PROBABILITY) if short_answer
        else (URGENT_PROBABILITY_THRESHOLD, EMERGENCY_PROBABILITY_THRESHOLD))
    if urgent_probability >= urgent_threshold:
        return True
    for intent, probability in intent_ranking:
        if intent == "emergency":
            return probability >= emergency_threshold
    return False

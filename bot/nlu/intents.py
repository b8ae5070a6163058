"""Intent: what she needs, or what she is doing in the conversation.

A multinomial logistic regression on the shared character n-grams, words and
concepts gives a probability for every intent. Below
`FALLBACK_THRESHOLD` the intent is `out_of_scope` (the ranking is kept, so the
conversation can still offer the best guesses).

Quick-exit words are a safety rule of DESIGN.md ("stop", "safi", "بركة", "حبس"
...): a message made only of them is `quick_exit` with confidence 1, whatever the
model thinks. A message made only of greeting words is `greet` the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, cast

import numpy as np

from bot.nlu.features import LinearHead, SparseRow
from bot.nlu.lexicon import scripts
from bot.nlu.lexicon_files import required_patterns, word_set
from bot.types import Intent

__all__ = [
    "FALLBACK_THRESHOLD",
    "GREETINGS",
    "MODEL_EXIT_MAX_WORDS",
    "GREETING_WORDS",
    "QUICK_EXIT_WORDS",
    "IntentClassifier",
    "decide_intent",
    "is_greeting",
    "is_quick_exit",
    "is_quick_exit_word_in",
    "is_not_an_exit",
    "says_quick_exit",
]

FALLBACK_THRESHOLD: Final = 0.35

QUICK_EXIT_WORDS: Final[frozenset[str]] = word_set("quick_exit_words.txt")
_EXIT_PHRASES: Final = required_patterns(
    "quick_exit_phrases.yml", ("stop_writing", "wipe_now", "arriving", "not_an_exit"),
    only=True)
# The model alone makes a quick exit of a short message only ("il arrive stop", "ja
# rajli safi"); a longer one that speaks of stopping or erasing tells a story ("j'ai
# arrêté de travailler à cause de lui", "il a effacé mes photos").
MODEL_EXIT_MAX_WORDS: Final = 5

GREETINGS: Final[frozenset[str]] = word_set("greetings.txt")
"""Greeting words: a greeting needs one of them."""
GREETING_WORDS: Final[frozenset[str]] = GREETINGS | word_set("greeting_companions.txt")
"""The words a greeting may be made of: greetings and the words that come with them
("3alaykom", "madame", "khti")."""


def is_quick_exit_word_in(norm: str) -> bool:
    """Some word of `normalize()`d text is a quick-exit word."""
    return any(w in QUICK_EXIT_WORDS for w in norm.split())


def says_quick_exit(norm: str) -> bool:
    """True if `normalize()`d text asks Amane to stop writing or to wipe the
    conversation, in words ("arrete de m ecrire", "ma tktbch lia", "لا تراسلني",
    "mse7 kolchi"), and is no blessing ("baraka llahou fik")."""
    present = scripts(norm)
    return not is_not_an_exit(norm) and any(
        _EXIT_PHRASES[name].search_in(norm, present)
        for name in ("stop_writing", "wipe_now", "arriving"))


def is_not_an_exit(norm: str) -> bool:
    """A blessing or talk of stopping him ("baraka llahou fik", "je veux qu'il arrête
    de me frapper"): never a quick exit, whatever the model thinks."""
    return _EXIT_PHRASES["not_an_exit"].search_in(norm, scripts(norm))


def is_greeting(norm: str) -> bool:
    """True if `normalize()`d text is only a greeting ("salam", "bonjour madame",
    "السلام عليكم ورحمة الله", "sba7 lkhir")."""
    words = norm.split()
    return (
        bool(words)
        and len(words) <= 8
        and all(w in GREETING_WORDS for w in words)
        and any(w in GREETINGS for w in words)
    )


def is_quick_exit(norm: str) -> bool:
    """True if `normalize()`d text is only quick-exit words ("safi", "stop stop",
    "بركة صافي")."""
    words = norm.split()
    return bool(words) and len(words) <= 3 and all(w in QUICK_EXIT_WORDS for w in words)


@dataclass
class IntentClassifier:
    """Multinomial logistic regression on the shared features (trained by
    `bot/nlu/training.py`). Its probabilities are measured for calibration by
    `evaluate` (expected calibration error under stratified cross-validation)."""

    head: LinearHead

    def rank(self, row: SparseRow) -> tuple[tuple[Intent, float], ...]:
        """All intents with their probability, most likely first."""
        proba = self.head.probabilities(row)
        order = np.argsort(-proba)
        classes = self.head.classes
        return tuple((cast(Intent, classes[i]), round(float(proba[i]), 4)) for i in order)


def decide_intent(
    ranking: tuple[tuple[Intent, float], ...], threshold: float = FALLBACK_THRESHOLD
) -> tuple[Intent, float]:
    """The intent to act on and its confidence: the best one, or `out_of_scope`
    (with the best one's confidence) when that is below `threshold`."""
    if not ranking:
        return "out_of_scope", 0.0
    best, confidence = ranking[0]
    if confidence < threshold:
        return "out_of_scope", confidence
    return best, confidence

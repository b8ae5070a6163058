"""Concept words shared by the four varieties.

"avocat", "m7ami", "محامي" and "محام" are one concept; a classifier trained on a
few thousand messages cannot learn that from character n-grams alone, because each
variety spells it differently. `concepts()` tags a `normalize()`d message with
concept tokens (`lawyer`, `court`, `shelter`, ...) that become extra features, so
what the model learns from a French example also applies to an Arabizi one, and
messages from people outside the team that use a known word in an unseen sentence
are still understood. This is the same idea as Rasa's lookup tables.

The concepts and their patterns are in `data/lexicon/concepts.yml`, on
`normalize()`d text: lower case, no accents, Arabic letters unified (ة -> ه,
ى -> ي, no hamza). Latin alternatives use \\b; Arabic words match inside glued
words on purpose (prefixes ف ب ل و ال are glued in Arabic script).
"""

from __future__ import annotations

from typing import Final

from bot.nlu.lexicon import ScriptRegex, scripts
from bot.nlu.lexicon_files import pattern_lexicon

__all__ = ["CONCEPTS", "concepts"]

CONCEPTS: Final[tuple[tuple[str, ScriptRegex], ...]] = pattern_lexicon("concepts.yml")
"""(name, pattern), in the order of the model's concept features."""


def concepts(norm: str) -> list[str]:
    """Concept tokens for `normalize()`d text, e.g. ["c_lawyer", "c_divorce"]."""
    found = scripts(norm)
    return [f"c_{name}" for name, pattern in CONCEPTS if pattern.search_in(norm, found)]

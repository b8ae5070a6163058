"""Ordinary words that must not be read as town names.

Many of Morocco's 1,500 communes have short names that are also everyday words in
Darija, French or Arabic ("Safi" is a town and "safi" means "enough"; "Tata" is a
town and an aunt; "صباح" is a commune and "morning"). The gazetteer reads a name
that is one of these words as a town only after a locative word ("f safi",
"à Safi", "في آسفي") or when it is the whole answer to "which town?".

The lists are in `data/lexicon/` (see each file's header), all words in
`normalize()` form (lower case, no accents, Arabic letters unified).
"""

from __future__ import annotations

from typing import Final

from bot.nlu.lexicon_files import word_set

__all__ = ["COMMON_WORDS", "FIRST_NAMES", "LOCATIVE_NOUNS", "LOCATIVE_PREFIXES", "NAME_PARTS"]

NAME_PARTS: Final[frozenset[str]] = word_set("town_name_parts.txt")
"""Parts of compound place names that are never a town by themselves ("Sidi
Slimane", "Aïn Sebaâ", "Bni Mellal", "Oulad Teima", "Had Soualem")."""

LOCATIVE_NOUNS: Final[frozenset[str]] = word_set("locative_nouns.txt")
"""Nouns that ordinarily follow "f", "fi", "à", "في": never read as a town even there."""

LOCATIVE_PREFIXES: Final[frozenset[str]] = word_set("locative_prefixes.txt")
"""Words that introduce a place: "f tiznit", "fi casa", "à Agadir", "men tanja",
"في تيزنيت", "من وجدة". Attached Arabic forms (فتيزنيت, بالرباط, لطنجة) are handled
by the gazetteer."""

FIRST_NAMES: Final[frozenset[str]] = word_set("first_names.txt")
"""Common Moroccan first names: "Naima", "Rima", "Hassan", "Saada", "Ameur" are also
communes."""

COMMON_WORDS: Final[frozenset[str]] = (
    word_set("ordinary_words_darija_latin.txt")
    | word_set("ordinary_words_darija_arabic.txt")
    | word_set("ordinary_words_msa_french_english.txt")
    | NAME_PARTS
    | LOCATIVE_NOUNS
    | LOCATIVE_PREFIXES
    | FIRST_NAMES
)

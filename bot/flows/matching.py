"""How a typed answer selects a choice: pure text folding and matching rules.

A reply equal to a choice's text (in any variety) or one of its synonyms selects it;
a number selects the n-th choice ("2", "٢", "1 3", "1,3" for several); a choice's
keywords or NLU intents select it when found in a longer answer.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache

_ARABIC_DIACRITICS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed]")
_ARABIC_FOLD = str.maketrans({
    "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا",
    "ة": "ه", "ى": "ي", "ؤ": "و", "ئ": "ي",
    "ـ": None,  # tatweel
    "٠": "0", "١": "1", "٢": "2", "٣": "3", "٤": "4",
    "٥": "5", "٦": "6", "٧": "7", "٨": "8", "٩": "9",
    "۰": "0", "۱": "1", "۲": "2", "۳": "3", "۴": "4",
    "۵": "5", "۶": "6", "۷": "7", "۸": "8", "۹": "9",
    "،": " ", "؛": " ", "؟": " ",
})
_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)
_REPEATS = re.compile(r"(\D)\1{2,}")
_NUMBER_LIST = re.compile(r"^\d{1,2}(?:\s*(?:,|;|/|\+|-|\s|et|w|o|and|و)\s*\d{1,2})*$")


def fold(text: str) -> str:
    """Fold a message for comparison: case, accents, Arabic letter variants, diacritics,
    tatweel, Eastern digits, punctuation, letters repeated for emphasis."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = _ARABIC_DIACRITICS.sub("", text).translate(_ARABIC_FOLD)
    decomposed = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    text = unicodedata.normalize("NFC", text)
    text = _REPEATS.sub(r"\1\1", text)
    return " ".join(_NON_WORD.sub(" ", text).split())


@lru_cache(maxsize=16384)
def _fold_keyword(keyword: str) -> str:
    """`fold` for the flow's own words (choices, keywords, quick-exit words): the same
    few thousand strings for every message, folded once. Her messages are never kept
    in this cache."""
    return fold(keyword)


def numbers_in_answer(folded: str) -> list[int] | None:
    """`[1, 3]` for "1 3", "1,3", "1 et 3", "1 w 3"; None if the answer is not only numbers."""
    if not folded or not _NUMBER_LIST.match(folded):
        return None
    return [int(n) for n in re.findall(r"\d{1,2}", folded)]


def contains_keyword(folded: str, keyword: str) -> bool:
    """Whole-word match of a folded keyword; a keyword of 4+ letters also matches as a
    word prefix (avocat -> avocate, avocats)."""
    key = _fold_keyword(keyword)
    if not key:
        return False
    if " " in key:
        return f" {key} " in f" {folded} "
    for token in folded.split():
        if token == key or (len(key) >= 4 and token.startswith(key)):
            return True
        # Arabic clitics: و (and), ال (the), ب / ل (with / for) glued to the word.
        for clitic in ("وال", "بال", "فال", "لل", "ال", "و", "ب", "ل", "ف"):
            if token.startswith(clitic):
                stem = token[len(clitic):]
                if stem == key or (len(key) >= 4 and stem.startswith(key)):
                    return True
    return False


def any_equal(folded: str, candidates: Iterable[str]) -> bool:
    return any(folded == _fold_keyword(candidate) for candidate in candidates)


def pick_by_numbers(numbers: Sequence[int], count: int, multiple: bool) -> list[int]:
    """Zero-based indexes selected by 1-based numbers, ignoring out-of-range ones."""
    picked: list[int] = []
    for number in numbers:
        if 1 <= number <= count and number - 1 not in picked:
            picked.append(number - 1)
    if not multiple and len(picked) != 1:
        return []
    return picked


def starts_with_words(folded: str, words: str) -> bool:
    """The answer opens with these words, whole: "oui je peux" opens with "oui", not
    "ouistiti" with "oui"."""
    key = _fold_keyword(words)
    return bool(key) and (folded == key or folded.startswith(key + " "))

"""Normalisation of a message for matching and classification.

One canonical form is used everywhere in `bot/nlu/` (town names, lexicons and the
classifiers all see the same text), so that the many ways one word is typed on a
phone in Morocco meet:

- Arabic: alef forms (أ إ آ ٱ) -> ا, hamza carriers (ؤ -> و, ئ -> ي), bare hamza
  dropped, taa marbuta ة -> ه, alif maqsura ى -> ي, Persian/Urdu letter forms
  (ی ک ہ گ ڭ ...) -> Arabic ones, tatweel and diacritics removed, Arabic-Indic
  digits -> ASCII digits.
- Latin: case folded, accents removed (é -> e, ç -> c, œ -> oe), apostrophes and
  hyphens split words ("l'avocat" -> "l avocat", "Aïn-Sebaâ" -> "ain sebaa").
- Letters repeated for emphasis ("salaaaam", "بزززاف") collapse to one; a doubled
  letter is kept because it is ordinary spelling ("mrrakch", "lflouss").
- Arabizi digits (2 3 5 7 8 9 for ء ع خ ح ه ق) are letters here and kept as they
  are: "3afak" stays "3afak", "m3a" stays "m3a". Numbers stay numbers.

Everything else (punctuation, emoji, symbols) becomes a word boundary.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

__all__ = [
    "is_arabic_letter",
    "normalize",
    "script_counts",
    "tokens",
]

_ARABIC_MAP: Final[dict[str, str]] = {
    # alef forms
    "أ": "ا",
    "إ": "ا",
    "آ": "ا",
    "ٱ": "ا",
    "ٲ": "ا",
    "ٳ": "ا",
    # hamza carriers and bare hamza
    "ؤ": "و",
    "ئ": "ي",
    "ء": "",
    # taa marbuta, alif maqsura
    "ة": "ه",
    "ۃ": "ه",
    "ى": "ي",
    # Persian, Urdu, Kurdish and Maghrebi letter forms found in names and keyboards
    "ی": "ي",
    "ې": "ي",
    "ۍ": "ي",
    "ێ": "ي",
    "ے": "ي",
    "ک": "ك",
    "ڪ": "ك",
    "گ": "ك",  # Moroccan writers use it for the "g" of Agadir, Guelmim
    "ڭ": "ك",  # Maghrebi gaf
    "ګ": "ك",
    "ݣ": "ك",
    "ہ": "ه",
    "ۀ": "ه",
    "ە": "ه",
    "ھ": "ه",
    "ڤ": "ف",  # used for the "v" sound
    "ڥ": "ف",
    "پ": "ب",
    "چ": "ش",
    "ژ": "ز",
    "ٹ": "ت",
    "ټ": "ت",
    "ڕ": "ر",
    "ڨ": "ق",
    "ﻻ": "لا",
    # tatweel
    "ـ": "",
    # Arabic punctuation
    "،": " ",
    "؛": " ",
    "؟": " ",
    "٪": " ",
}

_LATIN_MAP: Final[dict[str, str]] = {
    "œ": "oe",
    "æ": "ae",
    "ß": "ss",
    "ø": "o",
    "đ": "d",
    "ł": "l",
    "ı": "i",
    "ɣ": "gh",
    "ə": "e",
}

# Arabic-Indic and Persian digits -> ASCII
_DIGITS: Final[dict[int, str]] = {
    **{0x0660 + i: str(i) for i in range(10)},
    **{0x06F0 + i: str(i) for i in range(10)},
}

_TRANSLATE: Final[dict[int, str]] = {
    **{ord(k): v for k, v in _ARABIC_MAP.items()},
    **{ord(k): v for k, v in _LATIN_MAP.items()},
    **_DIGITS,
}

# Any run of characters that is neither a letter nor a digit separates words.
_NON_WORD = re.compile(r"[^0-9a-z\u0621-\u064a\u0671-\u06d3\u2d30-\u2d7f]+")
# Three or more of the same letter (or Arabizi digit) in a row -> one.
_ELONGATION = re.compile(r"([a-z\u0621-\u064a])\1{2,}")
# The same for an Arabizi digit run touching a letter ("wa777", "3333afak");
# a run of digits alone is a number and is left alone.
_DIGIT_ELONGATION = re.compile(r"(?<=[a-z])([235789])\1{2,}|([235789])\2{2,}(?=[a-z])")


def _strip_marks(text: str) -> str:
    """Remove combining marks: Latin accents and Arabic harakat, shadda, sukun."""
    decomposed = unicodedata.normalize("NFD", text)
    kept = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    # Arabic letters decomposed by NFD (e.g. alef with hamza) must be recomposed
    # before the letter map sees them; NFC puts back what NFD took apart.
    return unicodedata.normalize("NFC", kept)


def normalize(text: str) -> str:
    """The canonical matching form of a message (see the module docstring).

    >>> normalize("Salaaam, J'ai BESOIN d'un avocat à Fès !!")
    'salam j ai besoin d un avocat a fes'
    >>> normalize("بغيــت نهضـرررر مع شي حدّ")
    'بغيت نهضر مع شي حد'
    """
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text)
    text = text.casefold()
    # Map hamza-carrying letters before marks are stripped (NFD would split
    # أ into ا + hamza above, losing nothing, but ؤ/ئ need their own mapping).
    text = text.translate(_TRANSLATE)
    text = _strip_marks(text)
    text = text.translate(_TRANSLATE)
    text = _NON_WORD.sub(" ", text)
    text = _ELONGATION.sub(r"\1", text)
    text = _DIGIT_ELONGATION.sub(lambda m: m.group(1) or m.group(2), text)
    return " ".join(text.split())


def tokens(text: str) -> list[str]:
    """The words of `normalize(text)`."""
    return normalize(text).split()


def is_arabic_letter(ch: str) -> bool:
    return "\u0600" <= ch <= "\u06ff" or "\u0750" <= ch <= "\u077f" or "\ufb50" <= ch <= "\ufeff"


_ARABIC_BLOCK = re.compile(r"[\u0600-\u06ff\u0750-\u077f\ufb50-\ufeff]")
_LATIN_LETTERS = re.compile(r"[A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f]")


def script_counts(text: str) -> tuple[int, int, int]:
    """How many Arabic-script letters, Latin letters and other letters `text` has.

    Counts the raw text (before normalisation), so Tifinagh, Cyrillic, CJK ... fall
    in the third number.
    """
    letters = sum(1 for ch in text if ch.isalpha())
    arabic = sum(1 for ch in _ARABIC_BLOCK.findall(text) if ch.isalpha())
    latin = len(_LATIN_LETTERS.findall(text))
    return arabic, latin, letters - arabic - latin


# How Arabizi digits are written in the French spellings of names: 3 ع, 2 ء and 8 ه
# are mostly vowels or nothing there, 7 ح is h, 9 ق is k or q, 5 خ is kh.
ARABIZI_AS_LETTERS = str.maketrans({"3": "a", "2": "a", "7": "h", "9": "k", "5": "kh",
                                     "8": "h"})

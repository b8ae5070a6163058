"""Word lists as regular expressions, split by script for speed.

The concept, danger and violence lexicons are long alternations in Latin and Arabic
script. A message is almost always in one script, so each lexicon entry keeps its
Latin and its Arabic alternatives in two compiled patterns and only runs the ones
that can match: that halves the time per message.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

__all__ = ["ScriptRegex", "arabic_words_pattern", "has_arabic", "has_latin", "scripts"]

_ARABIC: Final = re.compile(r"[\u0600-\u06ff]")
_LATIN: Final = re.compile(r"[a-z0-9]")
_ESCAPES: Final = re.compile(r"\\[a-zA-Z]")
_LATIN_WORD: Final = re.compile(r"[a-z]{2,}")


def scripts(text: str) -> tuple[bool, bool]:
    """(has Latin letters or digits, has Arabic letters) for `ScriptRegex.search_in`."""
    if text.isascii():
        return True, False
    return _LATIN.search(text) is not None, _ARABIC.search(text) is not None


def arabic_words_pattern(words: Iterable[str]) -> str:
    """A regular expression for Arabic-script `words`, each at a word start after an
    optional glued و ف ب ل ك and article; a trailing * lets pronoun suffixes follow
    ("محامي*" matches "محاميتي", "للمحامي")."""
    alternatives = []
    for word in words:
        word = word.strip()
        if not word:
            continue
        if word.endswith("*"):
            alternatives.append(re.escape(word[:-1]) + r"\w*")
        else:
            alternatives.append(re.escape(word) + r"\b")
    return r"(?:^| )(?:[وفبلك]|ال|وال|فال|بال|لل)?(?:" + "|".join(alternatives) + ")"


def has_arabic(text: str) -> bool:
    return _ARABIC.search(text) is not None


def has_latin(text: str) -> bool:
    return _LATIN.search(text) is not None


class ScriptRegex:
    """`re.compile("|".join(alternatives))`, searched per script.

    An alternative with Arabic letters goes in the Arabic pattern, one without in
    the Latin pattern, one with both in both."""

    __slots__ = ("arabic", "latin")

    def __init__(self, *alternatives: str) -> None:
        latin: list[str] = []
        arabic: list[str] = []
        for alternative in alternatives:
            if has_arabic(alternative):
                arabic.append(alternative)
                if _LATIN_WORD.search(_ESCAPES.sub("", alternative)):
                    latin.append(alternative)
            else:
                latin.append(alternative)
        self.latin = re.compile("|".join(f"(?:{a})" for a in latin)) if latin else None
        self.arabic = re.compile("|".join(f"(?:{a})" for a in arabic)) if arabic else None

    def search_in(self, text: str, scripts: tuple[bool, bool]) -> bool:
        """`search` when the caller already knows `scripts(text)`."""
        latin, arabic = scripts
        if latin and self.latin is not None and self.latin.search(text) is not None:
            return True
        return arabic and self.arabic is not None and self.arabic.search(text) is not None

    def search(self, text: str) -> bool:
        """True if any alternative matches somewhere in `text`."""
        ascii_only = text.isascii()
        if (
            self.latin is not None
            and (ascii_only or has_latin(text))
            and self.latin.search(text) is not None
        ):
            return True
        return self.arabic is not None and not ascii_only and self.arabic.search(text) is not None

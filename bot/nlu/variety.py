"""Language variety of a message: ary, ary_latn, ar, fr, or other.

1. Script first, from the raw text: Arabic letters, Latin letters, or another
   script (Tifinagh, Cyrillic, ...: `other`). A message with no letters at all
   ("3", "ok" is letters, "😭" is not) is `other` with confidence 0.
2. Arabic script: a light classifier (logistic regression on the shared character
   n-grams) tells Darija (`ary`) from Modern Standard Arabic (`ar`). Either reply is
   understood, so this is a best effort.
3. Latin script: the same kind of classifier tells Darija in Latin letters
   (`ary_latn`) from French (`fr`). This is the distinction that matters: a woman
   writing Arabizi must not be answered in French, so a word with an Arabizi digit
   ("m3a", "7ta", "9bel") makes it Darija, and French needs a clear majority
   (`FRENCH_THRESHOLD`). Darija/French code-switching counts as Darija because it
   was trained as such.
4. Other languages in Latin letters (English, Spanish ...) are recognised with
   `langdetect`, seeded for determinism and restricted to a few profiles, and only
   asked when most words of the message are unknown to the training data. Off-the-
   shelf detectors do not know Arabizi, so they are never asked to tell it apart.

`choose_reply_variety()` turns a detection into the variety to answer in, so that
short messages ("salam", "ok", "3", "wah", "oui") never flip a conversation.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Protocol

import numpy as np

from bot.nlu.features import LinearHead, SparseRow
from bot.nlu.lexicon_files import word_set, word_sets_by_key
from bot.nlu.normalize import normalize, script_counts
from bot.types import DEFAULT_VARIETY, VARIETIES, DetectedLanguage, Variety

__all__ = [
    "FRENCH_THRESHOLD",
    "OtherLanguageDetector",
    "VarietyClassifier",
    "choose_reply_variety",
    "has_arabizi",
]

logger = logging.getLogger(__name__)

FRENCH_THRESHOLD: Final = 0.6
"""Latin script is French only if the classifier gives French at least this."""

_ARABIZI_TOKEN = re.compile(r"^(?=.*[a-z])(?=.*[235789])[a-z0-9]+$")
# An Arabizi digit stands for a letter inside a word: a letter touches it ("3la",
# "m3a", "sa7bi", "9bel"). Tokens that mix letters and digits in a French or
# universal way are not Arabizi evidence:
# numbers glued to a unit (3h, 2eme, 5min, 3ans), times (20h40, 14h30, 8h, 20:40),
_NUMBER_WITH_UNIT = re.compile(
    r"^\d+(?:h|e|er|ere|eme|em|min|mn|ans?|km|kg|dh|mad|j|jours?|mois|x|s|am|pm|th|st|nd|rd"
    r"|g|mg|ml|cl|l|m|cm|mm|go|mo|ko|gb|mb|kb|v|w|kw|kwh|d|p|k|%)$"
)
_TIME = re.compile(r"^\d{1,2}(?:h|:)\d{0,2}(?:min|mn)?$|^h\d{1,2}$")
# codes of letters then two or more digits (a15, covid19, rn13, user123), a number
# with a short tail (4x4, 3g, 5g, 2cv), a dozen common short codes,
_CODE = re.compile(r"^[a-z]{1,}\d{2,}$|^\d+[a-z]{1,2}\d+$")
_SHORT_CODES: Final[frozenset[str]] = frozenset(
    {"co2", "h2o", "mp3", "mp4", "ps2", "ps3", "ps4", "ps5", "tf1", "m6", "f1", "g7", "g8",
     "b2b", "b2c", "p2p", "4g", "5g", "3g", "2g", "3d", "2d", "a380", "w3c"}
)
# and, in the raw text, hashtags, @handles, web addresses, and tokens written in
# capitals (CO2, A15, PS5, RN13: Arabizi is not written in capitals with digits).
_RAW_NOT_WORD = re.compile(r"^(?:[#@]|https?://|www\.)|\.(?:com|ma|fr|org|net)\b", re.IGNORECASE)
_TOKEN_EDGES = re.compile(r"^[^\w#@]+|[^\w]+$")


def _arabizi_token(token: str) -> bool:
    """True if one lower-case token spells a letter with an Arabizi digit."""
    if not _ARABIZI_TOKEN.match(token):
        return False
    if _NUMBER_WITH_UNIT.match(token) or _TIME.match(token) or _CODE.match(token):
        return False
    if token in _SHORT_CODES:
        return False
    return sum(ch.isdigit() for ch in token) <= 3


# Words only Darija uses (none is also a French word): one in a Latin-script
# message makes it Darija unless the classifier is sure of French.
DARIJA_MARKERS: Final[frozenset[str]] = word_set("darija_markers_latin.txt")
# The same in Arabic script, against words that mark Modern Standard Arabic.
_ARABIC_DARIJA_MARKERS: Final[frozenset[str]] = word_set("darija_markers_arabic.txt")
_ARABIC_MSA_MARKERS: Final[frozenset[str]] = word_set("msa_markers.txt")
_ARABIC_DARIJA_PATTERN = re.compile(r"^(?:ما\w{2,}ش|(?:كي|كن|كت|تي|تن)\w{3,})$")
# MSA words that the Darija verb prefixes (ك/ت + verb) would take for Darija:
# nouns (كتاب, كيفيه, تنظيم, تنميه) and MSA verbs (تنتهي, تنتظر, كنت ...).
_ARABIC_NOT_DARIJA: Final[frozenset[str]] = frozenset(
    normalize(w)
    for w in [
        "كيف", "كنت", "كنا", "كتب", "كتاب", "كتابه", "تين", "كنتم", "كنتن", "كيفيه",
        "كيان", "كيلو", "كيلومتر", "كيمياء", "كيماوي", "كينيا", "كندا", "كنيسه", "كنوز",
        "كتابات", "كتيبه", "كتله", "كتاب", "كتبت", "كتبوا", "كتاباته", "تيار", "تيارات",
        "تينك", "تنظيم", "تنظيمات", "تنفيذ", "تنميه", "تنسيق", "تنافس", "تنازل",
        "تنتهي", "تنتظر", "تنتخب", "تنتشر", "تنتمي", "تنتج", "تنطلق", "تنظر", "تنقل",
        "تنص", "تنفي", "تنشر", "تنال", "تنجح", "تنمو", "تنبيه", "تنوع", "تنقيب",
    ]
)
# MSA nouns of the shape تنـ + root with a long i (تنظيم, تنفيذ, تنسيق) and MSA
# imperfects of the form تنتـ (تنتهي, تنتظر): never a Darija progressive verb.
_ARABIC_MSA_SHAPE = re.compile(r"^(?:تن\w{2}ي\w(?:ات|ه)?|تنت\w{2,})$")


def _darija_verb_form(word: str) -> bool:
    return bool(
        _ARABIC_DARIJA_PATTERN.match(word)
        and word not in _ARABIC_NOT_DARIJA
        and word not in _ARABIC_MSA_MARKERS
        and not _ARABIC_MSA_SHAPE.match(word)
    )


def arabic_markers(norm: str) -> tuple[int, int]:
    """(Darija, MSA) marker words in `normalize()`d Arabic-script text."""
    darija = msa = 0
    for w in norm.split():
        if w in _ARABIC_DARIJA_MARKERS or _darija_verb_form(w):
            darija += 1
        elif w in _ARABIC_MSA_MARKERS:
            msa += 1
    return darija, msa


_DARIJA_VERB = re.compile(r"^(?:kay|kan|kat|tay|tan|gha[nty]|kaan)[a-z0-9]{3,}$")
_FRENCH_ACCENTS = re.compile(r"[éèêëàâçùûîïôœ]", re.IGNORECASE)
_ACCENT_LOGIT_BOOST: Final = 1.0


def darija_markers(norm: str) -> int:
    """How many words of `normalize()`d Latin text are unmistakably Darija."""
    return sum(1 for w in norm.split() if w in DARIJA_MARKERS or _DARIJA_VERB.match(w))


def has_arabizi(text: str) -> bool:
    """True if a word of `text` (raw or `normalize()`d) spells a letter with an
    Arabizi digit. Hashtags, @handles, web addresses, times (20h40), numbers with
    a unit (3h, 2eme), codes (CO2, A15, covid19) are not Arabizi."""
    for raw in text.split():
        raw = _TOKEN_EDGES.sub("", raw)
        if not raw or _RAW_NOT_WORD.search(raw):
            continue
        letters = [ch for ch in raw if ch.isalpha()]
        if letters and all(ch.isupper() for ch in letters) and any(ch.isdigit() for ch in raw):
            continue  # CO2, A15, PS5, 20H40: capitals with digits
        for word in normalize(raw).split():
            if _arabizi_token(word):
                return True
    return False


# Languages langdetect may name. Arabizi is none of them and langdetect would
# happily call it Portuguese or Turkish, so "other" needs both langdetect's word
# and two common words of that language in the message.
_LANGDETECT_PROFILES: Final = ("en", "es", "it", "de", "pt", "nl", "fr")
_OTHER_MIN_PROB: Final = 0.9
_FUNCTION_WORDS: Final[dict[str, frozenset[str]]] = dict(
    word_sets_by_key("other_language_function_words.yml")
)


class OtherLanguageDetector:
    """langdetect restricted to a few Latin-script languages, loaded on first use,
    deterministic (seed 0)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._factory: object | None = None

    def _load(self) -> object:
        from langdetect import DetectorFactory
        from langdetect.detector_factory import PROFILES_DIRECTORY
        from langdetect.detector_factory import DetectorFactory as Factory

        DetectorFactory.seed = 0
        factory = Factory()
        factory.seed = 0
        profiles = [
            (Path(PROFILES_DIRECTORY) / lang).read_text(encoding="utf-8")
            for lang in _LANGDETECT_PROFILES
        ]
        # validate they are JSON before handing them over (langdetect swallows errors)
        for p in profiles:
            json.loads(p)
        factory.load_json_profile(profiles)
        return factory

    def detect(self, text: str) -> list[tuple[str, float]]:
        """[(language code, probability), ...] most likely first; empty if
        undecidable."""
        from langdetect.lang_detect_exception import LangDetectException

        with self._lock:
            if self._factory is None:
                self._factory = self._load()
            factory = self._factory
        try:
            detector = factory.create()  # type: ignore[attr-defined]
            detector.append(text)
            langs = detector.get_probabilities()
        except LangDetectException:
            return []
        return [(str(lang.lang), float(lang.prob)) for lang in langs]


@dataclass
class VarietyClassifier:
    """Two binary heads on the shared feature rows; see the module docstring.
    Trained by `bot/nlu/training.py`."""

    arabic: LinearHead  # classes: ar, ary
    latin: LinearHead  # classes: ary_latn, fr
    latin_vocabulary: frozenset[str]  # words seen in Latin-script training examples

    def predict(
        self,
        text: str,
        norm: str,
        row: SparseRow,
        other_detector: OtherLanguageDetector | None = None,
    ) -> tuple[DetectedLanguage, float]:
        arabic_letters, latin_letters, other_letters = script_counts(text)
        letters = arabic_letters + latin_letters + other_letters
        if letters == 0 or not norm:
            return "other", 0.0
        if other_letters > arabic_letters + latin_letters:
            return "other", round(other_letters / letters, 3)
        if arabic_letters >= 2 and latin_letters >= 2:
            # Both scripts: Darija in Arabic letters with French words (or the
            # reverse). MSA and French writers do not mix scripts like this.
            return "ary", 0.8
        if arabic_letters >= latin_letters:
            p_ary = self.arabic.probability(row, "ary")
            darija, msa = arabic_markers(norm)
            if darija > msa:
                p_ary = max(p_ary, 0.8)
            elif msa > darija:
                p_ary = min(p_ary, 0.2)
            if p_ary >= 0.5:
                return "ary", round(p_ary, 3)
            return "ar", round(1.0 - p_ary, 3)
        p_fr = self.latin.probability(row, "fr")
        if has_arabizi(text):
            return "ary_latn", round(max(1.0 - p_fr, 0.9), 3)
        markers = darija_markers(norm)
        if markers >= 2 or (markers == 1 and p_fr < 0.9):
            return "ary_latn", round(max(1.0 - p_fr, 0.75), 3)
        if _FRENCH_ACCENTS.search(text):
            p_fr = _boost(p_fr, _ACCENT_LOGIT_BOOST)
        if other_detector is not None:
            other = self._other_language(text, norm, other_detector)
            if other is not None:
                return "other", other
        if p_fr >= FRENCH_THRESHOLD:
            return "fr", round(p_fr, 3)
        return "ary_latn", round(1.0 - p_fr, 3)

    def _other_language(
        self, text: str, norm: str, detector: OtherLanguageDetector
    ) -> float | None:
        """The probability that Latin `text` is another language (English,
        Spanish ...), or None. langdetect is only asked when most words are
        unknown to the training data."""
        words = [w for w in norm.split() if not w.isdigit()]
        if len(words) < 3:
            return None
        known = sum(1 for w in words if w in self.latin_vocabulary)
        if known / len(words) >= 0.5:
            return None
        found = [(lang, prob) for lang, prob in detector.detect(text) if lang != "fr"]
        p_other = sum(prob for _, prob in found)
        if p_other < _OTHER_MIN_PROB:
            return None
        # langdetect mixes up close languages (Spanish and Portuguese): count the
        # function words of every language it thinks likely.
        function_words = frozenset().union(
            *(_FUNCTION_WORDS.get(lang, frozenset()) for lang, prob in found if prob >= 0.1)
        )
        if sum(1 for w in words if w in function_words) < 2:
            return None
        return round(min(p_other, 1.0), 3)


def _boost(p: float, logit: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    odds = p / (1 - p) * float(np.exp(logit))
    return odds / (1 + odds)


# Words that say nothing about the variety of a conversation: greetings, yes/no,
# thanks, numbers typed to pick a choice. A message made only of these (and
# numbers, emoji) never changes the reply variety.
_NEUTRAL_WORDS: Final[frozenset[str]] = word_set("neutral_words.txt")
_MIN_WORDS_TO_SWITCH: Final[dict[str, int]] = {
    "script": 2,  # Latin <-> Arabic script: clear evidence
    "latin": 3,  # ary_latn <-> fr
    "arabic": 4,  # ary <-> ar (either is understood; avoid flapping)
}
_MIN_CONFIDENCE_TO_SWITCH: Final[dict[str, float]] = {
    "script": 0.5,
    "latin": 0.75,
    "arabic": 0.85,
}
_LATIN: Final[frozenset[str]] = frozenset({"ary_latn", "fr"})


class _HasLanguage(Protocol):
    @property
    def text(self) -> str: ...

    @property
    def language(self) -> DetectedLanguage: ...

    @property
    def language_confidence(self) -> float: ...


def choose_reply_variety(
    current: Variety | None,
    detected: _HasLanguage | tuple[DetectedLanguage, float],
    text: str | None = None,
) -> Variety:
    """The variety to answer in, given the conversation's variety so far (`current`,
    None at the start) and what was detected in her latest message (an `NluResult`,
    or `(language, confidence)` plus the message `text`).

    Short or neutral messages never flip the variety; a switch of script needs two
    meaningful words, French <-> Latin Darija three, Darija <-> MSA four.
    """
    if isinstance(detected, tuple):
        language, confidence = detected
        message = text or ""
    else:
        language, confidence = detected.language, detected.language_confidence
        message = text if text is not None else detected.text
    words = [w for w in normalize(message).split() if w not in _NEUTRAL_WORDS and not w.isdigit()]
    if current is None:
        if language == "ar" and len(words) < _MIN_WORDS_TO_SWITCH["arabic"]:
            # "السلام عليكم", "مرحبا": too short to tell Darija from MSA; most women
            # writing in Arabic script here write Darija, and either is understood.
            return "ary"
        if language in VARIETIES and (confidence >= 0.5 or words):
            return language  # type: ignore[return-value]
        arabic, latin, _ = script_counts(message)
        if language == "other" and latin > arabic:
            return "fr"
        if language == "other" and arabic > latin:
            return "ar"
        return DEFAULT_VARIETY
    if language == "other" or language == current or language not in VARIETIES:
        return current
    if (current in _LATIN) != (language in _LATIN):
        kind = "script"
    elif current in _LATIN:
        kind = "latin"
    else:
        kind = "arabic"
    if len(words) >= _MIN_WORDS_TO_SWITCH[kind] and confidence >= _MIN_CONFIDENCE_TO_SWITCH[kind]:
        return language  # type: ignore[return-value]
    return current

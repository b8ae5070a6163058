"""`LocalNlu`: the in-process NLU backend (no network, ever).

    nlu = LocalNlu()                      # model cached under var/nlu/
    result = await nlu.parse("salam, rajli kaydrbni o ana f tiznit")

One message goes through: `normalize()` -> shared features -> variety, intent
ranking (+ fallback, + quick-exit words), urgency (model + danger lexicon), town
(gazetteer), violence types (lexicon). About a millisecond; see bench/nlu_bench.py.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import Final

from bot.nlu.intents import (
    FALLBACK_THRESHOLD,
    MODEL_EXIT_MAX_WORDS,
    decide_intent,
    is_greeting,
    is_not_an_exit,
    is_quick_exit,
    is_quick_exit_word_in,
    says_quick_exit,
)
from bot.nlu.model import (
    DEFAULT_DATA_DIR,
    DEFAULT_MODEL_DIR,
    NluModel,
    load_or_train,
    model_fingerprint,
)
from bot.nlu.features import SparseRow
from bot.nlu.normalize import normalize
from bot.nlu.places import Gazetteer, load_gazetteer
from bot.nlu.result import NluResult, PlaceMatch
from bot.nlu.urgency import is_urgent
from bot.nlu.variety import OtherLanguageDetector
from bot.nlu.violence import detect_violence
from bot.types import DetectedLanguage

__all__ = ["MAX_TEXT_CHARS", "LocalNlu"]

logger = logging.getLogger(__name__)

MAX_TEXT_CHARS: Final = 4000
"""Longer messages are read up to this many characters (bounds the time per message)."""


class LocalNlu:
    """The local NluBackend. Build once and share: `parse` only reads the model."""

    def __init__(
        self,
        model_dir: Path | str = DEFAULT_MODEL_DIR,
        *,
        data_dir: Path | str = DEFAULT_DATA_DIR,
        geo_dir: Path | None = None,
        fallback_threshold: float = FALLBACK_THRESHOLD,
        detect_other_languages: bool = True,
        model: NluModel | None = None,
        gazetteer: Gazetteer | None = None,
    ) -> None:
        self._model_dir = Path(model_dir)
        self._data_dir = Path(data_dir)
        self._model = model if model is not None else load_or_train(self._data_dir, self._model_dir)
        self._gazetteer = gazetteer if gazetteer is not None else load_gazetteer(geo_dir)
        self._threshold = fallback_threshold
        self._other = OtherLanguageDetector() if detect_other_languages else None
        self._ordinary_words = self._ordinary(self._model)

    def _ordinary(self, model: NluModel) -> frozenset[str]:
        """Training-data words that are not place names: the gazetteer does not try
        them for misspelt towns."""
        return frozenset(w for w in model.featurizer.words() if not self._gazetteer.is_name(w))

    @staticmethod
    def _town_answer(norm: str, place: PlaceMatch | None,
                     expecting: str | None) -> PlaceMatch | None:
        """`place` if her whole message only names it and is nothing else: at the town
        question always; elsewhere unless it is also a quick-exit word or a greeting
        ("safi" there means "enough": leaving quickly comes first; "صباح", "good
        morning"). At the town question such a word is the town when it spells a
        commune's name exactly ("Safi"), read back to her before it is used; a word
        only like a name ("quitter", "sali") is the word."""
        if place is None or not place.whole:
            return None
        everyday_word = is_quick_exit(norm) or is_greeting(norm)
        if everyday_word and (expecting != "place" or place.guessed):
            return None  # "saafi", "quitter": only like a name, so the word it is
        return replace(place, guessed=True) if everyday_word else place

    def _language(self, model: NluModel, text: str, norm: str, row: SparseRow,
                  place: PlaceMatch | None) -> tuple[DetectedLanguage, float]:
        """Her variety, from her words without the place she names: a town's name is
        no evidence of French or Darija ("je suis à Safi" is French, though "safi" is
        a Darija word too). A message that is only a name tells nothing (confidence
        0: the conversation keeps its variety)."""
        rest = _without_words(norm, place.matched) if place is not None else norm
        if rest == norm:
            return model.variety.predict(text, norm, row, self._other)
        if not rest:
            language, _ = model.variety.predict(text, norm, row, self._other)
            return language, 0.0
        return model.variety.predict(text, rest, model.features(rest), self._other)

    @property
    def model(self) -> NluModel:
        return self._model

    @property
    def gazetteer(self) -> Gazetteer:
        return self._gazetteer

    def refresh(self) -> bool:
        """Retrain (or load the cached model) if the training data changed since this
        backend was built. True if the model was replaced."""
        if model_fingerprint(self._data_dir) == self._model.fingerprint:
            return False
        self._model = load_or_train(self._data_dir, self._model_dir)
        self._ordinary_words = self._ordinary(self._model)
        return True

    async def parse(self, text: str, *, expecting: str | None = None) -> NluResult:
        return self.parse_sync(text, expecting=expecting)

    def parse_sync(self, text: str, *, expecting: str | None = None) -> NluResult:
        """`parse` for callers that are not async (CLI, benchmark)."""
        clipped = text[:MAX_TEXT_CHARS]
        norm = normalize(clipped)
        if not norm:
            return NluResult(
                text=text, language="other", language_confidence=0.0,
                intent="out_of_scope", confidence=0.0,
            )  # fmt: skip
        model = self._model
        row = model.features(norm)
        ranking = model.intents.rank(row)
        place = self._gazetteer.read(clipped, expecting=expecting,
                                     ordinary_words=self._ordinary_words)
        language, language_confidence = self._language(model, clipped, norm, row, place)
        town = self._town_answer(norm, place, expecting)
        if town is not None:
            # A town is a town: the message only names a known place, so it is no
            # intent, no danger and no quick exit (read back to her when it is also a
            # quick-exit word, or a guess).
            return NluResult(
                text=text, language=language, language_confidence=language_confidence,
                intent="out_of_scope", confidence=1.0,
                intent_ranking=(("out_of_scope", 1.0),), place=town,
            )  # fmt: skip
        intent, confidence = decide_intent(ranking, self._threshold)
        if is_quick_exit(norm) or says_quick_exit(norm):
            intent, confidence = "quick_exit", 1.0
        elif intent == "quick_exit" and (
                is_not_an_exit(norm) or len(norm.split()) > MODEL_EXIT_MAX_WORDS
                or (place is not None and not place.guessed
                    and not is_quick_exit_word_in(_without_words(norm, place.matched)))):
            # A blessing, a story, or "safi" as her town ("sakna f safi m3a wladi").
            intent, confidence = decide_intent(
                tuple(item for item in ranking if item[0] != "quick_exit"), self._threshold)
        elif is_greeting(norm):
            intent, confidence = "greet", 1.0
        urgent = is_urgent(norm, model.urgent_probability(row), ranking,
                           answering=expecting is not None)
        if intent == "emergency" and not urgent:
            # Violence she describes as habitual or past: what she needs, not danger.
            intent, confidence = decide_intent(
                tuple(item for item in ranking if item[0] != "emergency"), self._threshold)
        return NluResult(
            text=text,
            language=language,
            language_confidence=language_confidence,
            intent=intent,
            confidence=round(confidence, 4),
            intent_ranking=ranking,
            urgent=urgent,
            place=place,
            violence=detect_violence(norm),
        )


def _without_words(norm: str, words: str) -> str:
    """`norm` without the run of whole words `words` (both `normalize()`d), or
    `norm` unchanged when they are not in it as such."""
    padded = f" {norm} "
    if not words or f" {words} " not in padded:
        return norm
    return " ".join(padded.replace(f" {words} ", " ", 1).split())

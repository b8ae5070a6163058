"""`LocalNlu`: the in-process NLU backend (no network, ever).

    nlu = LocalNlu()                      # model cached under var/nlu/
    result = await nlu.parse("salam, rajli kaydrbni o ana f tiznit")

One message goes through: `normalize()` -> shared features -> variety, intent
ranking (+ fallback, + quick-exit words), urgency (model + danger lexicon), town
(gazetteer), violence types (lexicon). About a millisecond; see bench/nlu_bench.py.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Final

from bot.nlu.intents import FALLBACK_THRESHOLD, decide_intent, is_greeting, is_quick_exit
from bot.nlu.model import (
    DEFAULT_DATA_DIR,
    DEFAULT_MODEL_DIR,
    NluModel,
    load_or_train,
    model_fingerprint,
)
from bot.nlu.normalize import normalize
from bot.nlu.places import Gazetteer, load_gazetteer
from bot.nlu.result import NluResult, PlaceMatch
from bot.nlu.urgency import is_urgent
from bot.nlu.variety import OtherLanguageDetector
from bot.nlu.violence import detect_violence

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

    def _place(self, text: str, expecting: str | None) -> PlaceMatch | None:
        """Her town: as the answer to "which town?" when that is the question (a name
        that is also an ordinary word counts there), else as named in a sentence."""
        if expecting == "place":
            answer = self._gazetteer.lookup_match(text)
            if answer is not None:
                return answer
        return self._gazetteer.find(text, self._ordinary_words)

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
        language, language_confidence = model.variety.predict(clipped, norm, row, self._other)
        ranking = model.intents.rank(row)
        intent, confidence = decide_intent(ranking, self._threshold)
        if is_quick_exit(norm):
            intent, confidence = "quick_exit", 1.0
        elif is_greeting(norm):
            intent, confidence = "greet", 1.0
        urgent = is_urgent(norm, model.urgent_probability(row), ranking)
        return NluResult(
            text=text,
            language=language,
            language_confidence=language_confidence,
            intent=intent,
            confidence=round(confidence, 4),
            intent_ranking=ranking,
            urgent=urgent,
            place=self._place(clipped, expecting),
            violence=detect_violence(norm),
        )

"""The trained NLU model: shared features + intent, urgency and variety classifiers.

`bot/nlu/training.py` makes one, `bot/nlu/model.py` caches and loads it; both import
it from here, so that imports go one way (model -> training -> trained_model).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.nlu.features import LinearHead, SparseRow, TextFeaturizer
from bot.nlu.intents import IntentClassifier
from bot.nlu.variety import VarietyClassifier

__all__ = ["NluModel"]


@dataclass
class NluModel:
    featurizer: TextFeaturizer
    intents: IntentClassifier
    urgency: LinearHead  # classes: False, True
    variety: VarietyClassifier
    fingerprint: str
    n_examples: int

    def features(self, norm: str) -> SparseRow:
        return self.featurizer.row(norm)

    def urgent_probability(self, row: SparseRow) -> float:
        return self.urgency.probability(row, "True")

"""Training the NLU model from `data/intents/` (scikit-learn, a few seconds).

Only this module imports scikit-learn; the trained model is plain arrays
(`bot/nlu/features.py`), so serving never needs it.

Training adds, for part of the examples, a copy opening with a greeting in the
example's variety ("salam", "السلام عليكم", "bonjour") or closing with "please":
women open most messages that way, and without it a greeting word would pull
"salam, rajli kaydrbni, bghit ndir chikaya" towards `greet`. Copies are made inside
the training set only, so cross-validation never sees a copy of a test example.
"""

from __future__ import annotations

import hashlib
import logging
import warnings
from collections.abc import Sequence
from typing import Any, Final

import numpy as np

from bot.nlu.features import LinearHead, TextFeaturizer
from bot.nlu.intents import IntentClassifier
from bot.nlu.normalize import normalize
from bot.nlu.rasa_format import Example
from bot.nlu.trained_model import NluModel
from bot.nlu.variety import VarietyClassifier
from bot.types import Variety

__all__ = ["augment", "train_model"]

logger = logging.getLogger(__name__)

INTENT_C: Final = 30.0
URGENCY_C: Final = 10.0
VARIETY_C: Final = 10.0

_OPENINGS: Final[dict[Variety, tuple[str, ...]]] = {
    "ary_latn": ("salam", "slm", "salam 3alaykom", "salam khti"),
    "ary": ("السلام عليكم", "سلام", "سلام عافاك"),
    "ar": ("السلام عليكم", "مرحبا", "مساء الخير"),
    "fr": ("bonjour", "bonsoir", "salut", "bonjour madame"),
}
_CLOSINGS: Final[dict[Variety, tuple[str, ...]]] = {
    "ary_latn": ("3afak", "3afakom", "lah ykhlik"),
    "ary": ("عافاك", "الله يخليك"),
    "ar": ("من فضلك", "أرجوكم"),
    "fr": ("svp", "s'il vous plaît", "merci"),
}
_NOT_AUGMENTED: Final = frozenset({"greet", "quick_exit"})


def _pick(text: str, salt: str, n: int) -> int:
    digest = hashlib.blake2b(f"{salt}|{text}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") % n


def augment(examples: Sequence[Example]) -> list[Example]:
    """`examples` plus greeting-opened and please-closed copies of about a third of
    them (deterministic: the choice depends only on the text)."""
    out = list(examples)
    for ex in examples:
        if ex.intent in _NOT_AUGMENTED:
            continue
        roll = _pick(ex.text, "augment", 6)
        if roll in (0, 1):
            opening = _OPENINGS[ex.variety]
            text = f"{opening[_pick(ex.text, 'open', len(opening))]} {ex.text}"
        elif roll == 2:
            closing = _CLOSINGS[ex.variety]
            text = f"{ex.text} {closing[_pick(ex.text, 'close', len(closing))]}"
        else:
            continue
        out.append(Example(text, ex.intent, ex.variety, ex.urgent, ex.violence, ex.source))
    return out


def _head(features: Any, labels: np.ndarray, c: float, balanced: bool = True) -> LinearHead:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(
        C=c, max_iter=5000, class_weight="balanced" if balanced else None, tol=1e-5
    )
    with warnings.catch_warnings():
        # Convergence is checked below instead of being a warning that would
        # fail the test suite (filterwarnings = error) without saying where.
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(features, labels)
    if np.any(model.n_iter_ >= model.max_iter):
        logger.warning("nlu training: logistic regression did not fully converge")
    classes = tuple(str(c) for c in model.classes_)
    weights = np.ascontiguousarray(model.coef_.T, dtype=np.float32)
    bias = np.asarray(model.intercept_, dtype=np.float32)
    return LinearHead(classes, weights, bias)


def _binary_head(
    features: Any, labels: np.ndarray, classes: tuple[str, str], c: float
) -> LinearHead:
    """A two-class head with `classes` (negative, positive) in that order, also when
    the data has only one of them (or none): then a constant head."""
    present = set(labels.tolist())
    if present == set(classes):
        return _head(features, labels, c)
    bias = 6.0 if present == {classes[1]} else -6.0 if present == {classes[0]} else 0.0
    weights = np.zeros((features.shape[1], 1), dtype=np.float32)
    return LinearHead(classes, weights, np.array([bias], dtype=np.float32))


def train_model(examples: Sequence[Example], fingerprint: str = "") -> NluModel:
    """Fit the featurizer and every head on `examples` (augmented, see module)."""
    if len({e.intent for e in examples}) < 2:
        raise ValueError("training data needs examples of at least two intents")
    training = augment(examples)
    norms = [normalize(e.text) for e in training]
    featurizer = TextFeaturizer.fit(norms)
    features = featurizer.matrix(norms)
    intents = IntentClassifier(_head(features, np.array([e.intent for e in training]), INTENT_C))
    urgent = np.array([str(e.urgent) for e in training])
    urgency = _binary_head(features, urgent, ("False", "True"), URGENCY_C)
    varieties = np.array([e.variety for e in training])
    arabic_rows = np.isin(varieties, ["ary", "ar"])
    latin_rows = ~arabic_rows
    arabic = _binary_head(features[arabic_rows], varieties[arabic_rows], ("ar", "ary"), VARIETY_C)
    latin = _binary_head(features[latin_rows], varieties[latin_rows], ("ary_latn", "fr"), VARIETY_C)
    latin_vocabulary = frozenset(
        w for n, keep in zip(norms, latin_rows, strict=True) if keep for w in n.split()
    )
    variety = VarietyClassifier(arabic, latin, latin_vocabulary)
    return NluModel(featurizer, intents, urgency, variety, fingerprint, len(examples))

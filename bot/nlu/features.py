"""The text features every classifier in `bot/nlu/` shares, and the linear heads
that read them.

A `normalize()`d message is vectorised once into three L2-normalised blocks:

- character n-grams (2 to 5) inside word boundaries, as scikit-learn's `char_wb`
  analyzer makes them: they survive the spelling variation of Darija and Arabizi;
- word unigrams and bigrams;
- concept tokens (`bot/nlu/concepts.py`), shared by the four varieties.

Each block is TF-IDF with sublinear term frequency and smoothed IDF, exactly as
`TfidfVectorizer(sublinear_tf=True)` computes it. The same sparse row then feeds
every linear head (intent, urgency, variety).

Inference here is plain Python and numpy (scikit-learn is only needed to train,
see `bot/nlu/training.py`): a message costs a few dozen microseconds, and a model
loads without importing scikit-learn.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix

from bot.nlu.concepts import CONCEPTS, concepts

__all__ = [
    "CONCEPT_WEIGHT",
    "LinearHead",
    "SparseRow",
    "TextFeaturizer",
    "char_ngrams",
    "word_ngrams",
]

CHAR_NGRAMS: Final = (2, 5)
WORD_NGRAMS: Final = (1, 2)
CONCEPT_WEIGHT: Final = 0.8
"""Length of the concept block relative to the character and word blocks (1 each)."""

_WORD = re.compile(r"\w+")

SparseRow = tuple[NDArray[np.int32], NDArray[np.float32]]
"""Feature indices and values of one message."""


def char_ngrams(norm: str) -> list[str]:
    """Character n-grams within word boundaries, like scikit-learn's `char_wb`."""
    lo, hi = CHAR_NGRAMS
    grams: list[str] = []
    for word in norm.split():
        w = f" {word} "
        w_len = len(w)
        for n in range(lo, hi + 1):
            if n > w_len:
                break
            grams.extend(w[i : i + n] for i in range(w_len - n + 1))
    return grams


def word_ngrams(norm: str) -> list[str]:
    words = _WORD.findall(norm)
    lo, hi = WORD_NGRAMS
    grams: list[str] = []
    for n in range(lo, hi + 1):
        grams.extend(" ".join(words[i : i + n]) for i in range(len(words) - n + 1))
    return grams


def _idf(document_frequency: NDArray[np.float64], n_documents: int) -> NDArray[np.float32]:
    return (np.log((1.0 + n_documents) / (1.0 + document_frequency)) + 1.0).astype(np.float32)


def _tfidf_block(
    grams: Iterable[str], vocabulary: dict[str, int], idf: NDArray[np.float32], offset: int
) -> tuple[list[int], list[float]]:
    counts = Counter(g for g in grams if g in vocabulary)
    if not counts:
        return [], []
    idx = [vocabulary[g] for g in counts]
    vals = [(1.0 + math.log(c)) * float(idf[i]) for i, c in zip(idx, counts.values(), strict=True)]
    norm = math.sqrt(sum(v * v for v in vals))
    return [i + offset for i in idx], [v / norm for v in vals]


@dataclass
class TextFeaturizer:
    char_vocabulary: dict[str, int]
    char_idf: NDArray[np.float32]
    word_vocabulary: dict[str, int]
    word_idf: NDArray[np.float32]
    concept_vocabulary: dict[str, int]

    @classmethod
    def fit(cls, norms: Sequence[str]) -> TextFeaturizer:
        char_df: Counter[str] = Counter()
        word_df: Counter[str] = Counter()
        for norm in norms:
            char_df.update(set(char_ngrams(norm)))
            word_df.update(set(word_ngrams(norm)))
        char_vocabulary = {g: i for i, g in enumerate(sorted(char_df))}
        word_vocabulary = {g: i for i, g in enumerate(sorted(word_df))}
        n = len(norms)
        char_idf = _idf(np.array([char_df[g] for g in char_vocabulary], dtype=np.float64), n)
        word_idf = _idf(np.array([word_df[g] for g in word_vocabulary], dtype=np.float64), n)
        concept_vocabulary = {f"c_{name}": i for i, (name, _) in enumerate(CONCEPTS)}
        return cls(char_vocabulary, char_idf, word_vocabulary, word_idf, concept_vocabulary)

    @property
    def n_features(self) -> int:
        return len(self.char_vocabulary) + len(self.word_vocabulary) + len(self.concept_vocabulary)

    def words(self) -> frozenset[str]:
        """The single words seen in training."""
        return frozenset(g for g in self.word_vocabulary if " " not in g)

    def row(self, norm: str) -> SparseRow:
        idx, vals = _tfidf_block(char_ngrams(norm), self.char_vocabulary, self.char_idf, 0)
        offset = len(self.char_vocabulary)
        w_idx, w_vals = _tfidf_block(word_ngrams(norm), self.word_vocabulary, self.word_idf, offset)
        idx += w_idx
        vals += w_vals
        offset += len(self.word_vocabulary)
        tags = [self.concept_vocabulary[c] for c in concepts(norm) if c in self.concept_vocabulary]
        if tags:
            weight = CONCEPT_WEIGHT / math.sqrt(len(tags))
            idx += [offset + t for t in tags]
            vals += [weight] * len(tags)
        return np.array(idx, dtype=np.int32), np.array(vals, dtype=np.float32)

    def matrix(self, norms: Sequence[str]) -> csr_matrix:
        indptr = [0]
        indices: list[NDArray[np.int32]] = []
        data: list[NDArray[np.float32]] = []
        for norm in norms:
            idx, vals = self.row(norm)
            indices.append(idx)
            data.append(vals)
            indptr.append(indptr[-1] + len(idx))
        return csr_matrix(
            (
                np.concatenate(data) if data else np.zeros(0, np.float32),
                np.concatenate(indices) if indices else np.zeros(0, np.int32),
                np.array(indptr),
            ),
            shape=(len(norms), self.n_features),
        )


@dataclass
class LinearHead:
    """A trained linear classifier, stored as plain arrays.

    `weights` is (n_features, n_outputs): rows are contiguous, so one message only
    touches the rows of its own features. Multiclass heads give softmax
    probabilities over `classes`; binary heads (n_outputs == 1) give the
    probability of `classes[1]`.
    """

    classes: tuple[str, ...]
    weights: NDArray[np.float32]
    bias: NDArray[np.float32]

    def scores(self, row: SparseRow) -> NDArray[np.float32]:
        idx, vals = row
        if len(idx) == 0:
            return self.bias.copy()
        return vals @ self.weights[idx] + self.bias  # type: ignore[no-any-return]

    def probabilities(self, row: SparseRow) -> NDArray[np.float64]:
        """One probability per class, in `classes` order."""
        z = self.scores(row).astype(np.float64)
        if len(self.classes) == 2 and z.shape[0] == 1:
            p1 = 1.0 / (1.0 + math.exp(-float(z[0])))
            return np.array([1.0 - p1, p1])
        z = z - z.max()
        e = np.exp(z)
        return e / e.sum()  # type: ignore[no-any-return]

    def probability(self, row: SparseRow, label: str) -> float:
        return float(self.probabilities(row)[self.classes.index(label)])

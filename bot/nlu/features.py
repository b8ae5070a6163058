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
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import numpy as np
from numpy.typing import NDArray

from bot.nlu.concepts import CONCEPTS, concepts

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix

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
SKELETON_WEIGHT: Final = 2.5
"""Weight of the consonant-skeleton block: chosen on cross-validation (1 to 4 tried)."""
"""Length of the concept block relative to the character and word blocks (1 each)."""

_WORD = re.compile(r"\w+")

SparseRow = tuple[NDArray[np.int32], NDArray[np.float32]]
"""Feature indices and values of one message."""


# Arabic letters -> the Latin letters or Arabizi digits Darija writers use for them.
_ARABIC_TO_LATIN: Final[dict[int, str]] = {
    ord(k): v
    for k, v in {
        "ا": "a", "ب": "b", "ت": "t", "ث": "t", "ج": "j", "ح": "7", "خ": "kh", "د": "d",
        "ذ": "d", "ر": "r", "ز": "z", "س": "s", "ش": "ch", "ص": "s", "ض": "d", "ط": "t",
        "ظ": "d", "ع": "3", "غ": "gh", "ف": "f", "ق": "9", "ك": "k", "ل": "l", "م": "m",
        "ن": "n", "ه": "h", "و": "w", "ي": "y",
    }.items()
}  # fmt: skip
_LATIN_SKELETON: Final = (
    ("ou", "w"), ("sh", "ch"), ("x", "ch"), ("5", "kh"), ("8", "h"), ("2", ""),
    ("gh", "\0"), ("q", "k"), ("9", "k"), ("g", "k"), ("\0", "gh"), ("i", "y"),
)  # fmt: skip
_VOWELS = re.compile(r"[aeo]")
_DOUBLES = re.compile(r"(.)\1+")


def skeleton_text(norm: str) -> str:
    """Darija in either script reduced to a common consonant skeleton, so that
    "بغيت" and "bghit" (and "راجلي", "rajli") give the same characters:
    Arabic letters are transliterated as Arabizi writers do, short vowels (which
    Arabic script does not write) are dropped, and i/ou become y/w like ي/و."""
    out: list[str] = []
    for word in norm.split():
        if len(word) >= 4 and word[-1] == "ه":
            word = word[:-1]  # taa marbuta: the final -a that Latin spelling drops too
        w = word.translate(_ARABIC_TO_LATIN)
        for src, dst in _LATIN_SKELETON:
            w = w.replace(src, dst)
        w = _VOWELS.sub("", w)
        w = _DOUBLES.sub(r"\1", w)
        if w:
            out.append(w)
    return " ".join(out)


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


def skeleton_ngrams(norm: str) -> list[str]:
    """Character n-grams (2 to 4) of `skeleton_text(norm)`, marked apart."""
    grams: list[str] = []
    for word in skeleton_text(norm).split():
        w = f"<{word}>"
        w_len = len(w)
        for n in range(2, 5):
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


_WORD_CACHE_SIZE: Final = 50_000


@dataclass
class TextFeaturizer:
    char_vocabulary: dict[str, int]
    char_idf: NDArray[np.float32]
    word_vocabulary: dict[str, int]
    word_idf: NDArray[np.float32]
    skeleton_vocabulary: dict[str, int]
    skeleton_idf: NDArray[np.float32]
    concept_vocabulary: dict[str, int]

    @classmethod
    def fit(cls, norms: Sequence[str]) -> TextFeaturizer:
        char_df: Counter[str] = Counter()
        word_df: Counter[str] = Counter()
        skeleton_df: Counter[str] = Counter()
        for norm in norms:
            char_df.update(set(char_ngrams(norm)))
            word_df.update(set(word_ngrams(norm)))
            skeleton_df.update(set(skeleton_ngrams(norm)))
        n = len(norms)

        def block(df: Counter[str]) -> tuple[dict[str, int], NDArray[np.float32]]:
            vocabulary = {g: i for i, g in enumerate(sorted(df))}
            idf = _idf(np.array([df[g] for g in vocabulary], dtype=np.float64), n)
            return vocabulary, idf

        char_vocabulary, char_idf = block(char_df)
        word_vocabulary, word_idf = block(word_df)
        skeleton_vocabulary, skeleton_idf = block(skeleton_df)
        concept_vocabulary = {f"c_{name}": i for i, (name, _) in enumerate(CONCEPTS)}
        return cls(
            char_vocabulary,
            char_idf,
            word_vocabulary,
            word_idf,
            skeleton_vocabulary,
            skeleton_idf,
            concept_vocabulary,
        )

    @property
    def n_features(self) -> int:
        return (
            len(self.char_vocabulary)
            + len(self.word_vocabulary)
            + len(self.skeleton_vocabulary)
            + len(self.concept_vocabulary)
        )

    def words(self) -> frozenset[str]:
        """The single words seen in training."""
        return frozenset(g for g in self.word_vocabulary if " " not in g)

    def _word_grams(self, word: str) -> tuple[list[int], list[int]]:
        """Vocabulary indices of one word's character and skeleton n-grams (both are
        computed within word boundaries, so they can be cached per word)."""
        cache = self.__dict__.setdefault("_cache", {})
        hit: tuple[list[int], list[int]] | None = cache.get(word)
        if hit is None:
            chars = self.char_vocabulary
            skeletons = self.skeleton_vocabulary
            hit = (
                [chars[g] for g in char_ngrams(word) if g in chars],
                [skeletons[g] for g in skeleton_ngrams(word) if g in skeletons],
            )
            if len(cache) >= _WORD_CACHE_SIZE:
                cache.clear()
            cache[word] = hit
        return hit

    def _layout(self) -> tuple[NDArray[np.float32], NDArray[np.int64], NDArray[np.float32]]:
        """(IDF of every n-gram feature, block boundaries, block weights), built once."""
        layout = self.__dict__.get("_layout_cache")
        if layout is None:
            idf = np.concatenate([self.char_idf, self.word_idf, self.skeleton_idf])
            bounds = np.cumsum(
                [
                    len(self.char_vocabulary),
                    len(self.word_vocabulary),
                    len(self.skeleton_vocabulary),
                ]
            )[:-1]
            weights = np.array([1.0, 1.0, SKELETON_WEIGHT], dtype=np.float32)
            layout = (idf.astype(np.float32), bounds.astype(np.int64), weights)
            self.__dict__["_layout_cache"] = layout
        return layout  # type: ignore[no-any-return]

    def row(self, norm: str) -> SparseRow:
        """The feature row of one message: per block, TF-IDF with sublinear term
        frequency, L2-normalised, times the block weight; then the concept block."""
        offset_word = len(self.char_vocabulary)
        offset_skeleton = offset_word + len(self.word_vocabulary)
        offset_concept = offset_skeleton + len(self.skeleton_vocabulary)
        indices: list[int] = []
        skeleton_idx: list[int] = []
        for word in norm.split():
            c, k = self._word_grams(word)
            indices += c
            skeleton_idx += k
        words = self.word_vocabulary
        indices += [offset_word + words[g] for g in word_ngrams(norm) if g in words]
        indices += [offset_skeleton + i for i in skeleton_idx]
        if indices:
            idf, bounds, weights = self._layout()
            unique, counts = np.unique(np.asarray(indices, dtype=np.int32), return_counts=True)
            vals = (1.0 + np.log(counts.astype(np.float32))) * idf[unique]
            block = np.searchsorted(bounds, unique, side="right")
            norms = np.sqrt(np.bincount(block, weights=vals * vals, minlength=3))
            norms[norms == 0] = 1.0
            vals = vals * (weights[block] / norms[block]).astype(np.float32)
        else:
            unique = np.zeros(0, np.int32)
            vals = np.zeros(0, np.float32)
        tags = [self.concept_vocabulary[c] for c in concepts(norm) if c in self.concept_vocabulary]
        if tags:
            weight = CONCEPT_WEIGHT / math.sqrt(len(tags))
            unique = np.concatenate([unique, np.array(tags, dtype=np.int32) + offset_concept])
            vals = np.concatenate([vals, np.full(len(tags), weight, dtype=np.float32)])
        return unique.astype(np.int32, copy=False), vals.astype(np.float32, copy=False)

    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        state.pop("_cache", None)  # per-process caches, not part of the model
        state.pop("_layout_cache", None)
        return state

    def matrix(self, norms: Sequence[str]) -> csr_matrix:
        """Rows for many messages, for training (scipy, like scikit-learn, is only
        needed there)."""
        from scipy.sparse import csr_matrix

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

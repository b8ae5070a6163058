"""Shared features and linear heads."""

from __future__ import annotations

import numpy as np
import pytest

from bot.nlu.features import LinearHead, TextFeaturizer, char_ngrams, skeleton_text
from bot.nlu.model import NluModel
from bot.nlu.normalize import normalize


@pytest.mark.parametrize(
    ("arabizi", "arabic"),
    [
        ("bghit", "بغيت"),
        ("rajli", "راجلي"),
        ("kaydrbni", "كيضربني"),
        ("3afak", "عافاك"),
        ("m7ami", "محامي"),
        ("khayfa", "خايفة"),
        ("9bel", "قبل"),
        ("ghadi", "غادي"),
    ],
)
def test_skeleton_is_shared_by_both_scripts(arabizi: str, arabic: str) -> None:
    assert skeleton_text(normalize(arabizi)) == skeleton_text(normalize(arabic))


def test_char_ngrams_like_char_wb() -> None:
    assert char_ngrams("ab") == [" a", "ab", "b ", " ab", "ab ", " ab "]


def test_row_matches_matrix_and_is_normalised(trained_model: NluModel) -> None:
    featurizer = trained_model.featurizer
    norms = [normalize(t) for t in ["salam rajli kaydrbni", "بغيت محامي", "je veux un avocat"]]
    matrix = featurizer.matrix(norms).toarray()
    for i, norm in enumerate(norms):
        idx, vals = featurizer.row(norm)
        dense = np.zeros(featurizer.n_features, dtype=np.float32)
        dense[idx] = vals
        assert np.allclose(dense, matrix[i])
        assert len(set(idx.tolist())) == len(idx)
    empty_idx, empty_vals = featurizer.row("")
    assert len(empty_idx) == len(empty_vals) == 0


def test_word_cache_gives_the_same_rows(trained_model: NluModel) -> None:
    featurizer = trained_model.featurizer
    norm = normalize("ana f casa w rajli kaydrbni")
    first = featurizer.row(norm)
    second = featurizer.row(norm)  # from the per-word cache
    assert np.array_equal(first[0], second[0]) and np.array_equal(first[1], second[1])


def test_fit_on_tiny_corpus() -> None:
    featurizer = TextFeaturizer.fit(["salam", "bonjour"])
    idx, vals = featurizer.row("salam")
    assert len(idx) > 0 and np.all(vals > 0)
    assert "salam" in featurizer.words()


def test_linear_head_probabilities() -> None:
    multi = LinearHead(
        ("a", "b", "c"),
        np.array([[1.0, 0.0, 0.0], [0.0, 2.0, 0.0]], dtype=np.float32),
        np.zeros(3, dtype=np.float32),
    )
    row = (np.array([1], dtype=np.int32), np.array([1.0], dtype=np.float32))
    p = multi.probabilities(row)
    assert p.sum() == pytest.approx(1.0)
    assert multi.classes[int(np.argmax(p))] == "b"
    binary = LinearHead(
        ("False", "True"), np.array([[3.0]], dtype=np.float32), np.zeros(1, dtype=np.float32)
    )
    hit = (np.array([0], dtype=np.int32), np.array([1.0], dtype=np.float32))
    assert binary.probability(hit, "True") == pytest.approx(1 / (1 + np.exp(-3.0)))
    empty = (np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32))
    assert binary.probability(empty, "True") == pytest.approx(0.5)

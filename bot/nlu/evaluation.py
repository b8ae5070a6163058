"""How well the local NLU does on the team's data (`run_bot.py nlu evaluate`).

- Intents, urgency and variety by stratified k-fold cross-validation (strata:
  intent x variety): each fold's model is trained on the other folds only, and the
  held-out messages go through the same `LocalNlu.parse` as in production (fallback,
  quick-exit words, danger lexicon included).
- Towns, parsed by a model trained on all the data (as in production) and with no
  question expected (as `run_bot.py nlu parse` and `/model/parse`): one-word answers
  (every commune of `data/geo/cities.csv` written alone, in French and in Arabic
  script) and sentences (`data/intents/town_spellings.csv`, real spellings of towns
  in messages).
- Violence types (a lexicon, nothing trained) on the labels of all examples.

Figures a good model must reach (issue 3): intent macro-F1 >= 0.90, urgent recall
>= 0.97, variety accuracy (Arabic script / Latin Darija / French) >= 0.97, town
accuracy >= 0.95 on sentences and >= 0.99 on one-word answers (issue 19). These are measured on the team's own data: messages written by
other people will score lower.
"""

from __future__ import annotations

import csv
import itertools
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, TypedDict

import numpy as np

from bot.nlu.model import DEFAULT_DATA_DIR
from bot.nlu.normalize import normalize
from bot.nlu.pipeline import LocalNlu
from bot.nlu.places import Gazetteer, load_gazetteer
from bot.nlu.rasa_format import Example, load_training_data
from bot.nlu.result import NluResult
from bot.nlu.training import train_model
from bot.nlu.urgency import danger_signals
from bot.nlu.violence import detect_violence
from bot.types import INTENTS, VARIETIES, VIOLENCE_TYPES

__all__ = [
    "DEFAULT_TOWNS_CSV",
    "PRF",
    "Evaluation",
    "evaluate_nlu",
    "one_word_town_accuracy",
    "town_accuracy",
]

logger = logging.getLogger(__name__)

DEFAULT_TOWNS_CSV: Final = DEFAULT_DATA_DIR / "town_spellings.csv"
TARGETS: Final[dict[str, float]] = {
    "intent macro-F1": 0.90,
    "urgent recall": 0.97,
    "variety accuracy (3 scripts)": 0.97,
    "town accuracy": 0.95,
    "one-word town accuracy": 0.99,
}


@dataclass(frozen=True)
class PRF:
    precision: float
    recall: float
    f1: float
    support: int


def _prf(gold: Sequence[str], pred: Sequence[str], label: str) -> PRF:
    tp = sum(1 for g, p in zip(gold, pred, strict=True) if g == label and p == label)
    fp = sum(1 for g, p in zip(gold, pred, strict=True) if g != label and p == label)
    fn = sum(1 for g, p in zip(gold, pred, strict=True) if g == label and p != label)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return PRF(precision, recall, f1, tp + fn)


def _macro(gold: Sequence[str], pred: Sequence[str], labels: Sequence[str]) -> PRF:
    rows = [_prf(gold, pred, label) for label in labels if label in gold]
    if not rows:
        return PRF(0.0, 0.0, 0.0, 0)
    return PRF(
        float(np.mean([r.precision for r in rows])),
        float(np.mean([r.recall for r in rows])),
        float(np.mean([r.f1 for r in rows])),
        len(gold),
    )


def _script(variety: str) -> str:
    return "arabic" if variety in ("ary", "ar") else variety


@dataclass
class Evaluation:
    n_examples: int
    folds: int
    intent_per_label: dict[str, PRF]
    intent_macro: PRF
    intent_macro_model_only: PRF
    intent_per_variety: dict[str, PRF]
    calibration_error: float
    confusion: list[list[int]]
    urgent: PRF
    urgent_lexicon_recall: float
    variety_accuracy_3: float
    variety_accuracy_4: float
    variety_confusion: dict[tuple[str, str], int]
    town_accuracy: float
    town_count: int
    town_misses: list[tuple[str, str | None, str]]
    one_word_town_accuracy: float
    one_word_town_count: int
    one_word_town_misses: list[tuple[str, str | None, str]]
    violence: dict[str, PRF]
    errors: list[tuple[str, str, str, str]] = field(default_factory=list)

    def figures(self) -> dict[str, float]:
        return {
            "intent macro-F1": self.intent_macro.f1,
            "urgent recall": self.urgent.recall,
            "variety accuracy (3 scripts)": self.variety_accuracy_3,
            "town accuracy": self.town_accuracy,
            "one-word town accuracy": self.one_word_town_accuracy,
        }

    def text(self, show_errors: int = 0) -> str:
        out: list[str] = []
        out.append(
            f"NLU evaluation: {self.n_examples} examples, stratified {self.folds}-fold "
            "cross-validation (intent x variety)"
        )
        out.append("")
        out.append("Targets (issues 3 and 19)")
        for name, value in self.figures().items():
            target = TARGETS[name]
            mark = "ok  " if value >= target else "LOW "
            out.append(f"  {mark}{name:32} {value:6.3f}   (target >= {target:.2f})")
        out.append("")
        out.append("Intent per variety (final intent: fallback and quick-exit words applied)")
        out.append(f"  {'variety':20} {'precision':>9} {'recall':>7} {'F1':>6} {'n':>5}")
        for variety, prf in self.intent_per_variety.items():
            out.append(
                f"  {variety:20} {prf.precision:9.3f} {prf.recall:7.3f} {prf.f1:6.3f} {prf.support:5d}"
            )
        out.append("")
        out.append("Intent per label")
        out.append(f"  {'intent':20} {'precision':>9} {'recall':>7} {'F1':>6} {'n':>5}")
        for label, prf in self.intent_per_label.items():
            out.append(
                f"  {label:20} {prf.precision:9.3f} {prf.recall:7.3f} {prf.f1:6.3f} {prf.support:5d}"
            )
        m = self.intent_macro
        out.append(f"  {'macro':20} {m.precision:9.3f} {m.recall:7.3f} {m.f1:6.3f} {m.support:5d}")
        out.append(
            f"  model alone (no fallback) macro-F1 {self.intent_macro_model_only.f1:.3f}; "
            f"expected calibration error of the top probability {self.calibration_error:.3f}"
        )
        out.append("")
        out.append("Confusion matrix (rows: true intent, columns: predicted)")
        short = [label[:6] for label in INTENTS]
        out.append("  " + " " * 20 + " ".join(f"{s:>6}" for s in short))
        for label, row in zip(INTENTS, self.confusion, strict=True):
            out.append(f"  {label:20}" + " ".join(f"{v:6d}" for v in row))
        out.append("")
        u = self.urgent
        out.append(
            f"Urgent: recall {u.recall:.3f}, precision {u.precision:.3f}, F1 {u.f1:.3f} "
            f"({u.support} urgent examples); danger lexicon alone recall {self.urgent_lexicon_recall:.3f}"
        )
        out.append("")
        out.append(
            f"Variety: accuracy {self.variety_accuracy_3:.3f} on Arabic script / Latin Darija / "
            f"French, {self.variety_accuracy_4:.3f} on the four varieties (ary vs ar included)"
        )
        seen = [v for v in (*VARIETIES, "other") if any(k[1] == v for k in self.variety_confusion)]
        out.append("  " + " " * 10 + " ".join(f"{v:>9}" for v in seen))
        for true_variety in VARIETIES:
            cells = " ".join(f"{self.variety_confusion.get((true_variety, p), 0):9d}" for p in seen)
            out.append(f"  {true_variety:10}{cells}")
        out.append("")
        out.append("Towns (no question expected, as `nlu parse` and /model/parse)")
        out.append(
            f"  sentences: accuracy {self.town_accuracy:.3f} on {self.town_count} real spellings"
        )
        out.append(
            f"  one-word answers: accuracy {self.one_word_town_accuracy:.3f} on "
            f"{self.one_word_town_count} commune names written alone"
        )
        for text, got, expected in (*self.town_misses, *self.one_word_town_misses):
            out.append(f"  miss: {text!r} -> {got} (expected {expected})")
        out.append("")
        out.append("Violence types (lexicon, all examples)")
        out.append(f"  {'type':16} {'precision':>9} {'recall':>7} {'n':>5}")
        for label, prf in self.violence.items():
            out.append(f"  {label:16} {prf.precision:9.3f} {prf.recall:7.3f} {prf.support:5d}")
        if show_errors and self.errors:
            out.append("")
            out.append(
                f"Some intent errors ({min(show_errors, len(self.errors))} of {len(self.errors)})"
            )
            for text, variety, gold, pred in self.errors[:show_errors]:
                out.append(f"  [{variety}] {gold} -> {pred}: {text}")
        return "\n".join(out) + "\n"


def town_accuracy(
    nlu: LocalNlu, towns_csv: Path
) -> tuple[float, int, list[tuple[str, str | None, str]]]:
    """Share of the messages in `towns_csv` (text, city) whose town `nlu` finds."""
    with towns_csv.open(encoding="utf-8", newline="") as fh:
        rows = [(row["text"], row["city"]) for row in csv.DictReader(fh)]
    misses: list[tuple[str, str | None, str]] = []
    for text, city in rows:
        got = nlu.parse_sync(text).city
        if got != city:
            misses.append((text, got, city))
    accuracy = 1.0 - len(misses) / len(rows) if rows else 0.0
    return accuracy, len(rows), misses


def one_word_town_accuracy(
    nlu: LocalNlu, gazetteer: Gazetteer
) -> tuple[float, int, list[tuple[str, str | None, str]]]:
    """Share of the communes whose name, written alone (French, then Arabic script),
    `nlu` reads as a commune of that name in that script. Homonyms count as found
    (two communes may share an Arabic name and differ in French): which one is hers
    the flow asks, with the province."""
    misses: list[tuple[str, str | None, str]] = []
    count = 0
    for place in gazetteer.places:
        for script, name in (("fr", place.name_fr), ("ar", place.name_ar)):
            if not name:
                continue
            count += 1
            found = nlu.parse_sync(name).place
            same_name = found is not None and normalize(
                found.place.name_fr if script == "fr" else found.place.name_ar
            ) == normalize(name)
            if not same_name:
                misses.append((name, found.place.name_fr if found else None, place.name_fr))
    accuracy = 1.0 - len(misses) / count if count else 0.0
    return accuracy, count, misses


def _calibration_error(confidence: np.ndarray, correct: np.ndarray, bins: int = 10) -> float:
    edges = np.linspace(0.0, 1.0, bins + 1)
    error = 0.0
    for lo, hi in itertools.pairwise(edges):
        inside = (confidence > lo) & (confidence <= hi)
        if inside.any():
            error += inside.mean() * abs(correct[inside].mean() - confidence[inside].mean())
    return float(error)


def evaluate_nlu(
    data_dir: Path = DEFAULT_DATA_DIR,
    *,
    folds: int = 5,
    seed: int = 0,
    towns_csv: Path | None = DEFAULT_TOWNS_CSV,
    gazetteer: Gazetteer | None = None,
    examples: Sequence[Example] | None = None,
) -> Evaluation:
    """Every figure of the report: intents, urgency and variety on `folds`-fold
    cross-validation, towns on `towns_csv`, violence types on all examples."""
    data = list(examples) if examples is not None else load_training_data(data_dir)
    gazetteer = gazetteer or load_gazetteer()
    parsed = _cross_validated_parses(data, folds, seed, gazetteer)
    if towns_csv is not None and towns_csv.exists():
        full = LocalNlu(model=train_model(data), gazetteer=gazetteer)
        towns, n_towns, misses = town_accuracy(full, towns_csv)
        alone, n_alone, alone_misses = one_word_town_accuracy(full, gazetteer)
    else:
        towns, n_towns, misses = 0.0, 0, []
        alone, n_alone, alone_misses = 0.0, 0, []
    return Evaluation(
        n_examples=len(data),
        folds=folds,
        **_intent_figures(data, parsed),
        **_urgency_figures(data, parsed),
        **_variety_figures(data, parsed),
        town_accuracy=towns,
        town_count=n_towns,
        town_misses=misses,
        one_word_town_accuracy=alone,
        one_word_town_count=n_alone,
        one_word_town_misses=alone_misses,
        violence=_violence_figures(data),
    )


def _cross_validated_parses(
    data: Sequence[Example], folds: int, seed: int, gazetteer: Gazetteer
) -> list[NluResult]:
    """Each example parsed by a model trained on the other folds (strata: intent x
    variety, or the intent alone for a stratum smaller than the number of folds)."""
    from sklearn.model_selection import StratifiedKFold

    strata = np.array([f"{e.intent}|{e.variety}" for e in data])
    # A stratum smaller than the number of folds would make StratifiedKFold fail.
    counts = Counter(strata)
    strata = np.array([s if counts[s] >= folds else s.split("|")[0] for s in strata])
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    results: list[NluResult | None] = [None] * len(data)
    for train_idx, test_idx in splitter.split(np.zeros(len(data)), strata):
        model = train_model([data[i] for i in train_idx])
        nlu = LocalNlu(model=model, gazetteer=gazetteer)
        for i in test_idx:
            results[i] = nlu.parse_sync(data[i].text)
    parsed = [r for r in results if r is not None]
    assert len(parsed) == len(data)
    return parsed


class _IntentFigures(TypedDict):
    intent_per_label: dict[str, PRF]
    intent_macro: PRF
    intent_macro_model_only: PRF
    intent_per_variety: dict[str, PRF]
    calibration_error: float
    confusion: list[list[int]]
    errors: list[tuple[str, str, str, str]]


class _UrgencyFigures(TypedDict):
    urgent: PRF
    urgent_lexicon_recall: float


class _VarietyFigures(TypedDict):
    variety_accuracy_3: float
    variety_accuracy_4: float
    variety_confusion: dict[tuple[str, str], int]


def _intent_figures(data: Sequence[Example], parsed: Sequence[NluResult]) -> _IntentFigures:
    """The intent fields of `Evaluation`: per label, per variety, macro (final intent
    and model alone), calibration, confusion, errors."""
    gold: list[str] = [e.intent for e in data]
    pred: list[str] = [r.intent for r in parsed]
    raw: list[str] = [r.intent_ranking[0][0] for r in parsed]
    per_variety: dict[str, PRF] = {}
    for variety in VARIETIES:
        rows = [i for i, e in enumerate(data) if e.variety == variety]
        per_variety[variety] = _macro([gold[i] for i in rows], [pred[i] for i in rows], INTENTS)
    confusion = [[0] * len(INTENTS) for _ in INTENTS]
    index: dict[str, int] = {label: i for i, label in enumerate(INTENTS)}
    for g, p in zip(gold, pred, strict=True):
        confusion[index[g]][index[p]] += 1
    top = np.array([r.intent_ranking[0][1] for r in parsed])
    correct = np.array([g == p for g, p in zip(gold, raw, strict=True)])
    errors = [
        (e.text, str(e.variety), g, p) for e, g, p in zip(data, gold, pred, strict=True) if g != p
    ]
    return {
        "intent_per_label": {label: _prf(gold, pred, label) for label in INTENTS},
        "intent_macro": _macro(gold, pred, INTENTS),
        "intent_macro_model_only": _macro(gold, raw, INTENTS),
        "intent_per_variety": per_variety,
        "calibration_error": _calibration_error(top, correct),
        "confusion": confusion,
        "errors": errors,
    }


def _urgency_figures(data: Sequence[Example], parsed: Sequence[NluResult]) -> _UrgencyFigures:
    """Urgent precision and recall, and the recall of the danger lexicon alone."""
    urgent_gold = ["y" if e.urgent else "n" for e in data]
    urgent_pred = ["y" if r.urgent else "n" for r in parsed]
    lexicon = [bool(danger_signals(normalize(e.text))) for e in data]
    n_urgent = sum(e.urgent for e in data)
    lexicon_recall = (
        sum(1 for e, hit in zip(data, lexicon, strict=True) if e.urgent and hit) / n_urgent
        if n_urgent
        else 0.0
    )
    return {
        "urgent": _prf(urgent_gold, urgent_pred, "y"),
        "urgent_lexicon_recall": lexicon_recall,
    }


def _variety_figures(data: Sequence[Example], parsed: Sequence[NluResult]) -> _VarietyFigures:
    """Variety accuracy on the three scripts and on the four varieties, and the
    confusion counts."""
    variety_confusion: Counter[tuple[str, str]] = Counter(
        (e.variety, r.language) for e, r in zip(data, parsed, strict=True)
    )
    accuracy_4 = sum(1 for e, r in zip(data, parsed, strict=True) if e.variety == r.language)
    accuracy_3 = sum(
        1 for e, r in zip(data, parsed, strict=True) if _script(e.variety) == _script(r.language)
    )
    return {
        "variety_accuracy_3": accuracy_3 / len(data),
        "variety_accuracy_4": accuracy_4 / len(data),
        "variety_confusion": dict(variety_confusion),
    }


def _violence_figures(data: Sequence[Example]) -> dict[str, PRF]:
    """Precision and recall of the violence lexicon per type, on all examples."""
    violence: dict[str, PRF] = {}
    found = [set(detect_violence(normalize(e.text))) for e in data]
    for label in VIOLENCE_TYPES:
        has = ["y" if label in e.violence else "n" for e in data]
        got = ["y" if label in f else "n" for f in found]
        violence[label] = _prf(has, got, "y")
    return violence

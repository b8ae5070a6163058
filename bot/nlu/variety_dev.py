"""Variety detection measured on public text the team did not write.

The dev set (`tests/data/variety_dev/`, sources and licences in its SOURCES.md)
holds one file per variety, one line a message: `fr.txt`, `ary_latn.txt`,
`ary.txt`, `ar.txt`. It is for evaluation only and never used for training: the
training data (`data/intents/`) is written by the team.

Figures:
- French recall: French lines answered as French (never Latin Darija).
- Arabizi recall: Latin Darija lines answered as Latin Darija (never French).
- Darija-vs-MSA accuracy: balanced accuracy on the Arabic-script lines, the mean
  of the Darija (ary) recall and the MSA (ar) recall, so that the larger file does
  not decide the figure; with the recall of each.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

DEFAULT_VARIETY_DEV_DIR: Final = (
    Path(__file__).resolve().parents[2] / "tests" / "data" / "variety_dev"
)
DEV_VARIETIES: Final = ("fr", "ary_latn", "ary", "ar")

GOALS: Final[dict[str, float]] = {
    "French recall": 0.99,
    "Arabizi recall": 0.99,
    "Darija-vs-MSA accuracy": 0.85,
}


def load_dev_set(directory: Path = DEFAULT_VARIETY_DEV_DIR) -> dict[str, list[str]]:
    """{variety: [line, ...]} for the varieties whose file exists."""
    out: dict[str, list[str]] = {}
    for variety in DEV_VARIETIES:
        path = directory / f"{variety}.txt"
        if path.exists():
            lines = path.read_text(encoding="utf-8").splitlines()
            out[variety] = [line.strip() for line in lines if line.strip()]
    return out


@dataclass
class VarietyDevFigures:
    counts: dict[str, int]
    recall: dict[str, float]
    darija_vs_msa: float
    errors: dict[str, list[tuple[str, str]]] = field(default_factory=dict)

    def figures(self) -> dict[str, float]:
        return {
            "French recall": self.recall.get("fr", 0.0),
            "Arabizi recall": self.recall.get("ary_latn", 0.0),
            "Darija-vs-MSA accuracy": self.darija_vs_msa,
            "Darija (ary) recall": self.recall.get("ary", 0.0),
            "MSA recall": self.recall.get("ar", 0.0),
        }

    def unmet_goals(self) -> list[str]:
        got = self.figures()
        return [name for name, goal in GOALS.items() if got[name] < goal]

    def text(self, show_errors: int = 0) -> str:
        out = ["Variety on the public dev set (text the team did not write)"]
        out.append("  lines: " + ", ".join(f"{v} {n}" for v, n in self.counts.items()))
        for name, value in self.figures().items():
            goal = GOALS.get(name)
            mark = "" if goal is None else f"   (goal >= {goal:.2f}: {'met' if value >= goal else 'NOT met'})"
            out.append(f"  {name:24} {value:.3f}{mark}")
        if show_errors:
            for variety, errors in self.errors.items():
                for text, predicted in errors[:show_errors]:
                    out.append(f"  [{variety} -> {predicted}] {text}")
        return "\n".join(out) + "\n"


def evaluate_variety_dev(
    detect: Callable[[str], str], dev_set: dict[str, Sequence[str]]
) -> VarietyDevFigures:
    """The figures for `detect` (text -> detected variety) on `dev_set`."""
    counts: dict[str, int] = {}
    recall: dict[str, float] = {}
    errors: dict[str, list[tuple[str, str]]] = {}
    for variety, lines in dev_set.items():
        right = 0
        for line in lines:
            predicted = detect(line)
            if predicted == variety:
                right += 1
            else:
                errors.setdefault(variety, []).append((line, predicted))
        counts[variety] = len(lines)
        recall[variety] = right / len(lines) if lines else 0.0
    arabic = [recall[v] for v in ("ary", "ar") if v in recall]
    darija_vs_msa = sum(arabic) / len(arabic) if arabic else 0.0
    return VarietyDevFigures(counts, recall, darija_vs_msa, errors)

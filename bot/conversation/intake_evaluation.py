"""Whole conversations, as women write them, through the conversation as it runs:
the real NLU, the real flow, the same reading of her words (`rehearsal.py`, a dry
run: nothing is written). Two team-written sets in `data/evaluation/`, never used for
training:

- `intakes.yml`: whole intakes, four varieties, each labelled urgent when she says at
  some message that she is in danger now. Figures: urgent recall (the share of
  urgent intakes that gave her the emergency numbers or an urgent case) and the
  false urgent share (the non-danger intakes that did). Goals (issue 19): recall >=
  0.98, false urgent <= 1 in 20.
- `quick_exit.yml`: the ways she asks to stop and hide the conversation, and
  messages that must not be taken for that (ordinary answers, towns that are also
  words, "stop" said of him). Each exit is tried as her first message and at the
  consent question; town answers at the town question. Goal: recall >= 0.98, and no
  ordinary message wiped.

`run_bot.py nlu intakes` prints the figures."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import yaml

from bot.conversation.rehearsal import RehearsalTurn, rehearse
from bot.conversation.understanding import Understanding
from bot.flows.schema import Flow
from bot.settings import PROJECT_ROOT
from bot.types import VARIETIES

__all__ = [
    "DEFAULT_INTAKES",
    "DEFAULT_QUICK_EXIT",
    "TARGETS",
    "Intake",
    "QuickExitSet",
    "Tally",
    "evaluate_intakes",
    "evaluate_quick_exit",
    "load_intakes",
    "load_quick_exit",
]

EVALUATION_DIR: Final = PROJECT_ROOT / "data" / "evaluation"
DEFAULT_INTAKES: Final = EVALUATION_DIR / "intakes.yml"
DEFAULT_QUICK_EXIT: Final = EVALUATION_DIR / "quick_exit.yml"
TARGETS: Final[dict[str, float]] = {
    "urgent recall": 0.98,
    "false urgent share (at most)": 0.05,
    "quick-exit recall": 0.98,
}

# Her first messages, to bring a conversation to the consent question (two answers
# in) and to the town question (four), in each variety.
_OPENINGS: Final[dict[str, tuple[str, ...]]] = {
    "fr": ("Bonjour", "oui", "oui", "j'ai besoin d'un avocat"),
    "ary_latn": ("salam", "ah", "ah", "bghit mo7ami"),
    "ary": ("السلام", "ايه", "ايه", "بغيت محامي"),
    "ar": ("مرحبا، هل يمكنني الكتابة هنا بأمان؟", "نعم", "نعم", "أحتاج إلى محام"),
}
AT_CONSENT: Final = 2
AT_TOWN: Final = 4


class EvaluationSetError(ValueError):
    """An evaluation file is missing or malformed: the message names the file."""


@dataclass(frozen=True, slots=True)
class Intake:
    id: str
    variety: str
    urgent: bool
    why: str
    messages: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class QuickExitSet:
    exits: dict[str, tuple[str, ...]]  # by variety
    not_exits: dict[str, tuple[str, ...]]
    not_exits_at_town: dict[str, tuple[str, ...]]


def _read_yaml(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except (OSError, yaml.YAMLError) as exc:
        raise EvaluationSetError(f"{path}: {exc}") from exc


def _messages(path: Path, where: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(m, str) and m.strip() for m in value):
        raise EvaluationSetError(f"{path}: {where}: a list of non-empty messages is needed")
    return tuple(value)


def load_intakes(path: Path = DEFAULT_INTAKES) -> list[Intake]:
    data = _read_yaml(path)
    rows = data.get("intakes") if isinstance(data, dict) else None
    if not isinstance(rows, list) or not rows:
        raise EvaluationSetError(f"{path}: an `intakes:` list is needed")
    intakes: list[Intake] = []
    for n, row in enumerate(rows, 1):
        if not isinstance(row, dict) or row.get("variety") not in VARIETIES \
                or not isinstance(row.get("urgent"), bool):
            raise EvaluationSetError(f"{path}: intake {n}: id, variety, urgent, messages")
        ident = str(row.get("id", n))
        intakes.append(Intake(ident, row["variety"], row["urgent"], str(row.get("why", "")),
                              _messages(path, ident, row.get("messages"))))
    return intakes


def load_quick_exit(path: Path = DEFAULT_QUICK_EXIT) -> QuickExitSet:
    data = _read_yaml(path)
    if not isinstance(data, dict):
        raise EvaluationSetError(f"{path}: one section per variety is needed")
    exits: dict[str, tuple[str, ...]] = {}
    not_exits: dict[str, tuple[str, ...]] = {}
    at_town: dict[str, tuple[str, ...]] = {}
    for variety in VARIETIES:
        section = data.get(variety)
        if not isinstance(section, dict):
            raise EvaluationSetError(f"{path}: no section for {variety}")
        exits[variety] = _messages(path, f"{variety}.exit", section.get("exit"))
        not_exits[variety] = _messages(path, f"{variety}.not_exit", section.get("not_exit"))
        at_town[variety] = _messages(path, f"{variety}.not_exit_at_town_question",
                                     section.get("not_exit_at_town_question", []) or ["-"])
    return QuickExitSet(exits, not_exits, at_town)


def _rate(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


@dataclass
class Tally:
    """What should have been flagged and was (recall), and what should not have been
    and was (the false share), in all and per variety, with the items missed and
    flagged wrongly."""

    positives: int = 0
    found: int = 0
    negatives: int = 0
    flagged: int = 0
    by_variety: dict[str, list[int]] = field(default_factory=dict)  # the four counts
    missed: list[str] = field(default_factory=list)
    false: list[str] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return _rate(self.found, self.positives)

    @property
    def false_share(self) -> float:
        return _rate(self.flagged, self.negatives)

    def add(self, variety: str, label: str, *, positive: bool, flagged: bool) -> None:
        counts = self.by_variety.setdefault(variety, [0, 0, 0, 0])
        column = 0 if positive else 2
        counts[column] += 1
        counts[column + 1] += flagged
        if positive:
            self.positives += 1
            self.found += flagged
            if not flagged:
                self.missed.append(label)
        else:
            self.negatives += 1
            self.flagged += flagged
            if flagged:
                self.false.append(label)

    def lines(self, flagged_wrongly: str) -> list[str]:
        out = []
        for variety in VARIETIES:
            pos, found, neg, flagged = self.by_variety.get(variety, [0, 0, 0, 0])
            out.append(f"    {variety:9} recall {_rate(found, pos):.3f} ({found}/{pos})   "
                       f"{flagged_wrongly} {_rate(flagged, neg):.3f} ({flagged}/{neg})")
        out.extend(f"  missed: {label}" for label in self.missed)
        out.extend(f"  {flagged_wrongly}: {label}" for label in self.false)
        return out


def _marked_urgent(flow: Flow, turns: Iterable[RehearsalTurn]) -> bool:
    """She was given the emergency numbers or an urgent case at some turn."""
    numbers = set(flow.texts["emergency_numbers"].values())
    return any("handoff_urgent" in turn.events or any(r.text in numbers for r in turn.replies)
               for turn in turns)


async def evaluate_intakes(flow: Flow, understanding: Understanding,
                           intakes: Sequence[Intake]) -> Tally:
    """Urgent intakes given the numbers or an urgent case, and calm ones that were."""
    figures = Tally()
    for intake in intakes:
        turns = await rehearse(flow, intake.messages, understanding=understanding)
        figures.add(intake.variety, intake.id, positive=intake.urgent,
                    flagged=_marked_urgent(flow, turns))
    return figures


async def _exits(flow: Flow, understanding: Understanding, opening: Sequence[str],
                 text: str) -> bool:
    turns = await rehearse(flow, [*opening, text], understanding=understanding)
    return len(turns) == len(opening) + 1 and "quick_exit" in turns[-1].events


async def evaluate_quick_exit(flow: Flow, understanding: Understanding,
                              phrases: QuickExitSet) -> Tally:
    """Exits that wiped the conversation, and ordinary messages that did."""
    figures = Tally()
    for variety in VARIETIES:
        opening = _OPENINGS[variety]
        for text in phrases.exits[variety]:
            first = await _exits(flow, understanding, (), text)
            later = await _exits(flow, understanding, opening[:AT_CONSENT], text)
            figures.add(variety, f"[{variety}] {text}", positive=True, flagged=first and later)
        for text in phrases.not_exits[variety]:
            first = await _exits(flow, understanding, (), text)
            later = await _exits(flow, understanding, opening[:AT_CONSENT], text)
            figures.add(variety, f"[{variety}] {text}", positive=False, flagged=first or later)
        for text in phrases.not_exits_at_town[variety]:
            if text != "-":
                wiped = await _exits(flow, understanding, opening[:AT_TOWN], text)
                figures.add(variety, f"[{variety}] {text}", positive=False, flagged=wiped)
    return figures


def report(intakes: Tally, exits: Tally) -> str:
    out = ["Whole intakes through the conversation (data/evaluation/intakes.yml)",
           f"  urgent recall {intakes.recall:.3f} ({intakes.found} of {intakes.positives} "
           f"urgent intakes; target >= {TARGETS['urgent recall']:.2f})",
           f"  false urgent {intakes.false_share:.3f} ({intakes.flagged} of "
           f"{intakes.negatives} non-danger intakes; target <= "
           f"{TARGETS['false urgent share (at most)']:.2f})",
           *intakes.lines("false urgent"), "",
           "Quick exit (data/evaluation/quick_exit.yml): first message and at the "
           "consent question",
           f"  recall {exits.recall:.3f} ({exits.found} of {exits.positives}; target >= "
           f"{TARGETS['quick-exit recall']:.2f}); ordinary messages wiped: "
           f"{exits.flagged} of {exits.negatives}",
           *exits.lines("wiped")]
    return "\n".join(out) + "\n"

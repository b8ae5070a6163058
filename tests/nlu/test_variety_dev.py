"""Variety detection on public text the team did not write (tests/data/variety_dev)."""

from __future__ import annotations

from pathlib import Path

from bot.nlu.model import DEFAULT_DATA_DIR
from bot.nlu.normalize import normalize
from bot.nlu.pipeline import LocalNlu
from bot.nlu.variety_dev import GOALS, evaluate_variety_dev, load_dev_set


def test_the_dev_set_is_there() -> None:
    dev = load_dev_set()
    assert set(dev) == {"fr", "ary_latn", "ary", "ar"}
    for lines in dev.values():
        assert len(lines) >= 100
        assert len(lines) == len(set(lines))


def test_no_dev_line_is_in_the_training_data() -> None:
    """The dev set is for measuring only: none of its lines is a training example."""
    training = "\n".join(
        normalize(p.read_text(encoding="utf-8")) for p in Path(DEFAULT_DATA_DIR).rglob("*.yml")
    )
    training_lines = {line.strip(" -'\"") for line in training.splitlines()}
    for variety, lines in load_dev_set().items():
        leaked = [line for line in lines if normalize(line) in training_lines]
        assert not leaked, (variety, leaked[:5])


def test_goals_on_the_dev_set(nlu: LocalNlu) -> None:
    figures = evaluate_variety_dev(lambda t: nlu.parse_sync(t).language, load_dev_set())
    got = figures.figures()
    for name, goal in GOALS.items():
        assert got[name] >= goal, figures.text(show_errors=10)

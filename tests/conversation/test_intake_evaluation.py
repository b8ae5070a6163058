"""Issue 19 points 4 and 5: whole intakes and quick exits, four varieties, through
the conversation as it runs (`run_bot.py nlu intakes` prints the same figures)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.conversation import intake_evaluation as check
from bot.conversation.understanding import Understanding
from bot.flows.registry import FlowRegistry
from bot.flows.schema import Flow
from bot.nlu.pipeline import LocalNlu
from bot.nlu.places import load_gazetteer
from bot.nlu.variety import choose_reply_variety
from bot.settings import PROJECT_ROOT
from bot.types import VARIETIES


@pytest.fixture(scope="module")
def flow() -> Flow:
    return FlowRegistry.from_directory(PROJECT_ROOT / "config" / "flows").get("intake")


@pytest.fixture(scope="module")
def understanding(nlu_cache_dir: Path) -> Understanding:
    places = load_gazetteer()
    return Understanding(LocalNlu(nlu_cache_dir, gazetteer=places), places,
                         choose_reply_variety)


def test_the_sets_cover_the_four_varieties() -> None:
    intakes = check.load_intakes()
    for variety in VARIETIES:
        mine = [i for i in intakes if i.variety == variety]
        assert sum(i.urgent for i in mine) >= 25 and sum(not i.urgent for i in mine) >= 40
        assert all(len(i.messages) >= 7 for i in mine)
    phrases = check.load_quick_exit()
    assert all(len(phrases.exits[v]) >= 40 and len(phrases.not_exits[v]) >= 40
               for v in VARIETIES)


@pytest.mark.slow
async def test_quick_exit_every_way_she_says_it(flow: Flow,
                                                understanding: Understanding) -> None:
    figures = await check.evaluate_quick_exit(flow, understanding, check.load_quick_exit())
    assert figures.recall >= check.TARGETS["quick-exit recall"], figures.missed
    # No town, no ordinary answer read as a quick exit; a few stories that speak of
    # stopping or erasing ("7bes lia lflous") are still taken for one.
    assert figures.flagged <= figures.negatives // 40, figures.false
    assert not [text for text in figures.false if "safi" in text.lower() or "آسفي" in text]


@pytest.mark.slow
async def test_urgent_means_danger_now_on_whole_intakes(
        flow: Flow, understanding: Understanding) -> None:
    """Floors under the measured figures (recall 0.925, false urgent 0.139 on this
    set): the goals, recall >= 0.98 and false urgent <= 0.05, are not reached yet."""
    figures = await check.evaluate_intakes(flow, understanding, check.load_intakes())
    assert figures.recall >= 0.92, figures.missed
    assert figures.false_share <= 0.15, figures.false


def test_a_malformed_set_is_refused_with_its_name(tmp_path: Path) -> None:
    bad = tmp_path / "intakes.yml"
    bad.write_text("intakes:\n  - id: x\n    variety: en\n    urgent: true\n    messages: [a]\n",
                   encoding="utf-8")
    with pytest.raises(check.EvaluationSetError, match="intakes.yml: intake 1"):
        check.load_intakes(bad)
    bad.write_text("".join(f"{v}: {{exit: [stop]}}\n" for v in VARIETIES), encoding="utf-8")
    with pytest.raises(check.EvaluationSetError, match="not_exit"):
        check.load_quick_exit(bad)

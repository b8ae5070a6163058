"""What she reads: every text in the four varieties, and discreet enough to be safe if
someone else sees her phone or a notification preview."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.flows.loader import load_flows
from bot.flows.matching import fold
from bot.flows.schema import Flow
from bot.types import VARIETIES

ROOT = Path(__file__).resolve().parents[2]

# Words that would tell someone reading over her shoulder what this conversation is
# about, or who is writing: never in any text the bot sends.
GIVEAWAYS = [
    "violence", "violent", "victime", "agression", "viol", "battue", "maltrait", "amane",
    "femmes", "عنف", "معنفه", "ضحيه", "اغتصاب", "الاعتداء", "النساء", "3onf",
    "m3anfa", "da7iya", "ightisab", "amane",
]


@pytest.fixture(scope="module")
def flow() -> Flow:
    return load_flows(ROOT / "config" / "flows")["intake"]


def test_every_text_exists_in_every_variety(flow: Flow) -> None:
    for text_id, variants in flow.texts.items():
        for variety in VARIETIES:
            assert variants[variety].strip(), (text_id, variety)


def test_no_text_gives_the_subject_away(flow: Flow) -> None:
    for text_id, variants in flow.texts.items():
        for variety, text in variants.items():
            folded = f" {fold(text)} "
            for word in GIVEAWAYS:
                assert fold(word) not in folded, (text_id, variety, word)


def test_the_first_message_says_how_to_stop(flow: Flow) -> None:
    first = flow.nodes[flow.start].actions[0].text
    assert first is not None
    for variety in VARIETIES:
        text = flow.text(first, variety)
        assert any(fold(word) in fold(text).split() for word in flow.quick_exit_words), variety


def test_emergency_numbers_come_in_every_variety(flow: Flow) -> None:
    for variety in VARIETIES:
        text = flow.text("emergency_numbers", variety)
        for number in ("19", "177", "15", "8350"):
            assert number in text, (variety, number)


def test_texts_are_short(flow: Flow) -> None:
    for text_id, variants in flow.texts.items():
        for variety, text in variants.items():
            assert len(text) <= 200, (text_id, variety, len(text))

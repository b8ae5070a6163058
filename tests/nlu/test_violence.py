"""Violence types (GBVIMS + digital) named in messages."""

from __future__ import annotations

import pytest

from bot.nlu.normalize import normalize
from bot.nlu.violence import detect_violence


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("rajli kaydrbni kol nhar", {"physical"}),
        ("زوجي يضربني", {"physical"}),
        ("il me frappe", {"physical"}),
        ("ghtasbni wa7ed mn l3a2ila", {"rape"}),
        ("اغتصبني", {"rape"}),
        ("il m'a violée", {"rape"}),
        ("7awel yghtasbni", {"sexual_assault"}),
        ("il a essayé de me violer", {"sexual_assault"}),
        ("كيتحرش بيا فالخدمة", {"sexual_assault"}),
        ("bghaw yzwjouni bzz", {"forced_marriage"}),
        ("زوجوني وانا عندي 15 عام", {"forced_marriage"}),
        ("on veut me marier de force", {"forced_marriage"}),
        ("kayakhod liya lflous dyali kamlin", {"economic"}),
        ("il m'empêche de travailler", {"economic"}),
        ("لا يعطيني المال للطعام", {"economic"}),
        ("kaysebni w kay7e9rni", {"psychological"}),
        ("il m'insulte et me menace", {"psychological"}),
        ("يهينني أمام الناس", {"psychological"}),
        ("kaybtazni b tsawer dyali", {"digital"}),
        ("il menace de publier mes photos sur facebook", {"digital"}),
        ("دار حساب بسميتي", {"digital"}),
        ("il me menace avec un couteau", {"physical"}),  # weapon: physical (GBVIMS)
        ("drbni w ghtasbni lbar7", {"physical", "rape"}),
    ],
)
def test_detect_violence(text: str, expected: set[str]) -> None:
    assert set(detect_violence(normalize(text))) == expected


@pytest.mark.parametrize(
    "text",
    [
        "salam",
        "bghit ndir tla9",
        "je cherche un avocat",
        "je suis mariée depuis 15 ans",
        "9albi kaydrb bzaf mn lkhouf",
        "قلبي كيضرب بزاف",
        "واش عندكم بروموسيون",
        "j'ai des photos de mes enfants",
    ],
)
def test_no_violence(text: str) -> None:
    assert detect_violence(normalize(text)) == ()


def test_order_is_stable() -> None:
    found = detect_violence(normalize("kaybtazni b tsawer w kaydrbni"))
    assert found == ("physical", "digital")

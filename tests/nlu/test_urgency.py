"""Urgent: very high recall, in the four varieties, on messages not in the data."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.nlu import concepts, urgency, violence
from bot.nlu.normalize import normalize
from bot.nlu.pipeline import LocalNlu
from bot.nlu.urgency import danger_signals, is_urgent

DANGER = [
    # attack in progress, aggressor present or coming, locked in, weapon
    "rah kaydrbni daba 3afak 3ayto l bolis",
    "3teqni ghadi yqtlni",
    "jab jenwi w bgha ydb7ni",
    "msedda 3liya f lbit",
    "راه جاي وقال غادي يقتلني",
    "كيضربني دابا عتقوني",
    "سد عليا فالبيت وداني التيليفون",
    "يحمل سكينا ويهددني",
    "أنقذوني إنه يضربني الآن",
    "il m'a enfermée dans la salle de bain",
    "il a un couteau, au secours",
    "il est en train de me frapper",
    # threat to life, suicidal intent
    "ghadi n9tel rasi had lila",
    "بغيت نموت ماعندي علاش نعيش",
    "أفكر في الانتحار",
    "je veux en finir avec la vie",
    # serious injury, bleeding
    "kaynzel mni dem bzaf mn rasi",
    "الدم كيسيل من راسي",
    "أنزف ولا أستطيع الوقوف",
    "je saigne beaucoup",
    # sexual assault within 72 hours
    "ghtasbni lbar7 f lil",
    "اغتصبني البارح",
    "تعرضت للاغتصاب هذه الليلة",
    "il m'a violée cette nuit",
]

NOT_URGENT = [
    "salam",
    "bghit ndir chikaya 3la rajli",
    "je cherche un avocat pour mon divorce",
    "أريد معرفة حقوقي في الحضانة",
    "شحال الساعة",
    "bghit nchouf psychologue",
]


@pytest.mark.parametrize("text", DANGER)
def test_danger_is_urgent(nlu: LocalNlu, text: str) -> None:
    assert nlu.parse_sync(text).urgent


def test_danger_lexicon_recall_on_unseen_messages() -> None:
    hits = sum(1 for text in DANGER if danger_signals(normalize(text)))
    assert hits / len(DANGER) >= 0.9


@pytest.mark.parametrize("text", NOT_URGENT)
def test_ordinary_messages_are_not_urgent(nlu: LocalNlu, text: str) -> None:
    assert not nlu.parse_sync(text).urgent


def test_emergency_intent_is_always_urgent(nlu: LocalNlu) -> None:
    for text in ["3awnouni rah f lbab", "il est devant la porte il veut entrer"]:
        result = nlu.parse_sync(text)
        if result.intent == "emergency":
            assert result.urgent


def test_is_urgent_combines_signals() -> None:
    assert is_urgent("ghadi yqtlni", 0.0, ())
    assert is_urgent("salam", 0.9, ())
    assert is_urgent("salam", 0.0, (("greet", 0.6), ("emergency", 0.3)))
    assert not is_urgent("salam", 0.1, (("greet", 0.9), ("emergency", 0.01)))


@pytest.mark.parametrize("module", [urgency, violence, concepts])
def test_lexicon_arabic_is_in_normalized_form(module: object) -> None:
    """Patterns are matched on normalize()d text: letters that normalize() removes
    (ة ى أ إ آ ؤ ئ ء ـ) would make a pattern dead."""
    source = Path(module.__file__).read_text(encoding="utf-8")  # type: ignore[attr-defined]
    patterns = re.findall(r'r"([^"]*)"|_ar\("([^"]*)"\)', source)
    dead = [p for pair in patterns for p in pair if re.search("[ةىأإآؤئءـ]", p)]
    assert dead == []

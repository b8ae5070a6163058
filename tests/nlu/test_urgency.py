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


# Issue 19 point 4: urgent means danger now, in every variety.
HABITUAL_OR_PAST = [
    "il me frappe quand il a bu", "depuis des années il me bat",
    "il m'a giflée la semaine dernière devant sa mère",
    "kaydrbni mli kayt9ele9", "hadi snin w howa kaydrbni", "kan kaydrbni 9bel ma ntl9o",
    "كيضربني كل مرة كيرجع سكران", "ضربني السيمانة اللي فاتت",
    "يضربني عندما يغضب", "ضربني الشهر الماضي أمام أهله",
]
DANGER_NOW = [
    "il me frappe maintenant", "il a un couteau", "je n'arrive pas à respirer",
    "kaydrbni daba", "bgha y9tlni", "ana m7bousa f dar", "bghit nmot",
    "كيضربني دابا", "بغا يقتلني", "يضربني الآن", "أريد أن أموت",
    "il m'a violée cette nuit", "ghtasbni lbare7", "اغتصبني البارحة", "اغتصبني أمس",
    "il m'a violée il y a deux jours",
]
ANSWERS = ["le matin", "في الصباح", "فالصباح", "f sba7", "à 20h40", "par message",
           "appel ok", "بالهاتف", "l3chiya", "après 18h"]


@pytest.mark.parametrize("text", HABITUAL_OR_PAST)
def test_violence_described_as_habitual_or_past_is_not_danger_now(nlu: LocalNlu,
                                                                   text: str) -> None:
    result = nlu.parse_sync(text)
    assert not result.urgent and result.intent != "emergency", text
    assert result.violence, text  # still recorded as violence


@pytest.mark.parametrize("text", DANGER_NOW)
def test_danger_now_and_recent_sexual_assault_are_urgent(nlu: LocalNlu, text: str) -> None:
    assert nlu.parse_sync(text).urgent, text
    assert nlu.parse_sync(text, expecting="text").urgent, text


@pytest.mark.parametrize("text", ANSWERS)
def test_an_answer_to_a_question_is_never_urgent(nlu: LocalNlu, text: str) -> None:
    for expecting in ("choice", "text"):
        assert not nlu.parse_sync(text, expecting=expecting).urgent, (text, expecting)

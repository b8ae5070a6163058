"""Language variety: script first, Arabizi never French, short messages never flip."""

from __future__ import annotations

import pytest

from bot.nlu.pipeline import LocalNlu
from bot.nlu.normalize import normalize
from bot.nlu.variety import arabic_markers, choose_reply_variety, darija_markers, has_arabizi


@pytest.mark.parametrize(
    "text",
    [
        "salam, rajli kaydrbni o ana f tiznit, bghit ndir chikaya",
        "3afak bghit n3ref chno ndir",
        "wach kayn chi wa7ed hna",
        "ana khayfa bzaf mn rajli",
        "rani f casa w ma3ndi fin nbat",
        "bghit nhder m3a chi wahed",  # no Arabizi digit
        "kifach ndir l divorce",
        "salam",
        # code-switched Darija/French counts as Darija
        "salam j'ai un problème m3a rajli",
        "bghit avocat pour le divorce",
        "il arrive safi",
        "mon mari kaydrbni w ma3rftch chno ndir",
        "ana vraiment perdue",
    ],
)
def test_arabizi_and_code_switching_are_darija(nlu: LocalNlu, text: str) -> None:
    assert nlu.parse_sync(text).language == "ary_latn"


@pytest.mark.parametrize(
    "text",
    [
        "j'ai besoin d'un avocat",
        "mon mari me frappe et je ne sais pas quoi faire",
        "je cherche un foyer pour femmes à Rabat",
        "jai besoin de parler a quelqu un svp",
        "est ce que vous pouvez m'aider",
        "bonjour madame",
    ],
)
def test_french(nlu: LocalNlu, text: str) -> None:
    assert nlu.parse_sync(text).language == "fr"


@pytest.mark.parametrize(
    ("text", "scripts"),
    [
        ("بغيت نهضر مع شي حد", {"ary", "ar"}),
        ("راجلي كيضربني وماعرفتش شنو ندير", {"ary"}),
        ("أريد أن أتحدث مع أحد من فضلكم", {"ar"}),
        ("لم أعد أستطيع تحمل هذا الوضع", {"ar"}),
        ("راجلي كيضربني et je sais pas quoi faire", {"ary"}),  # both scripts: Darija
        ("بغيت certificat médical", {"ary"}),
    ],
)
def test_arabic_script(nlu: LocalNlu, text: str, scripts: set[str]) -> None:
    assert nlu.parse_sync(text).language in scripts


@pytest.mark.parametrize(
    "text",
    [
        "help me please my husband is hitting me",
        "I need to talk to someone, I am scared",
        "necesito ayuda por favor mi marido me pega",
        "ⴰⵣⵓⵍ ⴼⵍⴰⵡⵏ",
    ],
)
def test_other_languages(nlu: LocalNlu, text: str) -> None:
    assert nlu.parse_sync(text).language == "other"


@pytest.mark.parametrize("text", ["3", "😭😭", "...", ""])
def test_no_letters_is_other_with_no_confidence(nlu: LocalNlu, text: str) -> None:
    result = nlu.parse_sync(text)
    assert result.language == "other"
    assert result.language_confidence == 0.0


def test_has_arabizi() -> None:
    assert has_arabizi("m3a rajli")
    assert has_arabizi("7ta daba")
    assert not has_arabizi("rdv a 3h le 2eme jour")
    assert not has_arabizi("j ai 25 ans")


def test_darija_markers() -> None:
    assert darija_markers("bghit avocat") == 1
    assert darija_markers("je veux un avocat") == 0
    assert darija_markers("kaydrbni") == 1


@pytest.mark.parametrize("current", ["ary", "ary_latn", "ar", "fr"])
@pytest.mark.parametrize(
    "short",
    ["salam", "ok", "3", "wah", "oui", "merci", "non", "la", "2", "ok merci", "😊", "السلام عليكم"],
)
def test_short_messages_never_flip(nlu: LocalNlu, current: str, short: str) -> None:
    result = nlu.parse_sync(short)
    assert choose_reply_variety(current, result) == current  # type: ignore[arg-type]


def test_clear_switch_is_followed(nlu: LocalNlu) -> None:
    fr = nlu.parse_sync("je préfère parler en français s'il vous plaît")
    assert choose_reply_variety("ary_latn", fr) == "fr"
    arabizi = nlu.parse_sync("la bghit nhder b darija 3afak")
    assert choose_reply_variety("fr", arabizi) == "ary_latn"
    arabic = nlu.parse_sync("بغيت نكتب بالعربية عافاك")
    assert choose_reply_variety("fr", arabic) in ("ary", "ar")


def test_first_message_sets_variety(nlu: LocalNlu) -> None:
    assert choose_reply_variety(None, nlu.parse_sync("salam")) == "ary_latn"
    assert choose_reply_variety(None, nlu.parse_sync("bonjour")) == "fr"
    assert choose_reply_variety(None, nlu.parse_sync("3")) == "ary"  # nothing to go on
    assert choose_reply_variety(None, nlu.parse_sync("help me please my husband")) == "fr"


def test_choose_reply_variety_with_a_tuple() -> None:
    assert choose_reply_variety("fr", ("ary_latn", 0.99), "ok") == "fr"
    assert choose_reply_variety("fr", ("ary_latn", 0.99), "bghit nhder m3a chi wa7da") == "ary_latn"
    assert choose_reply_variety("fr", ("ary_latn", 0.5), "bghit nhder m3a chi wa7da") == "fr"
    assert choose_reply_variety("ary", ("other", 1.0), "hello how are you doing") == "ary"


@pytest.mark.parametrize(
    "text",
    [
        "il rentre à 20h40",
        "il rentre a 20h40 ce soir",
        "mon mari rentre vers 8h et il crie",
        "rdv demain à 14h30 au tribunal",
        "les émissions de CO2 ont augmenté",
        "accident sur l'autoroute A15 ce matin",
        "#violences #femmes on ne se taira plus",
        "merci @amina_k2019 pour ton soutien",
        "voir https://www.exemple.fr/page2 pour les infos",
        "IL ME FRAPPE TOUS LES SOIRS ET JE NE SAIS PAS QUOI FAIRE",
        "JE VEUX PARLER A UN AVOCAT",
        "Il Est Parti Avec Les Enfants",
        "o mon dieu je suis perdue",
        "j'ai peur o je ne sais pas quoi faire",
    ],
)
def test_french_with_times_codes_hashtags_handles_capitals(nlu: LocalNlu, text: str) -> None:
    assert nlu.parse_sync(text).language == "fr"


@pytest.mark.parametrize(
    "text",
    [
        "rajli kaydrbni 3la walo",
        "sa7bi 9al lia 3la 20h",  # a time next to Arabizi words
        "ana f casa o rajli kaydrbni",  # "o" with Darija around it
        "#help rajli kaydrbni m3a l3chya",
    ],
)
def test_arabizi_next_to_times_and_hashtags(nlu: LocalNlu, text: str) -> None:
    assert nlu.parse_sync(text).language == "ary_latn"


@pytest.mark.parametrize(
    "token",
    ["20h40", "8h", "14h30", "20:40", "h24", "CO2", "A15", "a15", "covid19", "#covid19",
     "@user123", "https://exemple.fr/a2b3", "www.site3.ma", "4x4", "5g", "mp3", "PS5", "3ans", "10kg"],
)
def test_universal_letter_digit_tokens_are_not_arabizi(token: str) -> None:
    assert not has_arabizi(f"il a dit {token} hier")


@pytest.mark.parametrize("token", ["3la", "m3a", "7ta", "m9abel", "sa7bi", "9bel", "sma3", "wa7ed"])
def test_arabizi_digits_inside_words(token: str) -> None:
    assert has_arabizi(token)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("تنظيم الحفل غدا", (0, 0)),
        ("الحفلة تنتهي غدا", (0, 0)),
        ("تنفيذ المشروع", (0, 0)),
        ("كيفية التسجيل", (0, 0)),
        ("كيدير", (1, 0)),
        ("تنمشي للدار", (1, 0)),
        ("كنبغيك", (1, 0)),
        ("ماعرفتش", (1, 0)),
        ("باش", (1, 0)),
        ("اللي", (1, 0)),
        ("وخا", (1, 0)),
        ("عندو", (1, 0)),
    ],
)
def test_arabic_markers_prefix_pattern_spares_msa(text: str, expected: tuple[int, int]) -> None:
    assert arabic_markers(normalize(text)) == expected


@pytest.mark.parametrize(
    "text",
    ["تنظيم الانتخابات سيكون في الموعد المحدد", "تنتهي الدراسة في شهر يونيو من كل عام"],
)
def test_msa_with_ta_and_ka_words(nlu: LocalNlu, text: str) -> None:
    assert nlu.parse_sync(text).language == "ar"


@pytest.mark.parametrize(
    "text",
    ["باش نمشي للدار", "اللي دار هادشي خاصو يتحاسب", "وخا نجي غدا", "عندو بزاف ديال الفلوس"],
)
def test_common_darija_words(nlu: LocalNlu, text: str) -> None:
    assert nlu.parse_sync(text).language == "ary"

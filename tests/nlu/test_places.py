"""The gazetteer: towns in free text, answers to "which town?", nearest place."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from bot.nlu.places import Gazetteer, load_gazetteer, skeleton
from bot.nlu.result import Place

DATA = Path(__file__).resolve().parents[2] / "data" / "intents"


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return load_gazetteer()


def _town_spellings() -> list[tuple[str, str]]:
    with (DATA / "town_spellings.csv").open(encoding="utf-8") as fh:
        return [(row["text"], row["city"]) for row in csv.DictReader(fh)]


def test_loaded_once_and_cached() -> None:
    assert load_gazetteer() is load_gazetteer()
    assert len(load_gazetteer().places) == 1600


def test_town_spellings_file_names_real_places(gazetteer: Gazetteer) -> None:
    names = {p.name_fr for p in gazetteer.places}
    unknown = [city for _, city in _town_spellings() if city not in names]
    assert unknown == []


def test_town_accuracy_on_real_spellings(gazetteer: Gazetteer) -> None:
    rows = _town_spellings()
    misses = []
    for text, city in rows:
        match = gazetteer.find(text)
        if match is None or match.place.name_fr != city:
            misses.append((text, match.place.name_fr if match else None, city))
    assert len(misses) / len(rows) <= 0.05, misses


@pytest.mark.parametrize(
    ("text", "city"),
    [
        ("salam, rajli kaydrbni o ana f tiznit, bghit ndir chikaya", "Tiznit"),
        ("ana mn casa w rajli kaydrbni", "Casablanca"),
        ("j'ai besoin d'un avocat à Fès", "Fès"),
        ("أنا من الدار البيضاء وبغيت محامي", "Casablanca"),
        ("ساكنة فطنجة", "Tanger"),
        ("بالرباط", "Rabat"),
        ("ana f sidi slimane", "Sidi Slimane"),
        ("ana f ljdida", "El Jadida"),
        ("kanskon f 9nitra", "Kénitra"),
        ("je suis à Casablnca", "Casablanca"),  # misspelt
        ("ana f tiznt", "Tiznit"),  # misspelt
        ("ana f mrrakch", "Marrakech"),  # skeleton
        ("ana f bni mellal", "Béni Mellal"),
        ("ana mn benimellal", "Béni Mellal"),
        ("j'habite eljadida", "El Jadida"),
    ],
)
def test_find_in_messages(gazetteer: Gazetteer, text: str, city: str) -> None:
    match = gazetteer.find(text)
    assert match is not None
    assert match.place.name_fr == city
    assert 0.0 < match.confidence <= 1.0


@pytest.mark.parametrize(
    "text",
    [
        # name parts alone are not towns
        "had",
        "sidi",
        "ain",
        "bni",
        "oulad",
        "moulay",
        # ordinary words that are also commune names
        "safi",
        "safi baraka",
        "safi 3afak khlas",
        "tata dyali kat3awnni",
        "c'est sale",
        "mon mari est très riche",
        "sbah lkhir",
        "صباح الخير",
        "رجلي كيضربني فالمنزل",
        "كرامتي والكرامة ديالي",
        "dorbni f lhammam",
        "nhar lhad jani w drbni",
        "ana f dar",
        "rah f lmdina",
        "je suis à la maison",
        "f had lwe9t makayn 7ta wa7ed",
        "had chi ma bqitch nqder 3lih",
        # ordinary messages
        "j'ai besoin d'un avocat",
        "بغيت نهضر مع شي حد",
        "rajli kaydrbni kol nhar",
        "il me frappe tous les jours",
        "3afak 3awnini",
        "أحتاج إلى مساعدة",
        "bghit msaada",
        "je suis enceinte et il m'a frappée",
        "wlad dyali sghar",
        "bghit nhdr m3a chi wa7d",
        "salam",
        "ok merci",
        "jay safi",  # "he is coming, enough"
        "rah jay safi",
        "ماكيعطينيش فلوس الماكلة للولاد",  # "for the kids", not Loulad
        "kifach n9der nkhdem f fransa",  # France, not Ifrane
        "il est sale",
    ],
)
def test_ordinary_messages_yield_no_town(gazetteer: Gazetteer, text: str) -> None:
    assert gazetteer.find(text) is None


@pytest.mark.parametrize(
    ("text", "city"),
    [
        ("ana f safi", "Safi"),
        ("je suis à Safi", "Safi"),
        ("ana f tata", "Tata"),
        ("je vis à Salé", "Salé"),
    ],
)
def test_common_word_names_need_a_locative_word(gazetteer: Gazetteer, text: str, city: str) -> None:
    match = gazetteer.find(text)
    assert match is not None and match.place.name_fr == city


def _answer(gazetteer: Gazetteer, text: str) -> Place | None:
    """Her answer to "which town?", read as the conversation reads it."""
    match = gazetteer.read(text, expecting="place")
    return match.place if match else None


@pytest.mark.parametrize(
    ("answer", "city"),
    [
        ("casa", "Casablanca"),
        ("Casa", "Casablanca"),
        ("safi", "Safi"),  # alone, as an answer, it is the town
        ("tata", "Tata"),
        ("f tiznit", "Tiznit"),
        ("je suis à Agadir", "Agadir"),
        ("ana f tnja", "Tanger"),
        ("آسفي", "Safi"),
        ("الرباط", "Rabat"),
        ("tiznet", "Tiznit"),
        ("marakech", "Marrakech"),
        ("kenitra", "Kénitra"),
        ("Béni-Mellal", "Béni Mellal"),
    ],
)
def test_lookup_answer_to_which_town(gazetteer: Gazetteer, answer: str, city: str) -> None:
    place = _answer(gazetteer, answer)
    assert place is not None
    assert place.name_fr == city


@pytest.mark.parametrize("answer", ["", "   ", "sidi", "ma3rftch", "je ne sais pas", "walo", "??"])
def test_lookup_nothing(gazetteer: Gazetteer, answer: str) -> None:
    assert _answer(gazetteer, answer) is None


def test_ambiguous_name_goes_to_most_populous(gazetteer: Gazetteer) -> None:
    same = [p for p in gazetteer.places if p.name_fr == "Ajdir"]
    assert len(same) == 2
    place = _answer(gazetteer, "Ajdir")
    assert place is not None
    assert place.population == max(p.population for p in same)


def test_by_id(gazetteer: Gazetteer) -> None:
    place = gazetteer.by_id("09.581.01.07")
    assert place is not None and place.name_fr == "Tiznit"
    assert gazetteer.by_id("nope") is None


def test_nearest(gazetteer: Gazetteer) -> None:
    assert gazetteer.nearest(29.6974, -9.7316).name_fr == "Tiznit"
    assert gazetteer.nearest(34.02, -6.83).province_id == "04.421"  # Rabat


def test_small_gazetteer_from_places() -> None:
    places = [
        Place("a", "Safi", "آسفي", "07.421", "07", 32.3, -9.23, 300000, "commune_urban"),
        Place("b", "Tiznit", "تيزنيت", "09.581", "09", 29.7, -9.73, 86000, "commune_urban"),
    ]
    small = Gazetteer(places, alt_names=[("Asfi",), ()])
    assert small.find("rani f asfi") is not None
    assert small.find("safi") is None
    match = small.find("ana f tiznit")
    assert match is not None and match.place.id == "b"
    with pytest.raises(ValueError, match="unknown city id"):
        Gazetteer(places, aliases=[("tiz", "zzz", 2)])


def test_skeleton() -> None:
    assert skeleton("marrakech") == skeleton("mrrakch")
    assert skeleton("kenitra") == skeleton("9nitra") == skeleton("qnitra")
    assert skeleton("oujda") == skeleton("wjda")


def test_a_name_two_communes_share_is_read_back_with_its_province(
        gazetteer: Gazetteer) -> None:
    """Communes of the same name in two provinces, neither much smaller: the bigger
    is offered and read back to her (with its province); a name that is only one
    commune's, or a city beside a far smaller namesake, is not."""
    shared = {}
    for place in gazetteer.places:
        shared.setdefault(place.name_fr, set()).add(place.province_fr)
    twins = [name for name, provinces in shared.items() if len(provinces) > 1]
    assert len(twins) >= 10
    read_back = [name for name in twins if gazetteer.read(name, expecting="place").guessed]
    assert len(read_back) >= len(twins) // 2, read_back
    for text in ("Oulad Aissa", "ana f sidi ghanem", "سيدي بوبكر"):
        match = gazetteer.read(text, expecting="place")
        assert match is not None and match.guessed, text
    for text in ("Casablanca", "Tiznit", "الجديدة", "ana f marrakech"):
        match = gazetteer.read(text, expecting="place")
        assert match is not None and not match.guessed, text

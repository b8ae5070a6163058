"""A town is a town: every one of the 1,600 names of `data/geo/cities.csv`, in French
and in Arabic script, alone and in the short sentences women use to say where they
are, is read as that town, never as a quick exit, danger or another intent; and the
real spellings of `data/intents/town_spellings.csv` as well. The one exception, said
in the README: outside the town question, a bare name that is also a quick-exit word
("safi") or a greeting ("صباح") is that word (leaving quickly comes first); at the town
question it is the town, read back to her."""

from __future__ import annotations

import csv
from collections.abc import Iterator

import pytest

from bot.nlu.intents import is_greeting, is_quick_exit
from bot.nlu.normalize import normalize
from bot.nlu.pipeline import LocalNlu
from bot.settings import PROJECT_ROOT

LATIN = ("{}", "ana f {}", "je suis à {}", "men {}", "ana sakna f {}", "j'habite à {}")
ARABIC = ("{}", "ساكنة ف {}", "من {}", "انا في {}", "أنا ف {}", "كنسكن ف {}")


def _names() -> list[tuple[str, str]]:
    with open(PROJECT_ROOT / "data" / "geo" / "cities.csv", encoding="utf-8") as handle:
        return [(r["name_fr"], r["name_ar"]) for r in csv.DictReader(handle)]


def _messages() -> Iterator[tuple[str, bool]]:
    """Each message, and whether it is only the name (no opening words)."""
    for name_fr, name_ar in _names():
        for template in LATIN:
            yield template.format(name_fr), template == "{}"
        if name_ar:
            for template in ARABIC:
                yield template.format(name_ar), template == "{}"


@pytest.fixture(scope="module")
def nlu(nlu_cache_dir: object) -> LocalNlu:
    return LocalNlu(nlu_cache_dir)  # type: ignore[arg-type]


def _misread(nlu: LocalNlu, expecting: str | None) -> list[str]:
    wrong = []
    for text, bare in _messages():
        result = nlu.parse_sync(text, expecting=expecting)
        norm = normalize(text)
        everyday_word = bare and (is_quick_exit(norm) or is_greeting(norm))
        if expecting != "place" and everyday_word:
            continue  # the exception: "safi", "صباح" alone, away from the town question
        if result.urgent or result.intent != "out_of_scope" or result.place is None:
            wrong.append(f"{text!r}: {result.intent} urgent={result.urgent} "
                         f"city={result.city}")
    return wrong


@pytest.mark.slow
def test_at_the_town_question_every_name_is_a_town(nlu: LocalNlu) -> None:
    wrong = _misread(nlu, "place")
    assert wrong == [], f"{len(wrong)} misread, e.g. {wrong[:20]}"


@pytest.mark.slow
def test_anywhere_else_every_name_is_a_town_too(nlu: LocalNlu) -> None:
    wrong = _misread(nlu, None)
    assert wrong == [], f"{len(wrong)} misread, e.g. {wrong[:20]}"


def test_a_quick_exit_word_that_is_a_town_is_read_back_at_the_town_question(
        nlu: LocalNlu) -> None:
    for text in ("Safi", "safi", "صافي"):
        here = nlu.parse_sync(text, expecting="place")
        elsewhere = nlu.parse_sync(text)
        if here.place is None:
            continue  # "صافي" is not a spelling of the town (آسفي is)
        assert here.intent == "out_of_scope" and here.place.guessed, text
        assert elsewhere.intent == "quick_exit", text
    assert nlu.parse_sync("Safi", expecting="place").city == "Safi"
    for text in ("ana f safi", "je suis à Safi", "من آسفي"):
        assert nlu.parse_sync(text).intent == "out_of_scope", text  # a place, named


def test_danger_in_the_same_message_still_acts(nlu: LocalNlu) -> None:
    for text in ("il a un couteau, je suis à Safi", "rajli bgha y9tlni, ana f tiznit",
                 "بغا يقتلني، أنا في آسفي"):
        result = nlu.parse_sync(text, expecting="place")
        assert result.urgent and result.place is not None, text
    assert nlu.parse_sync("stop", expecting="place").intent == "quick_exit"


def test_the_real_spellings_are_found_alone_and_in_sentences(nlu: LocalNlu) -> None:
    with open(PROJECT_ROOT / "data" / "intents" / "town_spellings.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    wrong = [r["text"] for r in rows
             if nlu.parse_sync(r["text"], expecting="place").city != r["city"]
             or nlu.parse_sync(r["text"]).city != r["city"]]
    assert wrong == []


def test_one_word_towns_are_found_by_nlu_parse_without_the_question(nlu: LocalNlu) -> None:
    """The same answer everywhere: `run_bot.py nlu parse` and `/model/parse` (no
    question) find a town written alone, as the town step does."""
    for text, city in (("Fès", "Fès"), ("الجديدة", "El Jadida"), ("Salé", "Salé"),
                       ("العيون", "Laâyoune"), ("Tan-Tan", "Tan-Tan"), ("الحسيمة", "Al Hoceima")):
        assert nlu.parse_sync(text).city == city, text
        assert nlu.parse_sync(text, expecting="place").city == city, text


# The variety of each opening: the town's name is no evidence either way.
OPENING_VARIETY = {"ana f {}": "ary_latn", "je suis à {}": "fr", "ana sakna f {}": "ary_latn",
                   "j'habite à {}": "fr", "ساكنة ف {}": "ary", "كنسكن ف {}": "ary"}
# ("أنا ف X" is too short to tell Darija from MSA: either is understood, and the
# conversation's variety only changes on four words or more.)


@pytest.mark.slow
def test_her_variety_is_told_by_her_words_not_by_the_towns_name(nlu: LocalNlu) -> None:
    """"je suis à Safi" is French though "safi" is a Darija word; "ana f Tiznit" is
    Darija. A name alone tells nothing: the conversation keeps its variety."""
    wrong = []
    for name_fr, name_ar in _names():
        for template, variety in OPENING_VARIETY.items():
            name = name_ar if "{}" in template and template[0] > "\u0600" else name_fr
            if not name:
                continue
            result = nlu.parse_sync(template.format(name), expecting="place")
            if result.language != variety:
                wrong.append(f"{template.format(name)!r}: {result.language}")
        for name in (name_fr, name_ar):
            if name and nlu.parse_sync(name, expecting="place").language_confidence != 0.0:
                wrong.append(f"{name!r} alone: confidence above 0")
    assert len(wrong) <= len(_names()) // 100, f"{len(wrong)} misread, e.g. {wrong[:20]}"

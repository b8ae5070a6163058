from __future__ import annotations

import pytest

from bot.flows.matching import contains_keyword, fold, numbers_in_answer, pick_by_numbers


@pytest.mark.parametrize(("raw", "folded"), [
    ("Oui !!", "oui"),
    ("OUIIIII", "ouii"),
    ("Hébergement", "hebergement"),
    ("إيه", "ايه"),
    ("نعـــم", "نعم"),
    ("مُحَامِي", "محامي"),
    ("شكاية؟", "شكايه"),
    ("٢", "2"),
    ("  d'accord ", "d accord"),
])
def test_fold(raw: str, folded: str) -> None:
    assert fold(raw) == folded


@pytest.mark.parametrize(("answer", "numbers"), [
    ("1", [1]), ("1 3", [1, 3]), ("1,3", [1, 3]), ("1 et 3", [1, 3]), ("1 w 3", [1, 3]),
    ("٢ و ٤", [2, 4]), ("3afak", None), ("salam", None), ("", None),
])
def test_numbers_in_answer(answer: str, numbers: list[int] | None) -> None:
    assert numbers_in_answer(fold(answer)) == numbers


def test_pick_by_numbers() -> None:
    assert pick_by_numbers([2], 3, multiple=False) == [1]
    assert pick_by_numbers([1, 3], 3, multiple=False) == []
    assert pick_by_numbers([1, 3, 9], 3, multiple=True) == [0, 2]
    assert pick_by_numbers([4], 3, multiple=False) == []


def test_keywords() -> None:
    assert contains_keyword(fold("un avocat svp"), "avocat")
    assert contains_keyword(fold("une avocate"), "avocat")
    assert contains_keyword(fold("بغيت المحامي"), "محامي")
    assert contains_keyword(fold("والمحكمة"), "محكمة")
    assert contains_keyword(fold("غير بالميساجات"), "ميساج")
    assert contains_keyword(fold("apres midi"), "apres midi")
    assert not contains_keyword(fold("avocatier"), "avocats")
    assert not contains_keyword(fold("bit"), "bitume")


def test_starts_with_words() -> None:
    from bot.flows.matching import starts_with_words

    assert starts_with_words(fold("Oui, je peux"), "oui")
    assert starts_with_words(fold("machi daba nktb lik"), "machi daba")
    assert not starts_with_words(fold("ouistiti"), "oui")
    assert not starts_with_words(fold("je dis oui"), "oui")

"""Her province, when her town cannot be found: the 75 provinces and prefectures of
`data/geo/provinces.csv` as places at their point, found by their name as she writes
it ("Al Haouz", "haouz", "l7aouz", "province de Safi", "إقليم الحوز"), a misspelling
read back to her."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Final

from rapidfuzz import fuzz, process

from bot.nlu.normalize import ARABIZI_AS_LETTERS, normalize
from bot.nlu.result import Place, PlaceMatch

__all__ = ["ProvinceNames", "read_provinces"]

# "province", "de", "إقليم", "عمالة": the words around a province's name.
_PROVINCE_WORDS: Final = frozenset(normalize(w) for w in (
    "province", "prefecture", "de", "du", "d", "la", "l", "اقليم", "إقليم", "عمالة",
    "عمالة", "iklim", "i9lim", "3imalat"))


def _province_keys(name: str) -> set[str]:
    """The spellings of a province's name she may write: with or without its hyphens
    and its article ("Al Haouz", "haouz", "الحوز", "حوز")."""
    keys = {normalize(name), normalize(name.replace("-", " "))}
    for key in list(keys):
        first, _, rest = key.partition(" ")
        if first in ("al", "el") and rest:
            keys.add(rest)
        if key.startswith("ال") and len(key) > 4:
            keys.add(key[2:])
    return {k for k in keys if k}


def _province_spellings(named: str) -> Iterator[str]:
    """`named` as she wrote it, then with Arabizi digits as letters and a glued
    article dropped ("l7aouz" -> "lhaouz" -> "haouz")."""
    yield named
    letters = named.translate(ARABIZI_AS_LETTERS)
    yield letters
    for article in ("al", "el", "l"):
        if letters.startswith(article) and len(letters) > len(article) + 3:
            yield letters[len(article):].lstrip(" -")


class ProvinceNames:
    """The provinces by every spelling of their names."""

    def __init__(self, provinces: Iterable[tuple[Place, tuple[str, ...]]]) -> None:
        self._by_name: dict[str, Place] = {}
        for province, other_names in provinces:
            for name in (province.name_fr, province.name_ar, *other_names):
                for key in _province_keys(name):
                    self._by_name.setdefault(key, province)

    def named(self, words: list[str]) -> PlaceMatch | None:
        """The province her `normalize()`d words name, whole, or None."""
        named = " ".join(w for w in words if w not in _PROVINCE_WORDS)
        if not named:
            return None
        for key in _province_spellings(named):
            province = self._by_name.get(key)
            if province is not None:
                return PlaceMatch(place=province, confidence=0.9, matched=named, whole=True)
        # A misspelt province ("Taroudant", "tarodant"): few names, so each is compared;
        # a guess, read back to her.
        hit = process.extractOne(named.translate(ARABIZI_AS_LETTERS), list(self._by_name),
                                 scorer=fuzz.ratio, score_cutoff=85.0) if len(named) >= 5 else None
        if hit is None:
            return None
        return PlaceMatch(place=self._by_name[hit[0]], confidence=0.7, matched=named,
                          whole=True, guessed=True)


def read_provinces(path: Path) -> dict[str, tuple[Place, tuple[str, ...]]]:
    """The provinces as places, at their point, with their other names, by id."""
    provinces: dict[str, tuple[Place, tuple[str, ...]]] = {}
    if not path.exists():
        return provinces
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            try:
                place = Place(
                    id=row["id"], name_fr=row["name_fr"], name_ar=row["name_ar"],
                    province_id=row["id"], region_id=row["region_id"], lat=float(row["lat"]),
                    lon=float(row["lon"]), population=int(row["population"] or 0),
                    kind="province", province_fr=row["name_fr"], province_ar=row["name_ar"])
            except (KeyError, ValueError) as exc:
                raise ValueError(f"{path}: row {row.get('id')!r}: {exc}") from exc
            provinces[row["id"]] = (place, tuple(
                a for a in (row.get("alt_names") or "").split("|") if a))
    return provinces

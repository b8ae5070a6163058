"""Towns: find the town a woman names in a message, or the one nearest a location.

The gazetteer is built once from `data/geo/cities.csv` (French and Arabic names,
alternate spellings) and `data/geo/darija_aliases.csv` (colloquial spellings such
as "casa", "tanja", "9nitra"; low confidence). It is read-only after loading and
safe to share between tasks.

How a name in free text is recognised:

1. Every name is indexed in `normalize()` form with the variants people type: with
   and without the article ("El Jadida", "jadida", "ljadida", "الجديدة", "جديدة",
   "لجديدة"), glued ("benimellal"), and the usual spellings of name parts
   (bni/beni, oulad/ouled, souk/souq/sou9, ait/ayt, ain/3in).
2. A message is scanned for the longest indexed word sequence. Arabic prefixes glued
   to the name (فتيزنيت, بالرباط, لطنجة) are split off.
3. Each indexed name has a tier. Distinctive names ("tiznit", "casablanca") are
   accepted anywhere. Names that are also ordinary words ("safi", "tata", "sale",
   "صباح") need a locative word before them ("f", "fi", "à", "de", "men", "في",
   "من", ...). Names that are nouns usually found after such words ("médina",
   "mosquée") are only accepted as the whole answer to "which town?" (`lookup`).
   Name parts ("sidi", "ain", "bni", "oulad", "had") are never a town by themselves.
4. If nothing matched exactly, the words after a locative word (and, with a stricter
   cut-off, long unknown words anywhere) are compared with rapidfuzz, then by
   consonant skeleton ("mrrakch" and "marrakech" are both "mrkx").
5. When one spelling names several places, the most populous wins.
"""

from __future__ import annotations

import csv
import functools
import itertools
import logging
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Final

import numpy as np
from rapidfuzz import fuzz, process

from bot.nlu.common_words import COMMON_WORDS, LOCATIVE_NOUNS, LOCATIVE_PREFIXES, NAME_PARTS
from bot.nlu.lexicon_files import word_groups, word_set
from bot.nlu.normalize import ARABIZI_AS_LETTERS, normalize
from bot.nlu.provinces import ProvinceNames, read_provinces
from bot.nlu.result import Place, PlaceMatch

__all__ = [
    "DEFAULT_GEO_DIR",
    "Gazetteer",
    "load_gazetteer",
    "skeleton",
]

logger = logging.getLogger(__name__)

DEFAULT_GEO_DIR: Final[Path] = Path(__file__).resolve().parents[2] / "data" / "geo"

# Tiers: where an indexed spelling may be read as a town.
ANYWHERE: Final = 0
AFTER_LOCATIVE: Final = 1
ANSWER_ONLY: Final = 2

# Confidence of a match by where the spelling comes from.
_CONF_NAME: Final = 0.95
_CONF_ALT: Final = 0.85
_CONF_VARIANT: Final = 0.9  # multiplier for a derived spelling (article dropped, ...)
_CONF_ALIAS_SEEN_TWICE: Final = 0.8
_CONF_ALIAS_SEEN_ONCE: Final = 0.6
_CONF_FUZZY: Final = 0.8  # multiplier applied to score/100
_CONF_SKELETON: Final = 0.55
_PREFIX_BONUS: Final = 0.05
# A match less sure than this (a misspelling, a rare alias, a derived alternate
# spelling) is read back to her before any routing.
GUESSED_BELOW: Final = 0.8
# A name shared by two communes is read back unless the other is this much smaller.
_HOMONYM_SIZE_SHARE: Final = 0.2

_MAX_NAME_WORDS: Final = 7
_LATIN_ARTICLES: Final[frozenset[str]] = frozenset(
    {"el", "al", "ad", "ed", "es", "er", "ez", "et", "en", "an", "as", "at", "l", "la", "le"}
)
# Arabic letters glued before a name: "فتيزنيت", "بالرباط", "لطنجة", "وطنجة".
# (prefix, is_locative)
_ARABIC_GLUED: Final[tuple[tuple[str, bool], ...]] = (
    ("فال", True),
    ("بال", True),
    ("وال", False),
    ("لل", False),  # "to/for the": "للولاد" is "for the kids", not Loulad
    ("فل", True),
    ("بل", True),
    ("ف", True),
    ("ب", True),
    ("ل", False),
    ("و", False),
)
# Spellings of recurring name parts ("bni beni bani", "souk souq sou9").
_PART_SPELLINGS: Final[tuple[frozenset[str], ...]] = tuple(
    frozenset(group) for group in word_groups("town_name_part_spellings.txt")
)
_PART_ALTERNATIVES: Final[dict[str, frozenset[str]]] = {
    word: group for group in _PART_SPELLINGS for word in group
}

_LATIN_WORD = re.compile(r"^[a-z0-9 ]+$")


def _is_arabic(text: str) -> bool:
    return any("\u0600" <= ch <= "\u06ff" for ch in text)


def skeleton(text: str) -> str:
    """A rough consonant skeleton of a Latin spelling, Arabizi included.

    >>> skeleton("marrakech"), skeleton("mrrakch"), skeleton("9nitra"), skeleton("kenitra")
    ('mrkx', 'mrkx', 'kntr', 'kntr')
    """
    s = text.replace(" ", "")
    for src, dst in (
        ("kh", "5"),
        ("ch", "x"),
        ("sh", "x"),
        ("gh", "g"),
        ("dj", "j"),
        ("ou", "w"),
        ("q", "k"),
        ("9", "k"),
        ("7", "h"),
        ("3", ""),
        ("2", ""),
        ("8", "h"),
        ("c", "k"),
        ("z", "z"),
    ):
        s = s.replace(src, dst)
    s = re.sub(r"[aeiouy]", "", s)
    return re.sub(r"(.)\1+", r"\1", s)


@dataclass(frozen=True, slots=True)
class _Entry:
    place: int  # index into Gazetteer.places
    confidence: float
    tier: int
    exact: bool  # the spelling is a listed name, not one derived from it


@dataclass(frozen=True, slots=True)
class _Candidate:
    place: int
    confidence: float
    prefixed: bool
    start: int
    length: int
    matched: str

    @property
    def score(self) -> float:
        return self.confidence + (_PREFIX_BONUS if self.prefixed else 0.0) + 0.01 * self.length


class Gazetteer:
    """The towns of Morocco, indexed for matching. Build with `load_gazetteer()`."""

    def __init__(
        self,
        places: Iterable[Place],
        alt_names: Iterable[tuple[str, ...]] = (),
        aliases: Iterable[tuple[str, str, int]] = (),
        provinces: Iterable[tuple[Place, tuple[str, ...]]] = (),
    ) -> None:
        """`alt_names[i]` are the alternate spellings of `places[i]`; `aliases` are
        (alias, place id, number of sources that list it); `provinces`, each with its
        other names, are found only by `province` (and `by_id`)."""
        provinces = list(provinces)
        self._provinces = ProvinceNames(provinces)
        communes = tuple(places)
        self._communes = len(communes)  # indexed by name; the provinces after them are not
        self._places: tuple[Place, ...] = (*communes, *(p for p, _ in provinces))
        self._by_id: dict[str, int] = {p.id: i for i, p in enumerate(self._places)}
        self._index: dict[str, list[_Entry]] = {}
        self._alt_names: dict[int, tuple[str, ...]] = dict(enumerate(alt_names))
        self._lat = np.radians(np.array([p.lat for p in communes], dtype=np.float64))
        self._lon = np.radians(np.array([p.lon for p in communes], dtype=np.float64))
        self._pending_aliases = list(aliases)
        self._build()

    # -- building --------------------------------------------------------------------

    @classmethod
    def from_csv(cls, cities_csv: Path, aliases_csv: Path | None = None,
                 provinces_csv: Path | None = None) -> Gazetteer:
        """The communes of `cities_csv`; with `provinces_csv`, each place knows its
        province's name, and the provinces themselves are places (at their point),
        so that she can name her province when her town is not found."""
        provinces = read_provinces(provinces_csv) if provinces_csv is not None else {}
        places, alt_names = _read_cities(cities_csv, provinces)
        return cls(places, alt_names, _read_aliases(aliases_csv), provinces=provinces.values())

    def _build(self) -> None:
        self._own_names = [(normalize(p.name_fr), normalize(p.name_ar)) for p in self._places]
        for i, place in enumerate(self._places[:self._communes]):
            for raw, conf in (
                (place.name_fr, _CONF_NAME),
                (place.name_ar, _CONF_NAME),
                *((alt, _CONF_ALT) for alt in self._alt_names.get(i, ())),
            ):
                if raw:
                    self._add_name(i, raw, conf, alias=False)
        for alias, place_id, seen in self._pending_aliases:
            idx = self._by_id.get(place_id)
            if idx is None:
                raise ValueError(f"darija alias {alias!r}: unknown city id {place_id!r}")
            conf = _CONF_ALIAS_SEEN_TWICE if seen >= 2 else _CONF_ALIAS_SEEN_ONCE
            self._add_name(
                idx, alias, conf, alias=True, min_tier=ANYWHERE if seen >= 2 else AFTER_LOCATIVE
            )
        self._pending_aliases = []
        # Best entry first: a listed name before a derived spelling, a commune before
        # a city district of the same name, then the most populous place.
        for key, entries in self._index.items():
            best: dict[int, _Entry] = {}
            for e in entries:
                old = best.get(e.place)
                if old is None or (e.exact, e.confidence, -e.tier) > (
                    old.exact,
                    old.confidence,
                    -old.tier,
                ):
                    best[e.place] = e
            if len(best) == 1:
                self._index[key] = list(best.values())
            else:
                self._index[key] = sorted(best.values(), key=lambda e: self._entry_rank(key, e))
        # Longest indexed name (in words) starting with each word: most words start
        # no name at all, and the scan skips them at once.
        self._name_lengths: dict[str, int] = {}
        for key in self._index:
            first, _, _ = key.partition(" ")
            self._name_lengths[first] = max(self._name_lengths.get(first, 0), key.count(" ") + 1)
        self._fuzzy_latin: list[str] = sorted(
            k
            for k, es in self._index.items()
            if not _is_arabic(k) and len(k) >= 4 and es[0].tier < ANSWER_ONLY
        )
        self._fuzzy_arabic: list[str] = sorted(
            k
            for k, es in self._index.items()
            if _is_arabic(k) and len(k) >= 3 and es[0].tier < ANSWER_ONLY
        )
        self._skeletons: dict[str, list[_Entry]] = {}
        for key in self._fuzzy_latin:
            sk = skeleton(key)
            if len(sk) >= 3:
                self._skeletons.setdefault(sk, []).extend(self._index[key])
        for sk, entries in self._skeletons.items():
            self._skeletons[sk] = sorted(entries, key=lambda e: -self._places[e.place].population)
        self._shared_names: frozenset[str] = frozenset(
            key for key, entries in self._index.items()
            if _names_two_towns([self._places[e.place] for e in entries if e.exact])
        )
        logger.info("gazetteer: %d places, %d spellings", len(self._places), len(self._index))

    def _entry_rank(self, key: str, e: _Entry) -> tuple[int, bool, bool, int, int]:
        place = self._places[e.place]
        # Alternate spellings collide ("Asila" is listed for Assilah and Azilal):
        # the place whose own name looks more like the spelling comes first.
        own = self._own_names[e.place][1 if _is_arabic(key) else 0]
        likeness = int(fuzz.ratio(key, own) // 10)
        # A province only when no commune has the name ("Safi" is the town).
        return (e.tier, place.kind == "province", not e.exact, place.kind == "arrondissement",
                -likeness, -place.population)

    def _add_name(
        self, idx: int, raw: str, conf: float, *, alias: bool, min_tier: int = ANYWHERE
    ) -> None:
        base = normalize(raw)
        if not base:
            return
        glued_apostrophe = normalize(re.sub(r"['’`ʼ]", "", raw))
        spellings: dict[str, tuple[float, bool]] = {base: (conf, True)}
        if glued_apostrophe and glued_apostrophe != base:
            spellings.setdefault(glued_apostrophe, (conf, True))
        for form in list(spellings):
            for variant in _variants(form):
                spellings.setdefault(variant, (conf * _CONF_VARIANT, False))
        for key, (c, exact) in spellings.items():
            tier = self._tier(key, alias=alias, is_alt=conf < _CONF_NAME)
            if tier is None:
                continue
            self._index.setdefault(key, []).append(_Entry(idx, c, max(tier, min_tier), exact))

    @staticmethod
    def _tier(key: str, *, alias: bool, is_alt: bool) -> int | None:
        words = key.split()
        if len(words) > _MAX_NAME_WORDS:
            return None
        if len(words) == 1:
            w = words[0]
            if len(w) < 2 or w.isdigit():
                return None
            if w in NAME_PARTS:  # "Sahel", "Médina": the whole answer only
                return ANSWER_ONLY if not alias else None
            if _is_word_in(w, LOCATIVE_NOUNS):
                return ANSWER_ONLY
            if (
                _is_word_in(w, COMMON_WORDS)
                or len(w) <= 3
                or (is_alt and not alias and len(w) <= 4)
            ):
                return AFTER_LOCATIVE
            return ANYWHERE
        distinctive = [w for w in words if not _is_word_in(w, COMMON_WORDS) and w not in NAME_PARTS]
        if not distinctive:
            if any(w not in NAME_PARTS for w in words):
                return AFTER_LOCATIVE
            return ANSWER_ONLY if not alias else None  # "Al Oued", "Ain Jemaa"
        if sum(len(w) for w in distinctive) < 3:
            return AFTER_LOCATIVE
        return ANYWHERE

    # -- queries ---------------------------------------------------------------------

    @property
    def places(self) -> tuple[Place, ...]:
        """The communes and places of `cities.csv` (not the provinces)."""
        return self._places[:self._communes]

    def by_id(self, place_id: str) -> Place | None:
        idx = self._by_id.get(place_id)
        return None if idx is None else self._places[idx]

    def nearest(self, lat: float, lon: float) -> Place:
        """The place closest to a shared location (great-circle distance)."""
        if not self._communes:
            raise LookupError("empty gazetteer")
        la, lo = math.radians(lat), math.radians(lon)
        d = (
            np.sin((self._lat - la) / 2) ** 2
            + math.cos(la) * np.cos(self._lat) * np.sin((self._lon - lo) / 2) ** 2
        )
        return self._places[int(np.argmin(d))]

    def find(self, text: str, ordinary_words: frozenset[str] = frozenset()) -> PlaceMatch | None:
        """The town named in a free-text message, or None.

        Ordinary words are not read as towns: "safi", "had", "tata", "sidi" alone give
        nothing; "f safi", "à Tata" do. `ordinary_words` (e.g. the vocabulary of the
        NLU training data) are never compared by spelling similarity, which keeps
        "fransa" from becoming Ifrane and saves time.
        """
        return self._find(normalize(text).split(), answer=False, ordinary=ordinary_words)

    def read(self, text: str, *, expecting: str | None = None,
             ordinary_words: frozenset[str] = frozenset()) -> PlaceMatch | None:
        """The one lookup of her town in what she wrote, wherever she wrote it.

        A message that is only a place name, alone or after the words that open such an
        answer ("ana f", "je suis à", "ساكنة ف", "من"), is that place (`whole`), even a
        name that is also an ordinary word ("Safi", "الجديدة"). When the question asks
        for her town (`expecting="place"`), the rest of her answer is read as one too
        (misspellings allowed); anywhere else, a town named in a sentence
        (`find`)."""
        words = normalize(text).split()
        rest = _without_answer_opening(words)
        if rest:
            named = " ".join(rest)
            entries = self._index.get(named)
            if entries:
                return replace(self._match(entries[0], named, prefixed=True), whole=True)
        if expecting == "place" and rest:
            province = self.province(text)
            if province is not None and not province.guessed:
                return province  # her whole answer names a province: no guess needed
            match = self._find(rest, answer=True)
            if match is not None and match.matched == " ".join(rest):
                match = replace(match, whole=True)
            return match or self.province(text)
        return self._find(words, answer=False, ordinary=ordinary_words)

    def province(self, text: str) -> PlaceMatch | None:
        """Her province, named as a whole answer ("Al Haouz", "province de Safi",
        "إقليم الحوز", "l7aouz"): where her town cannot be found."""
        return self._provinces.named(_without_answer_opening(normalize(text).split()))

    def is_name(self, word: str) -> bool:
        """True if `normalize()`d `word` spells an indexed place name by itself."""
        return word in self._index

    # -- matching --------------------------------------------------------------------

    def _match(
        self, entry: _Entry, matched: str, *, prefixed: bool, factor: float = 1.0
    ) -> PlaceMatch:
        raw = entry.confidence * factor
        conf = min(1.0, raw + (_PREFIX_BONUS if prefixed else 0.0))
        return PlaceMatch(
            place=self._places[entry.place], confidence=round(conf, 3), matched=matched,
            guessed=raw < GUESSED_BELOW or matched in self._shared_names,
        )

    def _find(
        self, words: list[str], *, answer: bool, ordinary: frozenset[str] = frozenset()
    ) -> PlaceMatch | None:
        if not words:
            return None
        best: _Candidate | None = None
        for cand in self._exact_candidates(words, answer=answer):
            if best is None or cand.score > best.score:
                best = cand
        if best is not None:
            return PlaceMatch(
                place=self._places[best.place],
                confidence=round(
                    min(1.0, best.confidence + (_PREFIX_BONUS if best.prefixed else 0.0)), 3
                ),
                matched=best.matched,
                guessed=best.confidence < GUESSED_BELOW or best.matched in self._shared_names,
            )
        return self._fuzzy(words, answer=answer, ordinary=ordinary)

    def _exact_candidates(self, words: list[str], *, answer: bool) -> Iterator[_Candidate]:
        n = len(words)
        i = 0
        while i < n:
            prefixed = answer or _after_locative(words, i)
            found: _Candidate | None = None
            longest = max(
                (self._name_lengths.get(first, 0) for first in _first_word_forms(words[i])),
                default=0,
            )
            for length in range(min(longest, n - i), 0, -1):
                for key, pre in _spellings_at(words, i, length, prefixed):
                    entries = self._index.get(key)
                    if not entries:
                        continue
                    entry = entries[0]
                    if entry.tier == ANSWER_ONLY and not answer:
                        continue
                    if entry.tier == AFTER_LOCATIVE and not pre:
                        continue
                    found = _Candidate(entry.place, entry.confidence, pre, i, length, key)
                    break
                if found:
                    break
            if found:
                yield found
                i += found.length
            else:
                i += 1

    def _fuzzy(
        self, words: list[str], *, answer: bool, ordinary: frozenset[str] = frozenset()
    ) -> PlaceMatch | None:
        queries = _fuzzy_queries(words, answer=answer, ordinary=ordinary)
        best: tuple[float, PlaceMatch] | None = None
        seen: set[str] = set()
        for query, prefixed in queries:
            if query in seen or query in COMMON_WORDS or len(query) < 4:
                continue
            seen.add(query)
            arabic = _is_arabic(query)
            if not arabic and not _LATIN_WORD.match(query):
                continue
            cutoff = 90.0 if not prefixed or len(query) <= 5 else 80.0
            choices = self._fuzzy_arabic if arabic else self._fuzzy_latin
            hits = process.extract(query, choices, scorer=fuzz.ratio, score_cutoff=cutoff, limit=5)
            for key, score, _ in hits:
                entry = self._index[key][0]
                if entry.tier == AFTER_LOCATIVE and not prefixed:
                    continue
                # A short query must not match a much longer name by containment.
                if abs(len(key) - len(query)) > max(2, len(query) // 3):
                    continue
                # More of her words alike is a better guess ("qal3at sraghna" is
                # Kelâat Sraghna, not Serghina for its second word alone).
                rank = (score / 100.0 + 0.05 * query.count(" ")
                        + self._places[entry.place].population / 1e9)
                m = self._match(entry, query, prefixed=prefixed, factor=_CONF_FUZZY * score / 100.0)
                if best is None or rank > best[0]:
                    best = (rank, m)
            if best is None and prefixed and not arabic:
                sk = skeleton(query)
                entries = self._skeletons.get(sk) if len(sk) >= 3 else None
                if entries:
                    rank = 0.5 + self._places[entries[0].place].population / 1e9
                    best = (
                        rank,
                        self._match(
                            entries[0],
                            query,
                            prefixed=False,
                            factor=_CONF_SKELETON / entries[0].confidence,
                        ),
                    )
        return best[1] if best else None


# Words that may open an answer to "which town?" besides locative words.
_TOWN_ANSWER_OPENERS: Final[frozenset[str]] = word_set("town_answer_openers.txt")


def _without_answer_opening(words: list[str]) -> list[str]:
    """Her words without what opens an answer to "which town?": "ana f", "je suis à",
    "ana sakna f", "انا ساكنة في" (a single word is kept, whatever it is)."""
    while len(words) > 1 and (words[0] in LOCATIVE_PREFIXES or words[0] in _TOWN_ANSWER_OPENERS):
        words = words[1:]
    return words


def _read_cities(path: Path, provinces: dict[str, tuple[Place, tuple[str, ...]]]
                 ) -> tuple[list[Place], list[tuple[str, ...]]]:
    """The communes of `path` and their alternate spellings, each knowing its
    province's name."""
    places: list[Place] = []
    alt_names: list[tuple[str, ...]] = []
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            province = provinces.get(row.get("province_id", ""), (None, ()))[0]
            try:
                place = Place(
                    id=row["id"], name_fr=row["name_fr"], name_ar=row["name_ar"],
                    province_id=row["province_id"], region_id=row["region_id"],
                    lat=float(row["lat"]), lon=float(row["lon"]),
                    population=int(row["population"] or 0), kind=row["kind"],
                    province_fr=province.name_fr if province else "",
                    province_ar=province.name_ar if province else "",
                )
            except (KeyError, ValueError) as exc:
                raise ValueError(f"{path}: row {row.get('id')!r}: {exc}") from exc
            places.append(place)
            alt_names.append(tuple(a for a in (row.get("alt_names") or "").split("|") if a))
    return places, alt_names


def _read_aliases(path: Path | None) -> list[tuple[str, str, int]]:
    """(alias, city id, number of sources that list it) of the Darija aliases file."""
    if path is None or not path.exists():
        return []
    with path.open(encoding="utf-8", newline="") as fh:
        return [(row["alias"], row["city_id"], int(row["n_files_seen"] or 1))
                for row in csv.DictReader(fh)]


def _names_two_towns(places: list[Place]) -> bool:
    """True if a spelling is the name of communes in two provinces, neither much
    smaller than the other ("Oulad Aissa", "Sidi Ghanem"): she is asked which. A
    city beside a namesake under a fifth its size is the city."""
    if len({p.province_fr for p in places}) < 2:
        return False
    sizes = sorted((p.population for p in places), reverse=True)
    return sizes[1] >= _HOMONYM_SIZE_SHARE * sizes[0]


def _fuzzy_queries(words: list[str], *, answer: bool,
                   ordinary: frozenset[str]) -> list[tuple[str, bool]]:
    """The spellings in her words worth comparing by likeness, each with whether it
    follows a locative word (or answers the town question)."""

    def known(word: str) -> bool:
        return word in COMMON_WORDS or word in ordinary

    queries: list[tuple[str, bool]] = []
    n = len(words)
    for i in range(n):
        prefixed = answer or _after_locative(words, i)
        if prefixed:
            for length in (3, 2, 1):
                if i + length <= n and not all(known(w) for w in words[i : i + length]):
                    for key, _ in _spellings_at(words, i, length, True):
                        queries.append((key, True))
        else:
            w = words[i]
            if known(w):
                continue
            if _is_arabic(w):
                # a glued locative prefix: "فوارزازات" -> "وارزازات"
                for key, pre in _spellings_at(words, i, 1, False):
                    if pre and key != w and not known(key):
                        queries.append((key, True))
            if len(w) >= 7:
                queries.append((w, False))
    # Arabizi digits read as the letters names are written with ("qal3at" is
    # "qalaat", as in Kelâat): each such query is also tried that way.
    queries = [q for query in queries[:24]
               for q in ((query, (query[0].translate(ARABIZI_AS_LETTERS), query[1]))
                         if any(c.isdigit() for c in query[0]) else (query,))]
    return queries


def _is_word_in(word: str, vocabulary: frozenset[str]) -> bool:
    """`word` or `word` without its article ("لمنزل", "المنزل", "lhammam", "elhad")."""
    if word in vocabulary:
        return True
    if _is_arabic(word):
        return (word.startswith("ال") and word[2:] in vocabulary) or (
            word.startswith("ل") and word[1:] in vocabulary
        )
    return (word.startswith("el") and word[2:] in vocabulary) or (
        word.startswith("l") and word[1:] in vocabulary
    )


def _after_locative(words: list[str], i: int) -> bool:
    if i >= 1 and words[i - 1] in LOCATIVE_PREFIXES:
        return True
    # "f el jadida", "à la ...", "de l ..."
    return i >= 2 and words[i - 1] in _LATIN_ARTICLES and words[i - 2] in LOCATIVE_PREFIXES


def _first_word_forms(word: str) -> Iterator[str]:
    """`word` and what `_spellings_at` may make of it as the first word of a name."""
    yield word
    if _is_arabic(word):
        for glued, _ in _ARABIC_GLUED:
            if word.startswith(glued) and len(word) - len(glued) >= 2:
                yield word[len(glued) :]
    elif len(word) >= 5 and word[0] == "l" and word[1] not in "aeiou":
        yield word[1:]


def _spellings_at(
    words: list[str], i: int, length: int, prefixed: bool
) -> Iterator[tuple[str, bool]]:
    """Keys to look up for words[i:i+length], with whether a locative word precedes."""
    key = " ".join(words[i : i + length])
    yield key, prefixed
    first = words[i]
    rest = words[i + 1 : i + length]
    if _is_arabic(first):
        for glued, locative in _ARABIC_GLUED:
            if first.startswith(glued) and len(first) - len(glued) >= 2:
                yield " ".join([first[len(glued) :], *rest]), prefixed or locative
    elif len(first) >= 5 and first[0] == "l" and first[1] not in "aeiou":
        # Darija article glued to the name: "ljdida", "lbida", "l9nitra".
        yield " ".join([first[1:], *rest]), prefixed


def _variants(form: str) -> set[str]:
    """Other ways to write one normalised name."""
    out: set[str] = set()
    words = form.split()
    if not words:
        return out
    if _is_arabic(form):
        options: list[list[str]] = []
        for w in words:
            opts = [w]
            if w.startswith("ال") and len(w) > 3:
                opts += [w[2:], "ل" + w[2:]]
            if w.endswith("ه") and len(w) > 2:
                opts.append(w[:-1] + "ا")
            options.append(opts)
        for combo in itertools.islice(itertools.product(*options), 16):
            out.add(" ".join(combo))
        out.discard(form)
        return out
    # Latin
    options = []
    for j, w in enumerate(words):
        opts = [w]
        if w in _PART_ALTERNATIVES:
            opts = sorted(_PART_ALTERNATIVES[w])
        options.append(opts)
    for combo in itertools.islice(itertools.product(*options), 24):
        out.add(" ".join(combo))
    more: set[str] = set()
    for v in out | {form}:
        ws = v.split()
        if ws[0] in _LATIN_ARTICLES and len(ws) > 1:
            more.add(" ".join(ws[1:]))  # "jadida"
            more.add("l" + " ".join(ws[1:]))  # "ljadida"
            more.add(ws[0] + " ".join(ws[1:]))  # "eljadida"
        # articles inside: "ksar el kebir" -> "ksar lkebir", "ksar kebir"
        for k in range(1, len(ws) - 1):
            if ws[k] in _LATIN_ARTICLES:
                more.add(" ".join(ws[:k] + ["l" + ws[k + 1]] + ws[k + 2 :]))
                more.add(" ".join(ws[:k] + ws[k + 1 :]))
        if 2 <= len(ws) <= 3 and len(v) >= 7:
            more.add(v.replace(" ", ""))  # "benimellal", "sidislimane"
    out |= more
    out.discard(form)
    return {v for v in out if v}


@functools.lru_cache(maxsize=4)
def _load(geo_dir: str) -> Gazetteer:
    path = Path(geo_dir)
    return Gazetteer.from_csv(path / "cities.csv", path / "darija_aliases.csv",
                              path / "provinces.csv")


def load_gazetteer(geo_dir: Path | None = None) -> Gazetteer:
    """The gazetteer for `geo_dir` (default `data/geo/`), built on first use and
    cached for the life of the process."""
    return _load(str((geo_dir or DEFAULT_GEO_DIR).resolve()))

"""The word lists and lexicons of data/lexicon/: each loads, opens with a header that
says what it is for and the form of its entries, has no entry twice, and holds
entries in that form; a malformed file is refused with its name and line; an edit
changes the model's cache key."""

from __future__ import annotations

import re
import shutil
from collections import Counter
from pathlib import Path

import pytest
import yaml

from bot.nlu import model as model_module
from bot.nlu.intents import GREETING_WORDS, GREETINGS, is_greeting
from bot.nlu.lexicon import has_arabic
from bot.nlu.lexicon_files import (
    LEXICON_DIR,
    PATTERN_GROUP_KINDS,
    LexiconFileError,
    lexicon_files,
    pattern_lexicon,
    required_patterns,
    split_alternatives,
    word_groups,
    word_set,
    word_sets_by_key,
)
from bot.nlu.model import DEFAULT_DATA_DIR
from bot.nlu.normalize import normalize

WORD_GROUP_FILES = {"town_name_part_spellings.txt"}
WORDS_BY_KEY_FILES = {"other_language_function_words.yml"}
PATTERN_FILES = {"concepts.yml", "danger.yml", "quick_exit_phrases.yml", "violence.yml"}
ALL_FILES = [p.name for p in lexicon_files()]
WORD_LIST_FILES = [
    name for name in ALL_FILES if name.endswith(".txt") and name not in WORD_GROUP_FILES
]


def _entry_lines(name: str) -> list[str]:
    """The lines of a plain-text file that are neither comments nor blank."""
    lines = (LEXICON_DIR / name).read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def _yaml(name: str) -> dict[str, dict[str, list[str]]] | dict[str, list[str]]:
    loaded = yaml.load((LEXICON_DIR / name).read_text(encoding="utf-8"), Loader=yaml.BaseLoader)
    assert isinstance(loaded, dict)
    return loaded


def test_every_lexicon_file_is_known_to_these_tests() -> None:
    kinds = set(WORD_LIST_FILES) | WORD_GROUP_FILES | WORDS_BY_KEY_FILES | PATTERN_FILES
    assert set(ALL_FILES) == kinds
    assert len(ALL_FILES) >= 20


@pytest.mark.parametrize("name", ALL_FILES)
def test_file_opens_with_a_header(name: str) -> None:
    lines = (LEXICON_DIR / name).read_text(encoding="utf-8").splitlines()
    header = []
    for line in lines:
        if not line.startswith("#"):
            break
        header.append(line)
    text = " ".join(header)
    assert len(header) >= 5, f"{name}: the header says what the list is for and how"
    assert "used" in text, f"{name}: the header says how the list is used"
    assert "normalize()" in text, f"{name}: the header says the form of the entries"
    assert not lines[len(header)].strip(), f"{name}: a blank line ends the header"


@pytest.mark.parametrize("name", WORD_LIST_FILES)
def test_word_list_loads_one_word_a_line_in_normal_form_once(name: str) -> None:
    entries = _entry_lines(name)
    assert entries
    assert [w for w, n in Counter(entries).items() if n > 1] == []
    assert [w for w in entries if normalize(w) != w or len(w.split()) != 1] == []
    assert word_set(name) == frozenset(entries)


def test_word_groups_load_each_word_once_in_normal_form() -> None:
    name = "town_name_part_spellings.txt"
    words = [w for line in _entry_lines(name) for w in line.split()]
    assert [w for w, n in Counter(words).items() if n > 1] == []
    assert [w for w in words if normalize(w) != w] == []
    assert word_groups(name) == tuple(tuple(line.split()) for line in _entry_lines(name))
    assert ("souk", "souq", "sou9") in word_groups(name)


def test_function_words_load_per_language_in_normal_form_once() -> None:
    name = "other_language_function_words.yml"
    raw = _yaml(name)
    assert list(raw) == ["en", "es", "it", "de", "pt", "nl"]
    for language, words in raw.items():
        assert isinstance(words, list)
        assert [w for w, n in Counter(words).items() if n > 1] == [], language
        assert [w for w in words if normalize(w) != w] == [], language
    assert dict(word_sets_by_key(name)) == {k: frozenset(v) for k, v in raw.items()}
    assert "no" in dict(word_sets_by_key(name))["es"]  # a string, not YAML's false


@pytest.mark.parametrize("name", sorted(PATTERN_FILES))
def test_patterns_load_one_valid_alternative_a_line_in_normal_form_once(name: str) -> None:
    raw = _yaml(name)
    assert list(raw) == [entry for entry, _ in pattern_lexicon(name)]
    for entry, groups in raw.items():
        assert isinstance(groups, dict) and set(groups) <= set(PATTERN_GROUP_KINDS), entry
        alternatives = [a for group in groups.values() for a in group]
        assert [a for a, n in Counter(alternatives).items() if n > 1] == [], entry
        for kind, group in groups.items():
            for alternative in group:
                letters = set(re.sub(r"\\.", "", alternative))
                assert all(normalize(ch) == ch for ch in letters if ch.isalpha()), alternative
                if kind == "arabic_words":
                    assert has_arabic(alternative) and "*" not in alternative[:-1], alternative
                    continue
                assert split_alternatives(alternative) == [alternative], alternative
                re.compile(alternative)  # each alternative is a whole regular expression
                assert has_arabic(alternative) == (kind == "arabic"), alternative


def test_pattern_groups_are_joined_in_file_order() -> None:
    patterns = dict(pattern_lexicon("concepts.yml"))
    lawyer = patterns["lawyer"]
    assert lawyer.latin is not None and lawyer.arabic is not None
    assert lawyer.latin.pattern.startswith(r"(?:\bm[ou]?7ami\w*|\bmo?hami\w*|")
    assert lawyer.arabic.pattern.startswith(r"(?:(?:^| )(?:[وفبلك]|ال|وال|فال|بال|لل)?(?:محامي\w*|")
    assert lawyer.search("bghit m7amiya") and lawyer.search("بغيت للمحامي")
    assert not lawyer.search("bghit tbib")


def test_greetings_are_one_list_the_companions_another() -> None:
    companions = word_set("greeting_companions.txt")
    assert GREETINGS == word_set("greetings.txt")
    assert GREETINGS.isdisjoint(companions)
    assert GREETING_WORDS == GREETINGS | companions
    assert is_greeting("salam 3alaykom") and not is_greeting("3alaykom")


# -- malformed files are refused, naming the file and the line --------------------------


def _write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(LexiconFileError, match=r"nowhere\.txt: missing"):
        word_set("nowhere.txt", tmp_path)


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("# header\nsalam\nSalam\n", 3, "not in normalize\\(\\) form: write 'salam'"),
        ("# header\n\nbonjour\nsba7 lkhir\n", 4, "one word a line"),
        ("# header\nمدرسة\n", 2, "write 'مدرسه'"),
    ],
)
def test_word_not_in_the_stated_form_is_refused_at_its_line(
    tmp_path: Path, text: str, line: int, problem: str
) -> None:
    path = _write(tmp_path, "words.txt", text)
    with pytest.raises(LexiconFileError, match=f"{re.escape(str(path))}:{line}: .*{problem}"):
        word_set("words.txt", tmp_path)


def test_empty_word_list_is_refused(tmp_path: Path) -> None:
    _write(tmp_path, "words.txt", "# only a header\n\n")
    with pytest.raises(LexiconFileError, match="no words"):
        word_set("words.txt", tmp_path)


def test_a_word_added_to_a_list_is_loaded(tmp_path: Path) -> None:
    shutil.copy(LEXICON_DIR / "greetings.txt", tmp_path / "greetings.txt")
    assert "azul" not in word_set("greetings.txt", tmp_path)
    with (tmp_path / "greetings.txt").open("a", encoding="utf-8") as fh:
        fh.write("azul\n")
    word_set.cache_clear()
    assert "azul" in word_set("greetings.txt", tmp_path)


GOOD_PATTERN = "lawyer:\n  latin:\n    - \\bm7ami\\w*\n  arabic_words:\n    - محامي*\n"


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("lawyer:\n  latin: [\\bm7ami\n", 3, "not valid YAML.*flow sequence, from line 3"),
        ("lawyer:\n  latin:\n    - \\bm7ami\n  latn:\n    - x\n", 4, "unknown group 'latn'"),
        ("lawyer:\n  latin:\n    - \\bm(?:7ami\n", 3, "'\\(' is not closed"),
        ("lawyer:\n  latin:\n    - \\bm7ami|\\bavocat\n", 3, "one alternative a line"),
        ("lawyer:\n  latin:\n    - \\bm7ami\n    - محامي\n", 4, "Arabic letters in a 'latin'"),
        ("lawyer:\n  latin:\n    - \\bAvocat\n", 3, "never occur in normalize\\(\\)d text"),
        ("lawyer:\n  arabic_words:\n    - محامية\n", 3, "write 'محاميه'"),
        ("lawyer:\n  latin:\n    - \\bm7ami\\\n", 3, "lone backslash"),
        ("lawyer:\n  latin:\n    - \\bm7ami{2,1}\n", 3, "not a valid regular expression"),
        (GOOD_PATTERN + "lawyer:\n  latin:\n    - \\bavocat\n", 6, "'lawyer' is given twice"),
        ("lawyer:\n  latin: \\bm7ami\n", 2, "expected a list of alternatives"),
    ],
)
def test_malformed_pattern_file_is_refused_at_its_line(
    tmp_path: Path, text: str, line: int, problem: str
) -> None:
    path = _write(tmp_path, "patterns.yml", "# header\n" + text)
    with pytest.raises(LexiconFileError, match=f"{re.escape(str(path))}:{line + 1}: .*{problem}"):
        pattern_lexicon("patterns.yml", tmp_path)


def test_entries_the_code_reads_must_be_there_and_nothing_else(tmp_path: Path) -> None:
    _write(tmp_path, "patterns.yml", GOOD_PATTERN)
    assert set(required_patterns("patterns.yml", ["lawyer"], directory=tmp_path)) == {"lawyer"}
    with pytest.raises(LexiconFileError, match="missing entries: court"):
        required_patterns("patterns.yml", ["lawyer", "court"], directory=tmp_path)
    with pytest.raises(LexiconFileError, match="unknown entries: lawyer"):
        required_patterns("patterns.yml", [], only=True, directory=tmp_path)


def test_split_alternatives_keeps_groups_and_classes_whole() -> None:
    pattern = r"\ba|(?:b|c)\b|[|x]|d\|e"
    assert split_alternatives(pattern) == [r"\ba", r"(?:b|c)\b", "[|x]", r"d\|e"]
    assert "|".join(split_alternatives(pattern)) == pattern


# -- the model's cache key covers the lexicon --------------------------------------------


@pytest.mark.parametrize("name", ALL_FILES)
def test_editing_a_lexicon_file_changes_the_model_cache_key(tmp_path: Path, name: str) -> None:
    copy = tmp_path / "lexicon"
    shutil.copytree(LEXICON_DIR, copy)
    same = model_module.model_fingerprint(DEFAULT_DATA_DIR, copy)
    assert same == model_module.model_fingerprint(DEFAULT_DATA_DIR)
    with (copy / name).open("a", encoding="utf-8") as fh:
        fh.write("# a linguist's edit\n")
    assert model_module.model_fingerprint(DEFAULT_DATA_DIR, copy) != same


def test_a_new_concept_retrains_the_cached_model(tmp_path: Path) -> None:
    copy = tmp_path / "lexicon"
    shutil.copytree(LEXICON_DIR, copy)
    before = model_module.model_fingerprint(DEFAULT_DATA_DIR, copy)
    with (copy / "concepts.yml").open("a", encoding="utf-8") as fh:
        fh.write("\nhammam:\n  latin:\n    - \\bhammam\\b\n")
    assert model_module.model_fingerprint(DEFAULT_DATA_DIR, copy) != before

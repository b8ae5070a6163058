"""The word lists and pattern lexicons of `bot/nlu/`, read from `data/lexicon/`.

Linguists edit those files; the modules of `bot/nlu/` only load them, once, at
import. Each file opens with comment lines that say what it is for, how it is used
and the form its entries take. Three kinds of file:

- a word list (`.txt`): one word a line, in `normalize()` form (`word_set`);
- word groups (`.txt`): one group of words a line, separated by spaces
  (`word_groups`);
- YAML (`.yml`): words per key (`word_sets_by_key`), or named patterns with their
  regular expressions per script (`pattern_lexicon`).

In every file, lines starting with `#` are comments and blank lines are ignored.
A missing or malformed file raises `LexiconFileError`, whose message names the file
and the line.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Final

import yaml

from bot.nlu.lexicon import ScriptRegex, arabic_words_pattern, has_arabic
from bot.nlu.normalize import normalize

__all__ = [
    "LEXICON_DIR",
    "PATTERN_GROUP_KINDS",
    "LexiconFileError",
    "lexicon_files",
    "pattern_lexicon",
    "required_patterns",
    "split_alternatives",
    "word_groups",
    "word_set",
    "word_sets_by_key",
]

LEXICON_DIR: Final[Path] = Path(__file__).resolve().parents[2] / "data" / "lexicon"
"""`data/lexicon/` of this checkout, beside `data/intents/` and `data/geo/`."""

PATTERN_GROUP_KINDS: Final[tuple[str, ...]] = ("latin", "french", "arabic", "arabic_words")
"""The groups a pattern may have: regular expressions in Latin letters (`latin`,
`french`), in Arabic letters (`arabic`), and Arabic words (`arabic_words`, see
`bot.nlu.lexicon.arabic_words_pattern`)."""

_LATIN_GROUPS: Final = frozenset({"latin", "french"})
_ESCAPE: Final = re.compile(r"\\.")
_GROUPING: Final = re.compile(r"[|()\[\]]")

_YAML_LOADER: Final = getattr(yaml, "CBaseLoader", yaml.BaseLoader)
"""Every scalar stays a string ("no", "on", "3"); libyaml when it is installed."""


class LexiconFileError(ValueError):
    """A lexicon file is missing or malformed: the message names the file and line."""

    def __init__(self, path: Path, problem: str, line: int | None = None) -> None:
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {problem}")
        self.path = path
        self.line = line


def lexicon_files(directory: Path = LEXICON_DIR) -> list[Path]:
    """Every lexicon file in `directory`, sorted by name."""
    return sorted(p for p in directory.iterdir() if p.suffix in (".txt", ".yml") and p.is_file())


# -- reading ---------------------------------------------------------------------------


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise LexiconFileError(path, "missing: this lexicon file is needed by bot/nlu/") from None
    except OSError as exc:
        raise LexiconFileError(path, f"cannot be read ({exc.strerror})") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise LexiconFileError(path, "not valid UTF-8", line) from None


def _content_lines(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, text) of the lines that are neither blank nor comments."""
    for number, line in enumerate(_read_text(path).splitlines(), start=1):
        text = line.strip()
        if text and not text.startswith("#"):
            yield number, text


def _check_normal_form(path: Path, words: Sequence[tuple[int, str]]) -> None:
    """Every word is one word in `normalize()` form (checked all at once: one call)."""
    for number, word in words:
        if len(word.split()) != 1:
            raise LexiconFileError(path, f"{word!r}: one word a line", number)
    joined = " ".join(word for _, word in words)
    if normalize(joined) == joined:
        return
    for number, word in words:
        if normalize(word) != word:
            hint = f"write {normalize(word)!r}" if normalize(word) else "it has no letters"
            raise LexiconFileError(path, f"{word!r} is not in normalize() form: {hint}", number)


@functools.cache
def word_set(file_name: str, directory: Path = LEXICON_DIR) -> frozenset[str]:
    """The words of a word list: one word a line, each in `normalize()` form."""
    path = directory / file_name
    words = list(_content_lines(path))
    if not words:
        raise LexiconFileError(path, "no words in this list")
    _check_normal_form(path, words)
    return frozenset(word for _, word in words)


@functools.cache
def word_groups(file_name: str, directory: Path = LEXICON_DIR) -> tuple[tuple[str, ...], ...]:
    """The groups of a word-group file: one group a line, its words separated by
    spaces, each in `normalize()` form. In file order; words in line order."""
    path = directory / file_name
    groups: list[tuple[str, ...]] = []
    words: list[tuple[int, str]] = []
    for number, text in _content_lines(path):
        group = tuple(text.split())
        groups.append(group)
        words += [(number, word) for word in group]
    if not groups:
        raise LexiconFileError(path, "no groups in this file")
    _check_normal_form(path, words)
    return tuple(groups)


# -- YAML --------------------------------------------------------------------------------


def _compose(path: Path) -> yaml.Node:
    try:
        node = yaml.compose(_read_text(path), Loader=_YAML_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = f"not valid YAML: {exc.problem or exc}"
        if exc.context and exc.context_mark is not None:
            problem += f" ({exc.context}, from line {exc.context_mark.line + 1})"
        raise LexiconFileError(path, problem, line) from None
    except yaml.YAMLError as exc:
        raise LexiconFileError(path, f"not valid YAML: {exc}") from None
    if node is None:
        raise LexiconFileError(path, "empty file")
    return node


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def _mapping(path: Path, node: yaml.Node, what: str) -> list[tuple[str, yaml.Node, int]]:
    """(key, value node, line) of a YAML mapping whose keys are plain strings, each
    once."""
    if not isinstance(node, yaml.MappingNode):
        raise LexiconFileError(path, f"expected {what}", _line(node))
    items: list[tuple[str, yaml.Node, int]] = []
    seen: dict[str, int] = {}
    for key, value in node.value:
        if not isinstance(key, yaml.ScalarNode) or not key.value:
            raise LexiconFileError(path, "expected a name before ':'", _line(key))
        if key.value in seen:
            raise LexiconFileError(
                path, f"{key.value!r} is given twice (first on line {seen[key.value]})", _line(key)
            )
        seen[key.value] = _line(key)
        items.append((key.value, value, _line(key)))
    if not items:
        raise LexiconFileError(path, f"expected {what}", _line(node))
    return items


def _strings(path: Path, node: yaml.Node, what: str) -> list[tuple[int, str]]:
    """(line, text) of a YAML list of non-empty strings."""
    if not isinstance(node, yaml.SequenceNode) or not node.value:
        raise LexiconFileError(
            path, f"expected a list of {what}, one '- ' item a line", _line(node)
        )
    out: list[tuple[int, str]] = []
    for item in node.value:
        if not isinstance(item, yaml.ScalarNode) or not item.value.strip():
            raise LexiconFileError(path, f"expected one of {what}", _line(item))
        out.append((_line(item), item.value))
    return out


@functools.cache
def word_sets_by_key(
    file_name: str, directory: Path = LEXICON_DIR
) -> tuple[tuple[str, frozenset[str]], ...]:
    """A YAML mapping of key -> list of words (each in `normalize()` form), in file
    order."""
    path = directory / file_name
    out: list[tuple[str, frozenset[str]]] = []
    for key, value, _ in _mapping(path, _compose(path), "a mapping of name -> list of words"):
        words = _strings(path, value, "words")
        _check_normal_form(path, words)
        out.append((key, frozenset(word for _, word in words)))
    return tuple(out)


# -- patterns ----------------------------------------------------------------------------


def split_alternatives(pattern: str) -> list[str]:
    """`pattern` cut at each `|` outside parentheses and character classes, so that
    `"|".join(split_alternatives(p)) == p`."""
    parts: list[str] = []
    depth, start, i, n = 0, 0, 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "[":
            i = _class_end(pattern, i)
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
        i += 1
    parts.append(pattern[start:])
    return parts


def _class_end(pattern: str, i: int) -> int:
    """The index after the character class opening at `pattern[i] == "["`."""
    j = i + 1
    if j < len(pattern) and pattern[j] == "^":
        j += 1
    if j < len(pattern) and pattern[j] == "]":
        j += 1  # a "]" first in the class is a literal
    while j < len(pattern) and pattern[j] != "]":
        j += 2 if pattern[j] == "\\" else 1
    return j + 1


def _alternative_problem(alternative: str) -> str | None:
    """What keeps `alternative` from being one self-contained alternative, if any."""
    if not _GROUPING.search(alternative) and not alternative.endswith("\\"):
        return None  # most alternatives: words and \b, nothing to balance
    if len(split_alternatives(alternative)) > 1:
        return "one alternative a line: split it at the '|' into several lines"
    depth, i = 0, 0
    while i < len(alternative):
        ch = alternative[i]
        if ch == "\\":
            if i + 1 == len(alternative):
                return "ends with a lone backslash"
            i += 2
            continue
        if ch == "[":
            i = _class_end(alternative, i)
            if i > len(alternative):
                return "a '[' is not closed"
            continue
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth < 0:
            return "a ')' closes nothing"
        i += 1
    return "a '(' is not closed" if depth else None


def _letters_not_normalized(text: str) -> list[str]:
    """The letters of `text` (escapes such as \\b left out) that `normalize()`
    changes: upper case, accents, ة ى أ ء ..., which normalised text never has."""
    letters = set(_ESCAPE.sub("", text))
    return sorted(ch for ch in letters if ch.isalpha() and not _is_normal_letter(ch))


@functools.cache
def _is_normal_letter(letter: str) -> bool:
    return normalize(letter) == letter


def _group_pattern(path: Path, kind: str, alternatives: list[tuple[int, str]]) -> str:
    """The regular expression of one group, after checking each alternative."""
    for number, alternative in alternatives:
        if kind == "arabic_words":
            problem = _arabic_word_problem(alternative)
        else:
            problem = _alternative_problem(alternative)
            if problem is None and kind in _LATIN_GROUPS and has_arabic(alternative):
                problem = f"Arabic letters in a {kind!r} group: move it to 'arabic'"
            if problem is None and kind == "arabic" and not has_arabic(alternative):
                problem = "no Arabic letter in an 'arabic' group: move it to 'latin'"
        bad = _letters_not_normalized(alternative)
        if problem is None and bad:
            problem = f"letters {''.join(bad)!r} never occur in normalize()d text"
        if problem is not None:
            raise LexiconFileError(path, f"{alternative!r}: {problem}", number)
    texts = [alternative for _, alternative in alternatives]
    if kind == "arabic_words":
        return arabic_words_pattern(texts)
    return "|".join(texts)


def _arabic_word_problem(word: str) -> str | None:
    stem = word.removesuffix("*")
    if not stem.strip() or "*" in stem or not has_arabic(stem):
        return "expected Arabic words, with at most a '*' at the end"
    if normalize(stem) != stem:
        return f"not in normalize() form: write {normalize(stem) + word[len(stem) :]!r}"
    return None


def _compile(
    path: Path, name: str, groups: list[tuple[str, str, list[tuple[int, str]]]]
) -> ScriptRegex:
    """The entry's `ScriptRegex`; a regular expression that does not compile is
    reported at the line of its alternative."""
    try:
        return ScriptRegex(*(pattern for _, pattern, _ in groups))
    except re.error as exc:
        for kind, _, alternatives in groups:
            for number, alternative in alternatives:
                if kind == "arabic_words":
                    continue  # escaped words: always valid
                try:
                    re.compile(alternative)
                except re.error as inner:
                    raise LexiconFileError(
                        path, f"{alternative!r}: not a valid regular expression ({inner})", number
                    ) from None
        raise LexiconFileError(path, f"{name!r}: not a valid regular expression ({exc})") from None


@functools.cache
def pattern_lexicon(
    file_name: str, directory: Path = LEXICON_DIR
) -> tuple[tuple[str, ScriptRegex], ...]:
    """The named patterns of a pattern file, in file order.

    The file maps each name to its groups (`PATTERN_GROUP_KINDS`), each a list of
    alternatives, one a line. A group is one regular expression, its alternatives
    joined with `|`; the groups of a name are joined the same way, in file order
    (`ScriptRegex`)."""
    path = directory / file_name
    out: list[tuple[str, ScriptRegex]] = []
    for name, value, _ in _mapping(path, _compose(path), "a mapping of name -> groups"):
        groups: list[tuple[str, str, list[tuple[int, str]]]] = []
        for kind, alternatives, line in _mapping(path, value, f"the groups of {name!r}"):
            if kind not in PATTERN_GROUP_KINDS:
                allowed = ", ".join(PATTERN_GROUP_KINDS)
                raise LexiconFileError(path, f"unknown group {kind!r} (one of {allowed})", line)
            items = _strings(path, alternatives, "alternatives")
            groups.append((kind, _group_pattern(path, kind, items), items))
        out.append((name, _compile(path, name, groups)))
    return tuple(out)


def required_patterns(
    file_name: str, names: Sequence[str], *, only: bool = False, directory: Path = LEXICON_DIR
) -> dict[str, ScriptRegex]:
    """The patterns of `file_name` by name, which must include every one of `names`
    (and nothing else when `only`: the code reads each by its name)."""
    patterns = dict(pattern_lexicon(file_name, directory))
    path = directory / file_name
    missing = [name for name in names if name not in patterns]
    if missing:
        raise LexiconFileError(path, f"missing entries: {', '.join(missing)}")
    extra = [name for name in patterns if name not in names]
    if only and extra:
        raise LexiconFileError(
            path, f"unknown entries: {', '.join(extra)} (the code reads {', '.join(names)})"
        )
    return patterns

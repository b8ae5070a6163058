"""Training examples in Rasa 3 NLU YAML, read and written.

Amane keeps its training data in `data/intents/*.yml` in the format Rasa 3 reads
(`version: "3.1"`, `nlu:` with `- intent: x` / `examples: |` blocks), so the same
files can train a Rasa server. Labels Rasa has no field for ride in the block's
`metadata` (Rasa accepts any mapping there and ignores it):

    - intent: need_medical
      metadata: {variety: ary_latn, urgent: true, violence: [rape]}
      examples: |
        - ghtasbni lbar7 bghit nmchi tbib

`variety` defaults to the file name when it is one (`fr.yml` -> fr); `urgent`
defaults to true for `emergency` and false otherwise; `violence` defaults to none.
Per-example metadata (`examples: [{text: ..., metadata: {...}}]`) overrides the
block's.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, cast

import yaml

from bot.types import INTENTS, VARIETIES, VIOLENCE_TYPES, Intent, Variety, Violence

__all__ = [
    "RASA_NLU_VERSION",
    "Example",
    "TrainingDataError",
    "data_fingerprint",
    "dump_nlu_yaml",
    "load_training_data",
    "parse_nlu_yaml",
    "read_nlu_yaml",
    "write_nlu_yaml",
]

RASA_NLU_VERSION: Final = "3.1"
# Rasa entity annotations inside an example: "[casa](city)", '[x]{"entity": "y"}'.
_ENTITY_MARKUP = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")


class TrainingDataError(ValueError):
    """A training file that cannot be used; the message names the file and intent."""


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    intent: Intent
    variety: Variety
    urgent: bool = False
    violence: tuple[Violence, ...] = field(default=())
    source: str = ""  # file name, for error messages and per-file statistics


def _as_bool(value: object, where: str) -> bool:
    if isinstance(value, bool):
        return value
    raise TrainingDataError(f"{where}: 'urgent' must be true or false, not {value!r}")


def _as_violence(value: object, where: str) -> tuple[Violence, ...]:
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list):
        raise TrainingDataError(f"{where}: 'violence' must be a list, not {value!r}")
    out: list[Violence] = []
    for item in items:
        if item not in VIOLENCE_TYPES:
            raise TrainingDataError(f"{where}: unknown violence type {item!r}")
        out.append(cast(Violence, item))
    return tuple(dict.fromkeys(out))


def _labels(
    meta: Mapping[str, Any], inherited: Mapping[str, Any], intent: Intent, where: str
) -> tuple[Variety, bool, tuple[Violence, ...]]:
    merged = {**inherited, **meta}
    variety = merged.get("variety")
    if variety not in VARIETIES:
        raise TrainingDataError(f"{where}: unknown or missing variety {variety!r}")
    urgent = _as_bool(merged.get("urgent", intent == "emergency"), where)
    violence = _as_violence(merged.get("violence"), where)
    return cast(Variety, variety), urgent, violence


def _example_lines(block: str) -> Iterable[str]:
    for line in block.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("- "):
            raise ValueError(f"example line must start with '- ': {stripped[:40]!r}")
        yield stripped[2:].strip()


def _clean(text: str) -> str:
    return _ENTITY_MARKUP.sub(r"\1", text).strip()


def parse_nlu_yaml(content: str, source: str = "<string>") -> list[Example]:
    """Examples from the text of one Rasa 3 NLU YAML file."""
    try:
        doc = yaml.safe_load(content) or {}
    except yaml.YAMLError as exc:
        raise TrainingDataError(f"{source}: not valid YAML: {exc}") from exc
    if not isinstance(doc, dict):
        raise TrainingDataError(f"{source}: expected a mapping with 'nlu'")
    default_variety = Path(source).stem
    file_meta: dict[str, Any] = {}
    if default_variety in VARIETIES:
        file_meta["variety"] = default_variety
    examples: list[Example] = []
    for i, item in enumerate(doc.get("nlu") or []):
        if not isinstance(item, dict) or "intent" not in item:
            continue  # synonym, regex, lookup: not used here
        intent = item["intent"]
        where = f"{source} block {i + 1} intent {intent!r}"
        if intent not in INTENTS:
            raise TrainingDataError(f"{where}: unknown intent")
        block_meta = item.get("metadata") or {}
        if not isinstance(block_meta, dict):
            raise TrainingDataError(f"{where}: metadata must be a mapping")
        inherited = {**file_meta, **block_meta}
        raw = item.get("examples")
        if isinstance(raw, str):
            try:
                lines = list(_example_lines(raw))
            except ValueError as exc:
                raise TrainingDataError(f"{where}: {exc}") from exc
            variety, urgent, violence = _labels({}, inherited, intent, where)
            for line in lines:
                text = _clean(line)
                if text:
                    examples.append(Example(text, intent, variety, urgent, violence, source))
        elif isinstance(raw, list):
            for entry in raw:
                if not isinstance(entry, dict) or "text" not in entry:
                    raise TrainingDataError(f"{where}: each example needs 'text'")
                meta = entry.get("metadata") or {}
                variety, urgent, violence = _labels(meta, inherited, intent, where)
                text = _clean(str(entry["text"]))
                if text:
                    examples.append(Example(text, intent, variety, urgent, violence, source))
        else:
            raise TrainingDataError(f"{where}: 'examples' missing")
    return examples


def read_nlu_yaml(path: Path) -> list[Example]:
    return parse_nlu_yaml(path.read_text(encoding="utf-8"), source=path.name)


def training_files(data_dir: Path) -> list[Path]:
    return sorted(p for p in data_dir.glob("*.yml") if p.is_file()) + sorted(
        p for p in data_dir.glob("*.yaml") if p.is_file()
    )


def load_training_data(data_dir: Path) -> list[Example]:
    """Every example in `data_dir/*.yml`, in a stable order."""
    files = training_files(data_dir)
    if not files:
        raise TrainingDataError(f"{data_dir}: no training files (*.yml)")
    examples: list[Example] = []
    for path in files:
        examples.extend(read_nlu_yaml(path))
    return examples


def data_fingerprint(data_dir: Path, extra: str = "") -> str:
    """A hash of the training files' names and contents (and `extra`, e.g. a model
    version), used to know when the cached model is stale."""
    digest = hashlib.sha256(extra.encode())
    for path in training_files(data_dir):
        digest.update(path.name.encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


class _LiteralStr(str):
    """A string yaml dumps as a `|` block."""


def _literal_representer(dumper: yaml.SafeDumper, data: _LiteralStr) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")


class _NluDumper(yaml.SafeDumper):
    pass


_NluDumper.add_representer(_LiteralStr, _literal_representer)


def dump_nlu_yaml(examples: Sequence[Example], *, with_metadata: bool = True) -> str:
    """Rasa 3 NLU YAML for `examples`, one block per (intent, labels)."""
    blocks: dict[tuple[str, str, bool, tuple[str, ...]], list[str]] = {}
    for ex in examples:
        key = (ex.intent, ex.variety, ex.urgent, ex.violence)
        blocks.setdefault(key, []).append(ex.text)
    nlu: list[dict[str, Any]] = []
    for (intent, variety, urgent, violence), texts in blocks.items():
        item: dict[str, Any] = {"intent": intent}
        if with_metadata:
            meta: dict[str, Any] = {"variety": variety}
            if urgent != (intent == "emergency"):
                meta["urgent"] = urgent
            if violence:
                meta["violence"] = list(violence)
            item["metadata"] = meta
        lines = [f"- {' '.join(t.split())}" for t in dict.fromkeys(texts)]
        item["examples"] = _LiteralStr("\n".join(lines) + "\n")
        nlu.append(item)
    doc = {"version": RASA_NLU_VERSION, "nlu": nlu}
    return yaml.dump(doc, Dumper=_NluDumper, allow_unicode=True, sort_keys=False, width=1000)


def write_nlu_yaml(examples: Sequence[Example], path: Path, *, with_metadata: bool = True) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dump_nlu_yaml(examples, with_metadata=with_metadata), encoding="utf-8")

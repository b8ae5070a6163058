"""The NLU's training examples, as admins browse and extend them from the console.

Examples live in `data/intents/*.yml` in Rasa 3 NLU YAML (`nlu: - intent: X
examples: | - ...`). The console reads every file and writes what admins add to one
file of its own, `console.yml`, so the team's curated files are never rewritten.
Retraining goes through `IntentTrainer`, the seam where the NLU plugs its trainer in.
"""

from __future__ import annotations

import asyncio

import logging
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import yaml

from bot.nlu.normalize import normalize
from bot.nlu.pipeline import LocalNlu
from bot.types import INTENTS, VARIETIES, Variety

logger = logging.getLogger(__name__)

CONSOLE_FILE = "console.yml"
MAX_EXAMPLE = 300


class ExampleError(Exception):
    """An example cannot be added; the message says why."""


@dataclass(slots=True)
class IntentExamples:
    intent: str
    examples: list[tuple[str, str]] = field(default_factory=list)  # (text, file name)


def _parse_block(block: str) -> list[str]:
    texts = []
    for line in block.splitlines():
        line = line.strip()
        if line.startswith("- "):
            texts.append(line[2:].strip())
    return [t for t in texts if t]


def read_examples(directory: Path) -> dict[str, IntentExamples]:
    """Every intent's examples, from every `*.yml` / `*.yaml` file in `directory`."""
    result: dict[str, IntentExamples] = {intent: IntentExamples(intent) for intent in INTENTS}
    if not directory.is_dir():
        return result
    for path in sorted([*directory.glob("*.yml"), *directory.glob("*.yaml")]):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError):
            logger.warning("intent file %s is unreadable; skipped", path.name)
            continue
        items = data.get("nlu") if isinstance(data, Mapping) else None
        for item in items if isinstance(items, list) else []:
            if not isinstance(item, Mapping) or not isinstance(item.get("intent"), str):
                continue
            entry = result.setdefault(item["intent"], IntentExamples(item["intent"]))
            block = item.get("examples")
            if isinstance(block, str):
                entry.examples.extend((text, path.name) for text in _parse_block(block))
    return result


def _fold(text: str) -> str:
    return " ".join(normalize(text).split()) if text else ""


def add_example(directory: Path, intent: str, text: str, variety: Variety) -> None:
    """Add one example, labelled with its language variety, to `console.yml`. Raises
    `ExampleError` for an unknown intent or variety, an empty or multi-line text, or a
    text already given to an intent."""
    text = " ".join(text.split())
    if intent not in INTENTS:
        raise ExampleError(f"intent: must be one of {', '.join(INTENTS)}")
    if variety not in VARIETIES:
        raise ExampleError(f"variety: must be one of {', '.join(VARIETIES)}")
    if not text:
        raise ExampleError("text: empty")
    if len(text) > MAX_EXAMPLE:
        raise ExampleError(f"text: longer than {MAX_EXAMPLE} characters")
    folded = _fold(text)
    for other in read_examples(directory).values():
        for existing, _ in other.examples:
            if _fold(existing) == folded:
                raise ExampleError(f"text: already an example of '{other.intent}'")
    path = directory / CONSOLE_FILE
    blocks: dict[tuple[str, str], list[str]] = {}
    if path.exists():
        for item in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
            block_variety = (item.get("metadata") or {}).get("variety", "ary")
            blocks.setdefault((item["intent"], block_variety), []).extend(
                _parse_block(item.get("examples") or ""))
    blocks.setdefault((intent, variety), []).append(text)
    lines = ['version: "3.1"', "# Examples added by admins in the console.", "nlu:"]
    for name, block_variety in sorted(blocks):
        lines.append(f"- intent: {name}")
        lines.append(f"  metadata: {{variety: {block_variety}}}")
        lines.append("  examples: |")
        lines.extend(f"    - {example}" for example in blocks[(name, block_variety)])
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".console-", suffix=".yml")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    os.replace(tmp, path)


class IntentTrainer(Protocol):
    async def retrain(self) -> str:
        """Train again from the examples; a short status line for the admin."""


class LocalNluTrainer:
    """Retrains the local model when the examples changed (in a thread: training takes
    a few seconds and must not stall the event loop)."""

    def __init__(self, nlu: LocalNlu) -> None:
        self._nlu = nlu

    async def retrain(self) -> str:
        replaced = await asyncio.to_thread(self._nlu.refresh)
        return "retrained" if replaced else "up to date"

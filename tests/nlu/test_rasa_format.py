"""Training data in Rasa 3 NLU YAML."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.nlu.model import DEFAULT_DATA_DIR
from bot.nlu.rasa_format import (
    Example,
    TrainingDataError,
    data_fingerprint,
    dump_nlu_yaml,
    load_training_data,
    parse_nlu_yaml,
)
from bot.types import INTENTS, VARIETIES

SAMPLE = """
version: "3.1"
nlu:
- intent: need_legal
  metadata: {variety: ary_latn}
  examples: |
    - bghit ndir chikaya
    - bghit [m7ami](lawyer) 3afak
- intent: emergency
  metadata: {variety: ary_latn, violence: [physical]}
  examples: |
    - rah kaydrbni daba
- intent: need_medical
  examples:
  - text: |
      ghtasbni lbar7
    metadata: {variety: ary_latn, urgent: true, violence: [rape]}
- synonym: casa
  examples: |
    - kaza
"""


def test_parse_blocks_and_defaults() -> None:
    examples = parse_nlu_yaml(SAMPLE, "sample.yml")
    assert examples[0] == Example(
        "bghit ndir chikaya", "need_legal", "ary_latn", False, (), "sample.yml"
    )
    assert examples[1].text == "bghit m7ami 3afak"  # entity markup removed
    assert examples[2].urgent and examples[2].violence == ("physical",)  # emergency: urgent
    assert examples[3] == Example(
        "ghtasbni lbar7", "need_medical", "ary_latn", True, ("rape",), "sample.yml"
    )
    assert len(examples) == 4  # the synonym block is not an example


def test_variety_from_file_name() -> None:
    text = 'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - bonjour\n'
    assert parse_nlu_yaml(text, "fr.yml")[0].variety == "fr"
    with pytest.raises(TrainingDataError, match="x.yml block 1 intent 'greet'.*variety"):
        parse_nlu_yaml(text, "x.yml")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("nlu:\n- intent: nope\n  examples: |\n    - x\n", "intent 'nope': unknown intent"),
        (
            "nlu:\n- intent: greet\n  metadata: {violence: [slapping]}\n  examples: |\n    - x\n",
            "unknown violence type 'slapping'",
        ),
        (
            "nlu:\n- intent: greet\n  metadata: {urgent: maybe}\n  examples: |\n    - x\n",
            "'urgent' must be true or false",
        ),
        ("nlu:\n- intent: greet\n  examples: |\n    x\n", "must start with '- '"),
        ("nlu: [\n", "not valid YAML"),
    ],
)
def test_errors_name_file_and_intent(content: str, message: str) -> None:
    with pytest.raises(TrainingDataError, match=message):
        parse_nlu_yaml(content, "fr.yml")


def test_round_trip() -> None:
    examples = parse_nlu_yaml(SAMPLE, "sample.yml")
    again = parse_nlu_yaml(dump_nlu_yaml(examples), "sample.yml")
    assert again == examples
    doc = yaml.safe_load(dump_nlu_yaml(examples))
    assert doc["version"] == "3.1"
    assert all("intent" in block and isinstance(block["examples"], str) for block in doc["nlu"])


def test_team_data_is_complete() -> None:
    """Issue 3: at least 40 examples per intent in each variety, code-switched ones,
    no duplicates, urgent and violence labels present."""
    examples = load_training_data(DEFAULT_DATA_DIR)
    for intent in INTENTS:
        for variety in VARIETIES:
            n = sum(1 for e in examples if e.intent == intent and e.variety == variety)
            assert n >= 40, (intent, variety, n)
    assert sum(1 for e in examples if e.source == "mixed.yml") >= 100
    texts = [e.text for e in examples]
    assert len(texts) == len(set(texts))
    assert sum(e.urgent for e in examples if e.intent != "emergency") >= 40
    assert {v for e in examples for v in e.violence} == {
        "rape", "sexual_assault", "physical", "forced_marriage", "economic", "psychological", "digital",
    }  # fmt: skip


def test_fingerprint_follows_the_files(tmp_path: Path) -> None:
    (tmp_path / "fr.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - bonjour\n', encoding="utf-8"
    )
    first = data_fingerprint(tmp_path)
    assert data_fingerprint(tmp_path) == first
    assert data_fingerprint(tmp_path, extra="v2") != first
    (tmp_path / "fr.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - salut\n', encoding="utf-8"
    )
    assert data_fingerprint(tmp_path) != first
    (tmp_path / "notes.txt").write_text("not training data", encoding="utf-8")
    assert load_training_data(tmp_path)[0].text == "salut"


def test_empty_directory(tmp_path: Path) -> None:
    with pytest.raises(TrainingDataError, match="no training files"):
        load_training_data(tmp_path)

"""Intent examples in Rasa 3 NLU YAML: read from every file, added to console.yml."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.intent_examples import ExampleError, add_example, read_examples

TEAM_FILE = """version: "3.1"
nlu:
- intent: need_shelter
  examples: |
    - ma3ndi fin nbat
    - je n'ai nulle part où dormir
- intent: greet
  examples: |
    - salam
"""


def test_read_every_file_and_add_to_the_console_file(tmp_path: Path) -> None:
    (tmp_path / "needs.yml").write_text(TEAM_FILE, encoding="utf-8")
    add_example(tmp_path, "need_shelter", "  bghit  blasa  nbat fiha ", "ary_latn")
    add_example(tmp_path, "greet", "bonsoir", "fr")
    examples = read_examples(tmp_path)
    assert sorted(examples["need_shelter"].examples) == [
        ("bghit blasa nbat fiha", "console.yml"), ("je n'ai nulle part où dormir", "needs.yml"),
        ("ma3ndi fin nbat", "needs.yml")]
    assert (tmp_path / "needs.yml").read_text(encoding="utf-8") == TEAM_FILE  # untouched
    written = yaml.safe_load((tmp_path / "console.yml").read_text(encoding="utf-8"))
    assert written["version"] == "3.1"
    assert [item["intent"] for item in written["nlu"]] == ["greet", "need_shelter"]
    # Each block says its variety: the NLU trains on it (it is a label, like the intent).
    assert [item["metadata"]["variety"] for item in written["nlu"]] == ["fr", "ary_latn"]
    from bot.nlu.rasa_format import load_training_data

    alone = tmp_path / "alone"
    alone.mkdir()
    (alone / "console.yml").write_bytes((tmp_path / "console.yml").read_bytes())
    assert {(e.text, e.intent, e.variety) for e in load_training_data(alone)} == {
        ("bghit blasa nbat fiha", "need_shelter", "ary_latn"), ("bonsoir", "greet", "fr")}


@pytest.mark.parametrize("intent,text,problem", [
    ("need_pizza", "x", "intent"),
    ("greet", "   ", "text: empty"),
    ("greet", "x" * 301, "longer"),
    ("need_legal", "SALAM", "already an example of 'greet'"),
])
def test_bad_examples_are_refused(tmp_path: Path, intent: str, text: str,
                                  problem: str) -> None:
    (tmp_path / "needs.yml").write_text(TEAM_FILE, encoding="utf-8")
    with pytest.raises(ExampleError, match=problem):
        add_example(tmp_path, intent, text, "ary")
    assert not (tmp_path / "console.yml").exists()


def test_a_missing_directory_reads_as_no_examples(tmp_path: Path) -> None:
    assert all(not e.examples for e in read_examples(tmp_path / "absent").values())

"""The command functions behind `run_bot.py nlu ...` and `POST /model/parse`."""

from __future__ import annotations

import io
import json
from pathlib import Path

import yaml

from bot.nlu.__main__ import main
from bot.nlu.commands import (
    PARSE_KEYS,
    evaluate,
    export_rasa,
    parse_lines,
    parse_result_json,
    rasa_response,
    train,
)
from bot.nlu.model import DEFAULT_DATA_DIR
from bot.nlu.pipeline import LocalNlu
from bot.nlu.rasa_format import load_training_data, read_nlu_yaml
from bot.nlu.result import NluResult


def test_parse_lines(nlu: LocalNlu) -> None:
    lines = [
        json.dumps({"text": "salam, rajli kaydrbni o ana f tiznit, bghit ndir chikaya"}),
        "this is not json",
        json.dumps({"txt": "wrong key"}),
        json.dumps(["not", "an", "object"]),
        "",
        json.dumps({"text": "بغيت نهضر مع شي حد"}, ensure_ascii=False),
        json.dumps({"text": "j'ai besoin d'un avocat", "extra": 1}),
    ]
    out = io.StringIO()
    count = parse_lines(nlu, io.StringIO("\n".join(lines) + "\n"), out)
    results = [json.loads(line) for line in out.getvalue().splitlines()]
    assert count == len(results) == 6  # the blank line is skipped
    assert list(results[0]) == list(PARSE_KEYS)
    assert results[0] == {
        "text": "salam, rajli kaydrbni o ana f tiznit, bghit ndir chikaya",
        "language": "ary_latn",
        "intent": "need_legal",
        "confidence": results[0]["confidence"],
        "urgent": False,
        "city": "Tiznit",
        "violence": ["physical"],
    }
    assert 0.5 <= results[0]["confidence"] <= 1.0
    assert results[1] == {"error": "not valid JSON", "line": 2}
    assert results[2]["line"] == 3 and "error" in results[2]
    assert results[3]["line"] == 4 and "error" in results[3]
    assert results[4]["text"] == "بغيت نهضر مع شي حد" and results[4]["language"] == "ary"
    assert set(results[5]) == set(PARSE_KEYS)
    assert "بغيت" in out.getvalue()  # not escaped


def test_parse_result_json_keys(nlu: LocalNlu) -> None:
    result = parse_result_json(nlu.parse_sync("ok"))
    assert tuple(result) == PARSE_KEYS
    assert result["city"] is None and result["violence"] == []


def test_rasa_response(nlu: LocalNlu) -> None:
    result = nlu.parse_sync("3teqni rajli kaydrbni w ana f 9nitra")
    response = rasa_response(result)
    assert response["text"] == result.text
    assert response["intent"] == {"name": result.intent, "confidence": round(result.confidence, 4)}
    assert {r["name"] for r in response["intent_ranking"]} == {n for n, _ in result.intent_ranking}
    assert response["language"] == "ary_latn" and response["urgent"] is True
    city = [e for e in response["entities"] if e["entity"] == "city"]
    assert city and city[0]["value"] == "Kénitra"
    assert result.text[city[0]["start"] : city[0]["end"]] == "9nitra"
    assert {
        "entity": "violence",
        "value": "physical",
        "extractor": "AmaneViolenceLexicon",
    } in response["entities"]
    json.dumps(response)  # serialisable


def test_rasa_response_glued_arabic_town(nlu: LocalNlu) -> None:
    result = nlu.parse_sync("انا ساكنة فطنجة")
    city = next(e for e in rasa_response(result)["entities"] if e["entity"] == "city")
    assert city["value"] == "Tanger"
    assert result.text[city["start"] : city["end"]] == "فطنجة"


def test_rasa_response_without_entities() -> None:
    result = NluResult("salam", "ary_latn", 0.9, "greet", 0.97, (("greet", 0.97),))
    response = rasa_response(result)
    assert response["entities"] == []
    assert response["intent_ranking"] == [{"name": "greet", "confidence": 0.97}]


def test_export_rasa(tmp_path: Path) -> None:
    written = export_rasa(tmp_path / "rasa")
    config = yaml.safe_load((tmp_path / "rasa" / "config.yml").read_text(encoding="utf-8"))
    assert config["pipeline"] and config["language"]
    nlu_file = tmp_path / "rasa" / "data" / "nlu.yml"
    assert nlu_file in written
    exported = read_nlu_yaml(nlu_file)
    original = load_training_data(DEFAULT_DATA_DIR)
    assert sorted((e.text, e.intent) for e in exported) == sorted(
        (e.text, e.intent) for e in original
    )
    domain = yaml.safe_load((tmp_path / "rasa" / "domain.yml").read_text(encoding="utf-8"))
    assert "need_legal" in domain["intents"]


def test_train(tmp_path: Path) -> None:
    data = tmp_path / "intents"
    data.mkdir()
    (data / "fr.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - bonjour\n    - salut\n'
        "- intent: need_legal\n  examples: |\n    - je veux un avocat\n    - porter plainte\n",
        encoding="utf-8",
    )
    summary = train(data, tmp_path / "model")
    assert "4 examples" in summary
    assert list((tmp_path / "model").glob("model-*.pkl"))


def test_evaluate_small(tmp_path: Path) -> None:
    examples = [e for e in load_training_data(DEFAULT_DATA_DIR) if e.variety == "fr"]
    data = tmp_path / "intents"
    data.mkdir()
    from bot.nlu.rasa_format import write_nlu_yaml

    write_nlu_yaml(examples, data / "fr.yml")
    report = evaluate(data, folds=2, towns_csv=None, show_errors=3)
    for section in ("Targets", "Intent per variety", "Intent per label", "Confusion matrix",
                    "Urgent: recall", "Variety: accuracy", "Violence types"):  # fmt: skip
        assert section in report
    assert "Some intent errors" in report


def test_module_entry_point(tmp_path: Path, capsys: object, monkeypatch: object) -> None:
    import pytest

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    monkeypatch.setattr("sys.stdin", io.StringIO('{"text": "safi"}\n'))
    assert main(["--model-dir", str(tmp_path), "parse"]) == 0
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert json.loads(out)["intent"] == "quick_exit"
    assert main(["export-rasa", str(tmp_path / "rasa")]) == 0

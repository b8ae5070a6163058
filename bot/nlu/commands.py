"""The NLU commands, as plain functions: `run_bot.py nlu parse|train|evaluate|
export-rasa` and `POST /model/parse` call these (see also `python -m bot.nlu`).

Nothing here prints; each function returns what the caller shows or writes to the
stream it is given.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from pathlib import Path
from typing import Any, Final, TextIO

import yaml

from bot.nlu.evaluation import DEFAULT_TOWNS_CSV, evaluate_nlu
from bot.nlu.variety_dev import DEFAULT_VARIETY_DEV_DIR, load_dev_set
from bot.nlu.variety_dev import evaluate_variety_dev as run_variety_dev
from bot.nlu.model import DEFAULT_DATA_DIR, DEFAULT_MODEL_DIR, load_or_train, model_path
from bot.nlu.normalize import normalize
from bot.nlu.rasa_format import RASA_NLU_VERSION, load_training_data, write_nlu_yaml
from bot.nlu.result import NluBackend, NluResult
from bot.types import INTENTS

__all__ = [
    "PARSE_KEYS",
    "aparse_lines",
    "evaluate",
    "export_rasa",
    "parse_lines",
    "parse_result_json",
    "rasa_response",
    "train",
]

logger = logging.getLogger(__name__)

PARSE_KEYS: Final = ("text", "language", "intent", "confidence", "urgent", "city", "violence")
"""The keys of one `nlu parse` output line (DESIGN.md), in this order."""


def parse_result_json(result: NluResult) -> dict[str, Any]:
    """One `nlu parse` output object: exactly the keys of DESIGN.md."""
    return {
        "text": result.text,
        "language": result.language,
        "intent": result.intent,
        "confidence": round(result.confidence, 4),
        "urgent": result.urgent,
        "city": result.city,
        "violence": list(result.violence),
    }


def _error_line(line_number: int, message: str) -> dict[str, Any]:
    return {"error": message, "line": line_number}


async def aparse_lines(backend: NluBackend, in_stream: TextIO, out_stream: TextIO) -> int:
    """Read JSON lines `{"text": ...}` from `in_stream`, write one JSON line per input
    line to `out_stream` (a result, or `{"error", "line"}` for a line that is not a
    JSON object with a string `text`). Blank lines are skipped. Returns the number
    of lines answered."""
    answered = 0
    for number, raw in enumerate(in_stream, start=1):
        if not raw.strip():
            continue
        try:
            item = json.loads(raw)
        except json.JSONDecodeError:
            out: dict[str, Any] = _error_line(number, "not valid JSON")
        else:
            if not isinstance(item, dict) or not isinstance(item.get("text"), str):
                out = _error_line(number, 'expected an object with a string "text"')
            else:
                try:
                    out = parse_result_json(await backend.parse(item["text"]))
                except Exception:  # one bad message must not stop the stream
                    logger.exception("nlu parse failed on input line %d", number)
                    out = _error_line(number, "could not parse this message")
        out_stream.write(json.dumps(out, ensure_ascii=False) + "\n")
        out_stream.flush()
        answered += 1
    return answered


def parse_lines(backend: NluBackend, in_stream: TextIO, out_stream: TextIO) -> int:
    """`aparse_lines` for synchronous callers (the CLI)."""
    return asyncio.run(aparse_lines(backend, in_stream, out_stream))


def train(data_dir: Path = DEFAULT_DATA_DIR, model_dir: Path = DEFAULT_MODEL_DIR) -> str:
    """Train the model now from `data_dir` and cache it in `model_dir`. Returns a
    one-line summary."""
    started = time.perf_counter()
    model = load_or_train(data_dir, model_dir, retrain=True)
    elapsed = time.perf_counter() - started
    path = model_path(data_dir, model_dir)
    return (
        f"trained the NLU model on {model.n_examples} examples in {elapsed:.1f} s; cached as {path}"
    )


def evaluate(
    data_dir: Path = DEFAULT_DATA_DIR,
    *,
    folds: int = 5,
    towns_csv: Path | None = DEFAULT_TOWNS_CSV,
    show_errors: int = 0,
) -> str:
    """The evaluation report (stratified cross-validation, see `evaluation.py`)."""
    return evaluate_nlu(data_dir, folds=folds, towns_csv=towns_csv).text(show_errors)


def evaluate_variety_dev(
    data_dir: Path = DEFAULT_DATA_DIR,
    dev_dir: Path = DEFAULT_VARIETY_DEV_DIR,
    *,
    show_errors: int = 0,
) -> str:
    """Variety figures on the public dev set in `dev_dir`, with a model trained on
    `data_dir` only (in a temporary directory: the dev set never reaches training)."""
    import tempfile

    from bot.nlu.pipeline import LocalNlu

    with tempfile.TemporaryDirectory() as tmp:
        nlu = LocalNlu(model=load_or_train(data_dir, Path(tmp)))
        figures = run_variety_dev(lambda t: nlu.parse_sync(t).language, load_dev_set(dev_dir))
    return "\n" + figures.text(show_errors)


RASA_CONFIG: Final[dict[str, Any]] = {
    "recipe": "default.v1",
    "assistant_id": "amane-nlu",
    # Four varieties, two scripts: no language-specific component is used.
    "language": "ar",
    "pipeline": [
        {"name": "WhitespaceTokenizer"},
        {"name": "RegexFeaturizer"},
        {"name": "LexicalSyntacticFeaturizer"},
        {"name": "CountVectorsFeaturizer"},
        {"name": "CountVectorsFeaturizer", "analyzer": "char_wb", "min_ngram": 2, "max_ngram": 5},
        {"name": "DIETClassifier", "epochs": 100, "constrain_similarities": True},
        {"name": "FallbackClassifier", "threshold": 0.35},
    ],
    "policies": [],
}


def export_rasa(out_dir: Path, data_dir: Path = DEFAULT_DATA_DIR) -> list[Path]:
    """Write a Rasa 3 project (`config.yml`, `data/nlu.yml`, and a `domain.yml`
    listing the intents) with Amane's training data to `out_dir`. Returns the files
    written."""
    examples = load_training_data(data_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    config = out_dir / "config.yml"
    config.write_text(
        "# Written by Amane (run_bot.py nlu export-rasa) from data/intents/.\n"
        + yaml.safe_dump(RASA_CONFIG, allow_unicode=True, sort_keys=False),
        encoding="utf-8",
    )
    nlu = out_dir / "data" / "nlu.yml"
    write_nlu_yaml(examples, nlu)
    domain = out_dir / "domain.yml"
    domain.write_text(
        yaml.safe_dump(
            {
                "version": RASA_NLU_VERSION,
                "intents": list(INTENTS),
                "entities": ["city", "violence"],
            },
            allow_unicode=True,
            sort_keys=False,
        ),
        encoding="utf-8",
    )
    return [config, nlu, domain]


def _city_span(text: str, matched: str) -> tuple[int, int] | None:
    """Start and end of the words `matched` (normalised) in the original `text`,
    if they can be found word for word."""
    target = matched.split()
    if not target:
        return None
    spans: list[tuple[int, int, str]] = []
    start = None
    for i, ch in enumerate(text + " "):
        if ch.isalnum() or ch in "'’-":
            if start is None:
                start = i
        elif start is not None:
            spans.append((start, i, normalize(text[start:i])))
            start = None
    words = [(s, e, w) for s, e, n in spans for w in n.split()]
    for i in range(len(words) - len(target) + 1):
        window = [w for _, _, w in words[i : i + len(target)]]
        if window == target:
            return words[i][0], words[i + len(target) - 1][1]
        # a glued Arabic prefix (فتيزنيت) or article (ljdida): the word ends with it
        if len(target) == 1 and window[0].endswith(target[0]):
            return words[i][0], words[i][1]
    return None


def rasa_response(result: NluResult) -> dict[str, Any]:
    """Rasa's `/model/parse` response for `result`, plus `language` and `urgent`.

    The town is an entity `city` whose value is the canonical French name; each
    violence type is an entity `violence`."""
    entities: list[dict[str, Any]] = []
    if result.place is not None:
        entity: dict[str, Any] = {
            "entity": "city",
            "value": result.place.place.name_fr,
            "confidence_entity": result.place.confidence,
            "extractor": "AmaneGazetteer",
            "place_id": result.place.place.id,
        }
        span = _city_span(result.text, result.place.matched)
        if span is not None:
            entity["start"], entity["end"] = span
        entities.append(entity)
    for violence in result.violence:
        entities.append(
            {"entity": "violence", "value": violence, "extractor": "AmaneViolenceLexicon"}
        )
    return {
        "text": result.text,
        "intent": {"name": result.intent, "confidence": round(result.confidence, 4)},
        "intent_ranking": [
            {"name": name, "confidence": round(confidence, 4)}
            for name, confidence in result.intent_ranking
        ],
        "entities": entities,
        "language": result.language,
        "urgent": result.urgent,
    }

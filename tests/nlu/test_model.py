"""The model cache under var/nlu: reused, retrained when the data changes, rebuilt
when unreadable, read from the cache without training again."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.nlu import model as model_module
from bot.nlu.model import DEFAULT_DATA_DIR, NluModel, load_or_train, model_path
from bot.nlu.pipeline import LocalNlu

SMALL = """version: "3.1"
nlu:
- intent: greet
  examples: |
    - salam
    - slm 3likom
    - salam khti
- intent: need_legal
  examples: |
    - bghit m7ami
    - bghit ndir chikaya
    - bghit nطلق
- intent: emergency
  examples: |
    - 3teqni rah kaydrbni
    - rah f lbab ghadi yqtlni
    - 3awnouni daba
"""


@pytest.fixture
def small_data(tmp_path: Path) -> Path:
    data = tmp_path / "intents"
    data.mkdir()
    (data / "ary_latn.yml").write_text(SMALL.replace("nطلق", "ntle9"), encoding="utf-8")
    return data


def _no_training(*args: object, **kwargs: object) -> NluModel:
    raise AssertionError("the model was retrained")


def test_cached_model_is_reused(
    small_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model_dir = tmp_path / "var" / "nlu"
    first = load_or_train(small_data, model_dir)
    path = model_path(small_data, model_dir)
    assert path.exists() and path.parent == model_dir
    import bot.nlu.training

    monkeypatch.setattr(bot.nlu.training, "train_model", _no_training)
    again = load_or_train(small_data, model_dir)
    assert again.fingerprint == first.fingerprint


def test_retrained_when_data_changes(small_data: Path, tmp_path: Path) -> None:
    model_dir = tmp_path / "model"
    first = load_or_train(small_data, model_dir)
    with (small_data / "ary_latn.yml").open("a", encoding="utf-8") as fh:
        fh.write("- intent: ask_human\n  examples: |\n    - bghit bnadem\n    - nta robot\n")
    second = load_or_train(small_data, model_dir)
    assert second.fingerprint != first.fingerprint
    assert "ask_human" in second.intents.head.classes
    assert len(list(model_dir.glob("model-*.pkl"))) == 1  # the stale one is removed


def test_unreadable_cache_is_rebuilt(small_data: Path, tmp_path: Path) -> None:
    model_dir = tmp_path / "model"
    load_or_train(small_data, model_dir)
    path = model_path(small_data, model_dir)
    path.write_bytes(b"not a pickle")
    model = load_or_train(small_data, model_dir)
    assert model.n_examples == 9
    assert path.stat().st_size > 1000


def test_local_nlu_refresh(small_data: Path, tmp_path: Path) -> None:
    nlu = LocalNlu(tmp_path / "model", data_dir=small_data)
    assert not nlu.refresh()
    with (small_data / "ary_latn.yml").open("a", encoding="utf-8") as fh:
        fh.write("- intent: quick_exit\n  examples: |\n    - msa7 kolchi\n    - ja rajli\n")
    assert nlu.refresh()
    assert "quick_exit" in nlu.model.intents.head.classes


def test_unwritable_model_dir_still_works(small_data: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    model = load_or_train(small_data, blocker / "nlu")  # cannot create: train, do not cache
    assert model.n_examples == 9


def test_team_model_is_read_from_its_cache_not_trained_again(
        trained_model: NluModel, model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.nlu import training

    monkeypatch.setattr(training, "train_model", _no_training)
    model = load_or_train(DEFAULT_DATA_DIR, model_dir)
    assert model.fingerprint == trained_model.fingerprint


def test_model_does_not_need_scikit_learn_to_parse(trained_model: NluModel) -> None:
    assert model_module.__name__ == "bot.nlu.model"
    source = Path(model_module.__file__).read_text(encoding="utf-8")
    assert "import sklearn" not in source and "from sklearn" not in source


def test_copy_of_data_has_the_same_fingerprint(tmp_path: Path) -> None:
    copy = tmp_path / "intents"
    shutil.copytree(DEFAULT_DATA_DIR, copy)
    assert model_module.model_fingerprint(copy) == model_module.model_fingerprint(DEFAULT_DATA_DIR)


def test_imports_go_one_way_from_the_cache_to_training_to_the_model_class() -> None:
    import ast

    def imported(module: str) -> set[str]:
        source = Path(model_module.__file__).with_name(f"{module}.py")
        tree = ast.parse(source.read_text(encoding="utf-8"))
        names: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                names |= {node.module, *(f"{node.module}.{a.name}" for a in node.names)}
            elif isinstance(node, ast.Import):
                names |= {a.name for a in node.names}
        return names

    assert "bot.nlu.training" in imported("model")
    assert "bot.nlu.model" not in imported("training")
    assert "bot.nlu.model" not in imported("trained_model")
    assert "bot.nlu.training" not in imported("trained_model")

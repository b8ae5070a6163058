"""Loading the NLU model (`bot/nlu/trained_model.py`), trained if need be.

Trained from `data/intents/*.yml` in a few seconds and cached as one pickle under
the model directory (`var/nlu/` by default). The file name carries a fingerprint
of the training files, the word lists and lexicons of `data/lexicon/`, the model
code version and the scikit-learn version, so a change to any of them retrains on
the next start; a stale or unreadable cache is simply rebuilt. Nothing here touches
the network.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import tempfile
import threading
import time
from importlib.metadata import version
from pathlib import Path
from typing import Final

from bot.nlu import training  # scikit-learn is only imported when a model is trained
from bot.nlu.lexicon_files import LEXICON_DIR, lexicon_files
from bot.nlu.rasa_format import data_fingerprint, load_training_data
from bot.nlu.trained_model import NluModel

__all__ = [
    "DEFAULT_DATA_DIR",
    "DEFAULT_MODEL_DIR",
    "MODEL_VERSION",
    "NluModel",
    "load_or_train",
    "model_fingerprint",
    "model_path",
]

logger = logging.getLogger(__name__)

MODEL_VERSION: Final = "amane-nlu-3"
"""Bump when the model's shape changes in a way the code hash below misses."""

_ROOT: Final = Path(__file__).resolve().parents[2]
DEFAULT_DATA_DIR: Final = _ROOT / "data" / "intents"
DEFAULT_MODEL_DIR: Final = Path("var/nlu")
_PREFIX: Final = "model-"


# The code that decides what a trained model contains: a change to any of these
# files retrains the cached model, as a change to the data does.
_MODEL_CODE: Final = (
    "normalize.py",
    "concepts.py",
    "lexicon.py",
    "lexicon_files.py",
    "features.py",
    "training.py",
    "trained_model.py",
)


def _code_hash() -> str:
    digest = hashlib.sha256()
    here = Path(__file__).resolve().parent
    for name in _MODEL_CODE:
        digest.update((here / name).read_bytes())
    return digest.hexdigest()[:16]


def _lexicon_hash(lexicon_dir: Path) -> str:
    """The names and contents of the word lists and pattern lexicons: the concepts
    are features of the model, and any list edited is taken as a reason to retrain."""
    digest = hashlib.sha256()
    for path in lexicon_files(lexicon_dir):
        digest.update(path.name.encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def model_fingerprint(data_dir: Path, lexicon_dir: Path = LEXICON_DIR) -> str:
    """Training files + lexicon files + model code + scikit-learn version."""
    return data_fingerprint(
        data_dir,
        extra=f"{MODEL_VERSION}|{_code_hash()}|lexicon {_lexicon_hash(lexicon_dir)}"
        f"|sklearn {version('scikit-learn')}",
    )


_train_lock = threading.Lock()


def model_path(data_dir: Path = DEFAULT_DATA_DIR, model_dir: Path = DEFAULT_MODEL_DIR) -> Path:
    """Where the model for the current training data is (or will be) cached."""
    return model_dir / f"{_PREFIX}{model_fingerprint(data_dir)[:20]}.pkl"


def load_or_train(
    data_dir: Path = DEFAULT_DATA_DIR,
    model_dir: Path = DEFAULT_MODEL_DIR,
    *,
    retrain: bool = False,
) -> NluModel:
    """The model for the current training data: from the cache in `model_dir` if it
    is up to date (and `retrain` is false), else trained now and cached (older
    cached models are removed)."""
    fingerprint = model_fingerprint(data_dir)
    path = model_dir / f"{_PREFIX}{fingerprint[:20]}.pkl"
    with _train_lock:
        model = None if retrain else _read(path, fingerprint)
        if model is not None:
            return model
        started = time.perf_counter()
        examples = load_training_data(data_dir)
        model = training.train_model(examples, fingerprint)
        logger.info(
            "nlu model trained on %d examples in %.1f s",
            len(examples),
            time.perf_counter() - started,
        )
        _write(model, path)
        return model


def _read(path: Path, fingerprint: str) -> NluModel | None:
    if not path.exists():
        return None
    try:
        with path.open("rb") as fh:
            model = pickle.load(fh)
    except Exception:  # a truncated or foreign file: retrain rather than fail
        logger.warning("nlu model cache %s unreadable, retraining", path.name, exc_info=True)
        return None
    if not isinstance(model, NluModel) or model.fingerprint != fingerprint:
        logger.warning("nlu model cache %s does not match the data, retraining", path.name)
        return None
    return model


def _write(model: NluModel, path: Path) -> None:
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".model-", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(model, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
        tmp = None
    except OSError:
        logger.warning("cannot cache the nlu model in %s", path.parent, exc_info=True)
        return
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
    for old in path.parent.glob(f"{_PREFIX}*.pkl"):
        if old != path:
            try:
                old.unlink()
            except OSError:
                logger.warning("cannot remove stale nlu model %s", old.name)

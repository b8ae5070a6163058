"""Fixtures for the NLU tests: one trained backend per session (in a temporary
model directory, so tests never touch var/), and no network beyond loopback."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.nlu.model import DEFAULT_DATA_DIR, NluModel, load_or_train
from bot.nlu.pipeline import LocalNlu

_real_connect = socket.socket.connect


def _loopback_only(self: socket.socket, address: Any) -> Any:
    if self.family in (socket.AF_INET, socket.AF_INET6):
        host = address[0]
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = host == "localhost"
        if not loopback:
            raise OSError(f"network access in tests is not allowed ({host})")
    return _real_connect(self, address)


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _loopback_only)


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("nlu-model")


@pytest.fixture(scope="session")
def trained_model(model_dir: Path) -> NluModel:
    return load_or_train(DEFAULT_DATA_DIR, model_dir)


@pytest.fixture(scope="session")
def nlu(trained_model: NluModel) -> Iterator[LocalNlu]:
    yield LocalNlu(model=trained_model)

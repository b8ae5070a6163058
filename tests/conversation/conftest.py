"""The intake flow as shipped, for the conversation's unit tests (no database)."""

from __future__ import annotations

import pytest

from bot.flows.loader import load_flows
from bot.flows.schema import Flow
from bot.settings import PROJECT_ROOT


@pytest.fixture(scope="session")
def intake() -> Flow:
    return load_flows(PROJECT_ROOT / "config" / "flows")["intake"]

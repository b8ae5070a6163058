"""The one wiring point builds what the settings ask for."""

from __future__ import annotations

from typing import Any

from bot.nlu.pipeline import LocalNlu
from bot.nlu.rasa_http import RasaNlu
from bot.runtime import build_runtime


async def test_local_nlu_by_default_and_rasa_when_asked(settings_factory: Any,
                                                        nlu_cache_dir: Any) -> None:
    local = build_runtime(settings_factory(nlu_cache_dir=nlu_cache_dir))
    assert isinstance(local.nlu, LocalNlu)
    await local.close()
    remote = build_runtime(settings_factory(nlu_cache_dir=nlu_cache_dir,
                                            rasa_url="http://127.0.0.1:5005"))
    assert isinstance(remote.nlu, RasaNlu) and isinstance(remote.nlu.local, LocalNlu)
    await remote.close()

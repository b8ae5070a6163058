"""Trying a draft flow: the engine in memory, nothing stored."""

from __future__ import annotations

from bot.flows.rehearsal import rehearse
from bot.nlu.variety import choose_reply_variety
from bot.runtime import Runtime


async def test_a_whole_intake_in_memory(runtime: Runtime) -> None:
    flow = runtime.flows.get("intake")
    turns = await rehearse(flow, ["bonjour", "oui", "oui", "avocat", "Tiznit", "1",
                                  "le matin", "Passer"],
                           nlu=runtime.nlu, places=runtime.places,
                           choose_variety=choose_reply_variety)
    assert turns[0].replies[0].text == flow.text("greeting", "fr")
    assert turns[0].replies[1].buttons  # the first question offers choices
    assert any("handoff" in t.events for t in turns)
    assert "AM-XXXXXX" in turns[-1].replies[-1].text
    assert all(t.error is None for t in turns)


async def test_quick_exit_is_shown(runtime: Runtime) -> None:
    turns = await rehearse(runtime.flows.get("intake"), ["bonjour", "stop"],
                           nlu=runtime.nlu, places=runtime.places,
                           choose_variety=choose_reply_variety)
    assert "quick_exit" in turns[-1].events

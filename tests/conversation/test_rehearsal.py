"""Trying a draft flow: the engine in memory, nothing stored."""

from __future__ import annotations

from bot.conversation.rehearsal import rehearse
from bot.runtime import Runtime


async def test_a_whole_intake_in_memory(runtime: Runtime) -> None:
    flow = runtime.flows.get("intake")
    turns = await rehearse(flow, ["bonjour", "oui", "oui", "avocat", "Tiznit", "1",
                                  "le matin", "Passer"],
                           understanding=runtime.understanding)
    assert turns[0].replies[0].text == flow.text("greeting", "fr")
    assert turns[0].replies[1].buttons  # the first question offers choices
    assert any("handoff" in t.events for t in turns)
    assert "AM-XXXXXX" in turns[-1].replies[-1].text
    assert all(t.error is None for t in turns)


async def test_quick_exit_is_shown(runtime: Runtime) -> None:
    turns = await rehearse(runtime.flows.get("intake"), ["bonjour", "stop"],
                           understanding=runtime.understanding)
    assert "quick_exit" in turns[-1].events


async def test_an_erasure_is_shown_and_nothing_is_written(runtime: Runtime) -> None:
    from sqlalchemy import func, select

    from bot.storage.models import Case, Contact, Message

    turns = await rehearse(runtime.flows.get("intake"),
                           ["bonjour", "je veux supprimer mes données", "Oui, tout effacer"],
                           understanding=runtime.understanding)
    assert "erase" in turns[-1].events
    async with runtime.sessionmaker() as db:
        for model in (Case, Contact, Message):
            assert await db.scalar(select(func.count()).select_from(model)) == 0

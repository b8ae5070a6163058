"""Issue 19 points 1 and 3 through the simulator, in the four varieties: a town
that is also an everyday word ("Safi" is "enough", a quick-exit word) is her town
at the town question, read back to her, and her conversation is kept; a place
matched only by likeness (a mountain pass is not a commune) is read back with its
province before anything is routed; she can say no and try again, or name her
province instead, and her case goes where she is."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from bot.runtime import Runtime
from bot.storage.models import Case
from tests.support import Woman

TO_THE_TOWN_QUESTION = {
    "fr": ("Bonjour", "oui", "oui", "j'ai besoin d'un avocat"),
    "ary_latn": ("salam", "ah", "ah", "bghit mo7ami"),
    "ary": ("السلام", "ايه", "ايه", "بغيت محامي"),
    "ar": ("مرحبا، هل يمكنني الكتابة هنا بكل أمان؟", "نعم", "نعم", "أحتاج إلى محام من فضلك"),
}
YES = {"fr": "oui", "ary_latn": "ah", "ary": "ايه", "ar": "نعم"}
NO = {"fr": "non", "ary_latn": "la", "ary": "لا", "ar": "لا"}
PROVINCE = {"fr": "ma province", "ary_latn": "i9lim", "ary": "الإقليم", "ar": "إقليم"}
# Safi, as she writes it in each variety: alone, where "safi" is also "enough".
SAFI = {"fr": "Safi", "ary_latn": "safi", "ary": "آسفي", "ar": "آسفي"}
SAFI_IN_A_SENTENCE = {"fr": "je suis à Safi", "ary_latn": "ana f safi",
                      "ary": "ساكنة ف آسفي", "ar": "أنا من آسفي"}
# A mountain pass near Marrakech: not a commune; the nearest spelling is a village
# in Aousserd, about 1,500 km south. Her province, Al Haouz, is what routes her.
PASS = {"fr": "col du Tichka", "ary_latn": "tichka", "ary": "tichka", "ar": "tichka"}
AL_HAOUZ = {"fr": "Al Haouz", "ary_latn": "l7aouz", "ary": "الحوز", "ar": "إقليم الحوز"}


async def _at_the_town_question(her: Woman, runtime: Runtime, variety: str) -> None:
    flow = runtime.flows.get("intake")
    replies = await her.says_all(*TO_THE_TOWN_QUESTION[variety])
    assert replies[-1]["text"] == flow.text("ask_town", variety), her.transcript


async def _finish(her: Woman, variety: str) -> None:
    words = {"fr": ("par message", "le matin", "Passer"),
             "ary_latn": ("ghir b les messages", "f sba7", "douzi"),
             "ary": ("غير بالميساجات", "فالصباح", "دوزي"),
             "ar": ("بالرسائل هنا فقط", "صباحا", "تخطي")}[variety]
    await her.says_all(*words)


async def _her_case(runtime: Runtime) -> Case:
    async with runtime.sessionmaker() as db:
        case = await db.scalar(select(Case))
    assert case is not None
    return case


@pytest.mark.parametrize("variety", sorted(SAFI))
async def test_a_town_that_is_an_everyday_word_is_her_town(
        variety: str, client: httpx.AsyncClient, runtime: Runtime) -> None:
    flow = runtime.flows.get("intake")
    her = Woman(client, f"safi-{variety}")
    await _at_the_town_question(her, runtime, variety)
    replies = await her.says(SAFI[variety])
    last = replies[-1]["text"]
    if last.startswith(flow.text("confirm_town", variety).split("{")[0]):
        assert "Safi" in last or "آسفي" in last, her.transcript
        replies = await her.says(YES[variety])
        last = replies[-1]["text"]
    assert last == flow.text("ask_contact_how", variety), her.transcript
    assert await runtime.conversations.current_session("simulator", her.sender) is not None
    await _finish(her, variety)
    case = await _her_case(runtime)
    assert case.city == "Safi" and not case.urgent
    assert case.center_id == "sample-07431-emf"


@pytest.mark.parametrize("variety", sorted(SAFI_IN_A_SENTENCE))
async def test_a_town_in_her_sentence_is_never_a_quick_exit(
        variety: str, client: httpx.AsyncClient, runtime: Runtime) -> None:
    flow = runtime.flows.get("intake")
    her = Woman(client, f"safi-sentence-{variety}")
    await _at_the_town_question(her, runtime, variety)
    replies = await her.says(SAFI_IN_A_SENTENCE[variety])
    assert replies[-1]["text"] == flow.text("ask_contact_how", variety), her.transcript
    session = await runtime.conversations.current_session("simulator", her.sender)
    assert session is not None and session.slots["city"]["name_fr"] == "Safi"


@pytest.mark.parametrize("variety", sorted(PASS))
async def test_a_guessed_place_is_read_back_and_her_province_routes_her(
        variety: str, client: httpx.AsyncClient, runtime: Runtime) -> None:
    flow = runtime.flows.get("intake")
    her = Woman(client, f"pass-{variety}")
    await _at_the_town_question(her, runtime, variety)
    asked = flow.text("confirm_town", variety).split("{")[0]
    replies = await her.says(PASS[variety])
    assert replies[-1]["text"].startswith(asked), her.transcript
    assert "Aousserd" in replies[-1]["text"] or "أوسرد" in replies[-1]["text"], her.transcript
    replies = await her.says(NO[variety])  # no: she is asked her town again
    assert replies[-1]["text"] == flow.text("ask_town", variety), her.transcript
    replies = await her.says(PASS[variety])
    assert replies[-1]["text"].startswith(asked), her.transcript
    replies = await her.says(PROVINCE[variety])  # she names her province instead
    assert replies[-1]["text"] == flow.text("ask_province", variety), her.transcript
    replies = await her.says(AL_HAOUZ[variety])
    assert replies[-1]["text"] == flow.text("ask_contact_how", variety), her.transcript
    await _finish(her, variety)
    case = await _her_case(runtime)
    assert case.city == "Al Haouz"
    async with runtime.sessionmaker() as db:
        from bot.storage.models import Center
        center = await db.get(Center, case.center_id)
    assert center is not None and center.region_id == "07", center  # Marrakech-Safi


@pytest.mark.parametrize("variety", ["fr", "ary_latn"])
async def test_away_from_the_town_question_safi_still_wipes_the_conversation(
        variety: str, client: httpx.AsyncClient, runtime: Runtime) -> None:
    """Leaving quickly comes first: "safi" ("enough") at any other question is the
    quick exit it always was, and at the town question "stop" still is."""
    flow = runtime.flows.get("intake")
    her = Woman(client, f"safi-exit-{variety}")
    await her.says_all(*TO_THE_TOWN_QUESTION[variety][:2])
    replies = await her.says("safi")
    assert [r["text"] for r in replies] == [flow.text("quick_exit_done", variety)]
    assert await runtime.conversations.current_session("simulator", her.sender) is None
    her = Woman(client, f"stop-at-town-{variety}")
    await _at_the_town_question(her, runtime, variety)
    replies = await her.says("stop")
    assert [r["text"] for r in replies] == [flow.text("quick_exit_done", variety)]

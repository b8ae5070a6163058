"""Issue 19 point 9 through the simulator, in the four varieties: what she tells
where a choice was expected is thanked for, kept, and reaches the counselor with her
case; a greeting or an emoji mid-conversation is greeted; an answer not understood
gets the choices again and the offer of a person, never a bare "answer with the
number"."""

from __future__ import annotations

import re

import httpx
import pytest

from bot.runtime import Runtime
from tests.support import Woman, add_account, login

OPENING = {"fr": ("Bonjour", "oui"), "ary_latn": ("salam", "ah"),
           "ary": ("السلام", "ايه"), "ar": ("مرحبا، هل يمكنني الكتابة هنا بأمان؟", "نعم")}
# Told at the consent question, which expects yes or no.
TOLD = {"fr": "mon mari me frappe et me prend mon argent",
        "ary_latn": "rajli kaydrbni o kaychedd lia flousi",
        "ary": "راجلي كيضربني وكياخد ليا فلوسي",
        "ar": "زوجي يضربني ويأخذ مالي"}
GREETING = {"fr": "bonjour", "ary_latn": "salam", "ary": "السلام عليكم", "ar": "السلام عليكم"}
REST = {"fr": ("oui", "avocat", "Tiznit", "1", "le matin", "Passer"),
        "ary_latn": ("ah", "2", "tiznit", "1", "f sba7", "douzi"),
        "ary": ("ايه", "2", "تيزنيت", "1", "فالصباح", "دوزي"),
        "ar": ("نعم", "2", "تيزنيت", "1", "صباحا", "تخطي")}
MAYBE = {"fr": "peut-être", "ary_latn": "ymkn", "ary": "يمكن", "ar": "ربما"}
REFERENCE = re.compile(r"AM-[ACDEFHJKMNPRTUVWXY3479]{6}")


@pytest.mark.parametrize("variety", sorted(TOLD))
async def test_what_she_tells_at_a_button_question_is_kept_for_the_counselor(
        variety: str, client: httpx.AsyncClient, runtime: Runtime) -> None:
    flow = runtime.flows.get("intake")
    her = Woman(client, f"told-{variety}")
    await her.says_all(*OPENING[variety])
    replies = [r["text"] for r in await her.says(TOLD[variety])]
    assert replies == [flow.text("disclosure_kept", variety),
                       flow.text("ask_consent", variety)], her.transcript
    for text in (GREETING[variety], "🙏"):
        replies = [r["text"] for r in await her.says(text)]
        assert replies == [flow.text("still_here", variety),
                           flow.text("ask_consent", variety)], her.transcript
    replies = [r["text"] for r in await her.says(MAYBE[variety])]
    assert replies[0] == flow.text("not_understood", variety), her.transcript
    replies = await her.says_all(*REST[variety])
    reference = REFERENCE.search(replies[-1]["text"])
    assert reference, her.transcript
    await add_account(runtime, "salma", "counselor", "sample-09581-emf")
    auth = await login(client, "salma")
    shown = (await client.get(f"/api/v1/cases/{reference.group()}", headers=auth)).json()
    assert TOLD[variety] in shown["summary"]
    assert "physical" in shown["violence"]

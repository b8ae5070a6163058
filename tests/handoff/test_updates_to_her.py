"""She is never left in silence: taken, moved, closed, each told once, in her variety,
in words that are safe if someone else reads her phone; and coming back to her case."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import httpx
import pytest
from sqlalchemy import select, update

from bot.runtime import Runtime
from bot.storage.models import AuditEvent, Case
from tests.support import Woman, add_account, login
from tests.web.test_api import REFERENCE, make_case

TIZNIT = "sample-09581-emf"
AGADIR_AREA = "sample-01051-emf"
INTAKE_AR = ["السلام", "نعم", "نعم", "محامية", "تيزنيت", "1", "في الصباح", "تخطي"]


async def what_she_was_sent(runtime: Runtime, her: Woman) -> list[str]:
    await runtime.outbox.deliver()
    return [m["text"] for m in await her.outbox()]


async def counselor(client: httpx.AsyncClient, runtime: Runtime, name: str = "salma",
                    center: str = TIZNIT) -> dict[str, str]:
    await add_account(runtime, name, "counselor", center)
    return await login(client, name)


async def _consent(runtime: Runtime, reference: str) -> None:
    async with runtime.sessionmaker() as db:
        await db.execute(update(Case).where(Case.reference == reference).values(consent=True))
        await db.commit()


async def test_taken_moved_closed_each_told_once_in_her_variety(
        client: httpx.AsyncClient, runtime: Runtime) -> None:
    flow = runtime.flows.get("intake")
    her = Woman(client, "w1")
    reference = await make_case(client, "w1", "Tiznit")
    auth = await counselor(client, runtime)
    assert await what_she_was_sent(runtime, her) == []  # nothing yet: she was told at handoff
    assert (await client.post(f"/api/v1/cases/{reference}/claim", headers=auth)).status_code == 200
    assert await what_she_was_sent(runtime, her) == [flow.text("case_taken", "fr")]
    await _consent(runtime, reference)
    moved = await client.post(f"/api/v1/cases/{reference}/transfer", headers=auth,
                              json={"center_id": AGADIR_AREA, "reason": "plus proche"})
    assert moved.status_code == 200, moved.text
    other = await counselor(client, runtime, "nadia", AGADIR_AREA)
    closed = await client.post(f"/api/v1/cases/{reference}/close", headers=other,
                               json={"outcome": "referred"})
    assert closed.status_code == 200, closed.text
    assert await what_she_was_sent(runtime, her) == [
        flow.text(t, "fr") for t in ("case_taken", "case_moved", "case_closed")]


async def test_she_hears_it_in_the_variety_she_wrote(client: httpx.AsyncClient,
                                                      runtime: Runtime) -> None:
    flow = runtime.flows.get("intake")
    her = Woman(client, "w2")
    await her.says_all(*INTAKE_AR)
    async with runtime.sessionmaker() as db:
        case = await db.scalar(select(Case))
    assert case is not None and case.language in ("ar", "ary")
    auth = await counselor(client, runtime)
    await client.post(f"/api/v1/cases/{case.reference}/claim", headers=auth)
    assert await what_she_was_sent(runtime, her) == [flow.text("case_taken", case.language)]


async def test_an_escalation_tells_her_a_reminder_does_not(client: httpx.AsyncClient,
                                                            runtime: Runtime) -> None:
    flow = runtime.flows.get("intake")
    her = Woman(client, "w3")
    reference = await make_case(client, "w3", "Tiznit")
    async with runtime.sessionmaker() as db:
        case = await db.scalar(select(Case).where(Case.reference == reference))
        assert case is not None
        created = case.created_at
    moved = await runtime.sla.run_once(created + timedelta(hours=4, minutes=1))
    assert moved and moved[0].to_center_id != TIZNIT
    assert (await what_she_was_sent(runtime, her)).count(flow.text("case_moved", "fr")) == 1


@pytest.mark.parametrize("days", [1, 29])
async def test_coming_back_within_the_reopen_days_reopens_her_case(
        client: httpx.AsyncClient, runtime: Runtime, days: int) -> None:
    flow = runtime.flows.get("intake")
    her = Woman(client, "w4")
    reference = await make_case(client, "w4", "Tiznit")
    auth = await counselor(client, runtime)
    await client.post(f"/api/v1/cases/{reference}/claim", headers=auth)
    await client.post(f"/api/v1/cases/{reference}/close", headers=auth,
                      json={"outcome": "referred"})
    async with runtime.sessionmaker() as db:
        await db.execute(update(Case).values(
            closed_at=datetime.now(timezone.utc) - timedelta(days=days)))
        await db.commit()
    replies = await her.says("salam, c'est encore moi")
    assert [r["text"] for r in replies] == [flow.text("case_ack", "fr")]  # no new greeting
    async with runtime.sessionmaker() as db:
        cases = (await db.scalars(select(Case))).all()
        audited = (await db.scalars(select(AuditEvent.action))).all()
    assert len(cases) == 1 and cases[0].status == "claimed"  # with her counselor again
    assert cases[0].reopened_at is not None and cases[0].closed_at is None
    assert "case.reopened" in audited
    shown = await client.get(f"/api/v1/cases/{reference}", headers=auth)
    assert shown.json()["status"] == "claimed"


async def test_after_the_reopen_days_a_new_intake_linked_to_the_earlier_case(
        client: httpx.AsyncClient, runtime: Runtime) -> None:
    flow = runtime.flows.get("intake")
    her = Woman(client, "w5")
    first = await make_case(client, "w5", "Tiznit")
    auth = await counselor(client, runtime)
    await client.post(f"/api/v1/cases/{first}/close", headers=auth, json={"outcome": "referred"})
    async with runtime.sessionmaker() as db:
        await db.execute(update(Case).values(
            closed_at=datetime.now(timezone.utc) - timedelta(days=31)))
        await db.commit()
    replies = await her.says("bonjour")
    assert replies[0]["text"] == flow.text("greeting", "fr")  # a new intake
    replies = await her.says_all("oui", "oui", "avocat", "Tiznit", "1", "le matin", "Passer")
    second = REFERENCE.search(replies[-1]["text"]).group()  # type: ignore[union-attr]
    assert second != first
    shown = (await client.get(f"/api/v1/cases/{second}", headers=auth)).json()
    assert shown["previous_case"] == first

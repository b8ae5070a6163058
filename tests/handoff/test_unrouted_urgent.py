"""Every urgent case reaches a person: an urgent case no center has (her town unknown,
or the centers' time ran out) is in the queue of every counselor until one claims it,
and every console is alerted again each time its deadline passes."""

from __future__ import annotations

import re
from datetime import timedelta, timezone

import httpx
from sqlalchemy import select

from bot.handoff.sla import decide
from bot.notify import CaseNotice
from bot.runtime import Runtime
from bot.storage.models import Case, CaseEvent
from tests.handoff.test_sla import CENTERS, POLICY, T0, waiting
from tests.support import Woman, add_account, login
from tests.web.test_api import make_case

TIZNIT = "sample-09581-emf"
AL_HOCEIMA = "sample-01051-emf"
REFERENCE = re.compile(r"AM-[A-Z0-9]{6}")


async def urgent_without_a_town(client: httpx.AsyncClient, sender: str) -> str:
    """She is in danger and will not say where she is."""
    replies = await Woman(client, sender).says("il est là avec un couteau il va me tuer")
    reference = next(m.group() for r in replies if (m := REFERENCE.search(r["text"])))
    await Woman(client, sender).says("je préfère ne pas dire")
    return reference


async def queued_for(client: httpx.AsyncClient, headers: dict[str, str]) -> set[str]:
    answer = await client.get("/api/v1/cases?status=queued", headers=headers)
    assert answer.status_code == 200, answer.text
    return {c["reference"] for c in answer.json()["cases"]}


async def test_every_counselor_sees_an_urgent_case_no_center_has_until_one_takes_it(
        client: httpx.AsyncClient, runtime: Runtime) -> None:
    await add_account(runtime, "tiznit", "counselor", TIZNIT)
    await add_account(runtime, "hoceima", "counselor", AL_HOCEIMA)
    tiznit, hoceima = await login(client, "tiznit"), await login(client, "hoceima")
    urgent = await urgent_without_a_town(client, "w1")
    ordinary = await make_case(client, "w2", "je préfère ne pas dire")  # no town, not urgent
    async with runtime.sessionmaker() as db:
        cases = {c.reference: c for c in (await db.scalars(select(Case))).all()}
    assert cases[urgent].urgent and cases[urgent].center_id is None
    assert not cases[ordinary].urgent and cases[ordinary].center_id is None
    assert urgent in await queued_for(client, tiznit)
    assert urgent in await queued_for(client, hoceima)
    assert ordinary not in await queued_for(client, tiznit) | await queued_for(client, hoceima)

    taken = await client.post(f"/api/v1/cases/{urgent}/claim", headers=hoceima)
    assert taken.status_code == 200, taken.text
    assert (await client.get(f"/api/v1/cases/{urgent}", headers=hoceima)).status_code == 200
    assert (await client.get(f"/api/v1/cases/{urgent}", headers=tiznit)).status_code == 404
    assert urgent not in await queued_for(client, tiznit)
    async with runtime.sessionmaker() as db:
        case = await db.scalar(select(Case).where(Case.reference == urgent))
    assert case is not None and case.center_id == AL_HOCEIMA  # now her center's case


def test_every_console_hears_of_an_urgent_case_in_no_center() -> None:
    unrouted = CaseNotice("created", "AM-AAAAAA", (None,), urgent=True)
    assert unrouted.concerns(TIZNIT) and unrouted.concerns(AL_HOCEIMA)
    taken = CaseNotice("claimed", "AM-AAAAAA", (AL_HOCEIMA, None), urgent=True)
    assert taken.concerns(TIZNIT)  # its row goes from every queue
    assert not CaseNotice("created", "AM-BBBBBB", (None,)).concerns(TIZNIT)  # not urgent
    assert not CaseNotice("created", "AM-CCCCCC", (AL_HOCEIMA,), urgent=True).concerns(TIZNIT)


def test_an_urgent_case_in_the_national_queue_is_announced_again_at_each_deadline() -> None:
    national = waiting(urgent=True, center_id=None)
    assert decide(national, POLICY, T0 + timedelta(minutes=14), CENTERS) is None
    again = decide(national, POLICY, T0 + timedelta(minutes=15), CENTERS)
    assert again is not None and (again.from_center_id, again.to_center_id) == (None, None)
    assert decide(waiting(center_id=None), POLICY, T0 + timedelta(days=3), CENTERS) is None


async def test_the_monitor_reminds_once_per_deadline_whatever_the_workers(
        client: httpx.AsyncClient, runtime: Runtime) -> None:
    urgent = await urgent_without_a_town(client, "w1")
    async with runtime.sessionmaker() as db:
        case = await db.scalar(select(Case).where(Case.reference == urgent))
        assert case is not None
        created = case.created_at.replace(tzinfo=case.created_at.tzinfo or timezone.utc)
    assert await runtime.sla.run_once(created + timedelta(minutes=10)) == []
    first = await runtime.sla.run_once(created + timedelta(minutes=16))
    assert [(e.reference, e.to_center_id) for e in first] == [(urgent, None)]
    assert await runtime.sla.run_once(created + timedelta(minutes=17)) == []
    async with runtime.sessionmaker() as db:
        moves = (await db.scalars(select(CaseEvent))).all()
        case = await db.scalar(select(Case).where(Case.reference == urgent))
    assert [(m.kind, m.from_center_id, m.to_center_id) for m in moves] == [
        ("escalated", None, None)]
    assert case is not None and case.status == "queued" and case.center_id is None
    deadlines = await _deadline_of(runtime, urgent)
    assert deadlines is not None  # the console shows the time left


async def _deadline_of(runtime: Runtime, reference: str) -> object:
    async with runtime.sessionmaker() as db:
        case = await db.scalar(select(Case).where(Case.reference == reference))
        assert case is not None
        return (await runtime.sla.deadlines(db, [case]))[reference]

"""Counselor API v1: who sees and does what."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import select

from bot.runtime import Runtime
from bot.storage.models import AuditEvent
from tests.support import PASSWORD, Woman, add_account, login

REFERENCE = re.compile(r"AM-[A-Z0-9]{6}")


async def make_case(client: httpx.AsyncClient, sender: str, town: str) -> str:
    replies = await Woman(client, sender).says_all(
        "bonjour", "oui", "oui", "avocat", town, "1", "le matin", "Passer")
    match = REFERENCE.search(replies[-1]["text"])
    assert match
    return match.group()


async def test_token_needs_the_right_password(client: httpx.AsyncClient,
                                              runtime: Runtime) -> None:
    await add_account(runtime, "salma", "counselor", "sample-09581-emf")
    bad = await client.post("/api/v1/auth/token", json={"username": "salma", "password": "no"})
    assert bad.status_code == 401
    unknown = await client.post("/api/v1/auth/token",
                                json={"username": "ghost", "password": PASSWORD})
    assert unknown.status_code == 401
    good = await client.post("/api/v1/auth/token",
                             json={"username": "salma", "password": PASSWORD})
    assert good.status_code == 200 and good.json()["role"] == "counselor"


async def test_lockout_after_repeated_failures(client: httpx.AsyncClient,
                                               runtime: Runtime) -> None:
    await add_account(runtime, "salma", "counselor", "sample-09581-emf")
    for _ in range(5):
        await client.post("/api/v1/auth/token", json={"username": "salma", "password": "bad"})
    locked = await client.post("/api/v1/auth/token",
                               json={"username": "salma", "password": PASSWORD})
    assert locked.status_code == 401


async def test_no_token_or_a_bad_one(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/cases")).status_code == 401
    response = await client.get("/api/v1/cases", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401


async def test_each_role_sees_what_it_should(client: httpx.AsyncClient,
                                             runtime: Runtime) -> None:
    tiznit = await make_case(client, "w1", "Tiznit")
    casa = await make_case(client, "w2", "Casablanca")
    await add_account(runtime, "tiznit", "counselor", "sample-09581-emf")
    await add_account(runtime, "casa", "counselor", "sample-06141-emf")
    await add_account(runtime, "boss", "admin")
    await add_account(runtime, "stats", "analyst")
    t, c, a, s = [await login(client, u) for u in ("tiznit", "casa", "boss", "stats")]

    async def refs(headers: dict[str, str]) -> list[str]:
        response = await client.get("/api/v1/cases", headers=headers)
        return [case["reference"] for case in response.json()["cases"]]

    assert await refs(t) == [tiznit]
    assert await refs(c) == [casa]
    assert sorted(await refs(a)) == sorted([tiznit, casa])
    assert (await client.get("/api/v1/cases", headers=s)).status_code == 403

    # Another center's case does not exist, for every action.
    for headers, other in ((t, casa), (c, tiznit), (s, tiznit)):
        assert (await client.get(f"/api/v1/cases/{other}", headers=headers)).status_code == 404
        assert (await client.post(f"/api/v1/cases/{other}/claim",
                                  headers=headers)).status_code == 404
        assert (await client.post(f"/api/v1/cases/{other}/messages", headers=headers,
                                  json={"text": "x"})).status_code == 404
        assert (await client.post(f"/api/v1/cases/{other}/close", headers=headers,
                                  json={"outcome": "other"})).status_code == 404


async def test_two_counselors_cannot_both_claim(client: httpx.AsyncClient,
                                                runtime: Runtime) -> None:
    reference = await make_case(client, "w1", "Tiznit")
    await add_account(runtime, "one", "counselor", "sample-09581-emf")
    await add_account(runtime, "two", "counselor", "sample-09581-emf")
    one, two = await login(client, "one"), await login(client, "two")
    assert (await client.post(f"/api/v1/cases/{reference}/claim", headers=one)).status_code == 200
    again = await client.post(f"/api/v1/cases/{reference}/claim", headers=one)
    assert again.status_code == 200  # claiming one's own case again is harmless
    other = await client.post(f"/api/v1/cases/{reference}/claim", headers=two)
    assert other.status_code == 409 and "claimed" in other.json()["error"]


async def test_a_closed_case_takes_no_more_messages(client: httpx.AsyncClient,
                                                    runtime: Runtime) -> None:
    reference = await make_case(client, "w1", "Tiznit")
    await add_account(runtime, "one", "counselor", "sample-09581-emf")
    auth = await login(client, "one")
    await client.post(f"/api/v1/cases/{reference}/close", headers=auth,
                      json={"outcome": "withdrew"})
    late = await client.post(f"/api/v1/cases/{reference}/messages", headers=auth,
                             json={"text": "bonjour"})
    assert late.status_code == 409
    again = await client.post(f"/api/v1/cases/{reference}/close", headers=auth,
                              json={"outcome": "withdrew"})
    assert again.status_code == 409


async def test_replying_claims_and_everything_is_audited(client: httpx.AsyncClient,
                                                         runtime: Runtime) -> None:
    reference = await make_case(client, "w1", "Tiznit")
    await add_account(runtime, "one", "counselor", "sample-09581-emf")
    auth = await login(client, "one")
    await client.get(f"/api/v1/cases/{reference}", headers=auth)
    await client.post(f"/api/v1/cases/{reference}/messages", headers=auth, json={"text": "hi"})
    shown = (await client.get(f"/api/v1/cases/{reference}", headers=auth)).json()
    assert shown["status"] == "claimed"
    await client.post(f"/api/v1/cases/{reference}/close", headers=auth,
                      json={"outcome": "service_given"})
    async with runtime.sessionmaker() as db:
        actions = [(e.actor, e.action) for e in (await db.scalars(
            select(AuditEvent).where(AuditEvent.case_reference == reference)
            .order_by(AuditEvent.id))).all()]
    assert actions == [("bot", "case.created"), ("one", "case.viewed"), ("one", "case.claimed"),
                       ("one", "case.message_sent"), ("one", "case.viewed"),
                       ("one", "case.closed")]


async def test_national_queue_when_the_town_is_unknown(client: httpx.AsyncClient,
                                                       runtime: Runtime) -> None:
    replies = await Woman(client, "w1").says_all(
        "bonjour", "oui", "oui", "avocat", "Je préfère ne pas dire", "1", "le matin", "Passer")
    reference = REFERENCE.search(replies[-1]["text"])
    assert reference
    await add_account(runtime, "boss", "admin")
    shown = (await client.get(f"/api/v1/cases/{reference.group()}",
                              headers=await login(client, "boss"))).json()
    assert shown["center"] is None and shown["city"] is None


async def test_dates_are_utc_with_their_zone_in_every_answer(client: httpx.AsyncClient,
                                                             runtime: Runtime) -> None:
    reference = await make_case(client, "w1", "Tiznit")
    await add_account(runtime, "boss", "admin")
    auth = await login(client, "boss")
    listed = (await client.get("/api/v1/cases", headers=auth)).json()["cases"][0]
    shown = (await client.get(f"/api/v1/cases/{reference}", headers=auth)).json()
    for value in (listed["created_at"], shown["created_at"], shown["messages"][0]["at"]):
        assert value.endswith(("Z", "+00:00")), value

"""Transfers through API v1 (the console uses the same service)."""

from __future__ import annotations

import httpx
from sqlalchemy import select, update

from bot.runtime import Runtime
from bot.storage.models import Case, CaseEvent
from tests.support import add_account, login
from tests.web.test_api import make_case


async def test_transfer_through_the_api(client: httpx.AsyncClient, runtime: Runtime) -> None:
    reference = await make_case(client, "w1", "Tiznit")
    await add_account(runtime, "tiznit", "counselor", "sample-09581-emf")
    await add_account(runtime, "casa", "counselor", "sample-06141-emf")
    tiznit, casa = await login(client, "tiznit"), await login(client, "casa")
    await client.post(f"/api/v1/cases/{reference}/claim", headers=tiznit)
    url = f"/api/v1/cases/{reference}/transfer"
    assert (await client.post(url, headers=tiznit, json={"center_id": "nowhere",
                                                         "reason": "x"})).status_code == 400
    assert (await client.post(url, headers=tiznit, json={"center_id": "sample-06141-emf"})
            ).status_code == 400
    assert (await client.post(url, headers=tiznit, json={
        "center_id": "sample-09581-emf", "reason": "same"})).status_code == 409
    assert (await client.post(url, headers=casa, json={
        "center_id": "sample-06141-emf", "reason": "mine"})).status_code == 404
    moved = await client.post(url, headers=tiznit, json={
        "center_id": "sample-06141-emf", "reason": "Elle part vivre à Casablanca"})
    assert moved.status_code == 200
    assert moved.json() == {"reference": reference, "status": "queued",
                            "center_id": "sample-06141-emf"}
    listed = (await client.get("/api/v1/cases", headers=casa)).json()["cases"]
    assert [c["reference"] for c in listed] == [reference]
    assert (await client.get(f"/api/v1/cases/{reference}", headers=tiznit)).status_code == 404
    async with runtime.sessionmaker() as db:
        event = await db.scalar(select(CaseEvent))
        assert event is not None and event.kind == "transferred" and event.actor == "tiznit"
        assert runtime.cipher.decrypt(event.reason_enc or b"") == "Elle part vivre à Casablanca"


async def test_no_transfer_without_consent_or_once_closed(client: httpx.AsyncClient,
                                                          runtime: Runtime) -> None:
    reference = await make_case(client, "w1", "Tiznit")
    await add_account(runtime, "boss", "admin")
    auth = await login(client, "boss")
    url = f"/api/v1/cases/{reference}/transfer"
    body = {"center_id": "sample-06141-emf", "reason": "x"}
    async with runtime.sessionmaker() as db:
        await db.execute(update(Case).values(consent=False))
        await db.commit()
    refused = await client.post(url, headers=auth, json=body)
    assert refused.status_code == 409 and "agreed" in refused.json()["error"]
    async with runtime.sessionmaker() as db:
        await db.execute(update(Case).values(consent=True, status="closed"))
        await db.commit()
    assert (await client.post(url, headers=auth, json=body)).status_code == 409

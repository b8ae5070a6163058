"""Least access (issue 6): every role against every endpoint. A counselor reaches only
her center's cases (another center's case does not exist for her: 404), an analyst
only aggregates, an admin everything; nobody anything without logging in."""

from __future__ import annotations

import re

import httpx
import pytest

from bot.runtime import Runtime
from tests.support import Woman, add_account, console_login, csrf_of, login

REFERENCE = re.compile(r"AM-[A-Z0-9]{6}")
ROLES = ("own", "other", "admin", "analyst")


async def make_case(client: httpx.AsyncClient, sender: str, town: str) -> str:
    replies = await Woman(client, sender).says_all(
        "bonjour", "oui", "oui", "avocat", town, "1", "le matin", "Passer")
    match = REFERENCE.search(replies[-1]["text"])
    assert match, replies
    return match.group()


@pytest.fixture
async def world(client: httpx.AsyncClient, runtime: Runtime) -> dict[str, str]:
    ref = await make_case(client, "w1", "Tiznit")
    await add_account(runtime, "own", "counselor", "sample-09581-emf")
    await add_account(runtime, "other", "counselor", "sample-06141-emf")
    await add_account(runtime, "admin", "admin")
    await add_account(runtime, "analyst", "analyst")
    return {"ref": ref}


# expected status by role: own counselor, other center's counselor, admin, analyst
API = [
    ("GET", "/api/v1/me", None, (200, 200, 200, 200)),
    ("GET", "/api/v1/cases", None, (200, 200, 200, 403)),
    ("GET", "/api/v1/cases/{ref}", None, (200, 404, 200, 404)),
    ("POST", "/api/v1/cases/{ref}/transfer", {"center_id": "sample-09541-emf",
                                              "reason": "plus proche"}, (None, 404, None, 404)),
    ("POST", "/api/v1/cases/{ref}/claim", None, (None, 404, None, 404)),
    ("POST", "/api/v1/cases/{ref}/messages", {"text": "bonjour"}, (None, 404, None, 404)),
    ("POST", "/api/v1/cases/{ref}/close", {"outcome": "referred"}, (None, 404, None, 404)),
    ("GET", "/api/v1/stats/by/region", None, (403, 403, 200, 200)),
    ("GET", "/api/v1/stats/table?rows=region&cols=need", None, (403, 403, 200, 200)),
    ("GET", "/api/v1/stats/coverage", None, (403, 403, 200, 200)),
]


async def test_api_by_role(client: httpx.AsyncClient, world: dict[str, str]) -> None:
    tokens = {role: await login(client, role) for role in ROLES}
    for method, path, body, expected in API:
        url = path.format(**world)
        assert (await client.request(method, url, json=body)).status_code == 401, url
        for role, status in zip(ROLES, expected):
            if status is None:
                continue  # a state-changing action her own center may take: below
            response = await client.request(method, url, json=body, headers=tokens[role])
            assert response.status_code == status, (role, method, url, response.text)
            if status == 404:
                assert "AM-" in response.json()["error"]  # "no case ...", nothing more
    # What the other center, the analyst cannot do, her own center can.
    own = tokens["own"]
    ref = world["ref"]
    assert (await client.post(f"/api/v1/cases/{ref}/claim", headers=own)).status_code == 200
    sent = await client.post(f"/api/v1/cases/{ref}/messages", headers=own, json={"text": "hi"})
    assert sent.status_code == 201
    closed = await client.post(f"/api/v1/cases/{ref}/close", headers=own,
                               json={"outcome": "referred"})
    assert closed.status_code == 200


CONSOLE_GET = [
    ("/console/queue", (200, 200, 200, 403)),
    ("/console/cases/{ref}", (200, 404, 200, 403)),
    ("/console/admin/centers", (403, 403, 200, 403)),
    ("/console/admin/centers/export.csv", (403, 403, 200, 403)),
    ("/console/admin/accounts", (403, 403, 200, 403)),
    ("/console/admin/flows", (403, 403, 200, 403)),
    ("/console/admin/canned", (403, 403, 200, 403)),
    ("/console/admin/intents", (403, 403, 200, 403)),
    ("/console/admin/audit", (403, 403, 200, 403)),
    ("/console/map", (403, 403, 200, 200)),
    ("/console/coverage", (403, 403, 200, 200)),
    ("/console/coverage.csv", (403, 403, 200, 200)),
]


async def test_console_by_role(client: httpx.AsyncClient, world: dict[str, str]) -> None:
    for path, _ in CONSOLE_GET:  # not logged in: to the login page, nothing shown
        response = await client.get(path.format(**world))
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/console/login")
    for role, index in zip(ROLES, range(4)):
        await console_login(client, role)
        for path, expected in CONSOLE_GET:
            response = await client.get(path.format(**world))
            assert response.status_code == expected[index], (role, path)


async def test_the_other_center_cannot_act_on_her_case_from_the_console(
        client: httpx.AsyncClient, world: dict[str, str]) -> None:
    ref = world["ref"]
    await console_login(client, "other")
    csrf = csrf_of((await client.get("/console/queue")).text)
    for action, data in (("claim", {}), ("reply", {"text": "x"}), ("notes", {"text": "x"}),
                         ("close", {"outcome": "referred"}), ("address", {}),
                         ("transfer", {"center_id": "sample-06141-emf", "reason": "x"})):
        response = await client.post(f"/console/cases/{ref}/{action}",
                                     data={"csrf_token": csrf, **data})
        assert response.status_code == 404, (action, response.status_code)


async def test_counselors_see_a_masked_address(client: httpx.AsyncClient,
                                               world: dict[str, str]) -> None:
    shown = (await client.get(f"/api/v1/cases/{world['ref']}",
                              headers=await login(client, "own"))).json()
    assert shown["address_masked"] != "w1" and "•" in shown["address_masked"]

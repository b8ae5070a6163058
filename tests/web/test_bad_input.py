"""Bad input gets a clear 4xx with a reason, stores nothing half-way, never a 500."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from bot.runtime import Runtime
from bot.storage.models import Contact, Message
from tests.support import add_account, login


async def count_rows(runtime: Runtime) -> tuple[int, int]:
    async with runtime.sessionmaker() as db:
        messages = await db.scalar(select(func.count()).select_from(Message))
        contacts = await db.scalar(select(func.count()).select_from(Contact))
    return int(messages or 0), int(contacts or 0)


@pytest.mark.parametrize(("body", "reason"), [
    ({"sender": "amina", "text": ""}, "text: text is empty"),
    ({"sender": "amina", "text": "   \n "}, "text: text is empty"),
    ({"sender": "amina", "text": "x" * 4097}, "text: text is longer than 4096 characters"),
    ({"sender": "", "text": "salam"}, "sender: sender must be 1-64 characters"),
    ({"sender": "a b", "text": "salam"}, "sender: sender must be 1-64 characters"),
    ({"sender": "x" * 65, "text": "salam"}, "sender: sender must be 1-64 characters"),
    ({"sender": "amina"}, "text: Field required"),
    ({"text": "salam"}, "sender: Field required"),
    ({"sender": 12, "text": "salam"}, "sender: Input should be a valid string"),
    ({"sender": "amina", "text": ["salam"]}, "text: Input should be a valid string"),
    ({"sender": "amina", "text": "salam", "admin": True}, "admin: Extra inputs are not permitted"),
])
async def test_bad_simulator_messages(client: httpx.AsyncClient, runtime: Runtime,
                                      body: dict[str, Any], reason: str) -> None:
    response = await client.post("/webhooks/simulator", json=body)
    assert response.status_code == 400
    assert reason in response.json()["error"]
    assert await count_rows(runtime) == (0, 0)


@pytest.mark.parametrize("raw", [b"{not json", b"", b"[]", b"null", b"\xff\xfe"])
async def test_malformed_json(client: httpx.AsyncClient, runtime: Runtime, raw: bytes) -> None:
    response = await client.post("/webhooks/simulator", content=raw,
                                 headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]
    assert await count_rows(runtime) == (0, 0)


async def test_the_longest_allowed_message_is_accepted(client: httpx.AsyncClient) -> None:
    response = await client.post("/webhooks/simulator",
                                 json={"sender": "amina", "text": "ا" * 4096})
    assert response.status_code == 200


async def test_outbox_of_an_unknown_sender_is_empty_and_bad_sender_refused(
        client: httpx.AsyncClient) -> None:
    assert (await client.get("/webhooks/simulator/nobody/outbox")).json() == {"messages": []}
    response = await client.get("/webhooks/simulator/a%20b/outbox")
    assert response.status_code == 400


async def test_unknown_case_reference(client: httpx.AsyncClient, runtime: Runtime) -> None:
    await add_account(runtime, "admin", "admin")
    auth = await login(client, "admin")
    for method, path, body in [
        ("GET", "/api/v1/cases/AM-XXXXXX", None),
        ("POST", "/api/v1/cases/AM-XXXXXX/claim", None),
        ("POST", "/api/v1/cases/AM-XXXXXX/messages", {"text": "bonjour"}),
        ("POST", "/api/v1/cases/AM-XXXXXX/close", {"outcome": "referred"}),
    ]:
        response = await client.request(method, path, headers=auth, json=body)
        assert response.status_code == 404, path
        assert response.json() == {"error": "no case AM-XXXXXX"}
    response = await client.get("/api/v1/cases/AM-%3Cscript%3E", headers=auth)
    assert response.status_code == 400


async def test_bad_api_bodies(client: httpx.AsyncClient, runtime: Runtime) -> None:
    await add_account(runtime, "admin", "admin")
    auth = await login(client, "admin")
    response = await client.post("/api/v1/auth/token", json={"username": "admin"})
    assert response.status_code == 400 and "password: Field required" in response.json()["error"]
    response = await client.post("/api/v1/cases/AM-XXXXXX/close", headers=auth,
                                 json={"outcome": "solved"})
    assert response.status_code == 400 and "outcome" in response.json()["error"]
    response = await client.post("/api/v1/cases/AM-XXXXXX/messages", headers=auth,
                                 json={"text": "x" * 4097})
    assert response.status_code == 400
    response = await client.get("/api/v1/cases?status=lost", headers=auth)
    assert response.status_code == 400 and "status" in response.json()["error"]


async def test_simulator_can_be_turned_off(settings_factory: Any, database_url: str,
                                           nlu_cache_dir: Any) -> None:
    from bot.runtime import build_runtime
    from bot.web.app import create_app

    runtime = build_runtime(settings_factory(database_url=database_url,
                                             nlu_cache_dir=nlu_cache_dir,
                                             simulator_enabled=False))
    app = create_app(runtime, background=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://t") as client:
        response = await client.post("/webhooks/simulator", json={"sender": "a", "text": "b"})
        assert response.status_code == 404
        assert "SIMULATOR_ENABLED=false" in response.json()["error"]
        assert (await client.get("/healthz")).json() == {"status": "ok"}
    await runtime.close()


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}

"""Property-based tests: random and hostile payloads never cause a 500 or leave a
half-stored record."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.handoff.directory import import_centers, parse_centers_csv
from bot.runtime import Runtime, build_runtime
from bot.settings import Settings
from bot.storage.models import Contact, Message
from bot.web.app import create_app
from tests.conftest import SAMPLE_CENTERS
from tests.support import LoopThread, add_account, login

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=50),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
HOSTILE_TEXT = st.one_of(
    st.text(min_size=0, max_size=300),
    st.sampled_from(["\x00", "' OR 1=1 --", "<script>alert(1)</script>", "{reference}",
                     "{{7*7}}", "%s%s%s", "\u202e\u200f", "ﷺ" * 100, "٣" * 10, "\ud7ff",
                     "a" * 4096, "a" * 4097, "   ", "stop", "1 2 3 4 5 6 7 8 9"]),
)
SENDERS = st.one_of(st.sampled_from(["amina", "x", "a.b@c", "+212600000000"]),
                    st.text(max_size=70))


class App:
    def __init__(self, runtime: Runtime, loop: LoopThread) -> None:
        self.runtime = runtime
        self.loop = loop
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(runtime, background=False)),
            base_url="http://testserver")

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response: httpx.Response = self.loop.run(self.client.request(method, path, **kwargs))
        return response

    def no_half_records(self) -> None:
        async def check() -> None:
            async with self.runtime.sessionmaker() as db:
                unprocessed = await db.scalar(select(func.count()).select_from(Message).where(
                    Message.direction == "in", Message.status != "processed"))
                lonely = await db.scalar(select(func.count()).select_from(Contact).where(
                    ~Contact.id.in_(select(Message.contact_id).where(
                        Message.contact_id.is_not(None)))))
            assert unprocessed == 0, "an inbound message was stored but never processed"
            assert lonely == 0, "a contact was stored without any message"

        self.loop.run(check())


@pytest.fixture
def app(settings: Settings) -> Iterator[App]:
    loop = LoopThread()
    runtime = build_runtime(settings.model_copy(update={"rate_limit_sender_per_minute": 10_000,
                                                         "rate_limit_ip_per_minute": 100_000,
                                                         "rate_limit_login_per_minute": 100_000}))

    async def load() -> None:
        async with runtime.sessionmaker() as db:
            await import_centers(db, parse_centers_csv(SAMPLE_CENTERS.read_text("utf-8")))
            await db.commit()

    loop.run(load())
    application = App(runtime, loop)
    yield application
    loop.run(application.client.aclose())
    loop.run(runtime.close())
    loop.close()


PROPERTY = settings(max_examples=120, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


@PROPERTY
@given(body=JSON)
def test_simulator_any_json(app: App, body: Any) -> None:
    response = app.request("POST", "/webhooks/simulator", json=body)
    assert response.status_code in (200, 400), response.text
    assert "error" in response.json() or "replies" in response.json()
    app.no_half_records()


@PROPERTY
@given(raw=st.binary(max_size=300))
def test_simulator_any_bytes(app: App, raw: bytes) -> None:
    response = app.request("POST", "/webhooks/simulator", content=raw,
                           headers={"content-type": "application/json"})
    assert response.status_code in (200, 400), response.text
    app.no_half_records()


@PROPERTY
@given(sender=SENDERS, text=HOSTILE_TEXT)
def test_simulator_hostile_messages(app: App, sender: str, text: str) -> None:
    response = app.request("POST", "/webhooks/simulator", json={"sender": sender, "text": text})
    assert response.status_code in (200, 400), response.text
    if response.status_code == 200:
        for reply in response.json()["replies"]:
            assert reply["text"]
            assert "{reference}" not in reply["text"]
    app.no_half_records()


@PROPERTY
@given(path=st.text(max_size=40), body=JSON)
def test_api_any_path_and_body(app: App, path: str, body: Any) -> None:
    if not hasattr(app, "auth"):
        app.loop.run(add_account(app.runtime, "boss", "admin"))
        app.auth = app.loop.run(login(app.client, "boss"))  # type: ignore[attr-defined]
    for method, route in (("GET", f"/api/v1/cases/{path}"),
                          ("POST", f"/api/v1/cases/{path}/claim"),
                          ("POST", f"/api/v1/cases/{path}/messages"),
                          ("POST", f"/api/v1/cases/{path}/close"),
                          ("POST", "/api/v1/auth/token")):
        try:
            response = app.request(method, route, json=body,
                                   headers=app.auth)  # type: ignore[attr-defined]
        except httpx.InvalidURL:
            continue  # the client itself refuses to send such a URL
        assert response.status_code < 500, (route, response.text)
        if response.status_code >= 400:
            assert json.loads(response.text)["error"]  # a reason, as JSON

"""Console login: the form, the cookie, CSRF, lockout, logout, roles, languages."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy import select

from bot.runtime import Runtime
from bot.storage.models import AuditEvent, ConsoleSession
from tests.support import PASSWORD, add_account, console_login, csrf_of

HTML_TAG = re.compile(r'<html lang="(ar|fr)" dir="(rtl|ltr)">')


async def test_login_form_has_the_named_inputs_and_a_csrf_token(
        client: httpx.AsyncClient) -> None:
    page = await client.get("/console/login")
    assert page.status_code == 200
    assert 'name="username"' in page.text and 'name="password"' in page.text
    assert csrf_of(page.text)
    assert HTML_TAG.search(page.text)
    assert "العربية" in page.text and "Français" in page.text
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy


async def test_pages_need_a_login(client: httpx.AsyncClient) -> None:
    for url in ("/console/", "/console/queue", "/console/cases/AM-AAAAAA",
                "/console/admin/centers"):
        response = await client.get(url)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/console/login?next=")


async def test_login_sets_a_safe_session_cookie_and_logout_revokes_it(
        client: httpx.AsyncClient, runtime: Runtime) -> None:
    await add_account(runtime, "salma", "counselor", "sample-09581-emf")
    page = await client.get("/console/login")
    response = await client.post("/console/login", data={
        "username": "salma", "password": PASSWORD, "csrf_token": csrf_of(page.text)})
    assert response.status_code == 303 and response.headers["location"] == "/console/"
    cookie = response.headers["set-cookie"]
    assert "amane_console=" in cookie and "HttpOnly" in cookie
    assert "SameSite=strict" in cookie or "SameSite=Strict" in cookie
    assert "Secure" not in cookie  # plain http on a laptop
    token = client.cookies["amane_console"]
    async with runtime.sessionmaker() as db:
        row = await db.scalar(select(ConsoleSession))
        assert row is not None and token not in row.token_hash  # only a hash is stored

    queue = await client.get("/console/queue")
    assert queue.status_code == 200
    out = await client.post("/console/logout", data={"csrf_token": csrf_of(queue.text)})
    assert out.status_code == 303
    client.cookies.set("amane_console", token)  # a stolen cookie after logout
    assert (await client.get("/console/queue")).status_code == 303
    async with runtime.sessionmaker() as db:
        actions = [e.action for e in (await db.scalars(select(AuditEvent))).all()]
    assert "console.login" in actions and "console.logout" in actions


async def test_the_cookie_is_secure_behind_https(settings_factory: object,
                                                 runtime: Runtime) -> None:
    from bot.web.app import create_app

    await add_account(runtime, "salma", "counselor", "sample-09581-emf")
    app = create_app(runtime, background=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="https://console.example") as https:
        page = await https.get("/console/login")
        response = await https.post("/console/login", data={
            "username": "salma", "password": PASSWORD, "csrf_token": csrf_of(page.text)})
    assert "Secure" in response.headers["set-cookie"]


async def test_login_without_the_csrf_token_is_refused(client: httpx.AsyncClient,
                                                       runtime: Runtime) -> None:
    await add_account(runtime, "salma", "counselor", "sample-09581-emf")
    await client.get("/console/login")
    response = await client.post("/console/login", data={
        "username": "salma", "password": PASSWORD, "csrf_token": "forged"})
    assert response.status_code == 403
    assert "amane_console" not in client.cookies


async def test_every_post_checks_the_csrf_token(client: httpx.AsyncClient,
                                                runtime: Runtime) -> None:
    await add_account(runtime, "salma", "counselor", "sample-09581-emf")
    await console_login(client, "salma")
    for data in ({}, {"csrf_token": "forged"}):
        response = await client.post("/console/logout", data=data)
        assert response.status_code == 403
    assert (await client.get("/console/queue")).status_code == 200  # still logged in


async def test_wrong_password_then_lockout(client: httpx.AsyncClient,
                                           runtime: Runtime) -> None:
    await add_account(runtime, "salma", "counselor", "sample-09581-emf")
    for _ in range(5):
        page = await client.get("/console/login")
        bad = await client.post("/console/login", data={
            "username": "salma", "password": "wrong password", "csrf_token": csrf_of(page.text)})
        assert bad.status_code == 401
    page = await client.get("/console/login")
    locked = await client.post("/console/login", data={
        "username": "salma", "password": PASSWORD, "csrf_token": csrf_of(page.text)})
    assert locked.status_code == 401
    assert "amane_console" not in client.cookies


async def test_no_open_redirect_after_login(client: httpx.AsyncClient,
                                            runtime: Runtime) -> None:
    await add_account(runtime, "salma", "counselor", "sample-09581-emf")
    page = await client.get("/console/login?next=https://evil.example/")
    response = await client.post("/console/login", data={
        "username": "salma", "password": PASSWORD, "csrf_token": csrf_of(page.text),
        "next": "//evil.example/"})
    assert response.headers["location"] == "/console/"


@pytest.mark.parametrize("role,allowed,denied", [
    ("counselor", "/console/queue", "/console/admin/centers"),
    ("analyst", "/console/", "/console/queue"),
])
async def test_roles(client: httpx.AsyncClient, runtime: Runtime, role: str, allowed: str,
                     denied: str) -> None:
    await add_account(runtime, "someone", role,
                      "sample-09581-emf" if role == "counselor" else None)
    await console_login(client, "someone")
    assert (await client.get(allowed)).status_code == 200
    refused = await client.get(denied)
    assert refused.status_code == 403 and HTML_TAG.search(refused.text)


async def test_language_switch_from_any_page(client: httpx.AsyncClient,
                                             runtime: Runtime) -> None:
    await add_account(runtime, "salma", "counselor", "sample-09581-emf")
    await console_login(client, "salma")
    arabic = await client.get("/console/queue")
    assert '<html lang="ar" dir="rtl">' in arabic.text
    assert 'href="/console/lang/fr?next=%2Fconsole%2Fqueue">Français</a>' in arabic.text
    switched = await client.get("/console/lang/fr?next=/console/queue")
    assert switched.status_code == 303 and switched.headers["location"] == "/console/queue"
    french = await client.get("/console/queue")
    assert '<html lang="fr" dir="ltr">' in french.text and "File des demandes" in french.text
    assert ">العربية</a>" in french.text
    assert (await client.get("/console/lang/xx")).status_code == 404


async def test_a_deactivated_account_is_logged_out(client: httpx.AsyncClient,
                                                   runtime: Runtime) -> None:
    from bot.storage.models import Account

    await add_account(runtime, "salma", "counselor", "sample-09581-emf")
    await console_login(client, "salma")
    async with runtime.sessionmaker() as db:
        account = await db.scalar(select(Account).where(Account.username == "salma"))
        assert account is not None
        account.active = False
        await db.commit()
    assert (await client.get("/console/queue")).status_code == 303

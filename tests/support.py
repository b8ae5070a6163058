"""Helpers for tests that talk to Amane as she would, and as a counselor would."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from bot.accounts import create_account
from bot.runtime import Runtime

PASSWORD = "correct horse battery"


async def eventually(condition: Callable[[], bool | Awaitable[bool]], what: str, *,
                     within: float = 30.0, every: float = 0.02) -> None:
    """Until `condition()` (a function, or a coroutine function) holds; fails saying
    `what` did not happen within `within` seconds. Returns as soon as it holds, so a
    busy machine only makes it slower."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        held = condition()
        if inspect.isawaitable(held):
            held = await held
        if held:
            return
        if loop.time() >= deadline:
            pytest.fail(f"{what}: not within {within:g} s")
        await asyncio.sleep(every)


class Woman:
    """She writes to the simulator webhook and reads the replies."""

    def __init__(self, client: httpx.AsyncClient, sender: str = "amina") -> None:
        self.client = client
        self.sender = sender
        self.transcript: list[tuple[str, list[str]]] = []

    async def says(self, text: str) -> list[dict[str, Any]]:
        response = await self.client.post("/webhooks/simulator",
                                          json={"sender": self.sender, "text": text})
        assert response.status_code == 200, response.text
        replies: list[dict[str, Any]] = response.json()["replies"]
        self.transcript.append((text, [r["text"] for r in replies]))
        return replies

    async def says_all(self, *texts: str) -> list[dict[str, Any]]:
        replies: list[dict[str, Any]] = []
        for text in texts:
            replies = await self.says(text)
        return replies

    async def outbox(self) -> list[dict[str, Any]]:
        response = await self.client.get(f"/webhooks/simulator/{self.sender}/outbox")
        assert response.status_code == 200, response.text
        messages: list[dict[str, Any]] = response.json()["messages"]
        return messages


async def add_account(runtime: Runtime, username: str, role: str,
                      center_id: str | None = None) -> None:
    async with runtime.sessionmaker() as db:
        await create_account(db, username=username, password=PASSWORD, role=role,
                             center_id=center_id)
        await db.commit()


async def login(client: httpx.AsyncClient, username: str) -> dict[str, str]:
    response = await client.post("/api/v1/auth/token",
                                 json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


class LoopThread:
    """An event loop in a thread, for property-based tests: hypothesis drives a sync
    test body, which runs coroutines on this loop against one app."""

    def __init__(self) -> None:
        import asyncio
        import threading

        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def run(self, coroutine: Any, timeout: float = 60) -> Any:
        import asyncio

        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        self.loop.close()
# --- the console ---------------------------------------------------------------------------

import re  # noqa: E402

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The CSRF token a console page put in its forms."""
    match = _CSRF.search(html)
    assert match, "no csrf_token field on the page"
    return match.group(1)


async def console_login(client: httpx.AsyncClient, username: str,
                        password: str = PASSWORD) -> str:
    """Log in through the console's form; returns the session's CSRF token."""
    page = await client.get("/console/login")
    assert page.status_code == 200, page.text
    response = await client.post("/console/login", data={
        "username": username, "password": password, "csrf_token": csrf_of(page.text)})
    assert response.status_code == 303, response.text
    queue = await client.get(response.headers["location"], follow_redirects=True)
    assert queue.status_code == 200, queue.text
    return csrf_of(queue.text)

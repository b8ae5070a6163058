"""The queue page and its live stream."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from bot.notify import CaseNotice, MemoryCaseNotifier
from bot.runtime import Runtime
from bot.storage.models import Account, Case
from bot.web.console.auth import ConsoleUser
from bot.web.console.queue import notice_stream
from tests.support import Woman, add_account, console_login
from tests.web.test_api import make_case

# How long a notice may take to arrive (through Redis, on a busy machine).
NOTICE_ARRIVAL = 10.0


async def test_her_centers_cases_urgent_first_then_oldest(client: httpx.AsyncClient,
                                                          runtime: Runtime) -> None:
    older = await make_case(client, "w1", "Tiznit")
    newer = await make_case(client, "w2", "Tiznit")
    urgent = await make_case(client, "w3", "Tiznit")
    elsewhere = await make_case(client, "w4", "Casablanca")
    async with runtime.sessionmaker() as db:
        now = datetime.now(timezone.utc)
        await db.execute(update(Case).where(Case.reference == older)
                         .values(created_at=now - timedelta(minutes=50)))
        await db.execute(update(Case).where(Case.reference == urgent).values(urgent=True))
        await db.commit()
    await add_account(runtime, "salma", "counselor", "sample-09581-emf")
    await console_login(client, "salma")
    page = (await client.get("/console/queue")).text
    positions = [page.index(f'data-reference="{ref}"') for ref in (urgent, older, newer)]
    assert positions == sorted(positions)
    assert elsewhere not in page
    row = page[positions[1]:positions[2]]
    assert "50 د" in row  # waiting time of the older case, in Arabic
    assert "Tiznit" in row and "المساعدة القانونية" in row  # town and needs
    assert re.search("3 س (09|10) د", row)  # time left before the SLA moves it (4 h - 50 min)


async def test_an_admin_sees_every_queue_and_the_national_one(client: httpx.AsyncClient,
                                                              runtime: Runtime) -> None:
    tiznit = await make_case(client, "w1", "Tiznit")
    replies = await Woman(client, "w2").says_all(
        "bonjour", "oui", "oui", "avocat", "Je préfère ne pas dire", "1", "le matin", "Passer")
    assert replies
    await add_account(runtime, "boss", "admin")
    await console_login(client, "boss")
    page = (await client.get("/console/queue")).text
    assert tiznit in page and "الطابور الوطني" in page
    national = (await client.get("/console/queue/rows?center=national")).text
    assert tiznit not in national and "AM-" in national
    closed = (await client.get("/console/queue?status=closed")).text
    assert tiznit not in closed


async def test_the_stream_carries_only_notices_for_her_center() -> None:
    notifier = MemoryCaseNotifier()
    account = Account(id=1, username="salma", password_hash="x", role="counselor",
                      center_id="c1", active=True)
    user = ConsoleUser(account=account, session_id=1, csrf_token="t")
    disconnected = asyncio.Event()

    async def is_disconnected() -> bool:
        return disconnected.is_set()

    stream = notice_stream(notifier, user, is_disconnected, keepalive=0.05)
    assert await anext(stream) == "retry: 3000\n\n"
    assert notifier.subscribers == 1
    notifier.publish(CaseNotice("created", "AM-OTHER1", ("c2",)))
    notifier.publish(CaseNotice("created", "AM-MINE01", ("c1",), urgent=True))
    event = await anext(stream)
    assert event.startswith("event: case\ndata: ")
    assert json.loads(event.split("data: ", 1)[1]) == {
        "kind": "created", "reference": "AM-MINE01", "urgent": True}
    assert await anext(stream) == ": keepalive\n\n"
    disconnected.set()
    assert [chunk async for chunk in stream] in ([], [": keepalive\n\n"])
    assert notifier.subscribers == 0


async def _notices_until(subscription: Any, kind: str, reference: str) -> list[CaseNotice]:
    """The notices heard until (and with) `kind` for `reference`; through Redis they
    may take a while on a busy machine."""
    heard: list[CaseNotice] = []
    deadline = asyncio.get_running_loop().time() + NOTICE_ARRIVAL
    while (left := deadline - asyncio.get_running_loop().time()) > 0:
        notice = await subscription.get(timeout=left)
        if notice is not None:
            heard.append(notice)
            if (notice.kind, notice.reference) == (kind, reference):
                return heard
    pytest.fail(f"no {kind} notice for {reference}; heard {heard}")


async def test_new_case_reaches_the_notifier_after_commit(client: httpx.AsyncClient,
                                                          runtime: Runtime) -> None:
    async with runtime.notifier.subscribe() as subscription:  # type: ignore[attr-defined]
        reference = await make_case(client, "w1", "Tiznit")
        notices = await _notices_until(subscription, "created", reference)
    # Her case's first notice (channels are server-wide: others' may come between).
    assert [n.kind for n in notices if n.reference == reference] == ["created"]
    assert notices[-1].center_ids == ("sample-09581-emf",)
    async with runtime.notifier.subscribe() as subscription:  # type: ignore[attr-defined]
        await Woman(client, "w1").says("vous êtes là ?")
        await _notices_until(subscription, "message", reference)


async def test_the_events_endpoint_needs_a_login(client: httpx.AsyncClient) -> None:
    response = await client.get("/console/events")
    assert response.status_code == 303

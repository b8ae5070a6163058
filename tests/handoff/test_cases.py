"""The case queue under concurrency: many counselors claiming one case at once."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from bot.runtime import Runtime
from bot.settings import Settings
from bot.storage.models import AuditEvent
from tests.channels.conftest import count
from tests.support import add_account, login
from tests.web.test_api import make_case

CENTER = "sample-09581-emf"  # Tiznit
COUNSELORS = 12


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"rate_limit_login_per_minute": 100})


async def test_many_counselors_claim_one_case_at_once_and_exactly_one_wins(
        client: httpx.AsyncClient, runtime: Runtime) -> None:
    reference = await make_case(client, "amina", "tiznit")
    headers = []
    for index in range(COUNSELORS):
        await add_account(runtime, f"counselor{index}", "counselor", CENTER)
        headers.append(await login(client, f"counselor{index}"))
    claims = await asyncio.gather(*(client.post(f"/api/v1/cases/{reference}/claim",
                                                headers=h) for h in headers))
    statuses = sorted(r.status_code for r in claims)
    assert statuses == [200] + [409] * (COUNSELORS - 1), statuses
    winner = next(i for i, r in enumerate(claims) if r.status_code == 200)
    shown = (await client.get(f"/api/v1/cases/{reference}", headers=headers[winner])).json()
    assert shown["status"] == "claimed"
    assert await count(runtime, AuditEvent) >= 1
    async with runtime.sessionmaker() as db:
        from sqlalchemy import func, select

        claimed = await db.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "case.claimed"))
    assert claimed == 1

"""Fault tests: Amane as real uvicorn workers over a private PostgreSQL and a private
Redis (random loopback ports, temporary directories) that the tests stop, kill and
restart, with a fake Twilio in the test's event loop. Skipped, saying why, where the
PostgreSQL or Redis binaries are missing."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select

from bench.provider import FakeTwilioProvider
from bench.servers import (
    AmaneServer,
    PrivatePostgres,
    PrivateRedis,
    amane_environment,
    ensure_nlu_model,
    free_port,
    postgres_missing,
    redis_missing,
)
from bench.women import calibrate
from bot.settings import PROJECT_ROOT
from bot.storage.database import create_engine
from bot.storage.models import Message

AUTH_TOKEN = "0123456789abcdef0123456789abcdef"
REFERENCE = re.compile(r"AM-[A-Z0-9]{6}")


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[tuple[PrivatePostgres, PrivateRedis]]:
    missing = postgres_missing() or redis_missing()
    if missing:
        pytest.skip(f"fault tests need private PostgreSQL and Redis servers: {missing}")
    postgres, redis = PrivatePostgres(), PrivateRedis(persistent=True)
    try:
        postgres.start()
        redis.start()
        yield postgres, redis
    finally:
        postgres.destroy()
        redis.destroy()


@dataclass
class Deployment:
    amane: AmaneServer
    postgres: PrivatePostgres
    redis: PrivateRedis
    provider: FakeTwilioProvider
    http: aiohttp.ClientSession
    expected: list[int]  # messages she has after each step of the intake
    reference: list[str]  # what she reads, the case reference blanked

    async def inbound_statuses(self) -> list[str]:
        engine = create_engine(self.postgres.url)
        try:
            async with engine.connect() as conn:
                return list((await conn.scalars(select(Message.status).where(
                    Message.direction == "in"))).all())
        finally:
            await engine.dispose()

    async def duplicate_provider_ids(self) -> int:
        engine = create_engine(self.postgres.url)
        try:
            async with engine.connect() as conn:
                return int(await conn.scalar(select(func.count()).select_from(
                    select(Message.provider_message_id).where(Message.direction == "in")
                    .group_by(Message.provider_message_id).having(func.count() > 1)
                    .subquery())) or 0)
        finally:
            await engine.dispose()


def blank(texts: list[str]) -> list[str]:
    return [REFERENCE.sub("AM-??????", t) for t in texts]


@contextlib.asynccontextmanager
async def deploy(tmp_path: Path, postgres: PrivatePostgres, redis: PrivateRedis, *,
                 workers: int, nlu_cache: Path) -> AsyncIterator[Deployment]:
    """Amane running on `postgres` and `redis`, stopped when the block ends, also when
    an assertion in it fails (its workers must not outlive the test)."""
    provider = await FakeTwilioProvider(AUTH_TOKEN).start()
    port = free_port()
    ensure_nlu_model(nlu_cache)
    env = amane_environment(tmp_path, port, provider.url, AUTH_TOKEN, nlu_cache)
    env.update(DATABASE_URL=postgres.url, REDIS_URL=redis.url,
               INBOX_SWEEP_SECONDS="1", OUTBOX_STALE_SECONDS="30")
    amane = AmaneServer(env, workers=workers, port=port, log=tmp_path / "amane.log")
    amane.run_bot("db", "upgrade")
    amane.run_bot("centers", "import", str(PROJECT_ROOT / "data/centers/sample_centers.csv"))
    amane.start()
    http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20))
    try:
        expected, reference = await calibrate(http, amane.url, env["PUBLIC_BASE_URL"],
                                               AUTH_TOKEN, provider)
        yield Deployment(amane, postgres, redis, provider, http, expected, blank(reference))
    finally:
        await http.close()
        amane.stop()
        await provider.stop()

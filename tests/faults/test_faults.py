"""Faults under load, each showing that no acknowledged message is lost and none is
duplicated: every woman reads exactly what a woman alone reads, in order, and every
message she sent is stored once and processed once.

- Redis restarted mid-conversation (with its append-only file, as in production);
- PostgreSQL restarted: meanwhile the webhook answers 503 and "Twilio" sends again;
- a worker killed with SIGKILL while 2 real uvicorn workers are under load;
- the provider (Twilio) answering 500 for 45 seconds.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from bench.servers import PrivatePostgres, PrivateRedis
from bench.women import INTAKE, Result, SmsWoman
from tests.faults.conftest import AUTH_TOKEN, Deployment, blank, deploy
from tests.support import eventually

pytestmark = [pytest.mark.faults, pytest.mark.slow]

WOMEN = 24
REPLY_TIMEOUT = 120.0  # a reply may wait for an outage to end and a retry to come


async def under_load(deployment: Deployment, fault: Callable[[], Awaitable[Any]],
                     *, after: float = 1.0) -> list[SmsWoman]:
    """WOMEN women do the whole intake at once; `fault` strikes `after` seconds in."""
    result = Result()
    women = [SmsWoman(f"+2126{index:08d}", deployment.http, deployment.amane.url,
                      deployment.amane.env["PUBLIC_BASE_URL"], AUTH_TOKEN,
                      deployment.provider) for index in range(WOMEN)]

    async def strike() -> None:
        await asyncio.sleep(after)
        await fault()

    await asyncio.gather(strike(), *(w.intake(deployment.expected, result,
                                              timeout=REPLY_TIMEOUT, retry_for=REPLY_TIMEOUT)
                                     for w in women))
    assert result.errors == []
    return women


async def nothing_lost_nothing_twice(deployment: Deployment, women: list[SmsWoman]) -> None:
    for woman in women:
        assert blank(deployment.provider.texts(woman.number)) == deployment.reference, \
            woman.number
    statuses = await deployment.inbound_statuses()
    assert statuses == ["processed"] * ((WOMEN + 1) * len(INTAKE))
    assert await deployment.duplicate_provider_ids() == 0


async def test_redis_restarted_mid_conversation(
        tmp_path: Path, servers: tuple[PrivatePostgres, PrivateRedis],
        nlu_cache_dir: Path) -> None:
    async with deploy(tmp_path, *servers, workers=2, nlu_cache=nlu_cache_dir) as deployment:
        women = await under_load(deployment, lambda: asyncio.to_thread(
            deployment.redis.restart, 3.0))
        await nothing_lost_nothing_twice(deployment, women)


async def test_postgres_restarted(tmp_path: Path,
                                  servers: tuple[PrivatePostgres, PrivateRedis],
                                  nlu_cache_dir: Path) -> None:
    async with deploy(tmp_path, *servers, workers=2, nlu_cache=nlu_cache_dir) as deployment:
        refused: list[int] = []

        async def restart() -> None:
            await asyncio.to_thread(deployment.postgres.stop)
            # Down: a message cannot be stored, so the webhook asks Twilio to retry.
            woman = SmsWoman("+212611111111", deployment.http, deployment.amane.url,
                             deployment.amane.env["PUBLIC_BASE_URL"], AUTH_TOKEN,
                             deployment.provider)
            refused.append(await woman.send("salam"))
            await asyncio.sleep(2.0)
            await asyncio.to_thread(deployment.postgres.start)

        women = await under_load(deployment, restart)
        assert refused == [503]
        await nothing_lost_nothing_twice(deployment, women)


async def test_a_worker_killed_under_load(
        tmp_path: Path, servers: tuple[PrivatePostgres, PrivateRedis],
        nlu_cache_dir: Path) -> None:
    async with deploy(tmp_path, *servers, workers=2, nlu_cache=nlu_cache_dir) as deployment:
        killed: list[int] = []

        async def kill() -> None:
            victim = deployment.amane.worker_pids()[0]
            os.kill(victim, signal.SIGKILL)
            killed.append(victim)

        women = await under_load(deployment, kill, after=0.8)
        assert killed
        # uvicorn's supervisor reaps it and starts another: it looks every half second
        # and asks each live worker for a health check first (the load may be over by
        # then).
        await eventually(lambda: killed[0] not in deployment.amane.worker_pids(),
                         "the killed worker reaped", within=60, every=0.1)
        await nothing_lost_nothing_twice(deployment, women)


async def test_the_provider_answering_500_for_45_seconds(
        tmp_path: Path, servers: tuple[PrivatePostgres, PrivateRedis],
        nlu_cache_dir: Path) -> None:
    async with deploy(tmp_path, *servers, workers=1, nlu_cache=nlu_cache_dir) as deployment:
        provider = deployment.provider

        async def outage() -> None:
            provider.failing = True
            await asyncio.sleep(45)
            provider.failing = False

        women = await under_load(deployment, outage, after=0.5)
        assert provider.refused > 0
        await nothing_lost_nothing_twice(deployment, women)

"""What counts as an outage (retry later) and what as a fault in the work (fail)."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ReadOnlyError, ResponseError
from sqlalchemy.exc import IntegrityError, OperationalError

from bot.outages import is_outage
from bot.sessions import LockBusy, LockLost, RedisSessionStore
from tests.conftest import TEST_REDIS_URL


def test_unreachable_servers_are_outages() -> None:
    assert is_outage(RedisConnectionError("Connection refused"))
    assert is_outage(ConnectionRefusedError(111, "refused"))
    assert is_outage(OperationalError("SELECT 1", {}, Exception("server closed")))
    assert is_outage(asyncio.TimeoutError())
    assert is_outage(LockBusy()) and is_outage(LockLost())


def test_asyncpg_s_own_errors_when_postgresql_is_away_are_outages() -> None:
    # Raised as they are by the statements sent with asyncpg directly.
    for error in (asyncpg.ConnectionDoesNotExistError, asyncpg.CannotConnectNowError,
                  asyncpg.AdminShutdownError, asyncpg.TooManyConnectionsError,
                  asyncpg.exceptions.ClientCannotConnectError):
        assert is_outage(error("away")), error
    assert not is_outage(asyncpg.UniqueViolationError("duplicate key"))
    assert not is_outage(asyncpg.UndefinedColumnError("no such column"))


@pytest.mark.skipif(not TEST_REDIS_URL, reason="needs the test Redis (TEST_REDIS_URL)")
async def test_a_full_redis_is_an_outage() -> None:
    """docs/deploy.md: with `maxmemory-policy noeviction` a full Redis refuses writes,
    and Amane retries later rather than failing her message. A real Redis, made full
    for a moment."""
    from redis.asyncio import Redis

    redis = Redis.from_url(TEST_REDIS_URL)
    config = await redis.config_get("maxmemory*")
    try:
        await redis.config_set("maxmemory-policy", "noeviction")
        await redis.config_set("maxmemory", 1)
        with pytest.raises(ResponseError) as refused:
            await RedisSessionStore(redis, prefix="test:full:").save("k", b"x", 60)
        assert is_outage(refused.value)
    finally:
        await redis.config_set("maxmemory", config["maxmemory"])
        await redis.config_set("maxmemory-policy", config["maxmemory-policy"])
        await redis.aclose()
    assert is_outage(ReadOnlyError("You can't write against a read only replica."))


def test_a_wrapped_outage_is_still_one() -> None:
    try:
        try:
            raise ConnectionResetError("reset by peer")
        except ConnectionResetError as exc:
            raise RuntimeError("while loading the session") from exc
    except RuntimeError as wrapped:
        assert is_outage(wrapped)


def test_faults_in_the_work_are_not_outages() -> None:
    assert not is_outage(ValueError("bad flow"))
    assert not is_outage(KeyError("node"))
    assert not is_outage(ResponseError("WRONGTYPE"))
    assert not is_outage(IntegrityError("INSERT", {}, Exception("duplicate key")))

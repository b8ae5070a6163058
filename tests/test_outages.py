"""What counts as an outage (retry later) and what as a fault in the work (fail)."""

from __future__ import annotations

import asyncio

import asyncpg
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from sqlalchemy.exc import IntegrityError, OperationalError

from bot.outages import is_outage
from bot.sessions import LockBusy, LockLost


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

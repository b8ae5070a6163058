"""Outages: errors that say a server Amane depends on (the database, Redis) is
unreachable or restarting, as opposed to a fault in the work itself.

Work that meets an outage is left as it was, to be retried (her stored message stays
`received` and the inbox sweep processes it later); work that meets any other error is
marked failed (she gets an apology). A webhook that cannot store her message during an
outage answers 503, so that the provider sends it again."""

from __future__ import annotations

import asyncio
import logging

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import OutOfMemoryError as RedisFull
from redis.exceptions import ReadOnlyError as RedisReadOnly
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from bot.sessions import LockBusy, LockLost

# asyncpg's own errors when PostgreSQL goes away or is starting or stopping; SQLAlchemy
# usually wraps them, but not always on connect, and `bot.storage.statements` sends
# its statements with asyncpg directly.
_POSTGRES_OUTAGE_NAMES = frozenset({
    "ConnectionDoesNotExistError", "CannotConnectNowError", "ConnectionFailureError",
    "AdminShutdownError", "CrashShutdownError", "TooManyConnectionsError",
    "InterfaceError", "InternalClientError", "ConnectionRejectionError",
    "ClientCannotConnectError",
})


def is_outage(exc: BaseException) -> bool:
    """Whether `exc` (or what caused it) says a server is unreachable: retry later."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        # Redis full (maxmemory, noeviction: it refuses writes) or read-only (a replica
        # during a failover): it cannot take the work now, later it can.
        if isinstance(current, (RedisConnectionError, RedisTimeoutError, RedisFull,
                                RedisReadOnly, ConnectionError, asyncio.TimeoutError,
                                PoolTimeoutError, LockBusy, LockLost, OperationalError,
                                InterfaceError)):
            return True
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return True
        if type(current).__name__ in _POSTGRES_OUTAGE_NAMES and \
                type(current).__module__.startswith("asyncpg"):
            return True
        current = current.__cause__ or current.__context__
    return False


def log_failure(logger: logging.Logger, what: str, exc: BaseException) -> None:
    """A background pass failed and will be retried: one line for an outage, the
    traceback for anything else."""
    if is_outage(exc):
        logger.warning("%s failed (%s); retrying", what, type(exc).__name__)
    else:
        logger.exception("%s failed; retrying", what)

"""Engine and session factory, and schema migrations (Alembic) run from code."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def create_engine(url: str, *, echo: bool = False, pool_size: int = 5) -> AsyncEngine:
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"echo": echo}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
    else:
        # No ping before each checkout (a round trip per transaction): after a database
        # restart the first statement on a dead connection fails as an outage (retried:
        # the webhook answers 503, the inbox sweep reprocesses) and SQLAlchemy then
        # replaces every pooled connection at once.
        kwargs.update(pool_size=pool_size, max_overflow=5, pool_pre_ping=False,
                      pool_recycle=1800)
    engine = create_async_engine(url, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def engine_of(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncEngine:
    """The engine behind `sessionmaker`: for the hot paths written in SQLAlchemy Core,
    where building an ORM session and its unit of work costs more than the SQL."""
    engine = sessionmaker.kw["bind"]
    assert isinstance(engine, AsyncEngine), "the session factory is bound to an engine"
    return engine


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["configure_logger"] = False
    return config


def _outside_event_loop(func: Any, *args: Any) -> None:
    """Alembic's env.py runs its own event loop: from inside a running loop, run it in a
    worker thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        func(*args)
        return
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(func, *args).result()


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the schema at `url` to `revision` (blocking)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    _outside_event_loop(command.upgrade, alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    _outside_event_loop(command.downgrade, alembic_config(url), revision)


async def upgrade_async(url: str, revision: str = "head") -> None:
    await asyncio.to_thread(upgrade, url, revision)

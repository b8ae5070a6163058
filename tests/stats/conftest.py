"""A migrated, empty database (SQLite, and PostgreSQL when TEST_DATABASE_URL is set)
with an engine and a session, for the stats modules."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.settings import PROJECT_ROOT
from bot.stats.geography import Geography, load_geography
from bot.storage.database import create_engine, create_sessionmaker

CASABLANCA = "06.141.01.0"
RABAT = "04.421.01.0"
TIZNIT = "09.581.01.07"
TAFRAOUT = "09.581.01.05"  # urban, in the province of Tiznit
AIT_ISSAFEN = "09.581.03.01"  # rural, in the province of Tiznit


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    db_engine = create_engine(database_url)
    yield db_engine
    await db_engine.dispose()


@pytest.fixture
async def db(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    async with create_sessionmaker(engine)() as session:
        yield session


@pytest.fixture(scope="session")
def geography() -> Geography:
    return load_geography(PROJECT_ROOT / "data" / "geo")

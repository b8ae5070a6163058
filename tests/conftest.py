"""Shared fixtures. Tests are offline: any connection to a host other than loopback
fails the test. Storage tests run on SQLite always, and on PostgreSQL / Redis when
TEST_DATABASE_URL / TEST_REDIS_URL are set (as `.ci/run` does)."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from sqlalchemy import text

from bot.crypto import generate_key_material
from bot.settings import PROJECT_ROOT, Settings
from bot.storage.database import create_engine, upgrade

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "")
LOOPBACK = {"127.0.0.1", "::1", "localhost"}

# No time limit per example: on a busy shared machine one slow example would fail a
# property that holds (speed is shown by the benchmarks, not by the tests).
hypothesis_settings.register_profile("amane", deadline=None,
                                     suppress_health_check=[HealthCheck.too_slow])
hypothesis_settings.load_profile("amane")

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _check_address(sock: socket.socket, address: Any) -> None:
    if sock.family in (socket.AF_INET, socket.AF_INET6):
        host = address[0] if isinstance(address, tuple) else str(address)
        if host not in LOOPBACK:
            raise ConnectionRefusedError(f"tests are offline: attempted connection to {host}")


def _guarded_connect(self: socket.socket, address: Any) -> None:
    _check_address(self, address)
    return _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    _check_address(self, address)
    return _real_connect_ex(self, address)


@pytest.fixture(autouse=True, scope="session")
def offline() -> Iterator[None]:
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
    yield
    socket.socket.connect = _real_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _real_connect_ex  # type: ignore[method-assign]


TABLES = ("audit_events", "messages", "cases", "api_tokens", "accounts", "contacts",
          "console_sessions", "case_notes", "case_events", "canned_replies", "flow_versions",
          "centers")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "amane.sqlite3"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_schema() -> str:
    """Recreate the schema once per run on the test PostgreSQL, through the migrations."""

    async def reset() -> None:
        engine = create_engine(TEST_DATABASE_URL)
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        await engine.dispose()

    asyncio.run(reset())
    upgrade(TEST_DATABASE_URL)
    return TEST_DATABASE_URL


def _database_params() -> list[Any]:
    return [
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=[pytest.mark.postgres, pytest.mark.skipif(
            not TEST_DATABASE_URL, reason="TEST_DATABASE_URL is not set")]),
    ]


@pytest.fixture(params=_database_params())
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database: a copy of a template SQLite file, or the test
    PostgreSQL with every table emptied."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "amane.sqlite3"
        shutil.copyfile(template, path)
        return f"sqlite+aiosqlite:///{path}"
    url: str = request.getfixturevalue("postgres_schema")

    async def truncate() -> None:
        engine = create_engine(url)
        async with engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
        await engine.dispose()

    asyncio.run(truncate())
    return url


@pytest.fixture
def settings_factory(tmp_path: Path) -> Any:
    material = generate_key_material()
    intents_dir = tmp_path / "intents"
    if not intents_dir.exists():
        shutil.copytree(PROJECT_ROOT / "data" / "intents", intents_dir)

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "var_dir": tmp_path / "var",
            "database_url": f"sqlite+aiosqlite:///{tmp_path / 'unused.sqlite3'}",
            "redis_url": "",
            "encryption_keys": ",".join(material["encryption_keys"]),  # type: ignore[arg-type]
            "address_hash_key": material["address_hash_key"],
            "flows_dir": PROJECT_ROOT / "config" / "flows",
            "data_dir": PROJECT_ROOT / "data",
            "intents_dir": intents_dir,  # a copy: the console writes examples there
            "public_base_url": "",
            "simulator_enabled": True,
        }
        values.update(overrides)
        return Settings(**values)

    return make


# --- a running Amane over the test database --------------------------------------------

import httpx  # noqa: E402

from bot.handoff.directory import import_centers, parse_centers_csv  # noqa: E402
from bot.runtime import Runtime, build_runtime  # noqa: E402
from bot.web.app import create_app  # noqa: E402

SAMPLE_CENTERS = PROJECT_ROOT / "data" / "centers" / "sample_centers.csv"


@pytest.fixture(scope="session")
def nlu_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One trained NLU model for the whole run."""
    return tmp_path_factory.mktemp("nlu")


@pytest.fixture
def settings(settings_factory: Any, database_url: str, nlu_cache_dir: Path) -> Settings:
    """The embedded default on SQLite; the scaled deployment (PostgreSQL + Redis) when
    the database is the test PostgreSQL and TEST_REDIS_URL is set."""
    redis_url = ""
    if database_url == TEST_DATABASE_URL and TEST_REDIS_URL:
        redis_url = TEST_REDIS_URL

        async def flush() -> None:
            from redis.asyncio import Redis

            client = Redis.from_url(redis_url)
            await client.flushdb()
            await client.aclose()

        asyncio.run(flush())
    result: Settings = settings_factory(database_url=database_url, nlu_cache_dir=nlu_cache_dir,
                                        redis_url=redis_url)
    return result


@pytest.fixture
async def runtime(settings: Settings) -> Any:
    rt = build_runtime(settings)
    async with rt.sessionmaker() as db:
        await import_centers(db, parse_centers_csv(SAMPLE_CENTERS.read_text(encoding="utf-8")))
        await db.commit()
    yield rt
    await rt.close()


@pytest.fixture
async def client(runtime: Runtime) -> Any:
    app = create_app(runtime, background=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://testserver") as http:
        yield http

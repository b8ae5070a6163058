"""The app's own routes: liveness and readiness; the app factory for worker processes."""

from __future__ import annotations

import gc

import httpx
import pytest

from bot.runtime import Runtime
from bot.settings import Settings
from bot.web.app import create_app_from_env


async def test_ready_when_the_database_and_redis_answer(client: httpx.AsyncClient,
                                                        runtime: Runtime) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    expected = {"status": "ok", "database": "ok"}
    if runtime.redis is not None:
        expected["redis"] = "ok"
    assert response.json() == expected


async def test_not_ready_when_the_database_is_unreachable(settings_factory: object) -> None:
    from bot.runtime import build_runtime
    from bot.web.app import create_app

    settings: Settings = settings_factory(  # type: ignore[operator]
        database_url="postgresql+asyncpg://nobody@127.0.0.1:9/nothing")
    runtime = build_runtime(settings)
    app = create_app(runtime, background=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://testserver") as http:
        response = await http.get("/readyz")
        assert response.status_code == 503
        assert response.json()["status"] == "unavailable"
        assert response.json()["database"] != "ok"
    await runtime.close()


def test_the_worker_factory_reads_the_environment(monkeypatch: pytest.MonkeyPatch,
                                                  settings_factory: object) -> None:
    settings: Settings = settings_factory()  # type: ignore[operator]
    for name, value in (("VAR_DIR", str(settings.var_dir)),
                        ("DATABASE_URL", settings.database_url),
                        ("ENCRYPTION_KEYS", settings.encryption_keys),
                        ("ADDRESS_HASH_KEY", settings.address_hash_key),
                        ("INTENTS_DIR", str(settings.intents_dir)),
                        ("SIMULATOR_ENABLED", "false")):
        monkeypatch.setenv(name, value)
    app = create_app_from_env()
    assert app.state.runtime.settings.simulator_enabled is False
    assert app.state.runtime.settings.database_url == settings.database_url


async def test_a_server_leaves_what_startup_made_out_of_garbage_collection(
        settings_factory: object, database_url: str) -> None:
    from bot.runtime import build_runtime
    from bot.web.app import create_app

    runtime = build_runtime(settings_factory(database_url=database_url))  # type: ignore[operator]
    app = create_app(runtime, background=False, freeze_after_start=True)
    assert gc.get_freeze_count() == 0
    try:
        async with app.router.lifespan_context(app):
            assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()  # this test process goes on making and dropping apps

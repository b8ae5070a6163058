"""The FastAPI application: everything comes in as arguments (one wiring point)."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text

from bot.runtime import Runtime, build_runtime
from bot.settings import Settings
from bot.web import api, nlu_api, simulator, stats_api, webhooks
from bot.web.console import install_console
from bot.web.console.auth import require_console_account
from bot.web.errors import install_error_handlers
from bot.web.map_page import map_router
from bot.web.security import SecurityHeadersMiddleware


def create_app(runtime: Runtime, *, background: bool = True,
               telegram_polling: bool = False, freeze_after_start: bool = False) -> FastAPI:
    """The web app over a built runtime. `background=False` leaves the outbox loop off
    (tests drive it by hand); `telegram_polling` fetches Telegram updates instead of
    waiting for the webhook; `freeze_after_start`: a server process's objects made at
    startup are left out of garbage collection (`gc.freeze`)."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await runtime.flow_versions.refresh()  # the flows admins published
        if background:
            await runtime.start_background(telegram_polling=telegram_polling)
        if freeze_after_start:
            # What startup made (the NLU model, the flows, the gazetteer, the modules)
            # lives as long as the process: out of the garbage collector's way, so its
            # passes look at the objects of the requests only (about 7% less CPU per
            # message in the load benchmark).
            gc.freeze()
        try:
            yield
        finally:
            await runtime.close()

    # No /docs page: Swagger UI loads its code from a CDN, an outside request from a
    # counselor's browser. The OpenAPI description stays at /openapi.json.
    app = FastAPI(title="Amane", version="1", lifespan=lifespan, docs_url=None,
                  redoc_url=None,
                  description="Confidential intake service: webhooks, counselor API, NLU.")
    app.state.runtime = runtime
    app.add_middleware(SecurityHeadersMiddleware,
                       https=runtime.settings.public_base_url.startswith("https://"))
    install_error_handlers(app)

    @app.get("/healthz", tags=["ops"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["ops"], summary="Ready to take messages: database and Redis")
    async def readyz() -> JSONResponse:
        checks: dict[str, str] = {}
        try:
            async with runtime.db_engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:  # any failure means: not ready
            checks["database"] = type(exc).__name__
        if runtime.redis is not None:
            try:
                await runtime.redis.ping()
                checks["redis"] = "ok"
            except Exception as exc:
                checks["redis"] = type(exc).__name__
        ready = all(value == "ok" for value in checks.values())
        return JSONResponse({"status": "ok" if ready else "unavailable", **checks},
                            status_code=200 if ready else 503)

    if runtime.settings.simulator_enabled:
        app.include_router(simulator.router)
    else:
        app.include_router(simulator.disabled_router())
    app.include_router(webhooks.router)
    app.include_router(api.router)
    app.include_router(nlu_api.router)
    app.include_router(stats_api.router)
    app.include_router(map_router(require_console_account("analyst", "admin"),
                                  geo_dir=runtime.settings.data_dir / "geo"))
    install_console(app)
    return app


def create_app_from_env() -> FastAPI:
    """The app a uvicorn worker process builds for itself (`uvicorn --factory
    bot.web.app:create_app_from_env`, as `run_bot.py serve --workers N` does): settings
    from the environment, one runtime per worker."""
    from bot.logs import configure_logging

    settings = Settings.from_env()
    configure_logging(settings.log_level)
    return create_app(build_runtime(settings), freeze_after_start=True)

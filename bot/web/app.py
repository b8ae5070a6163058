"""The FastAPI application: everything comes in as arguments (one wiring point)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from bot.runtime import Runtime
from bot.web import api, simulator, stats_api
from bot.web.errors import install_error_handlers
from bot.web.map_page import map_router


def create_app(runtime: Runtime, *, background: bool = True) -> FastAPI:
    """The web app over a built runtime. `background=False` leaves the outbox loop off
    (tests drive it by hand)."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if background:
            await runtime.start_background()
        try:
            yield
        finally:
            await runtime.close()

    app = FastAPI(title="Amane", version="1", lifespan=lifespan,
                  description="Confidential intake service: webhooks, counselor API, NLU.")
    app.state.runtime = runtime
    install_error_handlers(app)

    @app.get("/healthz", tags=["ops"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    if runtime.settings.simulator_enabled:
        app.include_router(simulator.router)
    else:
        app.include_router(simulator.disabled_router())
    app.include_router(api.router)
    app.include_router(stats_api.router)
    # Until the console's session login lands: the API bearer token of an analyst/admin.
    app.include_router(map_router(stats_api.require_analyst,
                                  geo_dir=runtime.settings.data_dir / "geo"))
    return app

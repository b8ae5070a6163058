"""The FastAPI application: everything comes in as arguments (one wiring point)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from bot.runtime import Runtime
from bot.web import api, simulator
from bot.web.console import install_console
from bot.web.errors import install_error_handlers


def create_app(runtime: Runtime, *, background: bool = True) -> FastAPI:
    """The web app over a built runtime. `background=False` leaves the outbox loop off
    (tests drive it by hand)."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await runtime.flow_versions.refresh()  # the flows admins published
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
    install_console(app)
    return app

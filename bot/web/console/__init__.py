"""The counselor and admin console, served by the app itself at /console.

`install_console(app)` adds the routers, the static files, the console's error pages.
Security headers come from `bot.web.security`, for the whole app. Other routers under /console (the map) protect themselves
with `auth.require_console_account(*roles)` and add a menu entry with
`pages.add_nav_item`.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from bot.web.console import admin, auth, cases, flows, queue
from bot.web.console.auth import ConsoleDenied, ConsoleRedirect
from bot.web.console.pages import STATIC_DIR, render

def install_console(app: FastAPI) -> None:
    for module in (auth, queue, cases, admin, flows):
        app.include_router(module.router)
    app.mount("/console/static", StaticFiles(directory=STATIC_DIR), name="console-static")

    @app.exception_handler(ConsoleRedirect)
    async def _redirect(_: Request, exc: ConsoleRedirect) -> RedirectResponse:
        return RedirectResponse(exc.location, status_code=303)

    @app.exception_handler(ConsoleDenied)
    async def _denied(request: Request, exc: ConsoleDenied) -> HTMLResponse:
        user = getattr(request.state, "console_user", None)
        return render(request, "error.html", {"reason": exc.reason},
                      status_code=exc.status_code, user=user)

"""The counselor and admin console, served by the app itself at /console.

`install_console(app)` adds the routers, the static files, the console's error pages
and its security headers. Other routers under /console (the map) protect themselves
with `auth.require_console_account(*roles)` and add a menu entry with
`pages.add_nav_item`.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.web.console import admin, auth, cases, flows, queue
from bot.web.console.auth import ConsoleDenied, ConsoleRedirect
from bot.web.console.pages import STATIC_DIR, render

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; media-src 'self' data:; frame-ancestors 'none'; "
    "form-action 'self'; base-uri 'none'; object-src 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}


class ConsoleHeaders:
    """Security headers on every console response; pages are never cached."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not path.startswith("/console"):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if not path.startswith("/console/static/"):
                    headers.setdefault("cache-control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install_console(app: FastAPI) -> None:
    for module in (auth, queue, cases, admin, flows):
        app.include_router(module.router)
    app.mount("/console/static", StaticFiles(directory=STATIC_DIR), name="console-static")
    app.add_middleware(ConsoleHeaders)

    @app.exception_handler(ConsoleRedirect)
    async def _redirect(_: Request, exc: ConsoleRedirect) -> RedirectResponse:
        return RedirectResponse(exc.location, status_code=303)

    @app.exception_handler(ConsoleDenied)
    async def _denied(request: Request, exc: ConsoleDenied) -> HTMLResponse:
        user = getattr(request.state, "console_user", None)
        return render(request, "error.html", {"reason": exc.reason},
                      status_code=exc.status_code, user=user)

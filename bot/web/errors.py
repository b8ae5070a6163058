"""Error answers: always JSON with a reason, never a stack trace, never a 500 for bad
input."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from bot.outages import is_outage

logger = logging.getLogger(__name__)

OUTAGE_RETRY_AFTER = "5"  # seconds


def _describe(errors: list[dict[str, object]]) -> list[str]:
    reasons = []
    for error in errors:
        location = ".".join(str(p) for p in error.get("loc", ()) if p != "body")  # type: ignore[union-attr]
        message = str(error.get("msg", "invalid"))
        if message.startswith("Value error, "):
            message = message[len("Value error, "):]
        if error.get("type") == "json_invalid":
            reasons.append("body: malformed JSON")
        else:
            reasons.append(f"{location or 'body'}: {message}")
    return reasons


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        reasons = _describe(list(exc.errors()))
        return JSONResponse({"error": "; ".join(reasons), "reasons": reasons}, status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else "error"
        return JSONResponse({"error": detail}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        if is_outage(exc):
            # The database (or Redis) is unreachable: nothing was stored. 503 asks the
            # provider (and any client) to send it again later.
            logger.warning("%s %s: service unavailable (%s)", request.method,
                           request.url.path, type(exc).__name__)
            return JSONResponse({"error": "temporarily unavailable, try again"},
                                status_code=503, headers={"Retry-After": OUTAGE_RETRY_AFTER})
        logger.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse({"error": "internal error"}, status_code=500)

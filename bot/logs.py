"""Logging set-up. Amane's own loggers never receive a body, a name or a number; the
libraries below do at DEBUG or INFO (SQL parameters, request URLs and bodies, Twilio's
request dumps), so they are held at WARNING whatever LOG_LEVEL says."""

from __future__ import annotations

import logging
import sys

CHATTY_LIBRARIES = (
    "aiosqlite",
    "asyncpg",
    "sqlalchemy.engine",
    "sqlalchemy.pool",
    "alembic",
    "httpx",
    "httpcore",
    "hpack",
    "telegram",
    "twilio",
    "twilio.http_client",
    "aiohttp",
    "uvicorn.access",
    "multipart",
    "python_multipart",
)


def quiet_libraries() -> None:
    for name in CHATTY_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger().setLevel(level)
    quiet_libraries()

"""What an attacker with a database dump or the logs would find: nothing of hers."""

from __future__ import annotations

import logging
import re

import httpx
import pytest
from sqlalchemy import text

from bot.logs import configure_logging
from bot.runtime import Runtime
from tests.support import Woman, add_account, login

SENDER = "+212612345678"
WORDS = "mon mari Youssef m'insulte tous les soirs"
COUNSELOR_REPLY = "Bonjour Khadija, je peux vous appeler demain matin"


async def conversation(client: httpx.AsyncClient, runtime: Runtime) -> None:
    her = Woman(client, SENDER)
    replies = await her.says_all("Bonjour", "oui", "oui", "avocat", "Tiznit", "1",
                                 "le soir après 18h", WORDS)
    match = re.search(r"AM-[A-Z0-9]{6}", replies[-1]["text"])
    assert match, her.transcript
    reference = match.group()
    await add_account(runtime, "salma", "counselor", "sample-09581-emf")
    auth = await login(client, "salma")
    await client.get(f"/api/v1/cases/{reference}", headers=auth)
    sent = await client.post(f"/api/v1/cases/{reference}/messages", headers=auth,
                             json={"text": COUNSELOR_REPLY})
    assert sent.status_code == 201
    assert COUNSELOR_REPLY in [m["text"] for m in await her.outbox()]
    await her.says("merci beaucoup")


async def test_the_raw_database_holds_neither_her_words_nor_her_number(
        client: httpx.AsyncClient, runtime: Runtime) -> None:
    await conversation(client, runtime)
    # Each long enough, or with a character base64 never has, that a ciphertext
    # cannot hold it by chance ("18h" alone did, once in a while).
    secrets = [SENDER, "212612345678", "12345678", "Youssef", "insulte", "après 18h",
               "Khadija", "appeler demain", "merci beaucoup"]
    async with runtime.db_engine.connect() as conn:
        dialect = conn.dialect.name
        if dialect == "sqlite":
            tables = [r[0] for r in await conn.execute(
                text("SELECT name FROM sqlite_master WHERE type='table'"))]
        else:
            tables = [r[0] for r in await conn.execute(text(
                "SELECT tablename FROM pg_tables WHERE schemaname='public'"))]
        dump = []
        for table in tables:
            for row in await conn.execute(text(f'SELECT * FROM "{table}"')):
                dump.append(repr(tuple(row)))
    everything = "\n".join(dump)
    assert "AM-" in everything  # the dump is real
    for secret in secrets:
        assert secret not in everything, secret


async def test_logs_hold_no_body_name_or_number(client: httpx.AsyncClient, runtime: Runtime,
                                                caplog: pytest.LogCaptureFixture) -> None:
    root_level = logging.getLogger().level
    configure_logging("DEBUG")  # as `LOG_LEVEL=DEBUG run_bot.py serve` does
    caplog.set_level(logging.DEBUG)
    try:
        await conversation(client, runtime)
    finally:
        logging.getLogger().setLevel(root_level)
    assert caplog.records  # logging was on
    logs = "\n".join(f"{r.name} {r.getMessage()} {r.args!r}" for r in caplog.records)
    for secret in (SENDER, "212612345678", "Youssef", "insulte", "après 18h", "Khadija",
                   "appeler demain", "merci beaucoup", "avocat", "Tiznit"):
        assert secret not in logs, secret


async def test_sessions_are_encrypted_in_their_store(client: httpx.AsyncClient,
                                                     runtime: Runtime) -> None:
    her = Woman(client, SENDER)
    await her.says_all("Bonjour", "oui", "oui", "avocat", "Tiznit", "1",
                       "le soir après 18h")
    if runtime.redis is not None:
        keys = await runtime.redis.keys("*")
        blobs = [k + (await runtime.redis.get(k) or b"") for k in keys
                 if await runtime.redis.type(k) == b"string"]
    else:
        blobs = [key.encode() + value for key, (_, value)
                 in runtime.sessions._items.items()]  # type: ignore[attr-defined]
    assert blobs  # her conversation is there...
    raw = b"\n".join(blobs)
    for secret in (SENDER.encode(), "18h".encode(), b"Tiznit", b"avocat", b"need_legal"):
        assert secret not in raw, secret  # ...but nothing of it can be read

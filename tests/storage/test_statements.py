"""Statements that stand alone give the same rows through asyncpg (PostgreSQL) as through
SQLAlchemy, keep the columns' types, and keep the meaning of errors."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import bindparam, func, insert, literal, select, text, update
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect
from sqlalchemy.exc import IntegrityError

from bot.outages import is_outage
from bot.storage.database import create_engine
from bot.storage.models import Case, Contact, Message
from bot.storage import statements as statements_module
from bot.storage.statements import Statements, compile_for_asyncpg
from tests.support import eventually

_M = Message.__table__
_C = Contact.__table__

_THEIRS = (select(_M.c.id, _M.c.created_at, _C.c.channel.label("her_channel"))
           .join(_C, _C.c.id == _M.c.contact_id)
           .where(_M.c.id.in_(bindparam("ids", expanding=True)),
                  _M.c.status.notin_(bindparam("not", expanding=True)),
                  _M.c.created_at >= bindparam("since", type_=_M.c.created_at.type))
           .order_by(_M.c.id))


def test_in_lists_become_one_array_parameter_each() -> None:
    compiled = compile_for_asyncpg(_THEIRS, asyncpg_dialect.dialect())
    assert "POSTCOMPILE" not in compiled.sql
    assert "messages.id = ANY($2)" in compiled.sql
    assert "messages.status <> ALL($3)" in compiled.sql
    assert compiled.names == ("since", "ids", "not")
    assert compiled.arguments({"ids": (3, 4), "not": ["held"],
                               "since": datetime(2026, 1, 1)}) == [
        datetime(2026, 1, 1, tzinfo=timezone.utc), [3, 4], ["held"]]


def test_a_value_left_out_is_an_error_not_null() -> None:
    compiled = compile_for_asyncpg(_THEIRS, asyncpg_dialect.dialect())
    # NULL in its place would change the statement (a LIMIT NULL claims everything).
    with pytest.raises(ValueError, match="since"):
        compiled.arguments({"ids": [1], "not": []})


def test_python_side_defaults_are_left_to_sqlalchemy() -> None:
    # `updated_at` (onupdate=utcnow) would be sent as NULL.
    with pytest.raises(ValueError, match="Python-side"):
        compile_for_asyncpg(update(Case.__table__).values(status="closed"),
                            asyncpg_dialect.dialect())


@pytest.fixture
async def stored(database_url: str):  # type: ignore[no-untyped-def]
    engine = create_engine(database_url)
    statements = Statements(engine, pool_size=2)
    created = datetime(2026, 11, 30, 8, 0, tzinfo=timezone.utc)
    async with engine.begin() as conn:
        contact = (await conn.execute(insert(_C).values(
            channel="sms", address_hash="a" * 64, address_enc=b"x").returning(_C.c.id))).scalar()
        ids = [(await conn.execute(insert(_M).values(
            contact_id=contact, channel="sms", direction="out", sender="bot", status=status,
            created_at=created + timedelta(minutes=i)).returning(_M.c.id))).scalar()
            for i, status in enumerate(("pending", "held", "sent"))]
    yield engine, statements, ids, created
    await statements.close()
    await engine.dispose()


async def test_the_same_rows_as_through_sqlalchemy(stored) -> None:  # type: ignore[no-untyped-def]
    engine, statements, ids, created = stored
    params = {"ids": ids, "not": ["held"], "since": created.replace(tzinfo=None)}
    rows = await statements.rows(_THEIRS, params)
    async with engine.connect() as conn:
        expected = (await conn.execute(_THEIRS, params)).all()
    assert [tuple(r) for r in rows] == [tuple(r) for r in expected]
    assert [r.id for r in rows] == [ids[0], ids[2]]
    assert rows[0].her_channel == "sms" and rows[0][2] == "sms"
    assert rows[1].created_at == created + timedelta(minutes=2)  # aware, in UTC
    assert await statements.rows(_THEIRS, {**params, "ids": []}) == []
    assert await statements.first(_THEIRS, {**params, "ids": [ids[1]]}) is None


async def test_a_write_commits_by_itself(stored) -> None:  # type: ignore[no-untyped-def]
    engine, statements, ids, _ = stored
    await statements.execute(update(_M).where(_M.c.id.in_(bindparam("ids", expanding=True)))
                             .values(status="failed"), {"ids": ids[:2]})
    async with engine.connect() as conn:
        statuses = (await conn.execute(select(_M.c.status).order_by(_M.c.id))).scalars().all()
    assert statuses == ["failed", "failed", "sent"]


async def test_a_unique_violation_is_an_integrity_error(stored) -> None:  # type: ignore[no-untyped-def]
    _, statements, ids, _ = stored
    # One provider id for two of her messages (unique per channel and direction).
    same = (update(_M).where(_M.c.id.in_(bindparam("ids", expanding=True)))
            .values(provider_message_id="SM1"))
    with pytest.raises(IntegrityError):
        await statements.execute(same, {"ids": ids[:2]})


async def test_connections_killed_by_a_restart_are_replaced(
        stored) -> None:  # type: ignore[no-untyped-def]
    engine, statements, _, _ = stored
    if not statements.postgres:
        pytest.skip("the asyncpg pool is PostgreSQL's")
    pid = select(func.pg_backend_pid().label("pid"), func.pg_sleep(0.2))
    # Both connections of the pool open at once, then killed as a restart would.
    pids = {r.pid for r in await asyncio.gather(statements.first(pid, {}),
                                                statements.first(pid, {}))}
    assert len(pids) == 2
    async with engine.connect() as conn:
        for backend in pids:
            # Waits (up to 10 s) until that backend has exited.
            assert await conn.scalar(text("SELECT pg_terminate_backend(:pid, 10000)"),
                                     {"pid": backend}), "the backend did not exit"
    await asyncio.sleep(0.2)  # the pool's sockets read their end
    again = {r.pid for r in await asyncio.gather(statements.first(pid, {}),
                                                 statements.first(pid, {}))}
    assert len(again) == 2 and not again & pids


async def test_a_lost_connection_is_an_outage(stored) -> None:  # type: ignore[no-untyped-def]
    _, statements, _, _ = stored
    if not statements.postgres:
        pytest.skip("the asyncpg pool is PostgreSQL's")
    # Killed in the middle of its statement: the worker retries later (`bot.outages`).
    with pytest.raises(Exception) as failed:
        await statements.first(select(func.pg_terminate_backend(func.pg_backend_pid())), {})
    assert is_outage(failed.value)
    assert (await statements.first(select(func.now().label("now")), {})).now is not None


async def test_a_busy_pool_times_out_and_keeps_its_connection(
        stored, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    engine, _, _, _ = stored
    statements = Statements(engine, pool_size=1)
    if not statements.postgres:
        pytest.skip("the asyncpg pool is PostgreSQL's")
    monkeypatch.setattr(statements_module, "ACQUIRE_TIMEOUT", 0.2)
    pid = select(func.pg_backend_pid().label("pid"))
    tasks: list[asyncio.Task[Any]] = []
    try:
        first = (await statements.first(pid, {})).pid
        async with engine.connect() as holder:
            # The pool's one connection waits for a lock this test holds.
            await holder.execute(select(func.pg_advisory_xact_lock(BUSY_LOCK)))
            slow = asyncio.create_task(statements.first(
                select(func.pg_advisory_xact_lock(BUSY_LOCK), literal(1).label("one")), {}))
            tasks.append(slow)
            await _until_waiting_for(holder, first, BUSY_LOCK)
            busy = asyncio.create_task(statements.first(pid, {}))
            tasks.append(busy)
            await asyncio.wait([busy], timeout=10)
            assert busy.done(), "the pool's timeout did not end the wait"
            assert is_outage(busy.exception())  # retried later
            await holder.commit()  # the lock goes
        await slow
        # Only busy: the connection was not thrown away.
        assert (await statements.first(pid, {})).pid == first
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await statements.close()


BUSY_LOCK = 424242


async def _until_waiting_for(conn: Any, backend: int, lock: int) -> None:
    """Until the session of `backend` waits for the advisory lock `lock` (one bigint
    key: its high half in classid, its low half in objid)."""
    async def waiting() -> bool:
        return bool(await conn.scalar(text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            " AND pid = :backend AND classid = 0 AND objid = :lock AND objsubid = 1"),
            {"backend": backend, "lock": lock}))

    await eventually(waiting, "the statement waiting for the lock", within=10, every=0.05)


async def test_after_closing_a_statement_is_an_outage(stored) -> None:  # type: ignore[no-untyped-def]
    _, statements, _, _ = stored
    if not statements.postgres:
        pytest.skip("the asyncpg pool is PostgreSQL's")
    await statements.first(select(func.now().label("now")), {})
    await statements.close()
    with pytest.raises(Exception) as closed:
        await statements.first(select(func.now().label("now")), {})
    assert is_outage(closed.value)

"""Statements that stand alone, sent the cheapest way the database allows.

The hot paths (her message stored, the messages waiting before it, the outbox's claim,
its read before a send, "sent", the delivery reports) are single SQLAlchemy Core
statements, each committed by itself. Through SQLAlchemy one such statement costs the
worker 0.26 to 0.6 ms of CPU on PostgreSQL (by the machine's load), this way 0.11 ms
(`bench/statement_cost.py`): with a dozen of them per message, that difference was a
third of what a message cost.

So on PostgreSQL each statement is compiled once by SQLAlchemy (the statement is still
written, and reviewed, in SQLAlchemy) and then sent by asyncpg on a small pool of its
own, where asyncpg keeps it prepared. Bind and result processing of the columns' types
(`UTCDateTime`) is kept; `IN` lists become `= ANY($n)` (one array parameter, one
prepared statement whatever the length). On SQLite they go through SQLAlchemy as
before: the same statements, the same results.

Errors keep their meaning: a unique violation is raised as SQLAlchemy's
`IntegrityError`; a lost connection is an outage (`bot.outages`) and the pool's other
connections, dead too after a restart of PostgreSQL, are replaced before their next
use."""

from __future__ import annotations

import asyncio
import re
from collections import namedtuple
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql import Executable

# How SQLAlchemy 2 leaves an expanding `IN` for execution time.
_POSTCOMPILE = re.compile(r"(NOT )?IN \(__\[POSTCOMPILE_(\w+)\]\)")
_NUMBERED = re.compile(r"\$(\d+)")
# Connection options of SQLAlchemy's asyncpg dialect that asyncpg itself does not take.
_DIALECT_ONLY = ("prepared_statement_cache_size", "prepared_statement_name_func",
                 "async_creator_fn")
ACQUIRE_TIMEOUT = 30.0  # as SQLAlchemy's pool_timeout: then an outage, retried
CLOSE_TIMEOUT = 10.0  # then the connections still in use are cut
# A connection lost (PostgreSQL restarted or stopped): the pool's others are dead too.
_LOST = (asyncpg.PostgresConnectionError, asyncpg.AdminShutdownError,
         asyncpg.CrashShutdownError, ConnectionError)


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]  # the parameter sent as $1, $2, ...
    defaults: Mapping[str, Any]  # literal values of the statement itself
    binds: Mapping[str, Callable[[Any], Any]]  # the types' bind processing
    expanding: frozenset[str]  # parameters sent as one array
    required: frozenset[str]  # parameters the caller must give (no value of their own)
    row: Any  # a namedtuple class (attribute and index access, as SQLAlchemy's rows)
    results: tuple[Callable[[Any], Any] | None, ...] | None  # None: nothing to process

    def arguments(self, params: Mapping[str, Any]) -> list[Any]:
        missing = self.required.difference(params)
        if missing:  # as SQLAlchemy: never NULL in its place (a LIMIT NULL claims all)
            raise ValueError(f"a value is required for {', '.join(sorted(missing))}")
        values = []
        for name in self.names:
            value = params[name] if name in params else self.defaults[name]
            process = self.binds.get(name)
            if name in self.expanding:
                value = [process(v) for v in value] if process else list(value)
            elif process is not None:
                value = process(value)
            values.append(value)
        return values

    def make_row(self, record: Any) -> Any:
        if self.results is None:
            return self.row(*record)
        return self.row(*(value if process is None else process(value)
                          for process, value in zip(self.results, record)))


def compile_for_asyncpg(statement: Executable, dialect: Any) -> _Compiled:
    """`statement` as asyncpg takes it: SQL with $n parameters and how to fill them."""
    compiled: Any = statement.compile(dialect=dialect)
    if compiled.insert_prefetch or compiled.update_prefetch:
        # Column defaults computed in Python (`onupdate=utcnow`) are SQLAlchemy's to
        # fill in at execution: they would be sent as NULL here.
        raise ValueError("a statement with Python-side column defaults goes through "
                         "SQLAlchemy")
    sql: str = compiled.string
    positional = tuple(compiled.positiontup or ())
    expanding = tuple(dict.fromkeys(m.group(2) for m in _POSTCOMPILE.finditer(sql)))
    numbered = tuple(name for name in positional if name not in expanding)
    highest = max((int(n) for n in _NUMBERED.findall(sql)), default=0)
    if highest != len(numbered):  # SQLAlchemy numbers them differently: do not guess
        raise ValueError(f"cannot map the parameters of: {sql[:80]}")
    slot = {name: len(numbered) + 1 + i for i, name in enumerate(expanding)}

    def any_of(match: re.Match[str]) -> str:
        operator = "<> ALL" if match.group(1) else "= ANY"
        return f"{operator}(${slot[match.group(2)]})"

    sql = _POSTCOMPILE.sub(any_of, sql)
    processors = compiled._bind_processors  # the types' own conversions (UTCDateTime)
    columns = list(getattr(compiled, "_result_columns", None) or ())
    results = tuple(column.type.dialect_impl(dialect).result_processor(dialect, None)
                    for column in columns)
    return _Compiled(
        sql=sql, names=numbered + expanding,
        defaults=dict(compiled.params),
        binds={k: v for k, v in processors.items() if v is not None},
        expanding=frozenset(expanding),
        required=frozenset(name for name, bind in compiled.binds.items() if bind.required),
        row=namedtuple("Row", [c.keyname for c in columns] or ["_"],  # type: ignore[misc]
                       rename=True),
        results=results if any(p is not None for p in results) else None)


async def _nothing_to_reset(_connection: asyncpg.Connection) -> None:
    """A connection goes back to the pool as it came: a statement that commits by
    itself leaves no session state (no transaction, no session lock, no setting), so
    asyncpg's reset query, a round trip after every statement, is not sent."""


class Statements:
    """Run one Core statement that commits by itself: `rows`, `first`, `execute`."""

    def __init__(self, engine: AsyncEngine, *, pool_size: int = 5) -> None:
        self._engine = engine
        self._autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
        self.postgres = engine.dialect.name == "postgresql"
        self._pool_size = pool_size
        self._pool: asyncpg.Pool | None = None
        self._closed = False
        self._opening = asyncio.Lock()
        self._compiled: dict[int, tuple[Executable, _Compiled]] = {}

    def _for_asyncpg(self, statement: Executable) -> _Compiled:
        # Keyed by identity (the statements are module constants, built once); the
        # statement is kept with it, so that its id is never reused.
        found = self._compiled.get(id(statement))
        if found is None:
            found = (statement, compile_for_asyncpg(statement, self._engine.dialect))
            self._compiled[id(statement)] = found
        return found[1]

    async def _open(self) -> asyncpg.Pool:
        async with self._opening:
            if self._closed:  # shutting down: the work is retried by a worker still up
                raise asyncpg.InterfaceError("the statements' pool is closed")
            if self._pool is None:
                dialect: Any = self._engine.dialect
                _, options = dialect.create_connect_args(self._engine.url)
                for name in _DIALECT_ONLY:
                    options.pop(name, None)
                self._pool = await asyncpg.create_pool(
                    min_size=0, max_size=self._pool_size, reset=_nothing_to_reset,
                    max_inactive_connection_lifetime=300.0, **options)
            return self._pool

    async def _fetch(self, statement: Executable, params: Mapping[str, Any],
                     *, many: bool) -> list[Any]:
        compiled = self._for_asyncpg(statement)
        arguments = compiled.arguments(params)
        pool = self._pool or await self._open()
        try:
            async with pool.acquire(timeout=ACQUIRE_TIMEOUT) as conn:
                if many:
                    records = await conn.fetch(compiled.sql, *arguments)
                else:
                    record = await conn.fetchrow(compiled.sql, *arguments)
                    records = [] if record is None else [record]
        except asyncpg.IntegrityConstraintViolationError as exc:
            raise IntegrityError(compiled.sql, None, exc) from exc
        except _LOST:
            # After a restart of PostgreSQL every pooled connection is dead: replace
            # them all before their next use, not one failed statement at a time. (Not
            # on a timeout: a pool that is only busy keeps its connections.)
            await pool.expire_connections()
            raise
        return [compiled.make_row(r) for r in records]

    async def rows(self, statement: Executable, params: Mapping[str, Any]) -> list[Any]:
        if self.postgres:
            return await self._fetch(statement, params, many=True)
        async with self._autocommit.connect() as conn:
            return list((await conn.execute(statement, dict(params))).all())

    async def first(self, statement: Executable, params: Mapping[str, Any]) -> Any | None:
        if self.postgres:
            found = await self._fetch(statement, params, many=False)
            return found[0] if found else None
        async with self._autocommit.connect() as conn:
            return (await conn.execute(statement, dict(params))).first()

    async def execute(self, statement: Executable, params: Mapping[str, Any]) -> None:
        if self.postgres:
            await self._fetch(statement, params, many=False)
            return
        async with self._autocommit.connect() as conn:
            await conn.execute(statement, dict(params))

    async def close(self) -> None:
        async with self._opening:
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is None:
            return
        try:  # statements in flight finish, for a while
            await asyncio.wait_for(pool.close(), CLOSE_TIMEOUT)
        except asyncio.TimeoutError:
            pool.terminate()

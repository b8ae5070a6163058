"""What one SQL statement costs the worker's CPU on PostgreSQL, by the way it is sent:
the figures behind docs/load-benchmark.md.

    .venv/bin/python bench/statement_cost.py --database-url postgresql+asyncpg://...

Brings the schema at that URL up to date, then sends the outbox's read before a send
(`bot.outbox.TO_SEND`, for a message that does not exist) --count times each way and
prints the best of three rounds in CPU milliseconds (process time, so other processes on
the machine count little): through SQLAlchemy with a pool checkout per statement (as
the outbox did before `bot.storage.statements`), through a separate engine whose
connections are AUTOCOMMIT from the start, on a connection already checked out, as
Amane sends it now (`Statements.first`: compiled once by SQLAlchemy, sent by asyncpg on
its own pool), and with asyncpg alone on one connection."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402

from bot.outbox.claims import TO_SEND  # noqa: E402
from bot.storage.database import create_engine, upgrade_async  # noqa: E402
from bot.storage.statements import Statements  # noqa: E402


async def cpu_ms(send: Callable[[], Awaitable[object]], count: int) -> float:
    for _ in range(count // 10):  # warm: prepared statements, pool, caches
        await send()
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        for _ in range(count):
            await send()
        best = min(best, (time.process_time() - started) / count * 1000)
    return best


async def main(args: argparse.Namespace) -> int:
    url = args.database_url
    if not url.startswith("postgresql+asyncpg://"):
        print("a postgresql+asyncpg:// URL is needed", file=sys.stderr)
        return 2
    await upgrade_async(url)
    params = {"message_id": -1}
    engine = create_engine(url)
    shared = engine.execution_options(isolation_level="AUTOCOMMIT")
    own = create_async_engine(url, isolation_level="AUTOCOMMIT", pool_size=5)
    statements = Statements(engine, pool_size=5)
    sql = str(TO_SEND.compile(dialect=engine.dialect))
    try:
        async def checkout_shared() -> None:
            async with shared.connect() as conn:
                await conn.execute(TO_SEND, params)

        async def checkout_own() -> None:
            async with own.connect() as conn:
                await conn.execute(TO_SEND, params)

        rows = [("SQLAlchemy, a checkout per statement (as before)",
                 await cpu_ms(checkout_shared, args.count)),
                ("SQLAlchemy, a separate AUTOCOMMIT engine",
                 await cpu_ms(checkout_own, args.count))]
        async with shared.connect() as conn:
            async def held() -> None:
                await conn.execute(TO_SEND, params)

            rows.append(("SQLAlchemy, connection already checked out",
                         await cpu_ms(held, args.count)))
            rows.append(("Amane's Statements (asyncpg, its own pool)",
                         await cpu_ms(lambda: statements.first(TO_SEND, params), args.count)))
            raw = (await conn.get_raw_connection()).driver_connection
            rows.append(("asyncpg alone, same connection",
                         await cpu_ms(lambda: raw.fetchrow(sql, -1), args.count)))
    finally:
        await statements.close()
        await engine.dispose()
        await own.dispose()
    for label, ms in rows:
        print(f"  {label:<52} {ms:6.3f} ms CPU per statement")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--count", type=int, default=4000)
    sys.exit(asyncio.run(main(parser.parse_args())))

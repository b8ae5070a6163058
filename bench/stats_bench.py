"""Stats benchmark: every stats endpoint and the map, timed through the whole web stack
(FastAPI in process, real database), over generated cases.

    .venv/bin/python bench/stats_bench.py --database-url URL --cases 1000000

Fills the database with synthetic cases (`bot.stats.synthetic`) up to --cases (existing
cases count), loads the sample centers if there are none, then asks each endpoint
--runs times and prints the first (cold) and the slowest of the others. Exits 1 if any
answer took 2 s or more. Use a database of its own: it adds rows and an account.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import httpx
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.accounts import create_account, issue_token  # noqa: E402
from bot.crypto import generate_key_material  # noqa: E402
from bot.handoff.directory import count_centers, import_centers, parse_centers_csv  # noqa: E402
from bot.runtime import build_runtime  # noqa: E402
from bot.settings import PROJECT_ROOT, Settings  # noqa: E402
from bot.stats.synthetic import insert_cases, synthetic_cases  # noqa: E402
from bot.storage.database import upgrade  # noqa: E402
from bot.storage.models import Case  # noqa: E402
from bot.web.app import create_app  # noqa: E402

LIMIT_SECONDS = 2.0
ENDPOINTS = [
    "/api/v1/stats/by/region",
    "/api/v1/stats/by/province",
    "/api/v1/stats/by/month",
    "/api/v1/stats/by/need",
    "/api/v1/stats/by/violence",
    "/api/v1/stats/by/urgency",
    "/api/v1/stats/by/channel",
    "/api/v1/stats/by/language",
    "/api/v1/stats/by/need?region=06&urgency=urgent",
    "/api/v1/stats/by/province?region=06&need=need_shelter&from={recent}",
    "/api/v1/stats/table?rows=region&cols=need",
    "/api/v1/stats/table?rows=province&cols=need",
    "/api/v1/stats/table?rows=month&cols=violence",
    "/api/v1/stats/table?rows=need&cols=violence",
    "/api/v1/stats/by/region?format=csv",
    "/api/v1/stats/coverage",
    "/api/v1/stats/coverage?need=need_shelter",
    "/console/map",
    "/console/map?need=need_shelter&from={recent}",
    "/console/map?region=06",
    "/console/coverage",
    "/console/coverage.csv",
]


async def main(args: argparse.Namespace) -> int:
    upgrade(args.database_url)
    material = generate_key_material()
    settings = Settings(database_url=args.database_url, var_dir=Path(args.var_dir),
                        encryption_keys=",".join(material["encryption_keys"]),  # type: ignore
                        address_hash_key=str(material["address_hash_key"]),
                        simulator_enabled=False, log_level="WARNING")
    runtime = build_runtime(settings)
    async with runtime.sessionmaker() as db:
        if await count_centers(db) == 0:
            sample = (PROJECT_ROOT / "data" / "centers" / "sample_centers.csv").read_text("utf-8")
            await import_centers(db, parse_centers_csv(sample))
        existing = int(await db.scalar(select(func.count()).select_from(Case)) or 0)
        await db.commit()
    if existing < args.cases:
        started = time.perf_counter()
        added = await insert_cases(runtime.db_engine, synthetic_cases(
            args.cases - existing, runtime.places.places, start_index=existing))
        print(f"generated {added} cases in {time.perf_counter() - started:.0f} s", flush=True)
        if runtime.db_engine.dialect.name == "postgresql":
            async with runtime.db_engine.connect() as conn:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.exec_driver_sql("VACUUM ANALYZE cases")
    async with runtime.sessionmaker() as db:
        account = await create_account(db, username=f"bench-{secrets.token_hex(4)}",
                                       password=secrets.token_urlsafe(24), role="analyst")
        token = await issue_token(db, account, timedelta(hours=1))
        total = int(await db.scalar(select(func.count()).select_from(Case)) or 0)
        await db.commit()
    recent = f"{date.today().year - 1}-01"
    app = create_app(runtime, background=False)
    headers = {"Authorization": f"Bearer {token}"}
    print(f"{runtime.db_engine.dialect.name}, {total} cases, {args.runs} runs per endpoint\n")
    print("| endpoint | first (s) | slowest after (s) | median (s) |\n|---|---|---|---|")
    worst = 0.0
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://bench", timeout=60) as client:
        for path in ENDPOINTS:
            path = path.format(recent=recent)
            times = []
            for _ in range(args.runs):
                started = time.perf_counter()
                response = await client.get(path, headers=headers)
                times.append(time.perf_counter() - started)
                if response.status_code != 200:
                    print(f"{path}: {response.status_code} {response.text[:200]}")
                    return 2
            worst = max(worst, *times)
            print(f"| `{path}` | {times[0]:.3f} | {max(times[1:] or times):.3f} | "
                  f"{statistics.median(times):.3f} |", flush=True)
    await runtime.close()
    print(f"\nslowest answer: {worst:.3f} s (limit {LIMIT_SECONDS} s)")
    return 0 if worst < LIMIT_SECONDS else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--var-dir", default=str(PROJECT_ROOT / "var" / "bench"))
    sys.exit(asyncio.run(main(parser.parse_args())))

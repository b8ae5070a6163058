"""Load benchmark: simulated women doing the whole intake by SMS through the signed
Twilio webhook, against Amane running as real uvicorn worker processes, and a counselor
answering each case through the API; the replies go to a local fake Twilio.

    python bench/load.py --workers 1 --database sqlite
    python bench/load.py --workers 2 --database postgres   # + Redis

PostgreSQL and Redis default to TEST_DATABASE_URL / TEST_REDIS_URL (the bench empties
that database and that Redis db first). Prints messages per second, latency from her
message to the last reply she gets (p50/p95/p99), errors, peak memory of the server
processes, the CPU time of the server processes and of the whole machine per message
(what the targets come down to: all cores divided by the rate), on PostgreSQL the
transactions and Redis commands per message (counted: they do not vary with the noise
of a shared machine), and the throughput of an empty endpoint of the same server (the
ceiling)."""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.provider import FakeTwilioProvider  # noqa: E402
from bench.servers import (  # noqa: E402
    AmaneServer,
    amane_environment,
    ensure_nlu_model,
    free_port,
    machine_cpu_seconds,
)
from bench.women import INTAKE, Result, SmsWoman, calibrate  # noqa: E402
from bot.settings import PROJECT_ROOT  # noqa: E402

AUTH_TOKEN = "0123456789abcdef0123456789abcdef"
CENTER = "sample-09581-emf"  # Tiznit, where the women are
REFERENCE = re.compile(r"AM-[A-Z0-9]{6}")
PASSWORD = "bench passphrase, long enough"


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)]


async def reset_postgres(url: str, redis_url: str) -> None:
    from redis.asyncio import Redis
    from sqlalchemy import text

    from bot.storage.database import create_engine

    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()
    redis = Redis.from_url(redis_url)
    await redis.flushdb()
    await redis.aclose()


async def round_trips(url: str, redis_url: str) -> tuple[int, int]:
    """Transactions PostgreSQL has counted in this database, and commands Redis has
    processed, so far: counted, so that a change of the number of round trips per
    message shows whatever the noise of a shared machine. PostgreSQL counts a
    backend's transactions when it reports them (at the latest when it exits)."""
    from redis.asyncio import Redis
    from sqlalchemy import text

    from bot.storage.database import create_engine

    engine = create_engine(url)
    async with engine.connect() as conn:
        transactions = int((await conn.execute(text(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database "
            "WHERE datname = current_database()"))).scalar_one())
    await engine.dispose()
    redis = Redis.from_url(redis_url)
    commands = int((await redis.info("stats"))["total_commands_processed"])
    await redis.aclose()
    return transactions, commands


async def ceiling(http: aiohttp.ClientSession, url: str, concurrency: int,
                  seconds: float) -> float:
    """Requests per second on GET /healthz: the same server stack doing nothing."""
    done = 0
    stop = time.monotonic() + seconds

    async def client() -> None:
        nonlocal done
        while time.monotonic() < stop:
            async with http.get(url + "/healthz") as response:
                await response.read()
            done += 1

    started = time.monotonic()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return done / (time.monotonic() - started)


async def counselor_token(http: aiohttp.ClientSession, url: str) -> str:
    async with http.post(url + "/api/v1/auth/token",
                         json={"username": "bench", "password": PASSWORD}) as response:
        data = await response.json()
    return str(data["access_token"])


async def answer(http: aiohttp.ClientSession, url: str, token: str, woman: SmsWoman,
                 provider: FakeTwilioProvider, result: Result, latencies: list[float]) -> None:
    """The counselor claims her case and writes to her; the latency is until she has it."""
    texts = provider.texts(woman.number)
    found = REFERENCE.search(texts[-1]) if texts else None
    if found is None:
        result.errors.append("no case reference")
        return
    headers = {"Authorization": f"Bearer {token}"}
    before = len(texts)
    started = time.monotonic()
    async with http.post(f"{url}/api/v1/cases/{found.group()}/messages", headers=headers,
                         json={"text": "Bonjour, je suis Salma, du centre."}) as response:
        await response.read()
        if response.status >= 300:
            result.errors.append(f"counselor HTTP {response.status}")
            return
    arrived = await provider.wait_for(woman.number, before + 1, 30.0)
    if arrived is None:
        result.errors.append("counselor message not delivered")
        return
    latencies.append(arrived - started)


async def run(args: argparse.Namespace) -> dict[str, float]:
    workdir = Path(tempfile.mkdtemp(prefix="amane-bench-"))
    provider = await FakeTwilioProvider(AUTH_TOKEN,
                                        status_callbacks=not args.no_status_callbacks).start()
    port = free_port()
    ensure_nlu_model()
    env = amane_environment(workdir, port, provider.url, AUTH_TOKEN)
    # One client address sends everything: no per-address limit.
    env.update(RATE_LIMIT_IP_PER_MINUTE="100000000", RATE_LIMIT_LOGIN_PER_MINUTE="1000")
    if args.database == "sqlite":
        env["DATABASE_URL"] = f"sqlite+aiosqlite:///{workdir / 'amane.sqlite3'}"
        env["REDIS_URL"] = ""
    else:
        env["DATABASE_URL"] = args.database_url
        env["REDIS_URL"] = args.redis_url
        await reset_postgres(args.database_url, args.redis_url)
    amane = AmaneServer(env, workers=args.workers, port=port, log=workdir / "amane.log")
    amane.run_bot("db", "upgrade")
    amane.run_bot("centers", "import", str(PROJECT_ROOT / "data/centers/sample_centers.csv"))
    amane.run_bot("users", "add", "--username", "bench", "--password", PASSWORD,
                  "--role", "counselor", "--center", CENTER)
    amane.start()
    connector = aiohttp.TCPConnector(limit=0)
    http = aiohttp.ClientSession(connector=connector,
                                 timeout=aiohttp.ClientTimeout(total=60))
    peak = 0
    sampling = True

    async def sample() -> None:
        nonlocal peak
        while sampling:
            peak = max(peak, amane.memory_kib())
            await asyncio.sleep(0.2)

    try:
        public = env["PUBLIC_BASE_URL"]
        expected, _ = await calibrate(http, amane.url, public, AUTH_TOKEN, provider)
        top = await ceiling(http, amane.url, args.concurrency, args.ceiling_seconds)
        token = await counselor_token(http, amane.url)
        result = Result()
        counselor: list[float] = []
        gate = asyncio.Semaphore(args.concurrency)

        async def one(index: int) -> None:
            async with gate:
                woman = SmsWoman(f"+2126{index:08d}", http, amane.url, public, AUTH_TOKEN,
                                 provider)
                errors = len(result.errors)
                await woman.intake(expected, result)
                if len(result.errors) == errors:
                    await answer(http, amane.url, token, woman, provider, result, counselor)

        sampler = asyncio.create_task(sample())
        profilers = [await asyncio.create_subprocess_exec(
            "py-spy", "record", "--format", "raw", "--rate", "200", "--nonblocking", "--gil",
            "-o", f"{args.profile}.{pid}.txt", "--pid", str(pid),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
            for pid in (amane.worker_pids() if args.profile else [])]
        if args.database == "postgres":
            await asyncio.sleep(1.5)  # the calibration's transactions reported first
            trips_before = await round_trips(args.database_url, args.redis_url)
        cpu_before = amane.cpu_seconds()
        machine_before, own_before = machine_cpu_seconds(), time.process_time()
        started = time.monotonic()
        await asyncio.gather(*(one(i) for i in range(args.women)))
        elapsed = time.monotonic() - started
        cpu = amane.cpu_seconds() - cpu_before
        machine = machine_cpu_seconds() - machine_before
        own = time.process_time() - own_before
        sampling = False
        await sampler
        for profiler in profilers:
            profiler.send_signal(2)  # SIGINT: py-spy writes its file
            await profiler.wait()
    finally:
        await http.close()
        amane.stop()
        await provider.stop()
    trips = (0.0, 0.0)
    if args.database == "postgres":
        await asyncio.sleep(0.5)  # the server's backends have exited: all reported
        after = await round_trips(args.database_url, args.redis_url)
        trips = ((after[0] - trips_before[0]) / max(result.messages, 1),
                 (after[1] - trips_before[1]) / max(result.messages, 1))
    rate = result.messages / elapsed
    lat = [x * 1000 for x in result.latencies]
    figures = {"workers": args.workers, "messages": result.messages, "seconds": elapsed,
               "rate": rate, "p50": percentile(lat, 0.50), "p95": percentile(lat, 0.95),
               "p99": percentile(lat, 0.99), "errors": len(result.errors),
               "counselor_p50": percentile([x * 1000 for x in counselor], 0.5),
               "peak_mib": peak / 1024,
               "cpu_ms": 1000 * cpu / max(result.messages, 1),
               "machine_ms": 1000 * machine / max(result.messages, 1),
               "bench_ms": 1000 * own / max(result.messages, 1),
               "ceiling": top, "ratio": rate / top,
               "pg_transactions": trips[0], "redis_commands": trips[1]}
    database = "SQLite" if args.database == "sqlite" else "PostgreSQL + Redis"
    print(f"Amane, {args.workers} worker(s) on {database}: {args.women} women x "
          f"{len(INTAKE)} messages, {args.concurrency} at a time, "
          f"{os.cpu_count()} cores")
    print(f"  messages/s      {rate:8.1f}   ({result.messages} in {elapsed:.1f} s)")
    print(f"  latency (ms)    p50 {figures['p50']:.0f}  p95 {figures['p95']:.0f}  "
          f"p99 {figures['p99']:.0f}   (her message -> her last reply)")
    print(f"  counselor (ms)  p50 {figures['counselor_p50']:.0f}   (API call -> she has it)")
    print(f"  errors          {len(result.errors)}"
          + (f"  e.g. {result.errors[0]}" if result.errors else ""))
    print(f"  server CPU      {figures['cpu_ms']:.1f} ms per message (user + system, "
          "all server processes)")
    # Read at slightly different moments: a few tenths either way (never below 0).
    rest = max(figures["machine_ms"] - figures["cpu_ms"] - figures["bench_ms"], 0.0)
    print(f"  machine CPU     {figures['machine_ms']:.1f} ms per message (server "
          f"{figures['cpu_ms']:.1f}, this benchmark {figures['bench_ms']:.1f}, PostgreSQL, "
          f"Redis and the rest {rest:.1f});\n                  at 300 messages/s, "
          f"{os.cpu_count()} cores give {1000 * (os.cpu_count() or 1) / 300:.1f} ms per message")
    if args.database == "postgres":
        print(f"  counted         {trips[0]:.1f} PostgreSQL transactions and {trips[1]:.1f} "
              "Redis commands per message (counted by each server)")
    print(f"  peak memory     {figures['peak_mib']:.0f} MiB (server processes, RSS)")
    print(f"  empty endpoint  {top:8.1f} requests/s (GET /healthz, the ceiling); "
          f"ratio {figures['ratio']:.2f}")
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--database-url", default=os.environ.get(
        "TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test_scale"))
    parser.add_argument("--redis-url", default=os.environ.get(
        "TEST_REDIS_URL", "redis://127.0.0.1:6379/10"))
    parser.add_argument("--women", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=32,
                        help="women writing at the same time")
    parser.add_argument("--ceiling-seconds", type=float, default=5.0)
    parser.add_argument("--profile", default="",
                        help="record each worker with py-spy into PROFILE.<pid>.txt "
                        "(collapsed stacks)")
    parser.add_argument("--no-status-callbacks", action="store_true",
                        help="the fake Twilio does not post delivery reports")
    args = parser.parse_args()
    if args.workers > 1 and args.database == "sqlite":
        parser.error("more than one worker needs --database postgres")
    figures = asyncio.run(run(args))
    return 1 if figures["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())

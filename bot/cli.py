"""`python run_bot.py SUBCOMMAND`: argument parsing only; the work is done by the
modules it calls, over a runtime built by `bot.runtime.build_runtime`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.settings import Settings, SettingsError

logger = logging.getLogger("amane")


def _configure_logging(settings: Settings) -> None:
    from bot.logs import configure_logging

    configure_logging(settings.log_level)


# --- db ------------------------------------------------------------------------------


def cmd_db_upgrade(settings: Settings, args: argparse.Namespace) -> int:
    from bot.storage.database import upgrade

    upgrade(settings.effective_database_url, args.revision)
    print(f"database at revision {args.revision}")
    return 0


# --- centers -------------------------------------------------------------------------


async def _centers_import(settings: Settings, path: Path, if_empty: bool) -> int:
    from bot import audit
    from bot.handoff.directory import (
        DirectoryError,
        count_centers,
        import_centers,
        known_provinces,
        parse_centers_csv,
    )
    from bot.storage.database import create_engine, create_sessionmaker

    try:
        rows = parse_centers_csv(path.read_text(encoding="utf-8"),
                                 known_provinces=known_provinces(settings.data_dir / "geo"))
    except (OSError, UnicodeDecodeError) as exc:
        print(f"cannot read {path}: {exc}", file=sys.stderr)
        return 2
    except DirectoryError as exc:
        print(f"{path}: nothing imported, {len(exc.problems)} problem(s):", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    engine = create_engine(settings.effective_database_url)
    try:
        async with create_sessionmaker(engine)() as db:
            if if_empty and await count_centers(db) > 0:
                print("centers already loaded; nothing imported (--if-empty)")
                return 0
            created, updated = await import_centers(db, rows)
            audit.record(db, "centers.imported", actor="cli", created=created, updated=updated)
            await db.commit()
    finally:
        await engine.dispose()
    samples = sum(1 for r in rows if r.sample)
    print(f"{len(rows)} centers imported from {path} ({created} new, {updated} updated"
          + (f"; {samples} are samples, not real centers" if samples else "") + ")")
    return 0


async def _centers_export(settings: Settings, out: Path | None) -> int:
    from sqlalchemy import select

    from bot.handoff.directory import centers_to_csv
    from bot.storage.database import create_engine, create_sessionmaker
    from bot.storage.models import Center

    engine = create_engine(settings.effective_database_url)
    try:
        async with create_sessionmaker(engine)() as db:
            centers = (await db.scalars(select(Center).order_by(Center.id))).all()
            text = centers_to_csv(centers)
    finally:
        await engine.dispose()
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        print(f"{len(centers)} centers written to {out}", file=sys.stderr)
    return 0


# --- users -----------------------------------------------------------------------------


def _read_password() -> str:
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass("password: ")
    return sys.stdin.readline().rstrip("\n")


async def _users_add(settings: Settings, args: argparse.Namespace) -> int:
    from bot import audit
    from bot.accounts import AccountError, create_account
    from bot.storage.database import create_engine, create_sessionmaker

    engine = create_engine(settings.effective_database_url)
    try:
        async with create_sessionmaker(engine)() as db:
            try:
                account = await create_account(db, username=args.username,
                                               password=args.password or _read_password(),
                                               role=args.role, center_id=args.center)
            except AccountError as exc:
                print(f"cannot add user: {exc}", file=sys.stderr)
                return 2
            audit.record(db, "account.created", actor="cli", account_id=account.id,
                         role=account.role)
            await db.commit()
    finally:
        await engine.dispose()
    print(f"user '{args.username}' added as {args.role}"
          + (f" at center {args.center}" if args.center else ""))
    return 0


# --- flows -------------------------------------------------------------------------------


def cmd_flows_validate(settings: Settings, args: argparse.Namespace) -> int:
    from bot.flows.loader import FlowError, load_flow, load_flows

    paths = [Path(p) for p in args.files]
    try:
        if paths:
            for path in paths:
                flow = load_flow(path)
                print(f"{path}: flow '{flow.name}' is valid ({len(flow.nodes)} nodes, "
                      f"{len(flow.texts)} texts)")
        else:
            for name, flow in load_flows(settings.flows_dir).items():
                print(f"flow '{name}' is valid ({len(flow.nodes)} nodes, "
                      f"{len(flow.texts)} texts)")
    except FlowError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"cannot read: {exc}", file=sys.stderr)
        return 2
    return 0


# --- keys and retention ---------------------------------------------------------------------


def cmd_keys_generate(settings: Settings, args: argparse.Namespace) -> int:
    from bot.crypto import generate_key_material

    material = generate_key_material()
    print(f"ENCRYPTION_KEYS={material['encryption_keys'][0]}")  # type: ignore[index]
    print(f"ADDRESS_HASH_KEY={material['address_hash_key']}")
    print("# To rotate: put the new ENCRYPTION_KEYS value first, followed by a comma and\n"
          "# the old keys, run `run_bot.py keys rotate`, then drop the old keys.\n"
          "# ADDRESS_HASH_KEY cannot be rotated without losing the link to existing "
          "contacts.", file=sys.stderr)
    return 0


async def _keys_rotate(settings: Settings) -> int:
    from bot.crypto import load_keys
    from bot.storage.database import create_engine, create_sessionmaker
    from bot.storage.rekey import rotate_keys

    keys = load_keys(settings)
    engine = create_engine(settings.effective_database_url)
    try:
        counts = await rotate_keys(create_sessionmaker(engine), keys.cipher())
    finally:
        await engine.dispose()
    total = sum(counts.values())
    details = ", ".join(f"{n} in {table}" for table, n in counts.items())
    print(f"{total} values re-encrypted with the newest key ({details})")
    return 0


async def _purge(settings: Settings, retention_days: int | None) -> int:
    from bot.retention import purge
    from bot.storage.database import create_engine, create_sessionmaker

    days = settings.retention_days if retention_days is None else retention_days
    engine = create_engine(settings.effective_database_url)
    try:
        async with create_sessionmaker(engine)() as db:
            report = await purge(db, retention_days=days)
            await db.commit()
    finally:
        await engine.dispose()
    print(f"purged: messages of {report.cases} case(s) closed more than {days} days ago "
          f"({report.messages} messages), {report.abandoned_messages} messages of unfinished "
          f"conversations, {report.contacts} contacts with nothing left")
    return 0


# --- serve and chat ----------------------------------------------------------------------


def workers_refusal(settings: Settings, workers: int, telegram_polling: bool) -> str | None:
    """Why `serve --workers N` cannot run with these settings (None: it can)."""
    if workers < 1:
        return "--workers must be at least 1"
    if workers == 1:
        return None
    problems = []
    if not settings.effective_database_url.startswith("postgresql"):
        problems.append("DATABASE_URL must be a postgresql+asyncpg:// URL (SQLite takes "
                        "one writer at a time, and one process)")
    if not settings.redis_url:
        problems.append("REDIS_URL must be set (sessions, conversation locks and live "
                        "console notices are shared between workers through Redis)")
    if telegram_polling:
        problems.append("--telegram-polling fetches updates from one process only: use "
                        "the webhook")
    if not problems:
        return None
    return f"--workers {workers} needs: " + "; ".join(problems)


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from bot.crypto import load_keys
    from bot.runtime import build_runtime
    from bot.web.app import create_app

    host = args.host or settings.host
    port = args.port or settings.port
    if args.telegram_polling and not settings.telegram_enabled:
        print("amane: --telegram-polling needs TELEGRAM_BOT_TOKEN", file=sys.stderr)
        return 2
    refusal = workers_refusal(settings, args.workers, args.telegram_polling)
    if refusal is not None:
        print(f"amane: {refusal}", file=sys.stderr)
        return 2
    app = None
    if args.workers == 1:
        app = create_app(build_runtime(settings), telegram_polling=args.telegram_polling,
                         freeze_after_start=True)
    else:
        load_keys(settings)  # generated once here if absent, not raced by the workers
    base = f"http://{host}:{port}"
    print(f"Amane is listening on {base}")
    print(f"  counselor API: {base}/api/v1 (described at {base}/openapi.json)")
    print(f"  console: {base}/console/ ; to log in, first make an account in another "
          "terminal:\n    .venv/bin/python run_bot.py users add --username admin --role admin")
    if settings.simulator_enabled:
        print(f"  simulator: curl -s {base}/webhooks/simulator -H 'content-type: application/json'"
              " -d '{\"sender\": \"amina\", \"text\": \"salam\"}'")
    print("  a counselor of the sample center in Casablanca: .venv/bin/python run_bot.py "
          "users add --username salma --role counselor --center sample-06141-emf")
    if args.telegram_polling:
        print("  Telegram: polling for updates (the webhook is removed while polling)")
    common = {"host": host, "port": port, "log_level": settings.log_level.lower(),
              "access_log": False}
    if args.forwarded_allow_ips:  # else uvicorn's default: trust 127.0.0.1 only
        common["forwarded_allow_ips"] = args.forwarded_allow_ips
    if app is not None:
        uvicorn.run(app, **common)  # type: ignore[arg-type]
    else:
        print(f"  {args.workers} worker processes (PostgreSQL + Redis)")
        uvicorn.run("bot.web.app:create_app_from_env", factory=True, workers=args.workers,
                    **common)  # type: ignore[arg-type]
    return 0


async def _chat(settings: Settings, sender: str) -> int:
    from sqlalchemy import select

    from bot.channels.base import InboundMessage
    from bot.runtime import build_runtime
    from bot.storage.database import upgrade_async
    from bot.storage.models import Contact, Message

    await upgrade_async(settings.effective_database_url)
    runtime = build_runtime(settings)
    await runtime.flow_versions.refresh()  # the flows admins published in the console
    print("Amane in the terminal. Write as she would; Ctrl-D to leave. "
          "Counselor replies appear here too.\n")
    last_seen = 0

    async def print_outbox() -> None:
        nonlocal last_seen
        key = runtime.conversations.conversation_key("terminal", sender)
        async with runtime.sessionmaker() as db:
            contact = await db.scalar(select(Contact).where(Contact.channel == "terminal",
                                                            Contact.address_hash == key))
            if contact is None:
                return
            rows = (await db.scalars(select(Message).where(
                Message.contact_id == contact.id, Message.direction == "out",
                Message.status == "sent", Message.id > last_seen).order_by(Message.id))).all()
        for row in rows:
            last_seen = row.id
            if row.body_enc is not None:
                print(f"\n[{row.sender}] {runtime.cipher.decrypt(row.body_enc)}\n> ", end="")

    async def watch() -> None:
        while True:
            await runtime.outbox.deliver()
            await print_outbox()
            await asyncio.sleep(2)

    watcher = asyncio.create_task(watch())
    try:
        while True:
            try:
                line = await asyncio.to_thread(input, "> ")
            except EOFError:
                print()
                break
            if not line.strip():
                continue
            result = await runtime.conversations.handle(
                InboundMessage(channel="terminal", address=sender, text=line[:4096]),
                inline=True)
            for reply in result.replies:
                print(f"Amane: {reply.text}")
                for index, button in enumerate(reply.buttons, 1):
                    print(f"   {index}. {button.label}")
    finally:
        watcher.cancel()
        await runtime.close()
    return 0


# --- telegram ------------------------------------------------------------------------------


async def _telegram_webhook(settings: Settings, action: str) -> int:
    from telegram.error import TelegramError

    from bot.channels.telegram import WEBHOOK_PATH, TelegramChannel

    if not settings.telegram_enabled:
        print("amane: TELEGRAM_BOT_TOKEN is not set", file=sys.stderr)
        return 2
    if action == "set" and not (settings.public_base_url and settings.telegram_webhook_secret):
        print("amane: set-webhook needs PUBLIC_BASE_URL and TELEGRAM_WEBHOOK_SECRET",
              file=sys.stderr)
        return 2
    channel = TelegramChannel(settings.telegram_bot_token,
                              base_url=settings.telegram_api_base_url,
                              webhook_secret=settings.telegram_webhook_secret)
    try:
        if action == "set":
            await channel.set_webhook(settings.public_base_url)
            await channel.set_discreet_profile(settings.sender_name)
            print(f"Telegram now sends updates to {settings.public_base_url}{WEBHOOK_PATH} "
                  f"with the secret token; the bot is shown as '{settings.sender_name}', "
                  "with no description")
        else:
            await channel.delete_webhook()
            print("Telegram webhook removed (use serve --telegram-polling)")
    except TelegramError as exc:
        print(f"amane: Telegram refused: {type(exc).__name__}: {exc.message}", file=sys.stderr)
        return 1
    finally:
        await channel.aclose()
    return 0


# --- nlu -----------------------------------------------------------------------------------


def cmd_nlu(settings: Settings, args: argparse.Namespace) -> int:
    from bot.nlu import commands

    data_dir, model_dir = settings.effective_intents_dir, settings.nlu_model_dir
    if args.nlu_command == "parse":
        return asyncio.run(_nlu_parse(settings))
    if args.nlu_command == "train":
        print(commands.train(data_dir, model_dir))
    elif args.nlu_command == "evaluate":
        print(commands.evaluate(data_dir, folds=args.folds, show_errors=args.errors), end="")
        if args.variety_dev is not None:
            print(commands.evaluate_variety_dev(data_dir, args.variety_dev, show_errors=args.errors), end="")
    elif args.nlu_command == "export-rasa":
        for path in commands.export_rasa(args.directory, data_dir):
            print(path)
    elif args.nlu_command == "intakes":
        return asyncio.run(_nlu_intakes(settings, args.intakes, args.quick_exit))
    return 0


async def _nlu_intakes(settings: Settings, intakes_file: Path | None,
                       quick_exit_file: Path | None) -> int:
    """Whole intakes and quick exits through the conversation (a dry run); 1 when a
    goal is missed."""
    from bot.conversation import intake_evaluation as check
    from bot.conversation.understanding import Understanding
    from bot.flows.registry import FlowRegistry
    from bot.nlu.pipeline import LocalNlu
    from bot.nlu.places import load_gazetteer
    from bot.nlu.variety import choose_reply_variety

    places = load_gazetteer(settings.data_dir / "geo")
    nlu = LocalNlu(settings.nlu_model_dir, data_dir=settings.effective_intents_dir,
                   gazetteer=places)
    flow = FlowRegistry.from_directory(settings.flows_dir).get(settings.default_flow)
    understanding = Understanding(nlu, places, choose_reply_variety)
    intakes = await check.evaluate_intakes(
        flow, understanding, check.load_intakes(intakes_file or check.DEFAULT_INTAKES))
    exits = await check.evaluate_quick_exit(
        flow, understanding, check.load_quick_exit(quick_exit_file or check.DEFAULT_QUICK_EXIT))
    print(check.report(intakes, exits), end="")
    met = (intakes.recall >= check.TARGETS["urgent recall"]
           and intakes.false_share <= check.TARGETS["false urgent share (at most)"]
           and exits.recall >= check.TARGETS["quick-exit recall"] and not exits.false)
    return 0 if met else 1


async def _nlu_parse(settings: Settings) -> int:
    """JSON lines in, JSON lines out; with RASA_URL the intents come from that server."""
    from bot.nlu.commands import aparse_lines
    from bot.nlu.pipeline import LocalNlu
    from bot.nlu.rasa_http import RasaNlu

    local = LocalNlu(settings.nlu_model_dir, data_dir=settings.effective_intents_dir)
    if not settings.rasa_url:
        await aparse_lines(local, sys.stdin, sys.stdout)
        return 0
    async with RasaNlu(settings.rasa_url, local=local) as remote:
        await aparse_lines(remote, sys.stdin, sys.stdout)
    return 0


def _add_nlu_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    nlu = sub.add_parser("nlu", help="language understanding")
    nlu_sub = nlu.add_subparsers(dest="nlu_command", required=True)
    nlu_sub.add_parser("parse", help='read JSON lines {"text": ...} on stdin, write one JSON '
                       "line per input")
    nlu_sub.add_parser("train", help="train the model from data/intents/ (cached in var/)")
    evaluate = nlu_sub.add_parser("evaluate", help="cross-validated figures on the team's data")
    evaluate.add_argument("--folds", type=int, default=5)
    evaluate.add_argument("--variety-dev", type=Path, default=None, metavar="DIR",
                          help="also print variety figures on a public dev set (fr.txt, "
                          "ary_latn.txt, ary.txt, ar.txt), e.g. tests/data/variety_dev")
    evaluate.add_argument("--errors", type=int, default=0,
                          help="also list this many misread examples")
    export = nlu_sub.add_parser("export-rasa", help="write a Rasa project from data/intents/")
    export.add_argument("directory", type=Path)
    intakes = nlu_sub.add_parser(
        "intakes", help="urgent and quick-exit figures on whole conversations "
        "(data/evaluation/intakes.yml and quick_exit.yml)")
    intakes.add_argument("--intakes", type=Path, help="another intakes file")
    intakes.add_argument("--quick-exit", type=Path, help="another quick-exit file")
    nlu.set_defaults(func=cmd_nlu)


# --- parser ----------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="run_bot.py", description="Amane command line")
    sub = parser.add_subparsers(dest="command", required=True, metavar="SUBCOMMAND")

    serve = sub.add_parser("serve", help="run the web server (webhooks, API, console)")
    serve.add_argument("--host", default=None, help="default: HOST or 127.0.0.1")
    serve.add_argument("--port", type=int, default=None, help="default: PORT or 8080")
    serve.add_argument("--telegram-polling", action="store_true",
                       help="fetch Telegram updates (a laptop without a public URL)")
    serve.add_argument("--workers", type=int, default=1,
                       help="worker processes (more than 1 needs PostgreSQL and Redis)")
    serve.add_argument("--forwarded-allow-ips", default=None,
                       help="reverse proxies trusted for X-Forwarded-For/-Proto "
                       "(default: 127.0.0.1)")
    serve.set_defaults(func=cmd_serve)

    tg = sub.add_parser("telegram", help="the Telegram channel")
    tg_sub = tg.add_subparsers(dest="telegram_command", required=True)
    tg_sub.add_parser("set-webhook", help="register PUBLIC_BASE_URL/webhooks/telegram with "
                      "the secret token").set_defaults(
        func=lambda s, a: asyncio.run(_telegram_webhook(s, "set")))
    tg_sub.add_parser("delete-webhook", help="stop webhook delivery (before polling)"
                      ).set_defaults(func=lambda s, a: asyncio.run(_telegram_webhook(s, "delete")))

    chat = sub.add_parser("chat", help="talk to Amane in the terminal")
    chat.add_argument("--sender", default="terminal-user",
                      help="who you are in this conversation (default: terminal-user)")
    chat.set_defaults(func=lambda s, a: asyncio.run(_chat(s, a.sender)))

    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    up = db_sub.add_parser("upgrade", help="apply migrations")
    up.add_argument("revision", nargs="?", default="head")
    up.set_defaults(func=cmd_db_upgrade)

    centers = sub.add_parser("centers", help="the centers directory")
    centers_sub = centers.add_subparsers(dest="centers_command", required=True)
    imp = centers_sub.add_parser("import", help="import or update centers from a CSV file")
    imp.add_argument("file", type=Path)
    imp.add_argument("--if-empty", action="store_true",
                     help="only when no center is loaded yet (used by make run)")
    imp.set_defaults(func=lambda s, a: asyncio.run(_centers_import(s, a.file, a.if_empty)))
    exp = centers_sub.add_parser("export", help="write the centers as CSV")
    exp.add_argument("--output", "-o", type=Path, default=None, help="default: stdout")
    exp.set_defaults(func=lambda s, a: asyncio.run(_centers_export(s, a.output)))

    flows = sub.add_parser("flows", help="conversation flows")
    flows_sub = flows.add_subparsers(dest="flows_command", required=True)
    val = flows_sub.add_parser("validate", help="check flow files (default: config/flows)")
    val.add_argument("files", nargs="*")
    val.set_defaults(func=cmd_flows_validate)

    users = sub.add_parser("users", help="accounts")
    users_sub = users.add_subparsers(dest="users_command", required=True)
    add = users_sub.add_parser("add", help="add a counselor, admin or analyst")
    add.add_argument("--username", required=True)
    add.add_argument("--password", default=None,
                     help="better left out: it is then asked for (or read from stdin), "
                     "and stays out of the shell history and the process list")
    add.add_argument("--role", required=True, choices=["counselor", "admin", "analyst"])
    add.add_argument("--center", default=None, help="center id (required for a counselor)")
    add.set_defaults(func=lambda s, a: asyncio.run(_users_add(s, a)))

    keys = sub.add_parser("keys", help="encryption keys")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    gen = keys_sub.add_parser("generate", help="print new keys for the environment")
    gen.set_defaults(func=cmd_keys_generate)
    rot = keys_sub.add_parser("rotate", help="re-encrypt everything with the newest key")
    rot.set_defaults(func=lambda s, a: asyncio.run(_keys_rotate(s)))

    purge = sub.add_parser("purge", help="delete what is kept longer than RETENTION_DAYS")
    purge.add_argument("--retention-days", type=int, default=None,
                       help="default: RETENTION_DAYS (90)")
    purge.set_defaults(func=lambda s, a: asyncio.run(_purge(s, a.retention_days)))

    _add_nlu_parser(sub)

    from bot.stats import commands as stats_commands

    stats_commands.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"amane: {exc}", file=sys.stderr)
        return 2
    _configure_logging(settings)
    try:
        return int(args.func(settings, args) or 0)
    except SettingsError as exc:
        print(f"amane: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130

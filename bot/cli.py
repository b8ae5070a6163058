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
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


# --- db ------------------------------------------------------------------------------


def cmd_db_upgrade(settings: Settings, args: argparse.Namespace) -> int:
    from bot.storage.database import upgrade

    upgrade(settings.effective_database_url, args.revision)
    print(f"database at revision {args.revision}")
    return 0


# --- centers -------------------------------------------------------------------------


def _known_provinces(settings: Settings) -> dict[str, str]:
    import csv

    with open(settings.data_dir / "geo" / "provinces.csv", encoding="utf-8") as handle:
        return {row["id"]: row["region_id"] for row in csv.DictReader(handle)}


async def _centers_import(settings: Settings, path: Path, if_empty: bool) -> int:
    from bot import audit
    from bot.handoff.directory import (
        DirectoryError,
        count_centers,
        import_centers,
        parse_centers_csv,
    )
    from bot.storage.database import create_engine, create_sessionmaker

    try:
        rows = parse_centers_csv(path.read_text(encoding="utf-8"),
                                 known_provinces=_known_provinces(settings))
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


async def _users_add(settings: Settings, args: argparse.Namespace) -> int:
    from bot import audit
    from bot.accounts import AccountError, create_account
    from bot.storage.database import create_engine, create_sessionmaker

    engine = create_engine(settings.effective_database_url)
    try:
        async with create_sessionmaker(engine)() as db:
            try:
                account = await create_account(db, username=args.username,
                                               password=args.password, role=args.role,
                                               center_id=args.center)
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


# --- serve and chat ----------------------------------------------------------------------


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from bot.runtime import build_runtime
    from bot.web.app import create_app

    host = args.host or settings.host
    port = args.port or settings.port
    app = create_app(build_runtime(settings))
    base = f"http://{host}:{port}"
    print(f"Amane is listening on {base}")
    print(f"  counselor API and its documentation: {base}/docs")
    if settings.simulator_enabled:
        print(f"  simulator: curl -s {base}/webhooks/simulator -H 'content-type: application/json'"
              " -d '{\"sender\": \"amina\", \"text\": \"salam\"}'")
    print("  add a counselor: python run_bot.py users add --username U --password P "
          "--role counselor --center sample-06141-emf")
    uvicorn.run(app, host=host, port=port, log_level=settings.log_level.lower(),
                access_log=False)
    return 0


async def _chat(settings: Settings, sender: str) -> int:
    from sqlalchemy import select

    from bot.channels.base import InboundMessage
    from bot.runtime import build_runtime
    from bot.storage.database import upgrade_async
    from bot.storage.models import Contact, Message

    await upgrade_async(settings.effective_database_url)
    runtime = build_runtime(settings)
    print("Amane in the terminal. Write as she would; Ctrl-D to leave. "
          "Counselor replies appear here too.\n")
    last_seen = 0

    async def print_outbox() -> None:
        nonlocal last_seen
        key = runtime.hasher.hash("terminal", sender)
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
            result = await runtime.dialogue.handle(
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


# --- nlu -----------------------------------------------------------------------------------


def cmd_nlu(settings: Settings, args: argparse.Namespace) -> int:
    from bot.nlu import commands

    return commands.run_cli(settings, args)


def _add_nlu_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    nlu = sub.add_parser("nlu", help="language understanding")
    nlu_sub = nlu.add_subparsers(dest="nlu_command", required=True)
    nlu_sub.add_parser("parse", help='read JSON lines {"text": ...} on stdin, write one JSON '
                       "line per input")
    nlu_sub.add_parser("train", help="train the model from data/intents/ (cached in var/)")
    evaluate = nlu_sub.add_parser("evaluate", help="cross-validated figures on the team's data")
    evaluate.add_argument("--folds", type=int, default=5)
    export = nlu_sub.add_parser("export-rasa", help="write a Rasa project from data/intents/")
    export.add_argument("directory", type=Path)
    nlu.set_defaults(func=cmd_nlu)


# --- parser ----------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="run_bot.py", description="Amane command line")
    sub = parser.add_subparsers(dest="command", required=True, metavar="SUBCOMMAND")

    serve = sub.add_parser("serve", help="run the web server (webhooks, API, console)")
    serve.add_argument("--host", default=None, help="default: HOST or 127.0.0.1")
    serve.add_argument("--port", type=int, default=None, help="default: PORT or 8080")
    serve.set_defaults(func=cmd_serve)

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
    add.add_argument("--password", required=True)
    add.add_argument("--role", required=True, choices=["counselor", "admin", "analyst"])
    add.add_argument("--center", default=None, help="center id (required for a counselor)")
    add.set_defaults(func=lambda s, a: asyncio.run(_users_add(s, a)))

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

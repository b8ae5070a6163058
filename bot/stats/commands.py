"""`run_bot.py stats export`: the published tables as CSV, the same figures the API
and the map show (protected: "<5", "x", counts rounded to 5)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bot.settings import Settings
from bot.stats.aggregates import DIMENSIONS, CaseFilter, FilterError, parse_month


def _filter(args: argparse.Namespace) -> CaseFilter:
    return CaseFilter(need=args.need, violence=args.violence, region=args.region,
                      province=args.province, urgency=args.urgency, channel=args.channel,
                      language=args.language,
                      start=parse_month(args.start) if args.start else None,
                      end=parse_month(args.end) if args.end else None)


async def _export(settings: Settings, args: argparse.Namespace) -> str:
    from bot.handoff.directory import CenterDirectory
    from bot.nlu.places import load_gazetteer
    from bot.stats.coverage import coverage_report
    from bot.stats.export import coverage_csv, one_way_csv, two_way_csv
    from bot.stats.geography import load_geography
    from bot.stats.tables import one_way, two_way
    from bot.storage.database import create_engine, create_sessionmaker

    where = _filter(args)
    geo_dir = settings.data_dir / "geo"
    geography = load_geography(geo_dir)
    engine = create_engine(settings.effective_database_url)
    try:
        sessionmaker = create_sessionmaker(engine)
        async with sessionmaker() as db:
            if args.coverage:
                places = load_gazetteer(geo_dir)
                centers = await CenterDirectory(sessionmaker).points()
                report = await coverage_report(db, geography, places, centers, where,
                                               settings.coverage_gap_km)
                return coverage_csv(report, geography, places, args.lang)
            if len(args.by) == 1:
                return one_way_csv(await one_way(db, geography, args.by[0], where), geography,
                                   args.lang)
            table = await two_way(db, geography, args.by[0], args.by[1], where)
            return two_way_csv(table, geography, args.lang)
    finally:
        await engine.dispose()


def cmd_export(settings: Settings, args: argparse.Namespace) -> int:
    if not args.coverage and not 1 <= len(args.by or []) <= 2:
        print("stats export: give --by DIMENSION once or twice, or --coverage",
              file=sys.stderr)
        return 2
    try:
        text = asyncio.run(_export(settings, args))
    except FilterError as exc:
        print(f"stats export: {exc}", file=sys.stderr)
        return 2
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text, encoding="utf-8")
        print(f"written to {args.output}", file=sys.stderr)
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    stats = sub.add_parser("stats", help="anonymised figures (protected against small cells)")
    stats_sub = stats.add_subparsers(dest="stats_command", required=True)
    export = stats_sub.add_parser("export", help="write a table of cases, or the coverage "
                                  "gaps, as CSV")
    export.add_argument("--by", action="append", choices=DIMENSIONS, default=[],
                        help="a dimension; twice for rows x columns")
    export.add_argument("--coverage", action="store_true",
                        help="coverage gaps by province and commune instead of a table")
    for name in ("need", "violence", "region", "province", "urgency", "channel", "language"):
        export.add_argument(f"--{name}", default=None, help=f"only cases with this {name}")
    export.add_argument("--from", dest="start", default=None, help="first month, YYYY-MM")
    export.add_argument("--to", dest="end", default=None, help="last month, YYYY-MM")
    export.add_argument("--lang", choices=("fr", "ar"), default="fr")
    export.add_argument("--output", "-o", type=Path, default=None, help="default: stdout")
    export.set_defaults(func=cmd_export)

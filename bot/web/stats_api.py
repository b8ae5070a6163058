"""Stats API v1 (`/api/v1/stats/...`): anonymised counts of cases for analysts and
admins; a counselor gets 403. Every figure is protected (`bot.stats.suppression`):
"<5" for a count under 5, "x" for a figure hidden so that a small one cannot be worked
out, every other count rounded to 5. `?format=csv` gives the same table as CSV."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import Response

from bot import audit
from bot.stats.aggregates import (
    NEED_VALUES,
    VIOLENCE_VALUES,
    CaseFilter,
    FilterError,
    parse_month,
)
from bot.stats.coverage import coverage_report
from bot.stats.export import (
    coverage_csv,
    coverage_rows,
    note,
    one_way_csv,
    one_way_rows,
    two_way_csv,
    two_way_rows,
)
from bot.stats.geography import Geography, load_geography
from bot.stats.suppression import MIN_CELL, ROUNDING_BASE
from bot.stats.tables import one_way, two_way
from bot.storage.models import Account
from bot.types import CHANNELS, VARIETIES
from bot.web.deps import AccountDep, DbDep, RuntimeDep

STATS_ROLES = ("analyst", "admin")
Dimension = Literal["region", "province", "month", "need", "violence", "urgency", "channel",
                    "language"]
Lang = Literal["fr", "ar"]
Format = Literal["json", "csv"]


async def require_analyst(account: AccountDep) -> Account:
    """An analyst or an admin, by API bearer token."""
    if account.role not in STATS_ROLES:
        raise HTTPException(403, "anonymised figures are for analysts and admins")
    return account


AnalystDep = Annotated[Account, Depends(require_analyst)]


@contextmanager
def filter_errors_as_400() -> Iterator[None]:
    """A filter that names nothing, or an impossible period, answers 400 with the
    reason."""
    try:
        yield
    except FilterError as exc:
        raise HTTPException(400, str(exc)) from None


def _blank(value: str | None) -> str | None:
    """An empty form field means no filter."""
    return value or None


async def case_filter(  # a coroutine: not run in a worker thread (bot/web/deps.py)
    need: str | None = Query(None, description="one of " + ", ".join(NEED_VALUES)),
    violence: str | None = Query(None, description="one of " + ", ".join(VIOLENCE_VALUES)),
    region: str | None = Query(None, description="region code, e.g. 09, or unknown"),
    province: str | None = Query(None, description="province code, e.g. 09.581, or unknown"),
    urgency: str | None = Query(None, description="urgent or not_urgent"),
    channel: str | None = Query(None, description="one of " + ", ".join(CHANNELS)),
    language: str | None = Query(None, description="one of " + ", ".join(VARIETIES)),
    from_: str | None = Query(None, alias="from", description="first month, YYYY-MM"),
    to: str | None = Query(None, description="last month, YYYY-MM"),
) -> CaseFilter:
    """The filters every stats endpoint takes; a bad value answers 400 naming it."""
    from_, to = _blank(from_), _blank(to)
    with filter_errors_as_400():
        return CaseFilter(need=_blank(need), violence=_blank(violence), region=_blank(region),
                          province=_blank(province), urgency=_blank(urgency),
                          channel=_blank(channel), language=_blank(language),
                          start=parse_month(from_) if from_ else None,
                          end=parse_month(to) if to else None)


FilterDep = Annotated[CaseFilter, Depends(case_filter)]


def geography_of(runtime: RuntimeDep) -> Geography:
    return load_geography(runtime.settings.data_dir / "geo")


GeographyDep = Annotated[Geography, Depends(geography_of)]


def csv_response(text: str, name: str) -> Response:
    return Response(text, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})


def _meta(where: CaseFilter, lang: str) -> dict[str, Any]:
    return {"filters": where.describe(), "unit": "cases", "min_cell": MIN_CELL,
            "rounding": ROUNDING_BASE, "note": note(lang)}


router = APIRouter(prefix="/api/v1/stats", tags=["stats API"])


@router.get("/by/{dimension}", summary="Cases by one dimension, protected")
async def by_dimension(dimension: Dimension, where: FilterDep, runtime: RuntimeDep, db: DbDep,
                       geography: GeographyDep, account: AnalystDep, lang: Lang = "fr",
                       format: Format = "json") -> Any:
    with filter_errors_as_400():
        table = await one_way(db, geography, dimension, where)
    audit.record(db, "stats.viewed", account=account, table=dimension, format=format,
                 **table.where.describe())
    await db.commit()
    if format == "csv":
        return csv_response(one_way_csv(table, geography, lang), f"amane-{dimension}")
    return {"dimension": dimension, **_meta(table.where, lang),
            "rows": one_way_rows(table, geography, lang), "total": table.total.shown}


@router.get("/table", summary="Cases by two dimensions (rows x cols), protected")
async def by_two_dimensions(rows: Dimension, cols: Dimension, where: FilterDep,
                            runtime: RuntimeDep, db: DbDep, geography: GeographyDep,
                            account: AnalystDep, lang: Lang = "fr",
                            format: Format = "json") -> Any:
    with filter_errors_as_400():
        table = await two_way(db, geography, rows, cols, where)
    audit.record(db, "stats.viewed", account=account, table=f"{rows}x{cols}", format=format,
                 **table.where.describe())
    await db.commit()
    if format == "csv":
        return csv_response(two_way_csv(table, geography, lang), f"amane-{rows}-{cols}")
    return {"rows_dimension": rows, "cols_dimension": cols, **_meta(table.where, lang),
            "cols": table.col_keys, "rows": two_way_rows(table, geography, lang),
            "col_totals": {c: table.col_totals[c].shown for c in table.col_keys},
            "total": table.total.shown}


@router.get("/coverage", summary="Coverage gaps by province and commune, protected")
async def coverage(where: FilterDep, runtime: RuntimeDep, db: DbDep, geography: GeographyDep,
                   account: AnalystDep, lang: Lang = "fr", format: Format = "json") -> Any:
    if where.region is not None or where.province is not None:
        raise HTTPException(400, "coverage covers the whole country: no region or province "
                                 "filter")
    with filter_errors_as_400():
        report = await coverage_report(db, geography, runtime.places,
                                       await runtime.directory.points(), where,
                                       runtime.settings.coverage_gap_km)
    audit.record(db, "stats.viewed", account=account, table="coverage", format=format,
                 **report.where.describe())
    await db.commit()
    if format == "csv":
        return csv_response(coverage_csv(report, geography, runtime.places, lang),
                            "amane-coverage")
    return {**_meta(report.where, lang), "gap_km": report.gap_km,
            "far_requests": report.far_total.shown,
            "far_requests_rural": report.far_by_setting["rural"].shown,
            "far_requests_urban": report.far_by_setting["urban"].shown,
            **coverage_rows(report, geography, runtime.places, lang)}

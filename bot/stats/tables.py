"""Published tables: counts from `aggregates`, protected by `suppression`.

Exact counts stay inside this module; what it returns holds `Figure`s only.

- The place hierarchy (nation, 12 regions and "unknown", 75 provinces) is protected
  jointly, so the regions map, a region's drill-down and the province table are three
  views of one publication and never disagree.
- A one-way table is a line: its cells and its total. The total of a table filtered to a
  region or a province is that place's figure in the hierarchy, with the same status.
- A two-way table takes its margins from the two one-way tables (fixed), and protects
  its cells along every row and column.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timezone
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from bot.stats.aggregates import (
    DIMENSIONS,
    NEED_VALUES,
    UNKNOWN,
    URGENCY_VALUES,
    VIOLENCE_VALUES,
    CaseFilter,
    CaseGroups,
    FilterError,
    case_groups,
    first_month,
    months_between,
)
from bot.stats.geography import Geography
from bot.stats.suppression import MIN_CELL, Figure, protect
from bot.types import CHANNELS, VARIETIES

NATION: Final = "MA"
_TOTAL: Final = "*"


@dataclass(frozen=True, slots=True)
class PlaceFigures:
    """The protected place hierarchy for one filter (its place filter left aside)."""

    nation: Figure
    regions: dict[str, Figure]  # the 12 regions and "unknown"
    provinces: dict[str, Figure]

    def of(self, place_id: str) -> Figure:
        if place_id == NATION:
            return self.nation
        return self.regions.get(place_id) or self.provinces[place_id]


@dataclass(frozen=True, slots=True)
class OneWayTable:
    dimension: str
    where: CaseFilter
    rows: list[tuple[str, Figure]]
    total: Figure


@dataclass(frozen=True, slots=True)
class TwoWayTable:
    rows_dimension: str
    cols_dimension: str
    where: CaseFilter
    row_keys: list[str]
    col_keys: list[str]
    cells: dict[tuple[str, str], Figure]
    row_totals: dict[str, Figure]
    col_totals: dict[str, Figure]
    total: Figure


def this_month() -> date:
    now = datetime.now(timezone.utc)
    return date(now.year, now.month, 1)


async def resolve_period(db: AsyncSession, where: CaseFilter) -> CaseFilter:
    """Fill an open period: from the oldest case's month to this month."""
    end = where.end or this_month()
    start = where.start or (await first_month(db)) or end
    if start > end:
        start = end if where.start is None else start
    return replace(where, start=start, end=end)


def validate_places(where: CaseFilter, geography: Geography) -> None:
    if where.region not in (None, UNKNOWN) and where.region not in geography.regions:
        raise FilterError(f"region {where.region!r}: unknown region code")
    if where.province not in (None, UNKNOWN) and where.province not in geography.provinces:
        raise FilterError(f"province {where.province!r}: unknown province code")


def domain(dimension: str, where: CaseFilter, geography: Geography) -> list[str]:
    """Every value a table shows a row for, whether or not any case has it: which rows
    exist never depends on the data."""
    if dimension == "region":
        return [*geography.regions, UNKNOWN]
    if dimension == "province":
        return [*geography.provinces, UNKNOWN]
    if dimension == "month":
        if where.start is None or where.end is None:
            raise ValueError("resolve the period first")
        return months_between(where.start, where.end)
    values: dict[str, Sequence[str]] = {
        "need": NEED_VALUES, "violence": VIOLENCE_VALUES, "urgency": URGENCY_VALUES,
        "channel": CHANNELS, "language": VARIETIES,
    }
    if dimension not in values:
        raise FilterError(f"dimension {dimension!r}: expected one of {', '.join(DIMENSIONS)}")
    return list(values[dimension])


PLACE_DIMENSIONS: Final = ("region", "province")


async def _scan(db: AsyncSession, dimensions: Sequence[str], where: CaseFilter) -> CaseGroups:
    """The one scan a table needs. A table about places, or filtered to a place, is
    grouped by region and province too, over the whole country: the place hierarchy
    it must agree with comes from the same groups."""
    dims: list[str] = []
    if where.region or where.province or any(d in PLACE_DIMENSIONS for d in dimensions):
        dims += PLACE_DIMENSIONS
    dims += [d for d in dimensions if d not in PLACE_DIMENSIONS]
    return await case_groups(db, dims, where.without_place())


def _in_place(where: CaseFilter) -> Callable[[dict[str, object]], bool] | None:
    if where.province is not None:
        return lambda values: values["province"] == where.province
    if where.region is not None:
        return lambda values: values["region"] == where.region
    return None


def _place_values(groups: CaseGroups, geography: Geography) -> dict[str, int]:
    values = {NATION: 0, UNKNOWN: 0}
    values.update({r: 0 for r in geography.regions})
    values.update({p: 0 for p in geography.provinces})
    for (region, province), n in groups.count(PLACE_DIMENSIONS).items():
        values[NATION] += n
        values[region if region in geography.regions else UNKNOWN] += n
        if province in geography.provinces:
            values[province] += n
    return values


def _place_lines(geography: Geography) -> list[list[str]]:
    lines = [[*geography.regions, UNKNOWN, NATION]]
    for region in geography.regions:
        lines.append([p.id for p in geography.provinces_of(region)] + [region])
    return lines


def _protected_places(groups: CaseGroups, geography: Geography
                      ) -> tuple[dict[str, int], dict[str, Figure]]:
    values = _place_values(groups, geography)
    figures = protect(values, _place_lines(geography),
                      fixed={NATION: values[NATION] < MIN_CELL})
    return values, figures


async def place_figures(db: AsyncSession, geography: Geography,
                        where: CaseFilter) -> PlaceFigures:
    return place_figures_of(await _scan(db, PLACE_DIMENSIONS, where), geography)


def place_figures_of(groups: CaseGroups, geography: Geography) -> PlaceFigures:
    """The hierarchy from groups that include region and province."""
    _, figures = _protected_places(groups, geography)
    return PlaceFigures(
        nation=figures[NATION],
        regions={r: figures[r] for r in [*geography.regions, UNKNOWN]},
        provinces={p: figures[p] for p in geography.provinces},
    )


def _place_of(where: CaseFilter) -> str | None:
    return where.province or where.region


def _keep(dimension: str, key: str, where: CaseFilter, geography: Geography) -> bool:
    """Whether a row of a place table falls inside the table's place filter."""
    if dimension == "region":
        region = where.region or (geography.provinces[where.province].region_id
                                  if where.province not in (None, UNKNOWN) else None)
        if where.province == UNKNOWN:
            return key == UNKNOWN
        return region is None or key == region
    if where.province is not None:
        return key == where.province
    if where.region == UNKNOWN:
        return key == UNKNOWN
    if where.region is not None:
        return key != UNKNOWN and geography.provinces[key].region_id == where.region
    return True


def _one_way(groups: CaseGroups, geography: Geography, dimension: str, where: CaseFilter
             ) -> tuple[dict[str, int], dict[str, Figure], list[str]]:
    """Exact values and figures of a one-way table; the total is under `_TOTAL`."""
    keys = domain(dimension, where, geography)
    place = _place_of(where)
    if dimension in PLACE_DIMENSIONS:
        values, figures = _protected_places(groups, geography)
        rows = [k for k in keys if _keep(dimension, k, where, geography)]
        total_key = place or NATION
        values = {**{k: values[k] for k in rows}, _TOTAL: values[total_key]}
        figures = {**{k: figures[k] for k in rows}, _TOTAL: figures[total_key]}
        return values, figures, rows
    keep = _in_place(where)
    counts = groups.count([dimension], keep)
    values = {k: counts.get((k,), 0) for k in keys}
    for (key,), n in counts.items():
        if key not in values:  # a value outside the vocabulary ("other")
            keys.append(key)
            values[key] = n
    values[_TOTAL] = groups.count([], keep).get((), 0)
    if place is not None:
        total_hidden = _protected_places(groups, geography)[1][place].hidden
    else:
        total_hidden = values[_TOTAL] < MIN_CELL
    figures = protect(values, [[*keys, _TOTAL]], fixed={_TOTAL: total_hidden})
    return values, figures, keys


async def one_way(db: AsyncSession, geography: Geography, dimension: str,
                  where: CaseFilter) -> OneWayTable:
    validate_places(where, geography)
    where = await resolve_period(db, where)
    groups = await _scan(db, [dimension], where)
    _, figures, keys = _one_way(groups, geography, dimension, where)
    return OneWayTable(dimension, where, [(k, figures[k]) for k in keys], figures[_TOTAL])


async def two_way(db: AsyncSession, geography: Geography, rows: str, cols: str,
                  where: CaseFilter) -> TwoWayTable:
    if rows == cols:
        raise FilterError("rows and cols must be two different dimensions")
    validate_places(where, geography)
    where = await resolve_period(db, where)
    groups = await _scan(db, [rows, cols], where)
    row_values, row_figures, row_keys = _one_way(groups, geography, rows, where)
    col_values, col_figures, col_keys = _one_way(groups, geography, cols, where)
    counts = groups.count([rows, cols], _in_place(where))
    values: dict[tuple[str, ...], int] = {}
    fixed: dict[tuple[str, ...], bool] = {}
    for r in row_keys:
        for c in col_keys:
            values[("cell", r, c)] = counts.get((r, c), 0)
    for r in row_keys:
        values[("row", r)] = row_values[r]
        fixed[("row", r)] = row_figures[r].hidden
    for c in col_keys:
        values[("col", c)] = col_values[c]
        fixed[("col", c)] = col_figures[c].hidden
    lines = [[("cell", r, c) for c in col_keys] + [("row", r)] for r in row_keys]
    lines += [[("cell", r, c) for r in row_keys] + [("col", c)] for c in col_keys]
    figures = protect(values, lines, fixed=fixed)
    return TwoWayTable(
        rows_dimension=rows, cols_dimension=cols, where=where, row_keys=row_keys,
        col_keys=col_keys,
        cells={(r, c): figures[("cell", r, c)] for r in row_keys for c in col_keys},
        row_totals={r: row_figures[r] for r in row_keys},
        col_totals={c: col_figures[c] for c in col_keys},
        total=row_figures[_TOTAL],
    )

"""Published tables: what an analyst can and cannot learn from them."""

from __future__ import annotations

import itertools
from datetime import date

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.nlu.places import load_gazetteer
from bot.stats.aggregates import DIMENSIONS, CaseFilter
from bot.stats.geography import Geography
from bot.stats.suppression import MIN_CELL, PROTECTED, SMALL, round_count
from bot.stats.synthetic import insert_cases, synthetic_cases
from bot.stats.tables import NATION, one_way, place_figures, two_way
from tests.stats.cases import add, case
from tests.stats.conftest import CASABLANCA, RABAT, TIZNIT


def shown(table: object) -> dict[str, int | str]:
    return {k: f.shown for k, f in table.rows}  # type: ignore[attr-defined]


def values_behind(published: int | str) -> list[int]:
    """The exact counts that a published figure can stand for."""
    assert published != PROTECTED
    if published == SMALL:
        return list(range(MIN_CELL))
    return [n for n in range(int(published) - 2, int(published) + 3)
            if round_count(n) == published]


def possible_differences(bigger: int | str, smaller: int | str) -> set[int]:
    """What an analyst comparing two views can conclude about the small number of
    cases in one and not the other."""
    return {b - s for b in values_behind(bigger) for s in values_behind(smaller)
            if 0 <= b - s < MIN_CELL}


async def test_a_total_does_not_give_back_a_small_region(engine: AsyncEngine, db: AsyncSession,
                                                          geography: Geography) -> None:
    await add(engine, [case(CASABLANCA) for _ in range(60)], [case(RABAT) for _ in range(23)],
              [case(TIZNIT) for _ in range(3)])
    table = await one_way(db, geography, "region", CaseFilter())
    rows = shown(table)
    assert rows["09"] == SMALL and rows["unknown"] == SMALL
    assert table.total.shown == 85
    # Rabat's region is the smallest other figure: it is hidden with them.
    assert rows["04"] == PROTECTED and rows["06"] == 60
    assert [v for v in rows.values() if isinstance(v, int) and v < MIN_CELL] == []


async def test_comparing_periods_does_not_give_back_a_small_month(
        engine: AsyncEngine, db: AsyncSession, geography: Geography) -> None:
    await add(engine, [case(CASABLANCA, month="2026-01") for _ in range(43)],
              [case(CASABLANCA, month="2026-02") for _ in range(3)],
              [case(RABAT, month="2026-01") for _ in range(30)])
    january = await one_way(db, geography, "region", CaseFilter(start=date(2026, 1, 1),
                                                                 end=date(2026, 1, 1)))
    both = await one_way(db, geography, "region", CaseFilter(start=date(2026, 1, 1),
                                                              end=date(2026, 2, 1)))
    feb = await one_way(db, geography, "region", CaseFilter(start=date(2026, 2, 1),
                                                             end=date(2026, 2, 1)))
    assert shown(feb)["06"] == SMALL
    # 43 and 46 are published as 45 and 45: February's 3 could be 0 to 4.
    assert shown(january)["06"] == 45 and shown(both)["06"] == 45
    assert possible_differences(shown(both)["06"], shown(january)["06"]) == {0, 1, 2, 3, 4}
    assert january.total.shown == 75 and both.total.shown == 75


async def test_comparing_a_need_with_all_needs_does_not_give_back_a_small_cell(
        engine: AsyncEngine, db: AsyncSession, geography: Geography) -> None:
    await add(engine, [case(CASABLANCA, needs=("need_legal",)) for _ in range(41)],
              [case(CASABLANCA, needs=("need_shelter",)) for _ in range(2)],
              [case(RABAT, needs=("need_legal",)) for _ in range(20)])
    legal = await one_way(db, geography, "region", CaseFilter(need="need_legal"))
    shelter = await one_way(db, geography, "region", CaseFilter(need="need_shelter"))
    everything = await one_way(db, geography, "region", CaseFilter())
    assert shown(shelter)["06"] == SMALL
    difference = possible_differences(shown(everything)["06"], shown(legal)["06"])
    assert len(difference) >= 2 and 2 in difference


async def test_a_region_drill_down_agrees_with_the_national_view(
        engine: AsyncEngine, db: AsyncSession, geography: Geography) -> None:
    await insert_cases(engine, synthetic_cases(1500, load_gazetteer().places, seed=3))
    national = await place_figures(db, geography, CaseFilter())
    for region in geography.regions:
        drill = await one_way(db, geography, "province", CaseFilter(region=region))
        assert drill.total == national.regions[region]
        assert [k for k, _ in drill.rows] == [p.id for p in geography.provinces_of(region)]
        for key, figure in drill.rows:
            assert figure == national.provinces[key]
        hidden = [k for k, f in drill.rows if f.hidden]
        if hidden and not drill.total.hidden:
            assert len(hidden) >= 2
    assert national.of(NATION).shown == 1500


async def test_no_view_shows_a_count_under_five(engine: AsyncEngine, db: AsyncSession,
                                                geography: Geography) -> None:
    await insert_cases(engine, synthetic_cases(400, load_gazetteer().places, seed=11))
    figures = []
    for dimension in DIMENSIONS:
        for where in (CaseFilter(), CaseFilter(region="09", need="need_legal")):
            table = await one_way(db, geography, dimension, where)
            figures += [f.shown for _, f in table.rows] + [table.total.shown]
    for rows, cols in itertools.permutations(("region", "need", "violence", "month"), 2):
        table2 = await two_way(db, geography, rows, cols, CaseFilter(urgency="urgent"))
        figures += [f.shown for f in table2.cells.values()]
        figures += [f.shown for f in table2.row_totals.values()]
    assert SMALL in figures and PROTECTED in figures
    assert all(f in (SMALL, PROTECTED) or (isinstance(f, int) and f >= MIN_CELL and f % 5 == 0)
               for f in figures)


async def test_two_way_margins_are_the_one_way_tables(engine: AsyncEngine, db: AsyncSession,
                                                      geography: Geography) -> None:
    await insert_cases(engine, synthetic_cases(600, load_gazetteer().places, seed=5))
    table = await two_way(db, geography, "region", "need", CaseFilter())
    regions = await one_way(db, geography, "region", CaseFilter())
    needs = await one_way(db, geography, "need", CaseFilter())
    assert table.row_totals == dict(regions.rows) and table.col_totals == dict(needs.rows)
    assert table.total == regions.total == needs.total
    for r in table.row_keys:
        hidden = [c for c in table.col_keys if table.cells[(r, c)].hidden]
        if hidden and not table.row_totals[r].hidden:
            assert len(hidden) >= 2

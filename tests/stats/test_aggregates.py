"""Counting cases in SQL, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.stats.aggregates import (
    CaseFilter,
    FilterError,
    count_cases,
    count_total,
    first_month,
    months_between,
    parse_month,
)
from tests.stats.cases import add, case
from tests.stats.conftest import CASABLANCA, RABAT, TIZNIT


async def test_a_case_counts_once_in_each_of_its_needs(engine: AsyncEngine,
                                                       db: AsyncSession) -> None:
    await add(engine, case(CASABLANCA, needs=("need_legal", "need_shelter")),
              case(CASABLANCA, needs=("need_legal",)), case(RABAT, needs=()))
    assert await count_cases(db, ["need"], CaseFilter()) == {
        ("need_legal",): 2, ("need_shelter",): 1, ("unspecified",): 1}
    assert await count_total(db, CaseFilter()) == 3
    assert await count_cases(db, ["need"], CaseFilter(need="need_shelter")) == {
        ("need_legal",): 1, ("need_shelter",): 1}
    assert await count_total(db, CaseFilter(need="unspecified")) == 1


async def test_every_dimension(engine: AsyncEngine, db: AsyncSession) -> None:
    await add(engine,
              case(CASABLANCA, violence=("physical", "digital"), urgent=True, channel="sms",
                   language="fr", month="2026-01"),
              case(TIZNIT, violence=(), channel="telegram", month="2026-02"),
              case(None, month="2026-02", day=28))
    assert await count_cases(db, ["region"], CaseFilter()) == {
        ("06",): 1, ("09",): 1, ("unknown",): 1}
    assert await count_cases(db, ["province"], CaseFilter()) == {
        ("06.141",): 1, ("09.581",): 1, ("unknown",): 1}
    assert await count_cases(db, ["month"], CaseFilter()) == {("2026-01",): 1, ("2026-02",): 2}
    assert await count_cases(db, ["violence"], CaseFilter()) == {
        ("physical",): 1, ("digital",): 1, ("unspecified",): 2}
    assert await count_cases(db, ["urgency"], CaseFilter()) == {
        ("urgent",): 1, ("not_urgent",): 2}
    assert await count_cases(db, ["channel"], CaseFilter()) == {
        ("sms",): 1, ("telegram",): 1, ("whatsapp",): 1}
    assert await count_cases(db, ["language"], CaseFilter()) == {("fr",): 1, ("ary",): 2}
    assert await count_cases(db, ["region", "month"], CaseFilter(urgency="not_urgent")) == {
        ("09", "2026-02"): 1, ("unknown", "2026-02"): 1}
    assert await count_cases(db, ["need", "violence"], CaseFilter(region="06")) == {
        ("need_legal", "physical"): 1, ("need_legal", "digital"): 1}
    assert await first_month(db) == date(2026, 1, 1)


async def test_filters(engine: AsyncEngine, db: AsyncSession) -> None:
    await add(engine, case(CASABLANCA, month="2025-12", day=31),
              case(CASABLANCA, month="2026-01", day=1), case(RABAT, month="2026-03"),
              case(None, month="2026-03", channel="sms"))
    january = CaseFilter(start=date(2026, 1, 1), end=date(2026, 1, 1))
    assert await count_total(db, january) == 1
    assert await count_total(db, CaseFilter(start=date(2026, 1, 1))) == 3
    assert await count_total(db, CaseFilter(end=date(2025, 12, 1))) == 1
    assert await count_total(db, CaseFilter(region="unknown")) == 1
    assert await count_total(db, CaseFilter(province="04.421")) == 1
    assert await count_total(db, CaseFilter(channel="sms", language="ary")) == 1


def test_bad_filters_name_the_value() -> None:
    for bad in ({"need": "money"}, {"violence": "x"}, {"urgency": "maybe"},
                {"channel": "fax"}, {"language": "en"},
                {"start": date(2026, 5, 1), "end": date(2026, 4, 1)},
                {"start": date(2010, 1, 1), "end": date(2026, 4, 1)}):
        with pytest.raises(FilterError):
            CaseFilter(**bad)  # type: ignore[arg-type]
    for month in ("2026-13", "2026-1", "26-01", "2026-01\n", "", "9999-12", "1990-01"):
        with pytest.raises(FilterError):
            parse_month(month)
    assert months_between(date(2025, 11, 1), date(2026, 2, 1)) == [
        "2025-11", "2025-12", "2026-01", "2026-02"]

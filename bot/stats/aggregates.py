"""Counts of cases, grouped in SQL. Cases only: no message is read, nothing is
decrypted; the columns used (place codes, needs, violence types, urgency, channel,
language variety, creation month) are stored in clear for this purpose.

`needs` and `violence` are JSON lists: a case counts once in each of its needs (so a
need table's cells add up to more than its number of cases), and a case with none
counts under `unspecified`. On PostgreSQL the lists are expanded with
`json_array_elements_text`, on SQLite with `json_each`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone
from typing import Any, Final

from sqlalchemy import DateTime, bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.types import CHANNELS, NEEDS, VARIETIES, VIOLENCE_TYPES

DIMENSIONS: Final = ("region", "province", "month", "need", "violence", "urgency", "channel",
                     "language")
MULTI_VALUED: Final = {"need": "needs", "violence": "violence"}
UNKNOWN: Final = "unknown"  # a case whose town is not known
UNSPECIFIED: Final = "unspecified"  # a case that named no need, or no type of violence
OTHER: Final = "other"
URGENCY_VALUES: Final = ("urgent", "not_urgent")
NEED_VALUES: Final = (*NEEDS, UNSPECIFIED)
VIOLENCE_VALUES: Final = (*VIOLENCE_TYPES, UNSPECIFIED)
MAX_MONTHS: Final = 120
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class FilterError(ValueError):
    """A filter value that names nothing (answers 400)."""


def parse_month(value: str) -> date:
    if not _MONTH.fullmatch(value):
        raise FilterError(f"month {value!r}: expected YYYY-MM")
    return date(int(value[:4]), int(value[5:7]), 1)


def next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def months_between(start: date, end: date) -> list[str]:
    months: list[str] = []
    current = start
    while current <= end:
        months.append(current.strftime("%Y-%m"))
        current = next_month(current)
    return months


@dataclass(frozen=True, slots=True)
class CaseFilter:
    """Which cases to count. Months are whole calendar months (UTC), both ends
    included."""

    need: str | None = None
    violence: str | None = None
    region: str | None = None
    province: str | None = None
    urgency: str | None = None
    channel: str | None = None
    language: str | None = None
    start: date | None = None
    end: date | None = None

    def __post_init__(self) -> None:
        if self.need is not None and self.need not in NEED_VALUES:
            raise FilterError(f"need {self.need!r}: expected one of {', '.join(NEED_VALUES)}")
        if self.violence is not None and self.violence not in VIOLENCE_VALUES:
            raise FilterError(f"violence {self.violence!r}: expected one of "
                              f"{', '.join(VIOLENCE_VALUES)}")
        if self.urgency is not None and self.urgency not in URGENCY_VALUES:
            raise FilterError(f"urgency {self.urgency!r}: expected urgent or not_urgent")
        if self.channel is not None and self.channel not in CHANNELS:
            raise FilterError(f"channel {self.channel!r}: expected one of {', '.join(CHANNELS)}")
        if self.language is not None and self.language not in VARIETIES:
            raise FilterError(f"language {self.language!r}: expected one of "
                              f"{', '.join(VARIETIES)}")
        if self.start and self.end and self.start > self.end:
            raise FilterError("period: the first month is after the last")
        if self.start and self.end and len(months_between(self.start, self.end)) > MAX_MONTHS:
            raise FilterError(f"period: at most {MAX_MONTHS} months")

    def without_place(self) -> CaseFilter:
        return replace(self, region=None, province=None)

    def describe(self) -> dict[str, str]:
        """The filter as JSON-ready strings (for answers and audit)."""
        out = {name: getattr(self, name) for name in ("need", "violence", "region", "province",
                                                      "urgency", "channel", "language")}
        described = {k: v for k, v in out.items() if v is not None}
        if self.start:
            described["from"] = self.start.strftime("%Y-%m")
        if self.end:
            described["to"] = self.end.strftime("%Y-%m")
        return described


@dataclass
class _Query:
    dialect: str
    joins: list[str] = field(default_factory=list)
    where: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    typed: list[Any] = field(default_factory=list)

    def expand(self, column: str, alias: str) -> None:
        if self.dialect == "postgresql":
            self.joins.append(f"LEFT JOIN LATERAL json_array_elements_text(c.{column}) "
                              f"AS {alias}(value) ON true")
        else:
            self.joins.append(f"LEFT JOIN json_each(c.{column}) AS {alias}")

    def contains(self, column: str, value: str, name: str) -> None:
        if value == UNSPECIFIED:
            self.where.append(f"json_array_length(c.{column}) = 0")
            return
        as_text = f"CAST(c.{column} AS TEXT)" if self.dialect == "postgresql" else f"c.{column}"
        # Values come from a closed vocabulary of plain words: the quoted word appears in
        # the stored JSON text exactly when it is an element of the list.
        self.where.append(f"{as_text} LIKE :{name}")
        self.params[name] = f'%"{value}"%'


def _expression(dimension: str, query: _Query) -> str:
    if dimension == "region":
        return f"COALESCE(c.region_id, '{UNKNOWN}')"
    if dimension == "province":
        return f"COALESCE(c.province_id, '{UNKNOWN}')"
    if dimension == "city":  # internal, for coverage: never published below a province
        return f"COALESCE(c.city_id, '{UNKNOWN}')"
    if dimension == "month":
        if query.dialect == "postgresql":
            return "to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM')"
        return "strftime('%Y-%m', c.created_at)"
    if dimension in MULTI_VALUED:
        alias = "n" if dimension == "need" else "v"
        query.expand(MULTI_VALUED[dimension], alias)
        return f"COALESCE({alias}.value, '{UNSPECIFIED}')"
    if dimension == "urgency":
        return "CASE WHEN c.urgent THEN 'urgent' ELSE 'not_urgent' END"
    if dimension in ("channel", "language"):
        return f"c.{dimension}"
    raise FilterError(f"dimension {dimension!r}: expected one of {', '.join(DIMENSIONS)}")


def _apply(where: CaseFilter, query: _Query) -> None:
    if where.need is not None:
        query.contains("needs", where.need, "need")
    if where.violence is not None:
        query.contains("violence", where.violence, "violence")
    for name, column in (("region", "region_id"), ("province", "province_id")):
        value = getattr(where, name)
        if value == UNKNOWN:
            query.where.append(f"c.{column} IS NULL")
        elif value is not None:
            query.where.append(f"c.{column} = :{name}")
            query.params[name] = value
    if where.urgency is not None:
        query.where.append("c.urgent = :urgent")
        query.params["urgent"] = where.urgency == "urgent"
    for name in ("channel", "language"):
        value = getattr(where, name)
        if value is not None:
            query.where.append(f"c.{name} = :{name}")
            query.params[name] = value
    for name, day in (("start", where.start), ("end", where.end and next_month(where.end))):
        if day is not None:
            query.where.append(f"c.created_at {'>=' if name == 'start' else '<'} :{name}")
            query.typed.append(bindparam(name, datetime(day.year, day.month, 1,
                                                        tzinfo=timezone.utc),
                                         type_=DateTime(timezone=True)))


async def _dialect(db: AsyncSession) -> str:
    return (await db.connection()).dialect.name


async def count_cases(db: AsyncSession, by: Sequence[str],
                      where: CaseFilter) -> dict[tuple[str, ...], int]:
    """Number of cases for each combination of values of the `by` dimensions."""
    if not by:
        return {(): await count_total(db, where)}
    if len(set(by)) != len(by):
        raise FilterError("a dimension appears twice")
    query = _Query(await _dialect(db))
    expressions = [_expression(d, query) for d in by]
    _apply(where, query)
    sql = (f"SELECT {', '.join(f'{e} AS d{i}' for i, e in enumerate(expressions))}, "
           f"COUNT(*) AS n FROM cases AS c {' '.join(query.joins)}"
           + (f" WHERE {' AND '.join(query.where)}" if query.where else "")
           + f" GROUP BY {', '.join(str(i + 1) for i in range(len(by)))}")
    rows = await db.execute(text(sql).bindparams(*query.typed), query.params)
    counts: dict[tuple[str, ...], int] = {}
    for row in rows:
        key = tuple(_fold(by[i], str(row[i])) for i in range(len(by)))
        counts[key] = counts.get(key, 0) + int(row[-1])
    return counts


def _fold(dimension: str, value: str) -> str:
    """A value outside the dimension's vocabulary (an old channel, say) counts as
    `other`, so no row is lost."""
    if dimension == "channel" and value not in CHANNELS:
        return OTHER
    if dimension == "language" and value not in VARIETIES:
        return OTHER
    return value


async def count_total(db: AsyncSession, where: CaseFilter) -> int:
    query = _Query(await _dialect(db))
    _apply(where, query)
    sql = ("SELECT COUNT(*) FROM cases AS c"
           + (f" WHERE {' AND '.join(query.where)}" if query.where else ""))
    return int((await db.execute(text(sql).bindparams(*query.typed), query.params)).scalar_one())


async def first_month(db: AsyncSession) -> date | None:
    """The month of the oldest case, or None when there is none."""
    value = (await db.execute(text("SELECT MIN(created_at) FROM cases"))).scalar_one()
    if value is None:
        return None
    if isinstance(value, str):  # SQLite answers raw text to a bare SELECT
        value = datetime.fromisoformat(value[:19])
    return date(value.year, value.month, 1)

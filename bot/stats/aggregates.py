"""Counts of cases, grouped in SQL. Cases only: no message is read, nothing is
decrypted; the columns used (place codes, needs, violence types, urgency, channel,
language variety, creation month) are stored in clear for this purpose.

`needs` and `violence` are JSON lists: a case counts once in each of its needs (so a
need table's cells add up to more than its number of cases), and a case with none
counts under `unspecified`.

One scan per table: the database groups cases by the single-valued columns asked for
and by the *text* of the needs and violence lists (a few dozen distinct lists in
practice), and Python expands the lists of those few groups. Every cell, margin and
total of a table, and the place hierarchy, come from the same `CaseGroups`, so they are
consistent by construction, and nothing is parsed per case.
"""

from __future__ import annotations

import functools
import re
import json
from collections.abc import Callable, Iterable, Sequence
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
    if not _MONTH.fullmatch(value) or not 2000 <= int(value[:4]) <= 2100:
        raise FilterError(f"month {value!r}: expected YYYY-MM, between 2000 and 2100")
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
    where: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    typed: list[Any] = field(default_factory=list)

    def as_text(self, column: str) -> str:
        return f"CAST(c.{column} AS TEXT)" if self.dialect == "postgresql" else f"c.{column}"

    def contains(self, column: str, value: str, name: str) -> None:
        as_text = self.as_text(column)
        if value == UNSPECIFIED:
            self.where.append(f"{as_text} = '[]'")
            return
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
        if query.dialect == "postgresql":  # in UTC: the scan sets its time zone
            return "date_trunc('month', c.created_at)"
        return "strftime('%Y-%m', c.created_at)"
    if dimension in MULTI_VALUED:  # the list's text; expanded in Python
        return query.as_text(MULTI_VALUED[dimension])
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


Key = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CaseGroups:
    """Cases counted by distinct combination of `dims`: each group is its values (a
    tuple of values for a multi-valued dimension, `()` when the case has none) and
    its number of cases."""

    dims: tuple[str, ...]
    groups: list[tuple[tuple[str | tuple[str, ...], ...], int]]

    @property
    def cases(self) -> int:
        return sum(n for _, n in self.groups)

    def count(self, by: Sequence[str],
              keep: Callable[[dict[str, object]], bool] | None = None) -> dict[Key, int]:
        """Cases for each combination of values of `by` (a subset of `dims`), among the
        groups `keep` accepts; a case counts in each value of a multi-valued dimension,
        and under `unspecified` when it has none."""
        positions = [self.dims.index(d) for d in by]
        counts: dict[Key, int] = {}
        for values, n in self.groups:
            if keep is not None and not keep(dict(zip(self.dims, values))):
                continue
            choices: list[Iterable[str]] = []
            for d, i in zip(by, positions):
                value = values[i]
                if d in MULTI_VALUED:
                    choices.append(value or (UNSPECIFIED,))
                else:
                    choices.append((str(value),))
            for key in _product(choices):
                counts[key] = counts.get(key, 0) + n
        return counts


def _product(choices: list[Iterable[str]]) -> Iterable[Key]:
    keys: list[Key] = [()]
    for options in choices:
        keys = [key + (option,) for key in keys for option in options]
    return keys


@functools.lru_cache(maxsize=4096)
def _parse_list(text_value: str) -> tuple[str, ...]:
    values = json.loads(text_value) if text_value else []
    return tuple(dict.fromkeys(str(v) for v in values))


def _fold(dimension: str, value: str) -> str:
    """A value outside the dimension's vocabulary (an old channel, say) counts as
    `other`, so no row is lost."""
    if dimension == "channel" and value not in CHANNELS:
        return OTHER
    if dimension == "language" and value not in VARIETIES:
        return OTHER
    return value


def _value(dimension: str, raw: Any) -> str | tuple[str, ...]:
    if dimension in MULTI_VALUED:
        return _parse_list(raw if isinstance(raw, str) else json.dumps(raw))
    if dimension == "month" and isinstance(raw, datetime):
        return raw.astimezone(timezone.utc).strftime("%Y-%m")
    return _fold(dimension, str(raw))


async def case_groups(db: AsyncSession, dims: Sequence[str], where: CaseFilter) -> CaseGroups:
    """One scan: the cases matching `where`, grouped by `dims`."""
    if len(set(dims)) != len(dims):
        raise FilterError("a dimension appears twice")
    query = _Query(await _dialect(db))
    expressions = [_expression(d, query) for d in dims]
    _apply(where, query)
    if query.dialect == "postgresql":
        # Enough memory to group in a hash table rather than sort on disk; months in UTC.
        await db.execute(text("SET LOCAL work_mem = '64MB'"))
        await db.execute(text("SET LOCAL TIME ZONE 'UTC'"))
    select_list = [f"{e} AS d{i}" for i, e in enumerate(expressions)] + ["COUNT(*) AS n"]
    sql = (f"SELECT {', '.join(select_list)} FROM cases AS c"
           + (f" WHERE {' AND '.join(query.where)}" if query.where else "")
           + (f" GROUP BY {', '.join(str(i + 1) for i in range(len(dims)))}" if dims else ""))
    rows = await db.execute(text(sql).bindparams(*query.typed), query.params)
    groups: dict[tuple[str | tuple[str, ...], ...], int] = {}
    for row in rows:
        values = tuple(_value(d, row[i]) for i, d in enumerate(dims))
        groups[values] = groups.get(values, 0) + int(row[-1])
    return CaseGroups(tuple(dims), list(groups.items()))


async def count_cases(db: AsyncSession, by: Sequence[str], where: CaseFilter) -> dict[Key, int]:
    """Number of cases for each combination of values of the `by` dimensions."""
    return (await case_groups(db, by, where)).count(by)


async def count_total(db: AsyncSession, where: CaseFilter) -> int:
    return (await case_groups(db, (), where)).cases


async def first_month(db: AsyncSession) -> date | None:
    """The month of the oldest case, or None when there is none."""
    value = (await db.execute(text("SELECT MIN(created_at) FROM cases"))).scalar_one()
    if value is None:
        return None
    if isinstance(value, str):  # SQLite answers raw text to a bare SELECT
        value = datetime.fromisoformat(value[:19])
    return date(value.year, value.month, 1)

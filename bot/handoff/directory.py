"""The centers directory: CSV import and export, and the cached list routing reads.

CSV columns: `id,name,kind,city,province_id,region_id,lat,lon,services` (required) and
`phone,sample,active` (optional); `services` is `|`-separated. Errors name the line
and column, and an import with any error changes nothing.
"""

from __future__ import annotations

import csv
import io
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.handoff.routing import CenterPoint
from bot.storage.models import Center
from bot.types import SERVICES

logger = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("id", "name", "kind", "city", "province_id", "region_id", "lat", "lon",
                    "services")
OPTIONAL_COLUMNS = ("phone", "sample", "active")
EXPORT_COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
MAX_ROWS = 20_000
_TRUE = {"1", "true", "yes", "oui", "y"}
_FALSE = {"0", "false", "no", "non", "n", ""}


class DirectoryError(Exception):
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True, slots=True)
class CenterRow:
    id: str
    name: str
    kind: str
    city: str
    province_id: str
    region_id: str
    lat: float
    lon: float
    services: tuple[str, ...]
    phone: str | None
    sample: bool
    active: bool


def _flag(value: str | None, default: bool) -> bool | None:
    if value is None:
        return default
    folded = value.strip().lower()
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return default if folded == "" else False
    return None


def known_provinces(geo_dir: Path) -> dict[str, str]:
    """Province id -> region id, from `provinces.csv`: what a directory row is checked
    against."""
    with open(geo_dir / "provinces.csv", encoding="utf-8") as handle:
        return {row["id"]: row["region_id"] for row in csv.DictReader(handle)}


def parse_centers_csv(text: str, *, known_provinces: dict[str, str] | None = None
                      ) -> list[CenterRow]:
    """Parse and validate a centers CSV. `known_provinces` maps province id -> region id;
    when given, codes are checked against it."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = reader.fieldnames or []
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise DirectoryError([f"header: missing column(s) {', '.join(missing)} "
                              f"(required: {','.join(REQUIRED_COLUMNS)})"])
    rows: list[CenterRow] = []
    problems: list[str] = []
    seen: set[str] = set()
    for line_no, raw in enumerate(reader, start=2):
        if line_no - 1 > MAX_ROWS:
            problems.append(f"more than {MAX_ROWS} rows")
            break
        here = f"line {line_no}"
        values = {k: (v or "").strip() for k, v in raw.items() if k is not None}
        before = len(problems)
        for column in ("id", "name", "kind", "city", "province_id", "region_id"):
            if not values.get(column):
                problems.append(f"{here}: {column}: empty")
        center_id = values.get("id", "")
        if center_id in seen:
            problems.append(f"{here}: id: '{center_id}' appears twice")
        seen.add(center_id)
        try:
            lat, lon = float(values.get("lat", "")), float(values.get("lon", ""))
            if not (20.0 <= lat <= 36.5 and -17.5 <= lon <= -0.9):
                problems.append(f"{here}: lat/lon: {lat},{lon} is outside Morocco")
        except ValueError:
            problems.append(f"{here}: lat/lon: not numbers")
            lat = lon = 0.0
        services = tuple(s.strip() for s in values.get("services", "").split("|") if s.strip())
        if not services:
            problems.append(f"{here}: services: empty (use | between {', '.join(SERVICES)})")
        for service in services:
            if service not in SERVICES:
                problems.append(f"{here}: services: unknown service '{service}' "
                                f"(known: {', '.join(SERVICES)})")
        province, region = values.get("province_id", ""), values.get("region_id", "")
        if known_provinces is not None and province:
            if province not in known_provinces:
                problems.append(f"{here}: province_id: unknown province '{province}'")
            elif known_provinces[province] != region:
                problems.append(f"{here}: region_id: province {province} is in region "
                                f"{known_provinces[province]}, not '{region}'")
        sample = _flag(values.get("sample"), False)
        active = _flag(values.get("active"), True)
        if sample is None:
            problems.append(f"{here}: sample: must be true or false")
        if active is None:
            problems.append(f"{here}: active: must be true or false")
        if len(problems) > before:
            continue
        rows.append(CenterRow(
            id=center_id, name=values["name"], kind=values["kind"], city=values["city"],
            province_id=province, region_id=region, lat=lat, lon=lon,
            services=tuple(dict.fromkeys(services)), phone=values.get("phone") or None,
            sample=bool(sample), active=bool(active),
        ))
    if problems:
        raise DirectoryError(problems[:50] + ([f"... and {len(problems) - 50} more"]
                                              if len(problems) > 50 else []))
    return rows


def centers_to_csv(centers: Iterable[Center]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    for c in centers:
        writer.writerow([c.id, c.name, c.kind, c.city, c.province_id, c.region_id,
                         f"{c.lat:.5f}", f"{c.lon:.5f}", "|".join(c.services), c.phone or "",
                         "true" if c.is_sample else "false", "true" if c.active else "false"])
    return out.getvalue()


async def import_centers(session: AsyncSession, rows: Sequence[CenterRow]) -> tuple[int, int]:
    """Insert new centers and update existing ones (by id). Returns (created, updated)."""
    existing = {c.id: c for c in (await session.scalars(
        select(Center).where(Center.id.in_([r.id for r in rows])))).all()}
    created = updated = 0
    for row in rows:
        center = existing.get(row.id)
        if center is None:
            center = Center(id=row.id)
            session.add(center)
            created += 1
        else:
            updated += 1
        center.name, center.kind, center.city = row.name, row.kind, row.city
        center.province_id, center.region_id = row.province_id, row.region_id
        center.lat, center.lon = row.lat, row.lon
        center.services = list(row.services)
        center.phone, center.is_sample, center.active = row.phone, row.sample, row.active
    return created, updated


async def count_centers(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Center)) or 0)


class CenterDirectory:
    """Active centers as routing points, cached in memory. Every `max_age` seconds a
    cheap query (how many centers, when one last changed) tells whether another worker,
    the console or `run_bot.py centers import` changed the directory; only then is it
    read again."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], *,
                 max_age: float = 30.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._sessionmaker = sessionmaker
        self._max_age = max_age
        self._clock = clock
        self._points: list[CenterPoint] | None = None
        self._marker: tuple[int, object] | None = None
        self._checked_at = 0.0

    async def points(self) -> list[CenterPoint]:
        now = self._clock()
        if self._points is not None and now - self._checked_at < self._max_age:
            return self._points
        async with self._sessionmaker() as session:
            row = (await session.execute(
                select(func.count(), func.max(Center.updated_at)).select_from(Center))).one()
            marker = (int(row[0]), row[1])
            if self._points is None or marker != self._marker:
                centers = (await session.scalars(select(Center))).all()
                self._points = [CenterPoint(c.id, c.lat, c.lon, frozenset(c.services),
                                            c.active) for c in centers]
                self._marker = marker
        self._checked_at = now
        return self._points

    def invalidate(self) -> None:
        self._points = None

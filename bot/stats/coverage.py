"""Where centers are missing: for the field diagnosis.

For each province: cases per 100,000 inhabitants (RGPH 2024 population), and the
requests whose town is more than `gap_km` from the nearest active center offering the
service asked for. A *request* is one service asked by one case: a case that asked
for legal aid and shelter makes two requests, each measured against the centers that
offer that service (a case that named none asked for listening and orientation).

Communes are listed, rural and urban apart, only where at least 5 such requests came
from them; smaller ones are counted in their province's figure but not named. Every
figure goes through the same protection as the other tables (`suppression`): per
province, the named communes, the unnamed rest and the province's figure form a line;
the provinces and the national figure form another; so do the rural and urban
totals and the national figure.

Distances are great-circle distances from the town's point in `cities.csv` (through the
gazetteer), computed like `bot.handoff.routing` does, for all towns at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Final, Literal

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from bot.handoff.routing import EARTH_RADIUS_KM, CenterPoint, services_for
from bot.nlu.places import Gazetteer
from bot.stats.aggregates import UNKNOWN, UNSPECIFIED, CaseFilter, case_groups
from bot.stats.geography import Geography
from bot.stats.suppression import MIN_CELL, Figure, protect
from bot.stats.tables import PLACE_DIMENSIONS, place_figures_of, resolve_period, validate_places

Setting = Literal["rural", "urban"]
NATION: Final = "MA"
PER_INHABITANTS: Final = 100_000


def setting_of(kind: str) -> Setting:
    """Urban: urban communes and the arrondissements of the large cities. Rural: rural
    communes and the small localities that match no commune."""
    return "urban" if kind in ("commune_urban", "arrondissement") else "rural"


def nearest_center_km(points: Sequence[tuple[float, float]], centers: Sequence[CenterPoint],
                      service: str) -> np.ndarray:
    """For each (lat, lon), the distance in km to the nearest active center offering
    `service` (infinite where none does)."""
    offering = [c for c in centers if c.active and service in c.services]
    if not points:
        return np.zeros(0)
    if not offering:
        return np.full(len(points), np.inf)
    lat = np.radians(np.array([p[0] for p in points]))[:, None]
    lon = np.radians(np.array([p[1] for p in points]))[:, None]
    clat = np.radians(np.array([c.lat for c in offering]))[None, :]
    clon = np.radians(np.array([c.lon for c in offering]))[None, :]
    a = (np.sin((clat - lat) / 2) ** 2
         + np.cos(lat) * np.cos(clat) * np.sin((clon - lon) / 2) ** 2)
    distances = 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(a)))
    result: np.ndarray = distances.min(axis=1)
    return result


@dataclass(frozen=True, slots=True)
class ProvinceCoverage:
    province_id: str
    region_id: str
    population: int
    cases: Figure
    cases_per_100k: float | None  # from the published (rounded) count; None when hidden
    far_requests: Figure


@dataclass(frozen=True, slots=True)
class CommuneGap:
    city_id: str
    province_id: str
    setting: Setting
    need: str
    requests: Figure
    nearest_km: float | None  # None: no active center offers the service at all


@dataclass(frozen=True, slots=True)
class CoverageReport:
    where: CaseFilter
    gap_km: float
    provinces: list[ProvinceCoverage]  # ranked: most far requests first
    communes: dict[Setting, list[CommuneGap]]  # ranked likewise
    far_total: Figure
    far_by_setting: dict[Setting, Figure]


def _rank(figure: Figure) -> int:
    return figure.rounded if figure.rounded is not None else -1


async def coverage_report(db: AsyncSession, geography: Geography, places: Gazetteer,
                          centers: Sequence[CenterPoint], where: CaseFilter,
                          gap_km: float) -> CoverageReport:
    validate_places(where, geography)
    where = await resolve_period(db, replace(where, region=None, province=None))
    groups = await case_groups(db, [*PLACE_DIMENSIONS, "city", "need"], where)
    places_published = place_figures_of(groups, geography)
    pairs = groups.count(["city", "need"])

    towns: dict[str, tuple[float, float]] = {}
    for city_id, _ in pairs:
        place = places.by_id(city_id) if city_id != UNKNOWN else None
        if place is not None and place.province_id in geography.provinces:
            towns[city_id] = (place.lat, place.lon)
    town_ids = list(towns)
    distance: dict[tuple[str, str], float] = {}
    for need in {n for _, n in pairs}:
        if where.need is not None and need != where.need:
            continue
        (service,) = services_for([] if need == UNSPECIFIED else [need])
        for city_id, km in zip(town_ids, nearest_center_km([towns[t] for t in town_ids],
                                                           centers, service)):
            distance[(city_id, need)] = float(km)

    far = {key: n for key, n in pairs.items() if key in distance and distance[key] > gap_km}
    values: dict[tuple[str, ...], int] = {("nation",): sum(far.values())}
    for setting in ("rural", "urban"):
        values[("setting", setting)] = 0
    for province in geography.provinces:
        values[("province", province)] = 0
        values[("unnamed", province)] = 0
    named: list[tuple[str, str]] = []
    for (city_id, need), n in far.items():
        place = places.by_id(city_id)
        assert place is not None
        values[("province", place.province_id)] += n
        values[("setting", setting_of(place.kind))] += n
        if n >= MIN_CELL:
            named.append((city_id, need))
            values[("commune", city_id, need)] = n
        else:
            values[("unnamed", place.province_id)] += n
    lines: list[list[tuple[str, ...]]] = [
        [("province", p) for p in geography.provinces] + [("nation",)],
        [("setting", "rural"), ("setting", "urban"), ("nation",)],
    ]
    fixed: dict[tuple[str, ...], bool] = {("nation",): values[("nation",)] < MIN_CELL}
    named_in: dict[str, list[tuple[str, ...]]] = {p: [] for p in geography.provinces}
    for city_id, need in named:
        named_in[places.by_id(city_id).province_id].append(  # type: ignore[union-attr]
            ("commune", city_id, need))
    for province_id in geography.provinces:
        line = named_in[province_id]
        if values[("unnamed", province_id)] > 0:
            line.append(("unnamed", province_id))
            fixed[("unnamed", province_id)] = True
        lines.append(line + [("province", province_id)])
    figures = protect(values, lines, fixed=fixed)

    provinces: list[ProvinceCoverage] = []
    for area in geography.provinces.values():
        cases = places_published.provinces[area.id]
        rate = (None if cases.rounded is None
                else round(cases.rounded * PER_INHABITANTS / area.population, 1))
        provinces.append(ProvinceCoverage(area.id, area.region_id, area.population,
                                          cases, rate, figures[("province", area.id)]))
    provinces.sort(key=lambda p: (-_rank(p.far_requests), -(p.cases_per_100k or 0),
                                  p.province_id))
    communes: dict[Setting, list[CommuneGap]] = {"rural": [], "urban": []}
    for city_id, need in named:
        place = places.by_id(city_id)
        assert place is not None
        km = distance[(city_id, need)]
        communes[setting_of(place.kind)].append(CommuneGap(
            city_id, place.province_id, setting_of(place.kind), need,
            figures[("commune", city_id, need)], None if np.isinf(km) else round(km, 1)))
    for rows in communes.values():
        rows.sort(key=lambda g: (-_rank(g.requests), -(g.nearest_km or float("inf")),
                                 g.city_id, g.need))
    return CoverageReport(
        where=where, gap_km=gap_km, provinces=provinces, communes=communes,
        far_total=figures[("nation",)],
        far_by_setting={s: figures[("setting", s)] for s in ("rural", "urban")},
    )

"""Routing a case to the nearest center that offers what she asked for. Pure functions.

Rule (issue 2): the nearest center (great-circle distance from her town) that offers
every need she asked for; else the nearest among those offering the most of them; if
her town is unknown, or no active center offers any of them, the national queue.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from bot.types import SERVICE_FOR_NEED

EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True, slots=True)
class CenterPoint:
    """What routing needs to know of a center."""

    id: str
    lat: float
    lon: float
    services: frozenset[str]
    active: bool = True


@dataclass(frozen=True, slots=True)
class Routing:
    center_id: str
    distance_km: float
    services_covered: frozenset[str]
    services_missing: frozenset[str]


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance in kilometres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def services_for(needs: Iterable[str]) -> frozenset[str]:
    """The services that answer her needs; no need named means listening/orientation."""
    services = {SERVICE_FOR_NEED[n] for n in needs if n in SERVICE_FOR_NEED}  # type: ignore[index]
    return frozenset(services or {"listening"})


def rank_centers(centers: Iterable[CenterPoint], lat: float, lon: float,
                 needs: Iterable[str], *, exclude: Collection[str] = ()) -> list[Routing]:
    """Active centers offering at least one of her services, best first: those covering
    more of her services first, nearer first among equals."""
    wanted = services_for(needs)
    ranked: list[tuple[int, float, str, Routing]] = []
    for center in centers:
        if not center.active or center.id in exclude:
            continue
        covered = wanted & center.services
        if not covered:
            continue
        distance = great_circle_km(lat, lon, center.lat, center.lon)
        routing = Routing(center.id, round(distance, 1), frozenset(covered),
                          frozenset(wanted - covered))
        ranked.append((-len(covered), distance, center.id, routing))
    ranked.sort(key=lambda item: item[:3])
    return [item[3] for item in ranked]


def route_to_nearest_center(centers: Iterable[CenterPoint], lat: float | None,
                            lon: float | None, needs: Iterable[str], *,
                            exclude: Collection[str] = ()) -> Routing | None:
    """The center for her case, or None for the national queue."""
    if lat is None or lon is None:
        return None
    ranked = rank_centers(centers, lat, lon, needs, exclude=exclude)
    return ranked[0] if ranked else None

"""The base map: region and province outlines from `data/geo/*.geojson` as SVG path
strings, projected once and cached for the life of the process.

Projection: equirectangular with the longitude scaled by the cosine of the middle
latitude (about 29°N), which keeps shapes right at this size; y grows southwards as in
SVG. No tiles and no request to anywhere: the outlines are in the repository
(© OpenStreetMap contributors, ODbL; see data/geo/SOURCES.md).
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

WIDTH: Final = 1000.0
PADDING: Final = 10.0


@dataclass(frozen=True, slots=True)
class Shape:
    id: str
    region_id: str
    path: str  # the SVG `d` attribute
    bbox: tuple[float, float, float, float]  # min x, min y, max x, max y


@dataclass(frozen=True, slots=True)
class Projection:
    west: float
    north: float
    scale: float  # SVG units per degree of latitude
    cos_lat: float

    def __call__(self, lat: float, lon: float) -> tuple[float, float]:
        return (PADDING + (lon - self.west) * self.cos_lat * self.scale,
                PADDING + (self.north - lat) * self.scale)


@dataclass(frozen=True, slots=True)
class BaseMap:
    width: float
    height: float
    project: Projection
    regions: dict[str, Shape]
    provinces: dict[str, Shape]

    def view_box(self, region_id: str | None = None) -> str:
        """The whole country, or one region with a margin."""
        if region_id is None:
            return f"0 0 {self.width:.0f} {self.height:.0f}"
        x0, y0, x1, y1 = self.regions[region_id].bbox
        margin = max(x1 - x0, y1 - y0) * 0.05
        return (f"{x0 - margin:.1f} {y0 - margin:.1f} {x1 - x0 + 2 * margin:.1f} "
                f"{y1 - y0 + 2 * margin:.1f}")

    def zoom(self, region_id: str | None) -> float:
        """How much a region's view enlarges the country's (to keep dots a fixed size)."""
        if region_id is None:
            return 1.0
        x0, y0, x1, y1 = self.regions[region_id].bbox
        return max((x1 - x0) / self.width, (y1 - y0) / self.height) * 1.1


Ring = Sequence[Sequence[float]]


def _polygons(geometry: dict[str, Any]) -> list[list[Ring]]:
    if geometry["type"] == "Polygon":
        return [geometry["coordinates"]]
    if geometry["type"] == "MultiPolygon":
        return list(geometry["coordinates"])
    raise ValueError(f"unsupported geometry {geometry['type']!r}")


def _features(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        data = json.load(handle)
    features: list[dict[str, Any]] = data["features"]
    return features


def _bounds(features: Iterable[dict[str, Any]]) -> tuple[float, float, float, float]:
    lons: list[float] = []
    lats: list[float] = []
    for feature in features:
        for polygon in _polygons(feature["geometry"]):
            for ring in polygon:
                lons.extend(p[0] for p in ring)
                lats.extend(p[1] for p in ring)
    return min(lons), min(lats), max(lons), max(lats)


def _shape(feature: dict[str, Any], project: Projection) -> Shape:
    parts: list[str] = []
    xs: list[float] = []
    ys: list[float] = []
    for polygon in _polygons(feature["geometry"]):
        for ring in polygon:
            points = [project(lat, lon) for lon, lat, *_ in ring]
            xs.extend(x for x, _ in points)
            ys.extend(y for _, y in points)
            parts.append("M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in points) + "Z")
    props = feature["properties"]
    return Shape(id=str(props["id"]), region_id=str(props.get("region_id") or props["id"]),
                 path="".join(parts), bbox=(min(xs), min(ys), max(xs), max(ys)))


@functools.lru_cache(maxsize=4)
def load_base_map(geo_dir: Path) -> BaseMap:
    """Read and project both boundary files once."""
    region_features = _features(geo_dir / "regions.geojson")
    province_features = _features(geo_dir / "provinces.geojson")
    west, south, east, north = _bounds(region_features)
    cos_lat = math.cos(math.radians((south + north) / 2))
    scale = (WIDTH - 2 * PADDING) / ((east - west) * cos_lat)
    project = Projection(west=west, north=north, scale=scale, cos_lat=cos_lat)
    height = (north - south) * scale + 2 * PADDING
    return BaseMap(
        width=WIDTH, height=round(height, 1), project=project,
        regions={s.id: s for s in (_shape(f, project) for f in region_features)},
        provinces={s.id: s for s in (_shape(f, project) for f in province_features)},
    )

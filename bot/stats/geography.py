"""Regions and provinces of Morocco (`data/geo/regions.csv`, `provinces.csv`): names in
French and Arabic, population (HCP, RGPH 2024), the region each province is in."""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Area:
    id: str
    name_fr: str
    name_ar: str
    population: int
    region_id: str  # a region's own id for a region

    def name(self, lang: str) -> str:
        return self.name_ar if lang == "ar" else self.name_fr


@dataclass(frozen=True, slots=True)
class Geography:
    regions: dict[str, Area]
    provinces: dict[str, Area]

    def provinces_of(self, region_id: str) -> list[Area]:
        return [p for p in self.provinces.values() if p.region_id == region_id]


def _read(path: Path, region_column: str) -> dict[str, Area]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    try:
        return {row["id"]: Area(row["id"], row["name_fr"], row["name_ar"],
                                int(row["population"]), row[region_column])
                for row in rows}
    except (KeyError, ValueError) as exc:
        raise ValueError(f"{path}: {exc}") from exc


@functools.lru_cache(maxsize=4)
def load_geography(geo_dir: Path) -> Geography:
    """Read once per directory for the life of the process."""
    regions = _read(geo_dir / "regions.csv", "id")
    provinces = _read(geo_dir / "provinces.csv", "region_id")
    for province in provinces.values():
        if province.region_id not in regions:
            raise ValueError(f"{geo_dir / 'provinces.csv'}: province {province.id}: "
                             f"unknown region {province.region_id!r}")
    return Geography(regions, provinces)

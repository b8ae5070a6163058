"""Regions and provinces, and their names in French and Arabic."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import PROJECT_ROOT
from bot.stats.geography import load_geography
from bot.stats.labels import dimension_label, value_label

GEO = PROJECT_ROOT / "data" / "geo"


def test_twelve_regions_seventy_five_provinces() -> None:
    geography = load_geography(GEO)
    assert len(geography.regions) == 12 and len(geography.provinces) == 75
    assert sum(p.population for p in geography.provinces.values()) > 36_000_000
    assert len(geography.provinces_of("12")) == 2


def test_names_in_both_languages() -> None:
    geography = load_geography(GEO)
    assert value_label("region", "09", "fr", geography) == "Souss-Massa"
    assert value_label("province", "09.581", "ar", geography) == "تيزنيت"
    assert value_label("need", "need_shelter", "ar", geography) == "الإيواء"
    assert value_label("month", "2026-03", "fr", geography) == "2026-03"
    assert value_label("region", "unknown", "fr", geography) == "Lieu inconnu"
    assert dimension_label("violence", "ar") == "نوع العنف"


def test_a_province_in_no_region_is_refused(tmp_path: Path) -> None:
    (tmp_path / "regions.csv").write_text(
        "id,name_fr,name_ar,population\n01,A,أ,10\n", encoding="utf-8")
    (tmp_path / "provinces.csv").write_text(
        "id,name_fr,name_ar,region_id,population\n01.001,B,ب,02,5\n", encoding="utf-8")
    with pytest.raises(ValueError, match="unknown region '02'"):
        load_geography(tmp_path)

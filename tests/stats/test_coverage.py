"""Coverage gaps: distances to the nearest center offering what she asked for."""

from __future__ import annotations

import math

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.handoff.routing import CenterPoint, rank_centers
from bot.nlu.places import load_gazetteer
from bot.settings import Settings, SettingsError
from bot.stats.aggregates import CaseFilter
from bot.stats.coverage import coverage_report, nearest_center_km, setting_of
from bot.stats.geography import Geography
from bot.stats.suppression import PROTECTED, SMALL
from tests.stats.cases import add, case
from tests.stats.conftest import AIT_ISSAFEN, TAFRAOUT, TIZNIT

PLACES = load_gazetteer()


def _center(center_id: str, city_id: str, services: set[str], active: bool = True
            ) -> CenterPoint:
    place = PLACES.by_id(city_id)
    assert place is not None
    return CenterPoint(center_id, place.lat, place.lon, frozenset(services), active)


AGADIR = "09.001.01.01"
TATA = "09.551.01.07"  # far from every center below
CENTERS = [
    _center("tiznit", TIZNIT, {"listening", "legal"}),
    _center("agadir", AGADIR, {"listening", "shelter"}),
    _center("tafraout-closed", TAFRAOUT, {"shelter", "legal"}, active=False),
]


def test_nearest_center_agrees_with_routing() -> None:
    towns = [p for p in PLACES.places[::40]]
    for service in ("legal", "shelter", "medical"):
        distances = nearest_center_km([(t.lat, t.lon) for t in towns], CENTERS, service)
        for town, km in zip(towns, distances):
            ranked = rank_centers(CENTERS, town.lat, town.lon,
                                  [f"need_{service}"])
            if not ranked:
                assert math.isinf(km)
            else:
                assert abs(ranked[0].distance_km - km) < 0.06, (town.name_fr, service)


def test_urban_and_rural() -> None:
    assert [setting_of(k) for k in ("commune_urban", "arrondissement", "commune_rural",
                                    "locality")] == ["urban", "urban", "rural", "rural"]


async def test_communes_far_from_a_center_offering_the_service(
        engine: AsyncEngine, db: AsyncSession, geography: Geography) -> None:
    await add(engine,
              [case(TIZNIT, needs=("need_legal",)) for _ in range(8)],  # a center in town
              [case(TAFRAOUT, needs=("need_legal",)) for _ in range(6)],  # ~75 km from it
              [case(AIT_ISSAFEN, needs=("need_shelter",)) for _ in range(7)],  # ~95 km
              [case(AIT_ISSAFEN, needs=("need_legal",)) for _ in range(9)],  # ~42 km
              [case(TATA, needs=("need_legal",)) for _ in range(5)])  # another province
    report = await coverage_report(db, geography, PLACES, CENTERS, CaseFilter(), gap_km=50)
    # Tata's province is the smallest besides the empty ones: hidden with them, and Tata
    # with it (it is all of its province).
    assert [(g.city_id, g.need, g.requests.shown) for g in report.communes["urban"]] == [
        (TAFRAOUT, "need_legal", 5), (TATA, "need_legal", PROTECTED)]
    assert [(g.city_id, g.need, g.requests.shown) for g in report.communes["rural"]] == [
        (AIT_ISSAFEN, "need_shelter", 5)]
    rural = report.communes["rural"][0]
    assert rural.setting == "rural" and 80 < (rural.nearest_km or 0) < 110
    tiznit = next(p for p in report.provinces if p.province_id == "09.581")
    assert report.provinces[0] is tiznit  # ranked first: the most requests far away
    assert tiznit.far_requests.shown == 15 and tiznit.cases.shown == 30
    assert tiznit.cases_per_100k == round(30 * 100_000 / tiznit.population, 1)
    assert report.far_total.shown == 20
    assert report.far_by_setting["rural"].shown == 5
    assert report.far_by_setting["urban"].shown == 10

    # With a farther threshold Tafraout is no longer a gap; shelter alone leaves the rest.
    wide = await coverage_report(db, geography, PLACES, CENTERS, CaseFilter(), gap_km=80)
    assert [g.city_id for g in wide.communes["urban"]] == [TATA]
    shelter = await coverage_report(db, geography, PLACES, CENTERS,
                                    CaseFilter(need="need_shelter"), gap_km=50)
    assert [g.need for g in shelter.communes["rural"]] == ["need_shelter"]
    assert shelter.communes["urban"] == []


async def test_small_communes_are_counted_but_not_named(
        engine: AsyncEngine, db: AsyncSession, geography: Geography) -> None:
    await add(engine, [case(TAFRAOUT, needs=("need_legal",)) for _ in range(6)],
              [case(AIT_ISSAFEN, needs=("need_shelter",)) for _ in range(3)],
              [case(TATA, needs=("need_legal",)) for _ in range(5)])
    report = await coverage_report(db, geography, PLACES, CENTERS, CaseFilter(), gap_km=50)
    assert report.communes["rural"] == []
    # Province 9 minus Tafraout 6 would give the 3 unnamed away: Tafraout is hidden.
    assert {(g.city_id, g.requests.shown) for g in report.communes["urban"]} == {
        (TAFRAOUT, PROTECTED), (TATA, PROTECTED)}
    tiznit = next(p for p in report.provinces if p.province_id == "09.581")
    assert tiznit.far_requests.shown == 10
    others = [p for p in report.provinces if p.province_id not in ("09.581", "09.551")]
    assert all(p.far_requests.shown == SMALL and p.cases_per_100k is None for p in others)


async def test_no_center_offering_a_service_is_a_gap_everywhere(
        engine: AsyncEngine, db: AsyncSession, geography: Geography) -> None:
    await add(engine, [case(TIZNIT, needs=("need_medical",)) for _ in range(5)])
    report = await coverage_report(db, geography, PLACES, CENTERS, CaseFilter(), gap_km=50)
    (gap,) = report.communes["urban"]
    assert gap.need == "need_medical" and gap.nearest_km is None


def test_the_gap_is_a_setting() -> None:
    assert Settings.from_env(coverage_gap_km="35").coverage_gap_km == 35.0
    for bad in ("0", "-5", "far"):
        with pytest.raises(SettingsError, match="COVERAGE_GAP_KM"):
            Settings.from_env(coverage_gap_km=bad)

from __future__ import annotations

import pytest

from bot.handoff.routing import (
    CenterPoint,
    great_circle_km,
    rank_centers,
    route_to_nearest_center,
    services_for,
)

TIZNIT = (29.6974, -9.7316)
AGADIR = CenterPoint("agadir", 30.4202, -9.5982, frozenset({"listening", "legal", "shelter"}))
TIZNIT_C = CenterPoint("tiznit", 29.6974, -9.7316, frozenset({"listening", "legal"}))
GUELMIM = CenterPoint("guelmim", 28.987, -10.0574, frozenset({"listening", "legal", "shelter",
                                                               "medical"}))
CLOSED = CenterPoint("closed", 29.70, -9.73, frozenset({"listening", "legal", "shelter",
                                                        "medical"}), active=False)
CENTERS = [AGADIR, TIZNIT_C, GUELMIM, CLOSED]


def test_great_circle_distance() -> None:
    # Rabat -> Casablanca is about 87 km as the crow flies.
    assert great_circle_km(34.0209, -6.8416, 33.5731, -7.5898) == pytest.approx(87, abs=2)
    assert great_circle_km(*TIZNIT, *TIZNIT) == 0


def test_nearest_center_offering_every_need() -> None:
    routing = route_to_nearest_center(CENTERS, *TIZNIT, ["need_legal"])
    assert routing is not None and routing.center_id == "tiznit"
    assert routing.distance_km == 0
    routing = route_to_nearest_center(CENTERS, *TIZNIT, ["need_legal", "need_shelter"])
    assert routing is not None and routing.center_id == "agadir"
    assert routing.services_missing == frozenset()


def test_else_the_nearest_offering_the_most_needs() -> None:
    routing = route_to_nearest_center(CENTERS, *TIZNIT,
                                      ["need_shelter", "need_medical", "need_psychological"])
    assert routing is not None and routing.center_id == "guelmim"
    assert routing.services_missing == frozenset({"psychological"})


def test_no_need_named_means_listening() -> None:
    assert services_for([]) == frozenset({"listening"})
    routing = route_to_nearest_center(CENTERS, *TIZNIT, [])
    assert routing is not None and routing.center_id == "tiznit"


def test_unknown_town_or_no_center_goes_to_the_national_queue() -> None:
    assert route_to_nearest_center(CENTERS, None, None, ["need_legal"]) is None
    assert route_to_nearest_center([CLOSED], *TIZNIT, ["need_legal"]) is None
    assert route_to_nearest_center(CENTERS, *TIZNIT, ["need_accompaniment"]) is None


def test_inactive_and_excluded_centers_are_skipped() -> None:
    ranked = rank_centers(CENTERS, *TIZNIT, ["need_legal"], exclude={"tiznit"})
    assert [r.center_id for r in ranked] == ["agadir", "guelmim"]

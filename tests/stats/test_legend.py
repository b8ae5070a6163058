"""Map colours."""

from __future__ import annotations

from bot.stats.legend import (
    AREA_PALETTE,
    HIDDEN_FILL,
    area_classes,
    area_fill,
    center_category,
    center_colour,
)


def test_area_classes_from_published_rates() -> None:
    classes = area_classes([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0])
    assert len(classes) == 5
    assert [c.fill for c in classes] == list(AREA_PALETTE)
    assert area_fill(1.0, classes) == AREA_PALETTE[0]
    assert area_fill(10.0, classes) == AREA_PALETTE[-1]
    assert area_fill(None, classes) == HIDDEN_FILL
    two = area_classes([3.0, 3.0, 8.0])
    assert [c.fill for c in two] == [AREA_PALETTE[0], AREA_PALETTE[-1]]
    assert area_classes([]) == [] and area_fill(2.0, []) == HIDDEN_FILL


def test_center_colours_by_services() -> None:
    assert center_category({"listening", "legal", "shelter"}) == "shelter"
    assert center_category({"listening", "legal"}) == "legal"
    assert center_category({"psychological", "medical"}) == "psychological"
    assert center_category({"medical"}) == "listening"
    assert len({center_colour(c) for c in ("shelter", "legal", "psychological",
                                           "listening")}) == 4

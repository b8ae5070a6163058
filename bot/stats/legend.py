"""How the map colours things: areas by cases per 100,000 inhabitants (computed from
published, rounded counts only), centers by the services they offer."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Final

# ColorBrewer "Purples", 5 classes (colorbrewer2.org, Apache 2.0)
AREA_PALETTE: Final = ("#f2f0f7", "#cbc9e2", "#9e9ac8", "#756bb1", "#54278f")
HIDDEN_FILL: Final = "#d4d4d4"  # "<5" or not published: no colour from the data

# Center dots: the most demanding service a center offers decides its colour.
CENTER_CATEGORIES: Final[tuple[tuple[str, str], ...]] = (
    ("shelter", "#d7301f"),
    ("legal", "#0570b0"),
    ("psychological", "#238b45"),
    ("listening", "#525252"),
)


@dataclass(frozen=True, slots=True)
class AreaClass:
    low: float
    high: float
    fill: str


def area_classes(rates: Sequence[float], classes: int = len(AREA_PALETTE)) -> list[AreaClass]:
    """Quantile classes over the published rates (at most `classes`; fewer when few
    distinct values)."""
    values = sorted(set(round(r, 1) for r in rates))
    if not values:
        return []
    count = min(classes, len(values))
    bounds = [values[min(len(values) - 1, (i * len(values)) // count)] for i in range(count)]
    bounds = sorted(set(bounds))
    result = []
    for i, low in enumerate(bounds):
        high = bounds[i + 1] if i + 1 < len(bounds) else values[-1]
        palette_index = round(i * (len(AREA_PALETTE) - 1) / max(1, len(bounds) - 1))
        result.append(AreaClass(low, high, AREA_PALETTE[palette_index]))
    return result


def area_fill(rate: float | None, classes: Sequence[AreaClass]) -> str:
    if rate is None or not classes:
        return HIDDEN_FILL
    fill = classes[0].fill
    for area_class in classes:
        if round(rate, 1) >= area_class.low:
            fill = area_class.fill
    return fill


def center_category(services: Collection[str]) -> str:
    for category, _ in CENTER_CATEGORIES:
        if category in services:
            return category
    return "listening"


def center_colour(category: str) -> str:
    return dict(CENTER_CATEGORIES)[category]

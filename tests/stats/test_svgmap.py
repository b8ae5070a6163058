"""The base map: outlines projected once, north up, west left."""

from __future__ import annotations

import re

from bot.settings import PROJECT_ROOT
from bot.stats.svgmap import load_base_map

GEO = PROJECT_ROOT / "data" / "geo"
NUMBER = re.compile(r"-?\d+\.\d")


def test_regions_and_provinces_projected_inside_the_frame() -> None:
    base = load_base_map(GEO)
    assert len(base.regions) == 12 and len(base.provinces) == 75
    assert load_base_map(GEO) is base  # cached
    for shape in [*base.regions.values(), *base.provinces.values()]:
        assert shape.path.startswith("M") and shape.path.endswith("Z")
        values = [float(v) for v in NUMBER.findall(shape.path)]
        assert min(values) >= 0 and max(values) <= max(base.width, base.height)
    assert base.provinces["09.581"].region_id == "09"


def test_north_is_up_and_west_is_left() -> None:
    base = load_base_map(GEO)
    tanger_x, tanger_y = base.project(35.77, -5.80)
    dakhla_x, dakhla_y = base.project(23.70, -15.95)
    oujda_x, _ = base.project(34.68, -1.91)
    assert tanger_y < dakhla_y and dakhla_x < tanger_x < oujda_x
    # Cosine projection: a degree of longitude is shorter than a degree of latitude.
    x0, y0 = base.project(30, -8)
    x1, _ = base.project(30, -7)
    _, y1 = base.project(29, -8)
    assert 0.8 < (x1 - x0) / (y1 - y0) < 0.95


def test_a_region_view_frames_the_region() -> None:
    base = load_base_map(GEO)
    x, y, w, h = (float(v) for v in base.view_box("06").split())
    x0, y0, x1, y1 = base.regions["06"].bbox
    assert x < x0 and y < y0 and x + w > x1 and y + h > y1
    assert base.view_box() == f"0 0 {base.width:.0f} {base.height:.0f}"
    assert 0 < base.zoom("06") < 1 and base.zoom(None) == 1

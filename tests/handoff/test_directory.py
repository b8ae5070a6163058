from __future__ import annotations

import csv
from pathlib import Path

import pytest

from bot.handoff.directory import DirectoryError, parse_centers_csv
from bot.settings import PROJECT_ROOT

HEADER = "id,name,kind,city,province_id,region_id,lat,lon,services\n"


def provinces() -> dict[str, str]:
    with open(PROJECT_ROOT / "data" / "geo" / "provinces.csv", encoding="utf-8") as handle:
        return {row["id"]: row["region_id"] for row in csv.DictReader(handle)}


def test_the_sample_directory_covers_every_province_and_says_it_is_a_sample() -> None:
    text = (PROJECT_ROOT / "data" / "centers" / "sample_centers.csv").read_text(encoding="utf-8")
    rows = parse_centers_csv(text, known_provinces=provinces())
    assert {r.province_id for r in rows} == set(provinces())
    assert len(provinces()) == 75
    assert all(r.sample and r.name.startswith("Exemple") for r in rows)
    assert all(r.phone is None for r in rows)  # no invented phone numbers
    services = {s for r in rows for s in r.services}
    assert services == {"listening", "legal", "psychological", "shelter", "medical",
                        "accompaniment"}


def test_errors_name_line_and_column() -> None:
    text = HEADER + (
        "a,Centre A,emf,Tiznit,09.581,09,29.69,-9.73,listening|legal\n"
        "b,Centre B,emf,Tiznit,09.581,09,abc,-9.73,listening\n"
        "c,Centre C,emf,Tiznit,09.581,09,29.69,-9.73,food\n"
        "a,Centre D,emf,Tiznit,99.999,09,29.69,-9.73,listening\n"
        "e,Centre E,emf,Paris,09.581,09,48.85,2.35,listening\n"
    )
    with pytest.raises(DirectoryError) as info:
        parse_centers_csv(text, known_provinces=provinces())
    assert info.value.problems == [
        "line 3: lat/lon: not numbers",
        "line 4: services: unknown service 'food' (known: listening, legal, psychological, "
        "shelter, medical, accompaniment)",
        "line 5: id: 'a' appears twice",
        "line 5: province_id: unknown province '99.999'",
        "line 6: lat/lon: 48.85,2.35 is outside Morocco",
    ]


def test_missing_column() -> None:
    with pytest.raises(DirectoryError) as info:
        parse_centers_csv("id,name\nx,y\n")
    assert info.value.problems[0].startswith("header: missing column(s) kind, city")


def test_optional_columns_and_bom(tmp_path: Path) -> None:
    text = "\ufeff" + HEADER.strip() + ",phone,sample,active\n" + \
        "a,Centre A,ngo,Tiznit,09.581,09,29.69,-9.73,listening| legal ,0528000000,false,no\n"
    (row,) = parse_centers_csv(text, known_provinces=provinces())
    assert row.services == ("listening", "legal")
    assert row.phone == "0528000000" and not row.sample and not row.active


def test_region_must_match_province() -> None:
    text = HEADER + "a,Centre A,emf,Tiznit,09.581,01,29.69,-9.73,listening\n"
    with pytest.raises(DirectoryError) as info:
        parse_centers_csv(text, known_provinces=provinces())
    assert info.value.problems == [
        "line 2: region_id: province 09.581 is in region 09, not '01'"]


async def test_the_cached_directory_follows_changes_made_elsewhere(database_url: str) -> None:
    from bot.handoff.directory import CenterDirectory, import_centers
    from bot.storage.database import create_engine, create_sessionmaker

    engine = create_engine(database_url)
    maker = create_sessionmaker(engine)
    text = HEADER + "a,Centre A,emf,Tiznit,09.581,09,29.69,-9.73,listening\n"
    try:
        async with maker() as db:
            await import_centers(db, parse_centers_csv(text))
            await db.commit()
        clock = [0.0]
        directory = CenterDirectory(maker, max_age=30, clock=lambda: clock[0])
        assert [p.active for p in await directory.points()] == [True]
        # Another worker (or `run_bot.py centers import`) deactivates the center.
        async with maker() as db:
            await import_centers(db, parse_centers_csv(
                HEADER.strip() + ",active\na,Centre A,emf,Tiznit,09.581,09,29.69,-9.73,"
                "listening,false\n"))
            await db.commit()
        assert [p.active for p in await directory.points()] == [True]  # cached a while
        clock[0] += 31
        assert [p.active for p in await directory.points()] == [False]
    finally:
        await engine.dispose()

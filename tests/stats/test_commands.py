"""`run_bot.py stats export`, run as an analyst would."""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path

from bot.storage.database import create_engine
from tests.stats.cases import add, case
from tests.stats.conftest import CASABLANCA, RABAT, TIZNIT
from tests.test_cli import env, run  # noqa: F401  (the fixture)


def _seed(env: dict[str, str]) -> None:
    assert run(env, "db", "upgrade").returncode == 0

    async def insert() -> None:
        engine = create_engine(env["DATABASE_URL"])
        await add(engine, [case(CASABLANCA, needs=("need_legal", "need_shelter"))
                           for _ in range(23)],
                  [case(RABAT) for _ in range(9)], [case(TIZNIT, month="2026-04")
                                                    for _ in range(2)])
        await engine.dispose()

    asyncio.run(insert())


def test_export_a_table_and_the_coverage(env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    _seed(env)
    done = run(env, "stats", "export", "--by", "region")
    assert done.returncode == 0, done.stderr
    rows = {r[0]: r[2] for r in csv.reader(io.StringIO(done.stdout))}
    assert rows["06"] == "25" and rows["09"] == "<5" and rows["04"] == "x"
    assert rows["total"] == "35"

    out = tmp_path / "needs.csv"
    done = run(env, "stats", "export", "--by", "need", "--by", "month", "--from", "2026-03",
               "--to", "2026-04", "--lang", "ar", "-o", str(out))
    assert done.returncode == 0, done.stderr
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "need,الحاجة,2026-03,2026-04,total"
    assert "need_shelter,الإيواء,25,<5,x" in lines  # 23 in March, none in April

    assert run(env, "centers", "import", "data/centers/sample_centers.csv").returncode == 0
    done = run(env, "stats", "export", "--coverage", "--need", "need_shelter")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("section,province_id,province,region,population")
    assert "06.141,Casablanca" in done.stdout

    for bad, reason in ((["--by", "region", "--need", "money"], "need 'money'"),
                        (["--by", "region", "--from", "2026-13"], "month"),
                        ([], "--by DIMENSION")):
        done = run(env, "stats", "export", *bad)
        assert done.returncode == 2 and reason in done.stderr, done.stderr

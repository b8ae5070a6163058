"""Stats API v1: who may read it, what it answers, and that no answer gives a small
count away."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
from sqlalchemy import select

from bot.runtime import Runtime
from bot.stats.suppression import MIN_CELL, PROTECTED, SMALL
from bot.storage.models import AuditEvent
from tests.stats.cases import add, case
from tests.stats.conftest import CASABLANCA, RABAT, TIZNIT
from tests.support import add_account, console_login, login


async def analyst(client: httpx.AsyncClient, runtime: Runtime) -> dict[str, str]:
    await add_account(runtime, "stats", "analyst")
    return await login(client, "stats")


def counts_in(answer: Any) -> list[Any]:
    """Every count an answer shows, wherever it is."""
    found: list[Any] = []
    if isinstance(answer, dict):
        for key, value in answer.items():
            if key in ("count", "total", "cases", "far_requests", "requests",
                       "far_requests_rural", "far_requests_urban"):
                found.append(value)
            elif key in ("counts", "col_totals"):
                found.extend(value.values())
            else:
                found.extend(counts_in(value))
    elif isinstance(answer, list):
        for item in answer:
            found.extend(counts_in(item))
    return found


def assert_protected(answer: Any) -> None:
    for count in counts_in(answer):
        assert count in (SMALL, PROTECTED) or (isinstance(count, int) and count >= MIN_CELL
                                              and count % 5 == 0), count


async def test_only_analysts_and_admins(client: httpx.AsyncClient, runtime: Runtime) -> None:
    await add_account(runtime, "salma", "counselor", "sample-09581-emf")
    await add_account(runtime, "boss", "admin")
    counselor, admin = await login(client, "salma"), await login(client, "boss")
    stats = await analyst(client, runtime)
    for path in ("/api/v1/stats/by/region", "/api/v1/stats/table?rows=region&cols=need",
                 "/api/v1/stats/coverage"):
        assert (await client.get(path)).status_code == 401, path
        assert (await client.get(path, headers=counselor)).status_code == 403, path
        assert (await client.get(path, headers=admin)).status_code == 200, path
        assert (await client.get(path, headers=stats)).status_code == 200, path
    pages = ("/console/map", "/console/coverage", "/console/coverage.csv")
    for path in pages:  # not logged in: to the login page
        response = await client.get(path)
        assert response.status_code == 303 and "/console/login" in response.headers["location"]
    for username, expected in (("salma", 403), ("boss", 200), ("stats", 200)):
        await console_login(client, username)
        for path in pages:
            assert (await client.get(path)).status_code == expected, (username, path)


async def test_a_table_of_cases_by_region(client: httpx.AsyncClient, runtime: Runtime) -> None:
    await add(runtime.db_engine, [case(CASABLANCA) for _ in range(62)],
              [case(RABAT) for _ in range(21)], [case(TIZNIT) for _ in range(2)])
    headers = await analyst(client, runtime)
    response = await client.get("/api/v1/stats/by/region", headers=headers)
    assert response.status_code == 200
    body = response.json()
    rows = {r["key"]: r["count"] for r in body["rows"]}
    assert rows["06"] == 60 and rows["09"] == SMALL and rows["04"] == PROTECTED
    assert body["total"] == 85 and body["rounding"] == 5 and body["min_cell"] == 5
    assert {r["key"]: r["label"] for r in body["rows"]}["06"] == "Casablanca-Settat"
    arabic = (await client.get("/api/v1/stats/by/region?lang=ar", headers=headers)).json()
    assert {r["key"]: r["label"] for r in arabic["rows"]}["06"] == "الدار البيضاء-سطات"
    assert_protected(body)

    audit = (await _audit(runtime))[-1]
    assert audit.action == "stats.viewed" and audit.actor == "stats"
    assert audit.detail["table"] == "region"


async def _audit(runtime: Runtime) -> list[AuditEvent]:
    async with runtime.sessionmaker() as db:
        return list((await db.scalars(select(AuditEvent).order_by(AuditEvent.id))).all())


async def test_every_table_and_filter_is_protected(client: httpx.AsyncClient,
                                                   runtime: Runtime) -> None:
    await add(runtime.db_engine,
              [case(CASABLANCA, needs=("need_legal", "need_shelter"), violence=("physical",),
                    month="2026-01") for _ in range(30)],
              [case(RABAT, needs=("need_psychological",), urgent=True, channel="sms",
                    month="2026-02") for _ in range(9)],
              [case(TIZNIT, needs=(), language="fr", month="2026-02") for _ in range(3)],
              case(None, month="2026-03"))
    headers = await analyst(client, runtime)
    paths = [f"/api/v1/stats/by/{d}" for d in ("region", "province", "month", "need",
                                               "violence", "urgency", "channel", "language")]
    paths += ["/api/v1/stats/by/need?region=06", "/api/v1/stats/by/province?region=09",
              "/api/v1/stats/by/month?from=2026-01&to=2026-02&need=need_legal",
              "/api/v1/stats/table?rows=region&cols=need",
              "/api/v1/stats/table?rows=need&cols=violence",
              "/api/v1/stats/table?rows=month&cols=channel&urgency=urgent",
              "/api/v1/stats/coverage", "/api/v1/stats/coverage?need=need_shelter"]
    for path in paths:
        response = await client.get(path, headers=headers)
        assert response.status_code == 200, (path, response.text)
        assert_protected(response.json())
    need = (await client.get("/api/v1/stats/by/need", headers=headers)).json()
    rows = {r["key"]: r["count"] for r in need["rows"]}
    # A case counts in each of its needs: 30 legal and 30 shelter out of 43 cases.
    assert rows["need_legal"] == 30 and rows["need_shelter"] == 30 and need["total"] == 45


async def test_csv_export(client: httpx.AsyncClient, runtime: Runtime) -> None:
    await add(runtime.db_engine, [case(CASABLANCA) for _ in range(12)],
              [case(RABAT) for _ in range(7)], case(TIZNIT))
    headers = await analyst(client, runtime)
    response = await client.get("/api/v1/stats/by/region?format=csv", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["region", "Région", "cases"]
    by_key = {r[0]: r[2] for r in rows[1:]}
    assert by_key["06"] == "10" and by_key["09"] == SMALL and by_key["04"] == PROTECTED
    assert by_key["total"] == "20"
    two = await client.get("/api/v1/stats/table?rows=need&cols=urgency&format=csv",
                           headers=headers)
    assert two.status_code == 200 and two.text.splitlines()[0].endswith("Urgent,Non urgent,total")


async def test_bad_input_answers_400_with_the_reason(client: httpx.AsyncClient,
                                                     runtime: Runtime) -> None:
    headers = await analyst(client, runtime)
    for path, reason in (
        ("/api/v1/stats/by/colour", "dimension"),
        ("/api/v1/stats/by/region?need=money", "need 'money'"),
        ("/api/v1/stats/by/region?from=2026-13", "month '2026-13'"),
        ("/api/v1/stats/by/region?from=2026-05&to=2026-01", "period"),
        ("/api/v1/stats/by/region?from=2005-01", "at most 120 months"),
        ("/api/v1/stats/by/region?from=1990-01", "between 2000 and 2100"),
        ("/api/v1/stats/by/need?region=99", "region '99'"),
        ("/api/v1/stats/by/need?province=01.999", "province '01.999'"),
        ("/api/v1/stats/by/region?channel=fax", "channel 'fax'"),
        ("/api/v1/stats/table?rows=need&cols=need", "two different"),
        ("/api/v1/stats/table?rows=need", "cols"),
        ("/api/v1/stats/coverage?region=09", "whole country"),
        ("/api/v1/stats/by/region?lang=en", "lang"),
    ):
        response = await client.get(path, headers=headers)
        assert response.status_code in (400, 404), (path, response.status_code, response.text)
        assert reason in response.json()["error"], (path, response.text)
    await console_login(client, "stats")
    for path, reason in (("/console/map?region=1", "region"),
                         ("/console/map?need=x", "need 'x'")):
        response = await client.get(path)
        assert response.status_code in (400, 404), (path, response.status_code, response.text)
        assert reason in response.json()["error"], (path, response.text)


async def test_no_filter_value_makes_a_500(client: httpx.AsyncClient, runtime: Runtime) -> None:
    headers = await analyst(client, runtime)
    odd = ["", " ", "x" * 5000, "☃", "'; DROP TABLE cases; --", "%", "_", "0", "-1",
           "2026-00", "9999-12", "unknown", "null"]
    paths = ["/api/v1/stats/by/region", "/api/v1/stats/table?rows=month&cols=need",
             "/api/v1/stats/coverage", "/console/map", "/console/coverage.csv"]
    for path in paths:
        for name in ("need", "violence", "region", "province", "urgency", "channel",
                     "language", "from", "to", "lang", "format"):
            for value in odd:
                response = await client.get(path, params={name: value}, headers=headers)
                assert response.status_code < 500, (path, name, value, response.text)

"""The map in a real browser: headless Chromium (Debian's, /usr/bin/chromium) driven by
Playwright against a real uvicorn server on a loopback port. Skipped, saying why, when
Chromium or Playwright is missing. With MAP_SCREENSHOT_DIR set, the pages are saved as
PNG there: the README's docs/map.png comes from
`MAP_SCREENSHOT_DIR=docs .venv/bin/python -m pytest tests/web/test_map_browser.py`."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from bot.accounts import create_account, issue_token
from bot.handoff.directory import import_centers, parse_centers_csv
from bot.nlu.places import load_gazetteer
from bot.runtime import build_runtime
from bot.settings import Settings
from bot.stats.legend import AREA_PALETTE, HIDDEN_FILL
from bot.stats.synthetic import insert_cases, synthetic_cases
from bot.storage.database import create_engine, create_sessionmaker
from bot.web.app import create_app
from tests.conftest import SAMPLE_CENTERS

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]

playwright_api = pytest.importorskip("playwright.sync_api",
                                     reason="Playwright for Python is not installed")
pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists() and shutil.which("chromium") is None,
                       reason="Chromium is not installed (apt-get install -y chromium)"),
    pytest.mark.slow,
]


PASSWORD = "a long enough passphrase"


def _rgb(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


async def _prepare(url: str) -> str:
    """Sample centers, synthetic cases from a few regions only, an analyst's token."""
    engine = create_engine(url)
    try:
        async with create_sessionmaker(engine)() as db:
            await import_centers(db, parse_centers_csv(SAMPLE_CENTERS.read_text("utf-8")))
            await db.commit()
        towns = [p for p in load_gazetteer().places if p.region_id not in ("10", "11", "12")]
        await insert_cases(engine, synthetic_cases(4000, towns, seed=2))
        async with create_sessionmaker(engine)() as db:
            account = await create_account(db, username="analyst", role="analyst",
                                           password=PASSWORD)
            token = await issue_token(db, account, timedelta(hours=1))
            await db.commit()
        return token
    finally:
        await engine.dispose()


@pytest.fixture
def server(settings_factory: Any, tmp_path: Path) -> Iterator[tuple[str, str]]:
    from bot.storage.database import upgrade

    url = f"sqlite+aiosqlite:///{tmp_path / 'map.sqlite3'}"
    upgrade(url)
    token = asyncio.run(_prepare(url))
    settings: Settings = settings_factory(database_url=url, nlu_cache_dir=tmp_path / "nlu")
    app = create_app(build_runtime(settings), background=False)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                            lifespan="on")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uv.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", token
    uv.should_exit = True
    thread.join(timeout=10)


def test_the_map_draws_and_colours_the_twelve_regions(server: tuple[str, str]) -> None:
    base, token = server
    shots = os.environ.get("MAP_SCREENSHOT_DIR")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            requests: list[str] = []
            page.on("request", lambda request: requests.append(request.url))
            page.goto(f"{base}/console/login")
            page.fill("input[name=username]", "analyst")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(lambda url: "/console/login" not in url)  # logged in
            response = page.goto(f"{base}/console/map")
            assert response is not None and response.status == 200

            regions = page.locator("path.area.region")
            assert regions.count() == 12
            drawn = page.evaluate("""() => [...document.querySelectorAll('path.area.region')]
                .map(p => { const b = p.getBBox(); return {id: p.dataset.id,
                  count: p.dataset.count, w: b.width, h: b.height,
                  fill: getComputedStyle(p).fill}; })""")
            palette = {_rgb(c) for c in AREA_PALETTE}
            for region in drawn:
                assert region["w"] > 5 and region["h"] > 5, region
                if region["id"] in ("10", "11", "12"):  # no case there
                    assert region["count"] == "<5"
                if region["count"] in ("<5", "x"):  # not published: grey
                    assert region["fill"] == _rgb(HIDDEN_FILL), region
                else:
                    assert region["count"].isdigit(), region
                    assert region["fill"] in palette, region
            coloured = [r for r in drawn if r["fill"] in palette]
            assert len(coloured) >= 8 and len({r["fill"] for r in coloured}) >= 3
            assert page.locator("circle.center").count() == 93
            if shots:
                page.screenshot(path=str(Path(shots) / "map.png"))

            page.locator("#area-06").click()
            page.wait_for_url("**region=06**")
            assert page.locator("path.area.province").count() == 9
            page.goto(f"{base}/console/lang/ar?next=/console/map%3Fregion%3D06")
            assert page.locator("html").get_attribute("dir") == "rtl"
            if shots:
                page.screenshot(path=str(Path(shots) / "map-region-ar.png"))
            # Everything came from this server.
            assert requests and all(u.startswith(base) for u in requests), requests
        finally:
            browser.close()

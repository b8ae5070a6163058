"""The console in a real browser: headless Chromium (Debian's `chromium`) driven by
Playwright, against a real uvicorn server. A counselor logs in, sees a case arrive
without reloading, replies (her reply reaches the simulator outbox), closes it, sees a
second one arrive and transfers it; in Arabic on a laptop and in French on a phone.

Without Chromium or Playwright these tests are skipped, saying why.
"""

from __future__ import annotations

import re
import shutil
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from bot.runtime import Runtime, build_runtime
from bot.settings import Settings
from bot.web.app import create_app
from tests.support import PASSWORD, add_account

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
REFERENCE = re.compile(r"AM-[A-Z0-9]{6}")
TIMEOUT_MS = 15_000


def _browser_missing() -> str | None:
    if not CHROMIUM.exists() and shutil.which("chromium") is None:
        return ("no Chromium at /usr/bin/chromium: install Debian's package "
                "(apt-get install -y chromium; .ci/run does it) to run the browser tests")
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        return "the playwright package is missing: pip install -e '.[test]'"
    return None


@pytest.fixture
def live_server(runtime: Runtime, settings: Settings) -> Iterator[str]:
    """A real uvicorn server in a thread, over its own runtime on the test database."""
    server_runtime = build_runtime(settings)
    app = create_app(server_runtime)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", ws="none", http="h11",
                            lifespan="on", access_log=False, timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the console server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        sock.close()


@pytest.fixture
async def chromium() -> AsyncIterator[Any]:
    reason = _browser_missing()
    if reason is not None:
        pytest.skip(reason)
    from playwright.async_api import async_playwright

    executable = str(CHROMIUM) if CHROMIUM.exists() else shutil.which("chromium")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable,
                                                   args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


async def _new_case(http: httpx.AsyncClient, sender: str) -> str:
    texts = ["bonjour", "oui", "oui", "avocat", "Tiznit", "1", "le matin", "Passer"]
    reply: dict[str, Any] = {}
    for text in texts:
        response = await http.post("/webhooks/simulator", json={"sender": sender, "text": text})
        assert response.status_code == 200, response.text
        reply = response.json()
    match = REFERENCE.search(reply["replies"][-1]["text"])
    assert match, reply
    return match.group()


LABELS = {
    "ar": {"queue": "طابور الحالات", "safe": "التواصل الآمن معها", "closed": "مغلقة",
           "alerts_off": "التنبيهات متوقفة", "other": "Français"},
    "fr": {"queue": "File des demandes", "safe": "La contacter sans danger",
           "closed": "Clôturée", "alerts_off": "Alertes coupées", "other": "العربية"},
}
SCREENS = {"ar": {"width": 1280, "height": 800}, "fr": {"width": 390, "height": 844}}


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["ar", "fr"])
async def test_counselor_sees_a_case_arrive_replies_closes_and_transfers(
        lang: str, chromium: Any, runtime: Runtime, live_server: str) -> None:
    await add_account(runtime, "salma", "counselor", "sample-09581-emf")
    labels = LABELS[lang]
    context = await chromium.new_context(viewport=SCREENS[lang],
                                         is_mobile=lang == "fr", has_touch=lang == "fr")
    page = await context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    async with httpx.AsyncClient(base_url=live_server, timeout=30) as http:
        # Log in, in her language.
        await page.goto(f"{live_server}/console/lang/{lang}?next=/console/login")
        assert await page.get_attribute("html", "lang") == lang
        assert await page.get_attribute("html", "dir") == ("rtl" if lang == "ar" else "ltr")
        await page.fill("input[name=username]", "salma")
        await page.fill("input[name=password]", PASSWORD)
        await page.click("button[type=submit]")
        await page.wait_for_url("**/console/queue")
        assert labels["queue"] in await page.inner_text("h1")
        assert await page.locator(f"a:text-is('{labels['other']}')").count() == 1
        await page.wait_for_selector("#live", state="visible")  # the live stream is open

        # A case arrives while the page is open.
        reference = await _new_case(http, f"browser-{lang}-1")
        row = page.locator(f"tr[data-reference='{reference}']")
        await row.wait_for()
        assert "Tiznit" in await row.inner_text()

        # The alerts switch.
        await page.click("#alerts")
        assert await page.inner_text("#alerts") == labels["alerts_off"]
        await page.click("#alerts")

        # Her case: safe contact first; reply; the reply reaches her outbox.
        await page.click(f"a:text-is('{reference}')")
        await page.wait_for_url(f"**/console/cases/{reference}")
        assert labels["safe"] in await page.inner_text("#safe-contact")
        await page.fill("textarea[name=text]", "Bonjour, je suis Salma. Je peux vous aider.")
        await page.click("#reply button[type=submit]")
        await page.wait_for_url("**done=sent")
        outbox = (await http.get(f"/webhooks/simulator/browser-{lang}-1/outbox")).json()
        assert [m["text"] for m in outbox["messages"]][-1:] == [
            "Bonjour, je suis Salma. Je peux vous aider."]
        assert [m["from"] for m in outbox["messages"]] == ["bot", "counselor"]  # taken, then

        # Close it with an outcome.
        await page.select_option("select[name=outcome]", "service_given")
        await page.click("#close button[type=submit]")
        await page.wait_for_url("**done=closed")
        assert labels["closed"] in await page.inner_text(".case-head")

        # A second case arrives on the queue; she transfers it to another center.
        await page.goto(f"{live_server}/console/queue")
        await page.wait_for_selector("#live", state="visible")
        second = await _new_case(http, f"browser-{lang}-2")
        await page.locator(f"tr[data-reference='{second}']").wait_for()
        await page.click(f"a:text-is('{second}')")
        await page.select_option("select[name=service]", "shelter")
        await page.click("#transfer form.filters button")
        await page.wait_for_selector(".candidates input[type=radio]")
        await page.fill("input[name=reason]", "Elle a besoin d'un hébergement")
        await page.click("#transfer form[method=post] button[type=submit]")
        await page.wait_for_url("**/console/queue")
        assert await page.locator(f"tr[data-reference='{second}']").count() == 0
    await context.close()
    assert errors == []

"""Rendering console pages: the Jinja2 templates, the console language, the navigation.

Every page extends `base.html`, which declares `lang` and `dir`, links the other
language (`العربية` / `Français`), and shows the navigation for the account's role.
Other console routers add their own entry to `NAV` (the map adds "Carte").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from bot.web.console.translations import (
    DIRECTION,
    LANGUAGE_NAMES,
    LANGUAGES,
    ConsoleLanguage,
    translate,
)

WEB_DIR = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"
LANG_COOKIE = "amane_lang"


@dataclass(frozen=True, slots=True)
class NavItem:
    key: str  # translation key of the label
    href: str
    roles: tuple[str, ...]


NAV: list[NavItem] = [
    NavItem("nav_queue", "/console/queue", ("counselor", "admin")),
    NavItem("nav_centers", "/console/admin/centers", ("admin",)),
    NavItem("nav_accounts", "/console/admin/accounts", ("admin",)),
    NavItem("nav_flows", "/console/admin/flows", ("admin",)),
    NavItem("nav_canned", "/console/admin/canned", ("admin",)),
    NavItem("nav_intents", "/console/admin/intents", ("admin",)),
    NavItem("nav_audit", "/console/admin/audit", ("admin",)),
]


def add_nav_item(item: NavItem) -> None:
    """For routers mounted under /console by other modules (e.g. the map)."""
    if all(existing.href != item.href for existing in NAV):
        NAV.append(item)


def console_language(request: Request) -> ConsoleLanguage:
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in LANGUAGES:
        return chosen  # type: ignore[return-value]
    accept = request.headers.get("accept-language", "").lower()
    return "fr" if accept.startswith("fr") else "ar"


def minutes_label(language: ConsoleLanguage, minutes: int) -> str:
    sign = "-" if minutes < 0 else ""
    minutes = abs(minutes)
    if minutes < 60:
        return f"{sign}{minutes} {translate(language, 'minutes_short')}"
    return (f"{sign}{minutes // 60} {translate(language, 'hours_short')} "
            f"{minutes % 60:02d} {translate(language, 'minutes_short')}")


def aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
                             autoescape=jinja2.select_autoescape(("html",)),
                             undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True)

    def when(value: datetime | None) -> str:
        value = aware(value)
        return "" if value is None else value.strftime("%Y-%m-%d %H:%M UTC")

    env.filters["when"] = when
    env.filters["urlquote"] = lambda value: quote(str(value), safe="")
    return env


templates = Jinja2Templates(env=_environment())


def render(request: Request, name: str, context: dict[str, Any] | None = None, *,
           status_code: int = 200, user: Any = None) -> HTMLResponse:
    """A console page in the request's language. `user` is the `ConsoleUser` (None on
    the login page)."""
    language = console_language(request)
    role = user.account.role if user is not None else None
    values: dict[str, Any] = {
        "lang": language,
        "dir": DIRECTION[language],
        "language_names": LANGUAGE_NAMES,
        "languages": LANGUAGES,
        "t": lambda key: translate(language, key),
        "minutes": lambda value: minutes_label(language, value),
        "user": user,
        "csrf_token": user.csrf_token if user is not None else "",
        "nav": [item for item in NAV if role in item.roles],
        "path": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        "current": request.url.path,
    }
    values.update(context or {})
    return templates.TemplateResponse(request, name, values, status_code=status_code)


def see_other(location: str) -> RedirectResponse:
    return RedirectResponse(location, status_code=303)


def safe_next(value: str | None, default: str = "/console/") -> str:
    """Only redirect within the console (no open redirect)."""
    if value and value.startswith("/console") and not value.startswith("//") \
            and "\\" not in value and "\n" not in value and "\r" not in value:
        return value
    return default

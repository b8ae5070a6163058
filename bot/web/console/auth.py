"""Console login: argon2 passwords (with the accounts' lockout), server-side sessions,
CSRF tokens, logout.

The session cookie holds a random token; the database keeps only its SHA-256, with the
account, an expiry and the session's CSRF token, so logging out (or an admin
deactivating the account) ends the session for good. The cookie is HttpOnly,
SameSite=Strict, and Secure under https. Every POST carries the session's CSRF token
in a `csrf_token` field; the login form, before any session, uses a double-submit
cookie.

Other console routers protect their pages with `require_console_account(*roles)`.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot import audit
from bot.accounts import authenticate
from bot.storage.models import Account, ApiToken, ConsoleSession
from bot.web.console.pages import LANG_COOKIE, render, safe_next, see_other
from bot.web.console.translations import LANGUAGES
from bot.web.deps import DbDep, RuntimeDep

logger = logging.getLogger(__name__)

SESSION_COOKIE = "amane_console"
LOGIN_CSRF_COOKIE = "amane_login_csrf"
CSRF_FIELD = "csrf_token"

router = APIRouter(prefix="/console", include_in_schema=False)


@dataclass(frozen=True, slots=True)
class ConsoleUser:
    account: Account
    session_id: int
    csrf_token: str


class ConsoleRedirect(Exception):
    """Not logged in (or no longer): go to the login page."""

    def __init__(self, location: str) -> None:
        self.location = location


class ConsoleDenied(Exception):
    """A 4xx shown as a console page; `reason` is a translation key or a message."""

    def __init__(self, status_code: int, reason: str) -> None:
        self.status_code = status_code
        self.reason = reason


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _secure(request: Request) -> bool:
    runtime = request.app.state.runtime
    return request.url.scheme == "https" or runtime.settings.public_base_url.startswith(
        "https://")


async def open_session(db: AsyncSession, account: Account, ttl: timedelta) -> tuple[str, str]:
    """A new session for `account`: returns (cookie token, CSRF token)."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    db.add(ConsoleSession(token_hash=_hash(token), account_id=account.id, csrf_token=csrf,
                          expires_at=datetime.now(timezone.utc) + ttl))
    return token, csrf


async def revoke_account_sessions(db: AsyncSession, account_id: int) -> None:
    """End every console session and API token of an account (deactivated, new password)."""
    await db.execute(update(ConsoleSession).where(ConsoleSession.account_id == account_id)
                     .values(revoked=True))
    await db.execute(update(ApiToken).where(ApiToken.account_id == account_id)
                     .values(revoked=True))


async def console_user(request: Request, db: AsyncSession,
                       roles: tuple[str, ...] = ()) -> ConsoleUser:
    """The logged-in account of this request; raises `ConsoleRedirect` (no valid session)
    or `ConsoleDenied` (wrong role, or a POST without the right CSRF token)."""
    token = request.cookies.get(SESSION_COOKIE, "")
    row = None
    if token and len(token) <= 200:
        row = await db.scalar(select(ConsoleSession).where(
            ConsoleSession.token_hash == _hash(token)))
    account = await db.get(Account, row.account_id) if row is not None else None
    expires = row.expires_at if row is not None else None
    if expires is not None and expires.tzinfo is None:
        expires = expires.replace(tzinfo=timezone.utc)
    if row is None or row.revoked or account is None or not account.active \
            or expires is None or expires <= datetime.now(timezone.utc):
        back = request.url.path if request.method == "GET" else "/console/"
        raise ConsoleRedirect(f"/console/login?next={quote(back, safe='/')}")
    if roles and account.role not in roles:
        raise ConsoleDenied(403, "forbidden")
    if request.method == "POST":
        form = await request.form()
        sent = form.get(CSRF_FIELD)
        if not isinstance(sent, str) or not hmac.compare_digest(sent, row.csrf_token):
            raise ConsoleDenied(403, "csrf_failed")
    user = ConsoleUser(account=account, session_id=row.id, csrf_token=row.csrf_token)
    request.state.console_user = user
    return user


def require_console_account(*roles: str) -> Callable[..., Awaitable[ConsoleUser]]:
    """A dependency: the logged-in console account, with one of `roles` (any role when
    none is given). Not logged in: redirect to the login page; wrong role: 403; POST
    without the session's CSRF token: 403."""

    async def dependency(request: Request, db: DbDep) -> ConsoleUser:
        return await console_user(request, db, roles)

    return dependency


async def undo(db: AsyncSession, user: ConsoleUser) -> None:
    """Roll back a failed action and reload the account (rolling back expires every
    loaded object; the page about to explain the failure still shows who is logged in)."""
    await db.rollback()
    await db.refresh(user.account)


CounselorDep = Annotated[ConsoleUser, Depends(require_console_account("counselor", "admin"))]
AdminDep = Annotated[ConsoleUser, Depends(require_console_account("admin"))]
AnyRoleDep = Annotated[ConsoleUser, Depends(require_console_account())]


# --- routes ------------------------------------------------------------------------------


def _login_page(request: Request, csrf: str, *, error: str | None = None,
                status_code: int = 200, next_url: str = "/console/") -> HTMLResponse:
    response = render(request, "login.html", {"login_csrf": csrf, "error": error,
                                              "next_url": next_url}, status_code=status_code)
    response.set_cookie(LOGIN_CSRF_COOKIE, csrf, httponly=True, samesite="strict",
                        secure=_secure(request), path="/console")
    return response


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, next: str = "/console/") -> HTMLResponse:
    csrf = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
    return _login_page(request, csrf, next_url=safe_next(next))


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request, runtime: RuntimeDep, db: DbDep,
                username: Annotated[str, Form(max_length=64)],
                password: Annotated[str, Form(max_length=256)],
                csrf_token: Annotated[str, Form(max_length=200)] = "",
                next: Annotated[str, Form(max_length=500)] = "/console/") -> Response:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    fresh = secrets.token_urlsafe(32)
    if not expected or not hmac.compare_digest(csrf_token, expected):
        return _login_page(request, fresh, error="csrf_failed", status_code=403,
                           next_url=safe_next(next))
    result = await authenticate(db, username.strip(), password)
    if result.account is None:
        await db.commit()  # keep the failed-login count (lockout)
        logger.info("console login refused (%s)", result.reason)
        return _login_page(request, fresh, error="login_failed", status_code=401,
                           next_url=safe_next(next))
    ttl = timedelta(seconds=runtime.settings.console_session_ttl_seconds)
    token, _ = await open_session(db, result.account, ttl)
    audit.record(db, "console.login", account=result.account)
    await db.commit()
    response = see_other(safe_next(next))
    response.set_cookie(SESSION_COOKIE, token, max_age=int(ttl.total_seconds()),
                        httponly=True, samesite="strict", secure=_secure(request),
                        path="/")
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/console")
    return response


@router.post("/logout")
async def logout(db: DbDep, user: AnyRoleDep) -> RedirectResponse:
    await db.execute(update(ConsoleSession).where(ConsoleSession.id == user.session_id)
                     .values(revoked=True))
    audit.record(db, "console.logout", account=user.account)
    await db.commit()
    response = see_other("/console/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/lang/{language}")
async def choose_language(request: Request, language: str,
                          next: str = "/console/") -> RedirectResponse:
    if language not in LANGUAGES:
        raise ConsoleDenied(404, "not_found")
    response = see_other(safe_next(next))
    response.set_cookie(LANG_COOKIE, language, max_age=365 * 24 * 3600, samesite="lax",
                        secure=_secure(request), path="/")
    return response


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, user: AnyRoleDep) -> Response:
    if user.account.role in ("counselor", "admin"):
        return see_other("/console/queue")
    return render(request, "home.html", user=user)

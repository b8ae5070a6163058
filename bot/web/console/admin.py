"""Admin pages: centers (edit, deactivate, CSV import and export), accounts (create,
new password, deactivate, center), canned replies, intent examples, and the audit log.
Every change is audited; the audit holds ids and codes, never free text."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from bot import audit
from bot.accounts import AccountError, check_password_policy, create_account, hash_password
from bot.handoff.directory import (
    DirectoryError,
    centers_to_csv,
    import_centers,
    known_provinces,
    parse_centers_csv,
)
from bot.intent_examples import ExampleError, add_example, read_examples
from bot.nlu.variety import choose_reply_variety
from bot.runtime import Runtime
from bot.storage.models import Account, AuditEvent, CannedReply, Center
from bot.types import INTENTS, ROLES, SERVICES, VARIETIES
from bot.web.console.auth import AdminDep, ConsoleDenied, ConsoleUser, revoke_account_sessions, undo
from bot.web.console.pages import render, see_other
from bot.web.deps import DbDep, RuntimeDep

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/console/admin", include_in_schema=False)

MAX_CSV_BYTES = 5 * 1024 * 1024
AUDIT_PAGE = 100


# --- centers -------------------------------------------------------------------------------


async def _centers_page(request: Request, db: DbDep, user: ConsoleUser, *,
                        problems: list[str] | None = None, imported: str | None = None,
                        status_code: int = 200) -> HTMLResponse:
    centers = (await db.scalars(select(Center).order_by(Center.region_id, Center.city,
                                                        Center.name))).all()
    return render(request, "admin/centers.html", {
        "centers": centers, "problems": problems or [], "imported": imported},
        status_code=status_code, user=user)


@router.get("/centers", response_class=HTMLResponse)
async def centers(request: Request, db: DbDep, user: AdminDep) -> HTMLResponse:
    return await _centers_page(request, db, user)


@router.get("/centers/export.csv")
async def export_centers(db: DbDep, user: AdminDep) -> Response:
    rows = (await db.scalars(select(Center).order_by(Center.id))).all()
    audit.record(db, "centers.exported", account=user.account, count=len(rows))
    await db.commit()
    return Response(centers_to_csv(rows), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="centers.csv"'})


@router.post("/centers/import", response_class=HTMLResponse)
async def import_centers_csv(request: Request, runtime: RuntimeDep, db: DbDep,
                             user: AdminDep, file: UploadFile) -> HTMLResponse:
    raw = await file.read(MAX_CSV_BYTES + 1)
    if len(raw) > MAX_CSV_BYTES:
        return await _centers_page(request, db, user, status_code=400, problems=[
            f"file: larger than {MAX_CSV_BYTES // (1024 * 1024)} MiB"])
    try:
        provinces = known_provinces(runtime.settings.data_dir / "geo")
        rows = parse_centers_csv(raw.decode("utf-8"), known_provinces=provinces)
    except UnicodeDecodeError:
        return await _centers_page(request, db, user, status_code=400,
                                   problems=["file: not UTF-8 text"])
    except DirectoryError as exc:
        return await _centers_page(request, db, user, status_code=400, problems=exc.problems)
    created, updated = await import_centers(db, rows)
    audit.record(db, "centers.imported", account=user.account, created=created,
                 updated=updated)
    await db.commit()
    runtime.directory.invalidate()
    return await _centers_page(request, db, user, imported=f"{created} + {updated}")


async def _center(db: DbDep, center_id: str) -> Center:
    center = await db.get(Center, center_id)
    if center is None:
        raise ConsoleDenied(404, "not_found")
    return center


CenterId = Annotated[str, Path(max_length=64)]


@router.get("/centers/{center_id}", response_class=HTMLResponse)
async def edit_center_form(request: Request, center_id: CenterId, db: DbDep,
                           user: AdminDep) -> HTMLResponse:
    center = await _center(db, center_id)
    return render(request, "admin/center_edit.html", {"center": center, "services": SERVICES,
                                                      "problems": []}, user=user)


@router.post("/centers/{center_id}", response_class=HTMLResponse)
async def edit_center(request: Request, center_id: CenterId, runtime: RuntimeDep, db: DbDep,
                      user: AdminDep) -> Response:
    center = await _center(db, center_id)
    form = await request.form()
    values = {k: str(form.get(k) or "").strip() for k in ("name", "kind", "city", "phone",
                                                          "lat", "lon")}
    services = [str(s) for s in form.getlist("services")]
    problems = []
    for key in ("name", "kind", "city"):
        if not values[key] or len(values[key]) > 200:
            problems.append(f"{key}: 1 to 200 characters")
    try:
        lat, lon = float(values["lat"]), float(values["lon"])
        if not (20.0 <= lat <= 36.5 and -17.5 <= lon <= -0.9):
            problems.append(f"lat/lon: {lat},{lon} is outside Morocco")
    except ValueError:
        problems.append("lat/lon: not numbers")
        lat, lon = center.lat, center.lon
    if not services or any(s not in SERVICES for s in services):
        problems.append(f"services: choose among {', '.join(SERVICES)}")
    if len(values["phone"]) > 40:
        problems.append("phone: at most 40 characters")
    if problems:
        return render(request, "admin/center_edit.html", {
            "center": center, "services": SERVICES, "problems": problems},
            status_code=400, user=user)
    center.name, center.kind, center.city = values["name"], values["kind"], values["city"]
    center.phone = values["phone"] or None
    center.lat, center.lon = lat, lon
    center.services = list(dict.fromkeys(services))
    center.active = form.get("active") == "on"
    audit.record(db, "center.updated", account=user.account, center_id=center.id,
                 active=center.active, services=center.services)
    await db.commit()
    runtime.directory.invalidate()
    return see_other("/console/admin/centers")


@router.post("/centers/{center_id}/active")
async def set_center_active(center_id: CenterId, runtime: RuntimeDep, db: DbDep,
                            user: AdminDep,
                            active: Annotated[str, Form(pattern="^(on|off)$")]) -> Response:
    center = await _center(db, center_id)
    center.active = active == "on"
    audit.record(db, "center.activated" if center.active else "center.deactivated",
                 account=user.account, center_id=center.id)
    await db.commit()
    runtime.directory.invalidate()
    return see_other("/console/admin/centers")


# --- accounts ------------------------------------------------------------------------------


async def _accounts_page(request: Request, db: DbDep, user: ConsoleUser, *,
                         error: str | None = None, done: bool = False,
                         status_code: int = 200) -> HTMLResponse:
    accounts = (await db.scalars(select(Account).order_by(Account.username))).all()
    centers = (await db.scalars(select(Center).where(Center.active.is_(True))
                                .order_by(Center.name))).all()
    return render(request, "admin/accounts.html", {
        "accounts": accounts, "centers": centers, "roles": ROLES, "error": error,
        "done": done}, status_code=status_code, user=user)


@router.get("/accounts", response_class=HTMLResponse)
async def accounts(request: Request, db: DbDep, user: AdminDep) -> HTMLResponse:
    return await _accounts_page(request, db, user)


@router.post("/accounts", response_class=HTMLResponse)
async def add_account(request: Request, db: DbDep, user: AdminDep,
                      username: Annotated[str, Form(max_length=64)] = "",
                      password: Annotated[str, Form(max_length=256)] = "",
                      role: Annotated[str, Form(max_length=16)] = "",
                      center_id: Annotated[str, Form(max_length=64)] = "") -> Response:
    try:
        account = await create_account(db, username=username, password=password, role=role,
                                       center_id=center_id or None)
    except AccountError as exc:
        await undo(db, user)
        return await _accounts_page(request, db, user, error=str(exc), status_code=400)
    audit.record(db, "account.created", account=user.account, account_id=account.id,
                 role=account.role, center_id=account.center_id)
    await db.commit()
    return see_other("/console/admin/accounts")


async def _account(db: DbDep, account_id: int) -> Account:
    account = await db.get(Account, account_id)
    if account is None:
        raise ConsoleDenied(404, "not_found")
    return account


@router.post("/accounts/{account_id}/password", response_class=HTMLResponse)
async def reset_password(request: Request, account_id: int, db: DbDep, user: AdminDep,
                         password: Annotated[str, Form(max_length=256)] = "") -> Response:
    account = await _account(db, account_id)
    try:
        check_password_policy(password)
    except AccountError as exc:
        return await _accounts_page(request, db, user, error=str(exc), status_code=400)
    account.password_hash = hash_password(password)
    account.failed_logins, account.locked_until = 0, None
    await revoke_account_sessions(db, account.id)
    audit.record(db, "account.password_reset", account=user.account, account_id=account.id)
    await db.commit()
    return see_other("/console/admin/accounts")


@router.post("/accounts/{account_id}/active", response_class=HTMLResponse)
async def set_account_active(request: Request, account_id: int, db: DbDep, user: AdminDep,
                             active: Annotated[str, Form(pattern="^(on|off)$")]) -> Response:
    account = await _account(db, account_id)
    if account.id == user.account.id and active == "off":
        return await _accounts_page(request, db, user, status_code=400,
                                    error="active: you cannot deactivate your own account")
    account.active = active == "on"
    if not account.active:
        await revoke_account_sessions(db, account.id)
    audit.record(db, "account.activated" if account.active else "account.deactivated",
                 account=user.account, account_id=account.id)
    await db.commit()
    return see_other("/console/admin/accounts")


@router.post("/accounts/{account_id}/center", response_class=HTMLResponse)
async def assign_center(request: Request, account_id: int, db: DbDep, user: AdminDep,
                        center_id: Annotated[str, Form(max_length=64)] = "") -> Response:
    account = await _account(db, account_id)
    if center_id and await db.get(Center, center_id) is None:
        return await _accounts_page(request, db, user, status_code=400,
                                    error=f"center: unknown center '{center_id}'")
    if account.role == "counselor" and not center_id:
        return await _accounts_page(request, db, user, status_code=400,
                                    error="center: a counselor belongs to a center")
    account.center_id = center_id or None
    audit.record(db, "account.center_assigned", account=user.account, account_id=account.id,
                 center_id=account.center_id)
    await db.commit()
    return see_other("/console/admin/accounts")


# --- canned replies ------------------------------------------------------------------------


def _canned_values(form: Any) -> tuple[str, dict[str, str], list[str]]:
    title = str(form.get("title") or "").strip()
    texts: dict[str, str] = {v: str(form.get(f"text_{v}") or "").strip() for v in VARIETIES}
    problems = []
    if not title or len(title) > 120:
        problems.append("title: 1 to 120 characters")
    for variety, text in texts.items():
        if not text or len(text) > 4096:
            problems.append(f"text_{variety}: 1 to 4096 characters (every reply exists in "
                            "the four varieties)")
    return title, texts, problems


async def _canned_page(request: Request, db: DbDep, user: ConsoleUser, *,
                       problems: list[str] | None = None, status_code: int = 200
                       ) -> HTMLResponse:
    replies = (await db.scalars(select(CannedReply).order_by(CannedReply.title))).all()
    return render(request, "admin/canned.html", {"replies": replies, "varieties": VARIETIES,
                                                 "problems": problems or []},
                  status_code=status_code, user=user)


@router.get("/canned", response_class=HTMLResponse)
async def canned(request: Request, db: DbDep, user: AdminDep) -> HTMLResponse:
    return await _canned_page(request, db, user)


@router.post("/canned", response_class=HTMLResponse)
async def add_canned(request: Request, db: DbDep, user: AdminDep) -> Response:
    title, texts, problems = _canned_values(await request.form())
    if problems:
        return await _canned_page(request, db, user, problems=problems, status_code=400)
    reply = CannedReply(title=title, texts=texts)
    db.add(reply)
    await db.flush()
    audit.record(db, "canned.created", account=user.account, canned_id=reply.id)
    await db.commit()
    return see_other("/console/admin/canned")


@router.post("/canned/{reply_id}", response_class=HTMLResponse)
async def edit_canned(request: Request, reply_id: int, db: DbDep, user: AdminDep) -> Response:
    reply = await db.get(CannedReply, reply_id)
    if reply is None:
        raise ConsoleDenied(404, "not_found")
    form = await request.form()
    title, texts, problems = _canned_values(form)
    if problems:
        return await _canned_page(request, db, user, problems=problems, status_code=400)
    reply.title, reply.texts, reply.active = title, texts, form.get("active") == "on"
    audit.record(db, "canned.updated", account=user.account, canned_id=reply.id,
                 active=reply.active)
    await db.commit()
    return see_other("/console/admin/canned")


# --- intent examples ---------------------------------------------------------------------


async def _intents_page(request: Request, runtime: Runtime, user: ConsoleUser, *,
                        error: str | None = None, retrained: str | None = None,
                        status_code: int = 200) -> HTMLResponse:
    examples = read_examples(runtime.settings.effective_intents_dir)
    return render(request, "admin/intents.html", {
        "examples": examples, "intents": INTENTS, "error": error, "retrained": retrained},
        status_code=status_code, user=user)


@router.get("/intents", response_class=HTMLResponse)
async def intents(request: Request, runtime: RuntimeDep, user: AdminDep) -> HTMLResponse:
    return await _intents_page(request, runtime, user)


@router.post("/intents", response_class=HTMLResponse)
async def add_intent_example(request: Request, runtime: RuntimeDep, db: DbDep,
                             user: AdminDep,
                             intent: Annotated[str, Form(max_length=32)] = "",
                             text: Annotated[str, Form(max_length=2000)] = "") -> Response:
    # The variety the example is written in, as the NLU reads it (a label the model
    # trains on); a message too short to tell is taken as Darija.
    variety = choose_reply_variety(None, await runtime.nlu.parse(text), text) if text.strip() \
        else "ary"
    try:
        add_example(runtime.settings.effective_intents_dir, intent, text, variety)
    except ExampleError as exc:
        return await _intents_page(request, runtime, user, error=str(exc), status_code=400)
    audit.record(db, "intent.example_added", account=user.account, intent=intent)
    await db.commit()
    return see_other("/console/admin/intents")


@router.post("/intents/retrain", response_class=HTMLResponse)
async def retrain(request: Request, runtime: RuntimeDep, db: DbDep,
                  user: AdminDep) -> HTMLResponse:
    status = await runtime.nlu_trainer.retrain()
    audit.record(db, "nlu.retrained", account=user.account, status=status[:100])
    await db.commit()
    return await _intents_page(request, runtime, user, retrained=status)


# --- audit -----------------------------------------------------------------------------------


@router.get("/audit", response_class=HTMLResponse)
async def audit_log(request: Request, db: DbDep, user: AdminDep,
                    action: str | None = Query(None, max_length=64),
                    case: str | None = Query(None, max_length=16),
                    before: int | None = Query(None, ge=1)) -> HTMLResponse:
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(AUDIT_PAGE)
    if action:
        query = query.where(AuditEvent.action == action)
    if case:
        query = query.where(AuditEvent.case_reference == case.strip().upper())
    if before:
        query = query.where(AuditEvent.id < before)
    events = (await db.scalars(query)).all()
    return render(request, "admin/audit.html", {
        "events": events, "action": action or "", "case_filter": case or "",
        "older": events[-1].id if len(events) == AUDIT_PAGE else None}, user=user)

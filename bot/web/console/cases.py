"""The case page: how she may be contacted safely first, then what she needs, where,
how urgent, the violence she named, the conversation; reply (through the outbox, on
her channel), canned replies, internal notes, transfer, close. Her address is masked;
showing it in full is a separate POST, audited."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import audit
from bot.channels.base import MediaUnavailable
from bot.crypto import DecryptionError
from bot.handoff.cases import MAX_COUNSELOR_TEXT, OUTCOMES, CaseConflict, CaseNotFound
from bot.handoff.history import moves_of
from bot.runtime import Runtime
from bot.storage.models import Account, CannedReply, Case, CaseNote, Center, Contact, Message
from bot.types import SERVICES, VARIETIES
from bot.web.console.auth import ConsoleDenied, ConsoleUser, CounselorDep, undo
from bot.web.console.pages import aware, render, see_other
from bot.web.deps import DbDep, RuntimeDep

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/console/cases", include_in_schema=False)

Reference = Annotated[str, Path(min_length=3, max_length=16, pattern=r"^[A-Za-z0-9-]+$")]
MAX_NOTE = 4000
DONE_KEYS = ("sent", "claimed", "noted", "transferred", "closed")


async def _case(runtime: Runtime, db: AsyncSession, user: ConsoleUser, reference: str) -> Case:
    try:
        return await runtime.cases.get_visible(db, user.account, reference)
    except CaseNotFound:
        raise ConsoleDenied(404, "not_found") from None


async def _names(db: AsyncSession, ids: set[int | None]) -> dict[int, str]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    return {a.id: a.username for a in (await db.scalars(
        select(Account).where(Account.id.in_(wanted)))).all()}


async def case_page(request: Request, runtime: Runtime, db: AsyncSession, user: ConsoleUser,
                    case: Case, *, service: str | None = None, revealed: str | None = None,
                    error: str | None = None, done: str | None = None, draft: str = "",
                    status_code: int = 200) -> HTMLResponse:
    view = await runtime.cases.view(db, user.account, case)
    notes = (await db.scalars(select(CaseNote).where(CaseNote.case_id == case.id)
                              .order_by(CaseNote.id))).all()
    moves = (await moves_of(db, [case.id]))[case.id]
    names = await _names(db, {n.author_id for n in notes} | {case.claimed_by_id})
    center_names = {c.id: c.name for c in (await db.scalars(select(Center).where(Center.id.in_(
        {m.from_center_id for m in moves} | {m.to_center_id for m in moves}
        | {case.center_id})))).all()}

    def readable(token: bytes | None) -> str | None:
        try:
            return runtime.cipher.decrypt_optional(token)
        except DecryptionError:
            return "…"

    candidates = None
    if service is not None and case.status != "closed" and case.consent:
        try:
            candidates = await runtime.transfers.candidates(db, case, service or None)
        except ValueError as exc:
            error = str(exc)
    canned = (await db.scalars(select(CannedReply).where(CannedReply.active.is_(True))
                               .order_by(CannedReply.title))).all()
    varieties = [case.language] + [v for v in VARIETIES if v != case.language] \
        if case.language in VARIETIES else list(VARIETIES)
    deadline = (await runtime.sla.deadlines(db, [case])).get(case.reference)
    context: dict[str, Any] = {
        "case": view, "case_row": case, "revealed": revealed, "error": error,
        "done": done if done in DONE_KEYS else None, "draft": draft,
        "notes": [{"text": readable(n.body_enc), "by": names.get(n.author_id or 0, "?"),
                   "at": n.created_at} for n in notes],
        "history": [{"kind": m.kind, "at": m.at, "actor": m.actor,
                     "from": center_names.get(m.from_center_id or "", m.from_center_id),
                     "to": center_names.get(m.to_center_id or "", m.to_center_id),
                     "reason": readable(m.reason_enc)} for m in moves],
        "claimed_by": names.get(case.claimed_by_id or 0),
        "candidates": candidates, "service": service, "services": SERVICES,
        "canned": canned, "varieties": varieties, "outcomes": OUTCOMES,
        "deadline": deadline, "max_text": MAX_COUNSELOR_TEXT, "max_note": MAX_NOTE,
        "created_at": aware(case.created_at),
    }
    context["time_left"] = None if deadline is None else int(
        (deadline - datetime.now(timezone.utc)).total_seconds() // 60)
    return render(request, "case.html", context, status_code=status_code, user=user)


@router.get("/{reference}", response_class=HTMLResponse)
async def show(request: Request, reference: Reference, runtime: RuntimeDep, db: DbDep,
               user: CounselorDep, service: str | None = Query(None, max_length=32),
               done: str | None = Query(None, max_length=16)) -> HTMLResponse:
    case = await _case(runtime, db, user, reference)
    page = await case_page(request, runtime, db, user, case, service=service, done=done)
    audit.record(db, "case.viewed", account=user.account, case_reference=case.reference)
    await db.commit()
    return page


async def _refused(request: Request, runtime: Runtime, db: AsyncSession, user: ConsoleUser,
                   reference: str, exc: Exception, **page: Any) -> HTMLResponse:
    """The action failed: nothing of it is kept; the case page says why (409 when the
    case's state forbids it, 400 for bad input)."""
    await undo(db, user)
    case = await _case(runtime, db, user, reference)
    return await case_page(request, runtime, db, user, case, error=page.pop("error", str(exc)),
                           status_code=409 if isinstance(exc, CaseConflict) else 400, **page)


def _back(case: Case, done: str) -> Response:
    return see_other(f"/console/cases/{case.reference}?done={done}")


@router.post("/{reference}/claim")
async def claim(request: Request, reference: Reference, runtime: RuntimeDep, db: DbDep,
                user: CounselorDep) -> Response:
    case = await _case(runtime, db, user, reference)
    try:
        await runtime.cases.claim(db, user.account, case.reference)
    except CaseConflict as exc:
        return await _refused(request, runtime, db, user, reference, exc,
                              error="claimed_by_other")
    await db.commit()
    return _back(case, "claimed")


@router.post("/{reference}/reply")
async def reply(request: Request, reference: Reference, runtime: RuntimeDep, db: DbDep,
                user: CounselorDep, text: Annotated[str, Form(max_length=8000)] = ""
                ) -> Response:
    case = await _case(runtime, db, user, reference)
    try:
        message = await runtime.cases.send_to_her(db, user.account, case.reference, text)
    except (CaseConflict, ValueError) as exc:
        return await _refused(request, runtime, db, user, reference, exc, draft=text)
    await db.commit()
    await runtime.outbox.deliver([message.id])
    return _back(case, "sent")


@router.post("/{reference}/notes")
async def add_note(request: Request, reference: Reference, runtime: RuntimeDep, db: DbDep,
                   user: CounselorDep, text: Annotated[str, Form(max_length=8000)] = ""
                   ) -> Response:
    case = await _case(runtime, db, user, reference)
    text = text.strip()
    if not text or len(text) > MAX_NOTE:
        return await case_page(request, runtime, db, user, case, status_code=400,
                               error=f"text: 1 to {MAX_NOTE} characters")
    note = CaseNote(case_id=case.id, author_id=user.account.id,
                    body_enc=runtime.cipher.encrypt(text))
    db.add(note)
    await db.flush()
    audit.record(db, "case.note_added", account=user.account, case_reference=case.reference,
                 note_id=note.id)
    await db.commit()
    return _back(case, "noted")


@router.post("/{reference}/transfer")
async def transfer(request: Request, reference: Reference, runtime: RuntimeDep, db: DbDep,
                   user: CounselorDep,
                   center_id: Annotated[str, Form(max_length=64)] = "",
                   reason: Annotated[str, Form(max_length=2000)] = "") -> Response:
    case = await _case(runtime, db, user, reference)
    try:
        await runtime.transfers.transfer(db, user.account, case.reference, center_id, reason)
    except (CaseConflict, ValueError) as exc:
        return await _refused(request, runtime, db, user, reference, exc, service="")
    await db.commit()
    if user.account.role == "admin":
        return _back(case, "transferred")
    return see_other("/console/queue")  # no longer her center's case


@router.post("/{reference}/close")
async def close(request: Request, reference: Reference, runtime: RuntimeDep, db: DbDep,
                user: CounselorDep, outcome: Annotated[str, Form(max_length=32)] = ""
                ) -> Response:
    case = await _case(runtime, db, user, reference)
    try:
        await runtime.cases.close(db, user.account, case.reference, outcome)
    except (CaseConflict, ValueError) as exc:
        return await _refused(request, runtime, db, user, reference, exc)
    await db.commit()
    return _back(case, "closed")


@router.post("/{reference}/address", response_class=HTMLResponse)
async def reveal_address(request: Request, reference: Reference, runtime: RuntimeDep,
                         db: DbDep, user: CounselorDep) -> HTMLResponse:
    case = await _case(runtime, db, user, reference)
    contact = await db.get(Contact, case.contact_id) if case.contact_id else None
    if contact is None:
        raise ConsoleDenied(404, "not_found")
    revealed = runtime.cipher.decrypt(contact.address_enc)
    audit.record(db, "case.address_revealed", account=user.account,
                 case_reference=case.reference)
    await db.commit()
    page = await case_page(request, runtime, db, user, case, revealed=revealed)
    page.headers["Cache-Control"] = "no-store"
    return page


# Shown in the page itself; anything else she sent is downloaded, never rendered by the
# browser as a page of this site.
INLINE_TYPES = frozenset({"audio/ogg", "audio/mpeg", "audio/mp4", "audio/aac", "audio/amr",
                          "audio/wav", "audio/webm", "image/jpeg", "image/png", "image/gif",
                          "image/webp", "video/mp4", "video/3gpp"})


@router.get("/{reference}/media/{message_id}/{index}")
async def attachment(reference: Reference, message_id: Annotated[int, Path(ge=1)],
                     index: Annotated[int, Path(ge=0, le=9)], runtime: RuntimeDep, db: DbDep,
                     user: CounselorDep) -> Response:
    """A voice note, photo or document she sent, fetched from her channel's provider
    when the counselor opens it (Amane does not keep a copy); audited, never cached."""
    case = await _case(runtime, db, user, reference)
    message = await db.get(Message, message_id)
    if (message is None or message.case_id != case.id or message.direction != "in"
            or message.payload_enc is None):
        raise ConsoleDenied(404, "not_found")
    media = json.loads(runtime.cipher.decrypt(message.payload_enc)).get("media", [])
    if index >= len(media):
        raise ConsoleDenied(404, "not_found")
    item = media[index]
    audit.record(db, "case.attachment_opened", account=user.account,
                 case_reference=case.reference, detail={"message": message.id, "index": index})
    await db.commit()
    try:
        data, fetched_type = await runtime.channels.fetch_media(message.channel, item["url"])
    except MediaUnavailable as exc:
        logger.warning("attachment of message %s unavailable: %s", message.id, exc)
        raise ConsoleDenied(502, "attachment_unavailable") from None
    content_type = (item.get("content_type") or fetched_type or "").split(";")[0].strip().lower()
    inline = content_type in INLINE_TYPES
    return Response(data, media_type=content_type if inline else "application/octet-stream",
                    headers={"Cache-Control": "no-store",
                             "Content-Security-Policy": "sandbox; default-src 'none'",
                             "Content-Disposition": "inline" if inline else
                             f'attachment; filename="{case.reference}-{message.id}-{index}"'})

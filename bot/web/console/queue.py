"""The queue: her center's cases (all for an admin, the national queue included),
urgent first then oldest, and the live stream of notices that refreshes it.

The stream is server-sent events. It carries only a case reference, a kind and the
urgency (never her words); the page then reloads the rows it may see.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import datetime, timezone
from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, StreamingResponse
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.notify import CaseNotifier
from bot.runtime import Runtime
from bot.storage.models import Case, Center
from bot.web.console.auth import ConsoleUser, CounselorDep, console_user
from bot.web.console.pages import aware, render
from bot.web.deps import DbDep, RuntimeDep

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/console", include_in_schema=False)

KEEPALIVE_SECONDS = 15.0
NATIONAL = "national"


def _minutes_between(start: datetime | None, end: datetime) -> int:
    start = aware(start)
    return 0 if start is None else int((end - start).total_seconds() // 60)


async def queue_rows(runtime: Runtime, db: AsyncSession, user: ConsoleUser,
                     status: str, center: str | None) -> list[dict[str, Any]]:
    """The rows of the queue as the page shows them, with the SLA's time left."""
    statuses = ("closed",) if status == "closed" else ("queued", "claimed")
    cases: list[Case] = []
    for value in statuses:
        cases.extend(await runtime.cases.list_cases(db, user.account, status=value))
    if user.account.role == "admin" and center:
        wanted = None if center == NATIONAL else center
        cases = [c for c in cases if c.center_id == wanted]
    cases.sort(key=lambda c: (not c.urgent, aware(c.created_at)))
    deadlines = await runtime.sla.deadlines(db, cases)
    centers = {c.id: c.name for c in (await db.scalars(select(Center).where(
        Center.id.in_({c.center_id for c in cases if c.center_id})))).all()}
    now = datetime.now(timezone.utc)
    rows = []
    for case in cases:
        due = deadlines.get(case.reference)
        rows.append({
            "reference": case.reference, "urgent": case.urgent, "status": case.status,
            "needs": list(case.needs), "city": case.city,
            "center": centers.get(case.center_id or "", None),
            "unrouted": case.center_id is None,  # urgent: every center sees it
            "waiting": _minutes_between(case.created_at, now),
            "time_left": None if due is None else int((due - now).total_seconds() // 60),
        })
    return rows


@router.get("/queue", response_class=HTMLResponse)
async def queue_page(request: Request, runtime: RuntimeDep, db: DbDep, user: CounselorDep,
                     status: Literal["open", "closed"] = "open",
                     center: str | None = Query(None, max_length=64)) -> HTMLResponse:
    rows = await queue_rows(runtime, db, user, status, center)
    centers: Sequence[Center] = []
    own = None
    if user.account.role == "admin":
        centers = (await db.scalars(select(Center).order_by(Center.name))).all()
    elif user.account.center_id:
        own = await db.get(Center, user.account.center_id)
    return render(request, "queue.html", {"rows": rows, "status": status, "center": center,
                                          "centers": centers, "own_center": own,
                                          "national": NATIONAL}, user=user)


@router.get("/queue/rows", response_class=HTMLResponse)
async def queue_rows_fragment(request: Request, runtime: RuntimeDep, db: DbDep,
                              user: CounselorDep,
                              status: Literal["open", "closed"] = "open",
                              center: str | None = Query(None, max_length=64)) -> HTMLResponse:
    rows = await queue_rows(runtime, db, user, status, center)
    return render(request, "queue_rows.html", {"rows": rows}, user=user)


async def notice_stream(notifier: CaseNotifier, user: ConsoleUser,
                        is_disconnected: Callable[[], Awaitable[bool]],
                        keepalive: float = KEEPALIVE_SECONDS) -> AsyncIterator[str]:
    """Server-sent events for the notices this account may see, with a comment line
    every `keepalive` seconds so that proxies keep the connection open."""
    everything = user.account.role == "admin"
    async with notifier.subscribe() as subscription:
        yield "retry: 3000\n\n"
        while not await is_disconnected():
            notice = await subscription.get(timeout=keepalive)
            if notice is None:
                yield ": keepalive\n\n"
            elif notice.concerns(user.account.center_id, everything=everything):
                yield f"event: case\ndata: {json.dumps(notice.to_dict())}\n\n"


@router.get("/events")
async def events(request: Request, runtime: RuntimeDep) -> StreamingResponse:
    # A short database session for the login check: the stream itself holds none.
    async with runtime.sessionmaker() as db:
        user = await console_user(request, db, ("counselor", "admin"))
    return StreamingResponse(
        notice_stream(runtime.notifier, user, request.is_disconnected),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

"""Admin pages for the conversation flows: edit the YAML, see every problem by node and
field, try the draft in an embedded simulator (in memory, nothing stored), save it as a
version, publish it, roll back to an earlier one."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from bot.flows.loader import FlowError
from bot.conversation.rehearsal import rehearse
from bot.flows.versions import MAX_SOURCE, validate
from bot.runtime import Runtime
from bot.web.console.auth import AdminDep, ConsoleDenied, ConsoleUser, undo
from bot.web.console.pages import render, see_other
from bot.web.deps import DbDep, RuntimeDep

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/console/admin/flows", include_in_schema=False)

FlowName = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
Source = Annotated[str, Form(max_length=MAX_SOURCE + 1)]


def _known(runtime: Runtime, name: str) -> None:
    if name not in runtime.flows.names():
        raise ConsoleDenied(404, "not_found")


async def _editor(request: Request, runtime: Runtime, db: AsyncSession, user: ConsoleUser,
                  name: str, *, source: str | None = None, number: int | None = None,
                  problems: list[str] | None = None, turns: Any = None, messages: str = "",
                  valid: bool = False, status_code: int = 200) -> HTMLResponse:
    versions = await runtime.flow_versions.versions(db, name)
    live = await runtime.flow_versions.published(db, name)
    if source is None:
        chosen = next((v for v in versions if v.number == number), None) if number else None
        chosen = chosen or (versions[0] if versions else None)
        source = chosen.source if chosen is not None else (
            runtime.flow_versions.file_source(name) or "")
        number = chosen.number if chosen is not None else None
    return render(request, "admin/flow_edit.html", {
        "name": name, "source": source, "number": number, "versions": versions,
        "live": live, "problems": problems or [], "turns": turns, "messages": messages,
        "valid": valid}, status_code=status_code, user=user)


@router.get("", response_class=HTMLResponse)
async def flows(request: Request, runtime: RuntimeDep, db: DbDep,
                user: AdminDep) -> HTMLResponse:
    rows = []
    for name in runtime.flows.names():
        live = await runtime.flow_versions.published(db, name)
        rows.append({"name": name, "live": live})
    return render(request, "admin/flows.html", {"flows": rows}, user=user)


@router.get("/{name}", response_class=HTMLResponse)
async def edit(request: Request, name: FlowName, runtime: RuntimeDep, db: DbDep,
               user: AdminDep, version: int | None = Query(None, ge=1)) -> HTMLResponse:
    _known(runtime, name)
    return await _editor(request, runtime, db, user, name, number=version)


@router.post("/{name}/save", response_class=HTMLResponse)
async def save(request: Request, name: FlowName, runtime: RuntimeDep, db: DbDep,
               user: AdminDep, source: Source,
               note: Annotated[str, Form(max_length=200)] = "") -> Response:
    _known(runtime, name)
    try:
        version = await runtime.flow_versions.save_draft(db, user.account, name, source, note)
    except FlowError as exc:
        await undo(db, user)
        return await _editor(request, runtime, db, user, name, source=source,
                             problems=exc.problems, status_code=400)
    await db.commit()
    return see_other(f"/console/admin/flows/{name}?version={version.number}")


@router.post("/{name}/try", response_class=HTMLResponse)
async def try_draft(request: Request, name: FlowName, runtime: RuntimeDep, db: DbDep,
                    user: AdminDep, source: Source,
                    messages: Annotated[str, Form(max_length=8000)] = "") -> HTMLResponse:
    _known(runtime, name)
    try:
        flow = validate(name, source)
    except FlowError as exc:
        return await _editor(request, runtime, db, user, name, source=source,
                             problems=exc.problems, messages=messages, status_code=400)
    lines = [line.strip() for line in messages.splitlines() if line.strip()]
    turns = await rehearse(flow, lines, understanding=runtime.understanding)
    return await _editor(request, runtime, db, user, name, source=source, turns=turns,
                         messages=messages, valid=True)


@router.post("/{name}/publish")
async def publish(request: Request, name: FlowName, runtime: RuntimeDep, db: DbDep,
                  user: AdminDep, number: Annotated[int, Form(ge=1)]) -> Response:
    _known(runtime, name)
    try:
        version = await runtime.flow_versions.publish(db, user.account, name, number)
    except LookupError:
        raise ConsoleDenied(404, "not_found") from None
    except FlowError as exc:
        await undo(db, user)
        return await _editor(request, runtime, db, user, name, number=number,
                             problems=exc.problems, status_code=400)
    await db.commit()
    runtime.flow_versions.activate(version)
    return see_other(f"/console/admin/flows/{name}?version={version.number}")

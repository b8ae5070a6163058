"""The audit trail is append-only: nothing in the application edits or deletes it."""

from __future__ import annotations

import ast
from pathlib import Path

import httpx
from sqlalchemy import func, select

from bot.retention import purge
from bot.runtime import Runtime
from bot.settings import PROJECT_ROOT
from bot.storage.models import AuditEvent
from tests.support import Woman


def test_no_code_updates_or_deletes_audit_rows() -> None:
    """Every mention of AuditEvent in the application is an insert or a read."""
    offenders = []
    for path in (PROJECT_ROOT / "bot").rglob("*.py"):
        if "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
                    node.func.id in ("update", "delete") and any(
                        isinstance(a, ast.Name) and a.id == "AuditEvent" for a in node.args):
                offenders.append(f"{path.relative_to(PROJECT_ROOT)}:{node.lineno}")
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and \
                    "audit_events" in node.value.lower() and any(
                        word in node.value.upper() for word in ("DELETE", "UPDATE", "TRUNCATE")):
                offenders.append(f"{path.relative_to(PROJECT_ROOT)}:{node.lineno}")
    assert offenders == []


async def test_purge_and_erasure_keep_the_audit(client: httpx.AsyncClient,
                                                runtime: Runtime) -> None:
    her = Woman(client)
    await her.says_all("Bonjour", "oui", "oui", "avocat", "Tiznit", "1", "le matin", "Passer")
    async with runtime.sessionmaker() as db:
        before = await db.scalar(select(func.count()).select_from(AuditEvent))
        await purge(db, retention_days=1)
        await db.commit()
        after = await db.scalar(select(func.count()).select_from(AuditEvent))
    assert before and after == before + 1  # the purge itself is recorded, nothing removed


async def test_no_route_changes_the_audit(runtime: Runtime) -> None:
    from bot.web.app import create_app

    app = create_app(runtime, background=False)
    paths = [p for p in app.openapi()["paths"] if "audit" in p]
    assert paths == []  # the API has no audit endpoint at all
    console = Path(PROJECT_ROOT / "bot" / "web" / "console" / "admin.py").read_text("utf-8")
    assert '@router.get("/audit"' in console
    assert '@router.post("/audit' not in console

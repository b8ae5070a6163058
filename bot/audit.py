"""The audit trail: who did what, when, to which case. Append-only by construction:
this module only ever inserts, and nothing in the application updates or deletes
audit rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import Account, AuditEvent


def record(session: AsyncSession, action: str, *, account: Account | None = None,
           actor: str | None = None, case_reference: str | None = None,
           **detail: Any) -> None:
    """Add an audit row to the current transaction. `detail` must hold no personal data
    (no message text, no address): ids, codes and counts only."""
    session.add(AuditEvent(
        account_id=account.id if account is not None else None,
        actor=account.username if account is not None else (actor or "system"),
        action=action,
        case_reference=case_reference,
        detail=detail,
    ))

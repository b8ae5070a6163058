"""A case's history of queues: which center had it, when it moved and why.

Transfers (a counselor, with a reason) and escalations (the SLA, when nobody claimed
it in time) are both recorded here; the console shows them on the case, and the SLA
reads them to know since when the case waits in its current queue and which centers
already had their chance. The reason is free text: stored encrypted.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.crypto import Cipher
from bot.storage.models import Account, Case, CaseEvent

MOVES = ("transferred", "escalated")


def record_move(db: AsyncSession, case: Case, kind: str, *, to_center_id: str | None,
                cipher: Cipher, account: Account | None = None, reason: str | None = None,
                at: datetime | None = None) -> CaseEvent:
    if kind not in MOVES:
        raise ValueError(f"kind: must be one of {', '.join(MOVES)}")
    row = CaseEvent(case_id=case.id, kind=kind, at=at or datetime.now(timezone.utc),
                    actor=account.username if account is not None else "sla",
                    account_id=account.id if account is not None else None,
                    from_center_id=case.center_id, to_center_id=to_center_id,
                    reason_enc=cipher.encrypt_optional(reason))
    db.add(row)
    return row


async def moves_of(db: AsyncSession, case_ids: Sequence[int]) -> dict[int, list[CaseEvent]]:
    """The moves of each case, oldest first."""
    if not case_ids:
        return {}
    rows = (await db.scalars(select(CaseEvent).where(CaseEvent.case_id.in_(list(case_ids)))
                             .order_by(CaseEvent.id))).all()
    result: dict[int, list[CaseEvent]] = {case_id: [] for case_id in case_ids}
    for row in rows:
        result[row.case_id].append(row)
    return result


def queued_since(case: Case, moves: Sequence[CaseEvent]) -> datetime:
    """When the case entered the queue it is in now (created, moved, or reopened)."""
    entered = [case.created_at, *([moves[-1].at] if moves else []),
               *([case.reopened_at] if case.reopened_at is not None else [])]
    return max(entered)

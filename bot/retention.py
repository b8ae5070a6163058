"""Retention: nothing is kept longer than it serves her.

- The messages of a case closed more than RETENTION_DAYS ago are deleted, with the
  case's free-text fields; the case keeps its anonymous statistical fields.
- A conversation that never became a case (she stopped half-way) is deleted a day
  after its last message.
- A contact with nothing left (no case, no message) is deleted.

Run by `run_bot.py purge` and by a daily task of the server.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import audit
from bot.handoff.cases import forget_free_text
from bot.storage.erasure import nothing_of_hers_left
from bot.storage.models import Case, CaseNote, Contact, Message

logger = logging.getLogger(__name__)

ABANDONED_AFTER = timedelta(days=1)
DAY = 24 * 3600.0


@dataclass(frozen=True, slots=True)
class PurgeReport:
    cases: int
    messages: int
    abandoned_messages: int
    contacts: int


async def purge(db: AsyncSession, *, retention_days: int,
                now: datetime | None = None) -> PurgeReport:
    now = now or datetime.now(timezone.utc)
    cutoff = now - timedelta(days=retention_days)
    expired_ids = list((await db.scalars(select(Case.id).where(
        Case.status == "closed", Case.closed_at < cutoff,
        (Case.contact_id.is_not(None)) | (Case.summary_enc.is_not(None))
        | (Case.safe_contact_enc.is_not(None))
        | exists().where(Message.case_id == Case.id)
        | exists().where(CaseNote.case_id == Case.id)))).all())
    messages = 0
    if expired_ids:
        await forget_free_text(db, expired_ids)
        result = await db.execute(delete(Message).where(Message.case_id.in_(expired_ids)))
        messages = int(result.rowcount or 0)  # type: ignore[attr-defined]
        await db.execute(update(Case).where(Case.id.in_(expired_ids)).values(
            contact_id=None, summary_enc=None, safe_contact_enc=None))
    abandoned = await db.execute(delete(Message).where(
        Message.case_id.is_(None), Message.created_at < now - ABANDONED_AFTER))
    orphans = await db.execute(delete(Contact).where(
        nothing_of_hers_left(Contact.id),
        (Contact.last_inbound_at.is_(None)) | (Contact.last_inbound_at < now - ABANDONED_AFTER)))
    report = PurgeReport(cases=len(expired_ids), messages=messages,
                         abandoned_messages=int(abandoned.rowcount or 0),  # type: ignore[attr-defined]
                         contacts=int(orphans.rowcount or 0))  # type: ignore[attr-defined]
    audit.record(db, "retention.purged", actor="system", retention_days=retention_days,
                 cases=report.cases, messages=report.messages,
                 abandoned_messages=report.abandoned_messages, contacts=report.contacts)
    return report


async def run_daily(sessionmaker: async_sessionmaker[AsyncSession], retention_days: int,
                    first_delay: float = 60.0, interval: float = DAY) -> None:
    """Purge once a day until cancelled. With several workers each one purges; the
    deletes are idempotent, so that is harmless."""
    await asyncio.sleep(first_delay)
    while True:
        try:
            async with sessionmaker() as db:
                report = await purge(db, retention_days=retention_days)
                await db.commit()
            logger.info("daily purge: %s", report)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("daily purge failed; will try again tomorrow")
        await asyncio.sleep(interval)

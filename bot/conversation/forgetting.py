"""A quick exit and her erasure: what must not stay goes, in the turn's transaction.

- **Quick exit** of a conversation that did not become a case: its messages go, up to
  the quick exit (anything she wrote after it is still to be read); her last line
  ("a neutral line, then delete the chat") is queued to go, and is erased once sent.
  A conversation that became a case stays on the case: the counselor may need it.
- **Erasure**, after she confirmed it: her messages up to the request, her address, the
  notes and transfer reasons about her go; her cases keep only their anonymous
  statistical fields (`CaseService.erase_her`). The last line goes, then is erased.

Her contact goes when nothing of hers is left (`bot.storage.erasure`): at once, or
once the last line is sent.
"""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversation.effects import Outcome
from bot.handoff.cases import CaseService
from bot.outbox.queue import OutboxQueue
from bot.storage.erasure import forget_contact_if_nothing_left
from bot.storage.models import Contact, Message


class Forgetting:
    def __init__(self, cases: CaseService, outbox: OutboxQueue) -> None:
        self._cases = cases
        self._outbox = outbox

    async def erase(self, db: AsyncSession, contact: Contact, outcome: Outcome, *,
                    up_to: int, inline: bool) -> list[int]:
        """Her erasure, up to her message `up_to`. Returns the ids of the last lines to
        send (none when the webhook's answer carries them)."""
        await self._cases.erase_her(db, contact, up_to=up_to)
        if inline:  # the last line goes in the answer: nothing of hers stays
            await forget_contact_if_nothing_left(db, contact)
            return []
        return await self._last_lines(db, contact, outcome, inline=False)

    async def quick_exit(self, db: AsyncSession, contact: Contact, outcome: Outcome, *,
                         up_to: int, inline: bool) -> list[int]:
        """A quick exit at her message `up_to` (already marked processed). Returns the
        ids of the last lines to send."""
        last_lines = await self._last_lines(db, contact, outcome, inline=inline)
        kept = [] if inline else last_lines  # still to be sent, erased once sent
        query = delete(Message).where(Message.contact_id == contact.id,
                                      Message.case_id.is_(None),
                                      (Message.id <= up_to) | Message.id.in_(last_lines))
        if kept:
            query = query.where(Message.id.not_in(kept))
        await db.execute(query)
        if not kept:
            await forget_contact_if_nothing_left(db, contact)
        return kept

    async def _last_lines(self, db: AsyncSession, contact: Contact, outcome: Outcome, *,
                          inline: bool) -> list[int]:
        """Her last lines queued: erased once sent, or recorded as carried by the
        answer. Returns their ids."""
        queued = await self._outbox.queue_replies(
            db, outcome.replies, contact_id=contact.id, channel=contact.channel,
            case_id=outcome.session.case.case_id,
            conversation_id=outcome.session.conversation_id,
            delivery="inline" if inline else "outbox", farewell=True)
        return queued.ids

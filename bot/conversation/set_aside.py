"""Her messages that do not go through the flow: over the rate limit, or whose
processing failed. Each is kept and marked, never replayed against a later state of
her conversation, and she gets one short line of ours, in her variety: wait a little,
or an apology (it cannot come from the flow, which may be what failed)."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.conversation.after_handoff import open_case_of
from bot.conversation.checkpoints import CheckpointStore
from bot.conversation.inbox import Inbox
from bot.conversation.understanding import Understanding, in_danger
from bot.outbox.queue import OutboxQueue
from bot.ratelimit import SLOW_DOWN
from bot.storage.models import Case, Contact
from bot.types import DEFAULT_VARIETY, VARIETIES, Variety

APOLOGY: dict[Variety, str] = {
    "ary": "سمحي لينا، وقع مشكل. عاودي كتبي من بعد شوية.",
    "ary_latn": "Sm7i lina, w9e3 mochkil. 3awdi ktbi mn b3d chwiya.",
    "ar": "عذرا، حدث خطأ. أعيدي الكتابة بعد قليل.",
    "fr": "Désolée, un problème est survenu. Réessayez dans un instant.",
}


def apology(variety: Variety | None) -> str:
    return APOLOGY[variety or DEFAULT_VARIETY]


class SettingAside:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], *, inbox: Inbox,
                 checkpoints: CheckpointStore, understanding: Understanding,
                 outbox: OutboxQueue) -> None:
        self._sessionmaker = sessionmaker
        self._inbox = inbox
        self._checkpoints = checkpoints
        self._understanding = understanding
        self._outbox = outbox

    async def rate_limited(self, message_id: int, *, say_so: bool) -> bool:
        """She wrote more than the rate limit allows: her message is kept, on her case if
        she has one, but not run through the flow; `say_so` (once per window): a polite
        line asks her to wait. A message about danger is never set aside: returns False,
        and the caller processes it as usual."""
        async with self._sessionmaker() as db:
            row = await self._inbox.received_for_update(db, message_id)
            if row is None or row.contact_id is None:
                return True
            if in_danger(await self._understanding.read_words(self._inbox.text_of(row))):
                return False
            contact = await db.get(Contact, row.contact_id)
            assert contact is not None
            case = await open_case_of(db, contact, None)
            row.status = "processed"
            row.processed_at = datetime.now(timezone.utc)
            row.last_error = "rate limited"
            row.case_id = case.id if case is not None else None
            if say_so:
                session = await self._checkpoints.current_session(contact.address_hash)
                variety = session.language if session is not None else None
                self._outbox.enqueue(db, contact_id=row.contact_id, channel=row.channel,
                                     text=SLOW_DOWN[variety or DEFAULT_VARIETY], sender="bot",
                                     case_id=row.case_id, conversation_id=row.conversation_id)
            await db.commit()
        if say_so:
            self._outbox.wake()
        return True

    async def failed(self, message_id: int, *, inline: bool = False) -> str | None:
        """Processing failed: mark her message, keep her session, apologise (through the
        outbox, or returned when the answer carries the replies). Returns the apology."""
        async with self._sessionmaker() as db:
            row = await self._inbox.received_for_update(db, message_id)
            if row is None or row.contact_id is None:
                return None
            row.status = "failed"
            row.last_error = "processing failed"
            contact = await db.get(Contact, row.contact_id)
            session = (await self._checkpoints.current_session(contact.address_hash)
                       if contact else None)
            case = await db.get(Case, row.case_id) if row.case_id else None
            variety = session.language if session is not None else (
                case.language if case is not None and case.language in VARIETIES else None)
            text = apology(variety)  # type: ignore[arg-type]
            self._outbox.enqueue(db, contact_id=row.contact_id, channel=row.channel,
                                 text=text, sender="bot", case_id=row.case_id,
                                 conversation_id=row.conversation_id,
                                 status="inline" if inline else "pending")
            await db.commit()
            return text

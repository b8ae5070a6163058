"""Writing messages for her into the outbox, in the caller's transaction.

`queue_replies` is how the conversation queues her replies: for the outbox loop (or
the caller, by id), claimed at once by the caller that will send them (`claims.py`),
recorded as carried by the webhook's answer (simulator, terminal), or as the last line
before she is forgotten (erased once sent). `enqueue` adds one message through the
ORM (a counselor's answer, an apology). `release_held` puts back in the queue what was
held for her, when she writes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal

from sqlalchemy import bindparam, insert, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from bot.channels.base import BotReply, ReplyButton
from bot.crypto import Cipher
from bot.outbox.claims import MESSAGES, Claimed, claimed_as_queued
from bot.storage.models import Message

FAREWELL = "farewell"  # kind of the last line before she is forgotten: erased once sent
TEMPLATE = "template"  # kind of the channel's approved template (window closed)

# How queued replies reach her:
# - "outbox": the outbox loop sends them, or the caller by id (`deliver(ids)`);
# - "claimed": the caller sends them itself once it commits (`send_claimed`);
# - "inline": the webhook's answer carries them; recorded, never sent again.
Delivery = Literal["outbox", "claimed", "inline"]
_STATUS: dict[Delivery, str] = {"outbox": "pending", "claimed": "sending", "inline": "inline"}

_INSERT_RETURNING_IDS = insert(MESSAGES).returning(MESSAGES.c.id, sort_by_parameter_order=True)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Doorbell:
    """Wakes the delivery loop: something was queued or released."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def ring(self) -> None:
        self._event.set()

    def clear(self) -> None:
        self._event.clear()

    async def wait(self, timeout: float) -> None:
        try:
            await asyncio.wait_for(self._event.wait(), timeout=timeout)
        except asyncio.TimeoutError:
            pass


def release_held_statement(for_her: Any) -> Any:
    """What was held for her goes back to the queue, now (`for_her`: the condition on
    `MESSAGES.c.contact_id` that finds her)."""
    return (update(MESSAGES).where(for_her, MESSAGES.c.direction == "out",
                                   MESSAGES.c.status == "held")
            .values(status="pending", next_attempt_at=bindparam("now"), last_error=None))


_RELEASE_HELD = release_held_statement(MESSAGES.c.contact_id == bindparam("her_contact_id"))


@dataclass(slots=True)
class QueuedReplies:
    """Her replies, queued in the caller's transaction."""

    delivery: Delivery
    ids: list[int] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def needs_her_contact(self) -> bool:
        """Claimed: what sending them needs of her contact must be read (as late as
        possible in the transaction: `claimed`)."""
        return self.delivery == "claimed" and bool(self.ids)

    @property
    def for_the_outbox(self) -> list[int]:
        """The ids to send by id (`deliver(ids)`), when they are not claimed."""
        return self.ids if self.delivery == "outbox" else []

    def claimed(self, contact_now: Any) -> list[Claimed]:
        """Claimed replies, with her contact as read in the transaction."""
        if self.delivery != "claimed" or not self.ids:
            return []
        return claimed_as_queued(self.ids, self.rows, contact_now)


class OutboxQueue:
    def __init__(self, cipher: Cipher, doorbell: Doorbell, *, postgres: bool) -> None:
        self._cipher = cipher
        self._doorbell = doorbell
        self._postgres = postgres

    @property
    def postgres(self) -> bool:
        """Replies can be claimed as they are queued only on PostgreSQL."""
        return self._postgres

    def wake(self) -> None:
        """Tell the delivery loop something is waiting."""
        self._doorbell.ring()

    def row(self, *, contact_id: int | None, channel: str, text: str, sender: str,
            case_id: int | None = None, conversation_id: str | None = None,
            author_id: int | None = None, buttons: Sequence[ReplyButton] = (),
            status: str = "pending", kind: str = "text") -> dict[str, Any]:
        """A message for the outbox as the values of its row. `status='sending'`:
        claimed at once by the worker that queues it, which sends it itself."""
        payload = None
        if buttons:
            payload = self._cipher.encrypt(json.dumps(
                {"buttons": [[b.id, b.label] for b in buttons]}, ensure_ascii=False))
        return {"contact_id": contact_id, "case_id": case_id,
                "conversation_id": conversation_id, "channel": channel, "direction": "out",
                "sender": sender, "author_id": author_id, "kind": kind,
                "body_enc": self._cipher.encrypt(text), "payload_enc": payload,
                "status": status, "attempts": 1 if status == "sending" else 0,
                "next_attempt_at": _utcnow() if status in ("pending", "sending") else None}

    def enqueue(self, db: AsyncSession, *, contact_id: int | None, channel: str, text: str,
                sender: str, case_id: int | None = None, conversation_id: str | None = None,
                author_id: int | None = None, buttons: Sequence[ReplyButton] = (),
                status: str = "pending", kind: str = "text") -> Message:
        """Add one message to the transaction, through the ORM. `status='inline'`
        records a reply that the webhook answer itself carries: it is not sent again."""
        message = Message(**self.row(
            contact_id=contact_id, channel=channel, text=text, sender=sender,
            case_id=case_id, conversation_id=conversation_id, author_id=author_id,
            buttons=buttons, status=status, kind=kind))
        db.add(message)
        return message

    async def queue_replies(self, db: AsyncSession, replies: Sequence[BotReply], *,
                            contact_id: int, channel: str, case_id: int | None,
                            conversation_id: str | None, delivery: Delivery,
                            farewell: bool = False) -> QueuedReplies:
        """The bot's replies to her, queued in the caller's transaction without the
        ORM's unit of work (the path of every message): one INSERT on PostgreSQL, one
        per row on SQLite.

        `delivery="claimed"` (PostgreSQL): the caller has made sure nothing else waits
        to go to her and holds her claims' lock to its commit (`claimable_for`); it
        reads her contact last (`QueuedReplies.needs_her_contact`) and sends them
        (`send_claimed`). `farewell`: the last lines before she is forgotten, erased
        (with her contact, when nothing else of hers is left) once sent; a line the
        answer carries stays on her case as what it was: text."""
        kind = FAREWELL if farewell and delivery != "inline" else "text"
        rows = [self.row(contact_id=contact_id, channel=channel, text=reply.text,
                         sender="bot", case_id=case_id, conversation_id=conversation_id,
                         buttons=reply.buttons, status=_STATUS[delivery], kind=kind)
                for reply in replies]
        queued = QueuedReplies(delivery, rows=rows)
        if rows:
            result = await db.execute(_INSERT_RETURNING_IDS, rows)
            queued.ids = [int(r.id) for r in result]
        return queued

    async def release_held(self, db: AsyncSession | AsyncConnection, contact_id: int) -> int:
        """She wrote: what was held for her goes back to the queue (in the caller's
        transaction). Returns how many."""
        result = await db.execute(_RELEASE_HELD, {"her_contact_id": contact_id, "now": _utcnow()})
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

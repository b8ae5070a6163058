"""The claim protocol: which worker sends which message, her messages in order.

A message is claimed (pending -> sending, one attempt counted) in one statement, so
that no two workers send it. Her messages go in order: one is not claimed while an
earlier one of hers is being sent, or waits for a retry. On PostgreSQL, where workers
claim at the same time, rows another worker is claiming are skipped, and so are all
her messages while another worker's claim holds her (an advisory lock on her contact,
`CLAIM_LOCK_SPACE`, for the statement): else it could take her second message while
the other takes her first.

The worker that processes her message may also claim her replies as it queues them
(status 'sending' at once, `OutboxQueue.queue_replies`) and send them itself once it
commits, without a claim statement: only when nothing else waits to go to her, and
with her claims' advisory lock held from the read of her message to the commit
(`claimable_for`), so that no claim takes a message of hers meanwhile.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, exists, func, or_, select, update
from sqlalchemy import case as sql_case
from sqlalchemy.orm import aliased

from bot.storage.models import Contact, Message

MESSAGES = Message.__table__
CONTACTS = Contact.__table__
CLAIM_LOCK_SPACE = 0x616D  # PostgreSQL advisory locks of the outbox's claims ("am")

# What sending one claimed message needs, in one read: the message and her contact.
SENDING_COLUMNS = ("id", "status", "channel", "kind", "body_enc", "payload_enc", "attempts",
                   "contact_id")
_HER_CONTACT = (CONTACTS.c.id.label("contact"), CONTACTS.c.address_enc,
                CONTACTS.c.opted_out_at, CONTACTS.c.last_inbound_at)
TO_SEND = (select(*(MESSAGES.c[name] for name in SENDING_COLUMNS), *_HER_CONTACT)
           .select_from(MESSAGES.outerjoin(CONTACTS, CONTACTS.c.id == MESSAGES.c.contact_id))
           .where(MESSAGES.c.id == bindparam("message_id")))
# The provider took it (one statement; a delivery report may have come first).
MARK_SENT = (update(MESSAGES).where(MESSAGES.c.id == bindparam("message_id"))
        .values(status=sql_case((MESSAGES.c.status == "sending", "sent"),
                                else_=MESSAGES.c.status),
                processed_at=bindparam("now"),
                provider_message_id=bindparam("provider_id")))
# Claimed messages back to the queue, not counted as an attempt.
UNCLAIM = (update(MESSAGES).where(MESSAGES.c.id.in_(bindparam("ids", expanding=True)),
                                  MESSAGES.c.status == "sending")
           .values(status="pending", attempts=MESSAGES.c.attempts - 1))


def claimable_for(contact_id: Any) -> Any:
    """SQL, PostgreSQL: whether the messages queued now for the contact `contact_id`
    may be claimed as they are queued: her claims' advisory lock taken (held to the end
    of the transaction, so that no claim takes a message of hers meanwhile) and no
    message to her waiting in the outbox or being sent (they would be overtaken)."""
    earlier = MESSAGES.alias("waiting_for_her")
    return and_(func.pg_try_advisory_xact_lock(CLAIM_LOCK_SPACE, contact_id),
                ~exists().where(earlier.c.contact_id == contact_id,
                                earlier.c.direction == "out",
                                earlier.c.status.in_(("pending", "sending"))))


def _claim_statement(given: bool, postgres: bool) -> Any:
    """pending -> sending in one statement, for due messages (the loop) or given ones
    and the due ones of the same women (`deliver(ids)`), in her order (the module's
    docstring). Built once: building it costs more than running it."""
    earlier = aliased(Message)
    now = bindparam("now")
    candidates = select(Message.id).where(Message.direction == "out",
                                          Message.status == "pending")
    if given:
        ids = bindparam("ids", expanding=True)
        theirs = select(Message.contact_id).where(Message.id.in_(ids))
        candidates = candidates.where(or_(
            Message.id.in_(ids),
            and_(Message.next_attempt_at <= now, Message.contact_id.in_(theirs))))
    else:
        candidates = candidates.where(Message.next_attempt_at <= now)
    behind = exists().where(
        earlier.contact_id == Message.contact_id, earlier.direction == "out",
        earlier.id < Message.id,
        or_(earlier.status == "sending",
            and_(earlier.status == "pending", earlier.next_attempt_at > now)))
    candidates = candidates.where(~behind)
    if postgres:
        candidates = candidates.where(or_(
            Message.contact_id.is_(None),
            func.pg_try_advisory_xact_lock(CLAIM_LOCK_SPACE, Message.contact_id)))
    candidates = (candidates.order_by(Message.id).limit(bindparam("limit"))
                  .with_for_update(skip_locked=True))
    claim = (update(MESSAGES).where(MESSAGES.c.id.in_(candidates),
                                    MESSAGES.c.status == "pending")
             .values(status="sending", next_attempt_at=now,
                     attempts=MESSAGES.c.attempts + 1))
    if not postgres:
        return claim.returning(MESSAGES.c.id, MESSAGES.c.contact_id)
    # PostgreSQL: with each claimed message, what sending it needs (`TO_SEND`), read
    # in the same statement.
    claimed = claim.returning(*(MESSAGES.c[name] for name in SENDING_COLUMNS)).cte("claimed")
    return (select(*(claimed.c[name] for name in SENDING_COLUMNS), *_HER_CONTACT)
            .select_from(claimed.outerjoin(CONTACTS, CONTACTS.c.id == claimed.c.contact_id)))


# (given ids, PostgreSQL) -> the claim statement
CLAIMS = {(given, postgres): _claim_statement(given, postgres)
          for given in (False, True) for postgres in (False, True)}


@dataclass(frozen=True, slots=True)
class Claimed:
    """A message queued already claimed ('sending', one attempt) by the worker that
    will send it (`DeliveryWorker.send_claimed`), with what `TO_SEND` would read for
    it."""
    id: int
    channel: str
    kind: str
    body_enc: bytes
    payload_enc: bytes | None
    contact_id: int
    address_enc: bytes
    opted_out_at: datetime | None
    last_inbound_at: datetime | None
    status: str = "sending"
    attempts: int = 1

    @property
    def contact(self) -> int:
        return self.contact_id


def claimed_as_queued(ids: Sequence[int], rows: Sequence[Mapping[str, Any]],
                      contact_now: Any) -> list[Claimed]:
    """Messages to one woman inserted with status 'sending': claimed by the caller,
    which sends them once its transaction commits. `contact_now`: her contact's
    `address_enc`, `opted_out_at` and `last_inbound_at`, read as late as possible in
    that transaction (a STOP she sent meanwhile holds them)."""
    return [Claimed(id=message_id, channel=row["channel"], kind=row["kind"],
                    body_enc=row["body_enc"], payload_enc=row["payload_enc"],
                    contact_id=row["contact_id"], address_enc=contact_now.address_enc,
                    opted_out_at=contact_now.opted_out_at,
                    last_inbound_at=contact_now.last_inbound_at)
            for message_id, row in zip(ids, rows)]

"""When her contact goes: the one rule, written once.

Her contact (the encrypted address and its keyed hash) is kept while anything of hers
is: a case, or a message. When the last of them goes (a quick exit of a conversation
that never became a case, her erasure, the last line after either once it is sent, the
retention purge), her contact goes with it, so that no address is kept for nothing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import Case, Contact, Message


def something_of_hers_left(contact_id: Any) -> Any:
    """SQL: a case or a message still refers to the contact `contact_id` (a column or a
    value)."""
    return or_(exists().where(Case.contact_id == contact_id),
               exists().where(Message.contact_id == contact_id))


def nothing_of_hers_left(contact_id: Any) -> Any:
    """SQL: no case and no message refers to the contact `contact_id` any more."""
    return and_(~exists().where(Case.contact_id == contact_id),
                ~exists().where(Message.contact_id == contact_id))


async def forget_contact_if_nothing_left(db: AsyncSession, contact: Contact) -> bool:
    """Her contact goes (in the caller's transaction) if no case and no message of
    hers is left. Returns whether it went."""
    await db.flush()  # what the caller deleted through the ORM counts
    if await db.scalar(select(something_of_hers_left(contact.id))):
        return False
    await db.delete(contact)
    return True


async def forget_sent_farewell(db: AsyncSession, message: Message, contact: Contact) -> None:
    """After a quick exit or an erasure the last line was all that was kept of her
    conversation: once it is sent (or has failed for good) it goes, and her contact
    too if nothing else of hers is left."""
    await db.delete(message)
    await forget_contact_if_nothing_left(db, contact)

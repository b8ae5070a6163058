"""The providers' delivery reports (Twilio status callbacks): a sent message moves on
to delivered, read, failed or undelivered, never back, even when reports arrive out of
order."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy import String, and_, bindparam, update
from sqlalchemy import case as sql_case

from bot.outbox.claims import MESSAGES
from bot.storage.statements import Statements

logger = logging.getLogger(__name__)

# How far along a sent message is: a delivery report never moves it back.
DELIVERY_RANK = {"pending": 0, "held": 0, "sending": 1, "sent": 2, "delivered": 3, "read": 4,
                 "undelivered": 5, "failed": 5}
REPORTED_STATUS = {"sent": "sent", "delivered": "delivered", "read": "read",
                   "failed": "failed", "undelivered": "undelivered", "canceled": "failed"}


def _rank(column: Any) -> Any:
    return sql_case(DELIVERY_RANK, value=column, else_=0)


def _delivery_statement(by_our_id: bool) -> Any:
    """A delivery report in one statement: the message moves on only if the report
    is further along (never back); found by the provider's id, or by ours while the
    provider's id is not recorded yet (the report outran the record of the send)."""
    status = bindparam("reported", type_=String)
    found = [MESSAGES.c.channel.in_(bindparam("channels", expanding=True)),
             MESSAGES.c.direction == "out"]
    if by_our_id:
        found += [MESSAGES.c.id == bindparam("message_id"),
                  MESSAGES.c.provider_message_id.is_(None)]
    else:
        found.append(MESSAGES.c.provider_message_id == bindparam("provider_id"))
    further = _rank(status) > _rank(MESSAGES.c.status)
    return (update(MESSAGES).where(*found)
            .values(status=sql_case((further, status), else_=MESSAGES.c.status),
                    last_error=sql_case((and_(further, status.in_(("failed", "undelivered"))),
                                         bindparam("error", type_=String)),
                                        else_=MESSAGES.c.last_error),
                    provider_message_id=bindparam("provider_id", type_=String))
            .returning(MESSAGES.c.id, MESSAGES.c.status, MESSAGES.c.channel))


_BY_PROVIDER_ID = _delivery_statement(by_our_id=False)
_BY_OUR_ID = _delivery_statement(by_our_id=True)


class DeliveryReports:
    def __init__(self, statements: Statements) -> None:
        self._statements = statements

    async def record(self, channels: Sequence[str], provider_message_id: str, reported: str,
                     error_code: str | None = None, message_id: int | None = None) -> bool:
        """A provider's delivery report. The message is found by the provider's id, or
        by ours (`message_id`) when the report outran the recording of the provider's
        id. Returns whether a message was updated."""
        status = REPORTED_STATUS.get(reported)
        if status is None:  # queued, sending, ...: nothing new
            return False
        params = {"channels": list(channels), "provider_id": provider_message_id,
                  "reported": status, "message_id": message_id,
                  "error": f"{status} (provider error {error_code or 'unknown'})"}
        row = await self._statements.first(_BY_PROVIDER_ID, params)
        if row is None and message_id is not None:
            row = await self._statements.first(_BY_OUR_ID, params)
        if row is None:
            return False
        if row.status == status and status in ("failed", "undelivered"):
            logger.warning("outbound message %s %s on %s", row.id, status, row.channel)
        return True

"""What she hears of her case, so that she is never left in silence.

When a counselor takes her case, when it moves to another center (a transfer, an
escalation), and when it is closed (with how to come back), she gets one short line in
her variety, neutral enough to be safe if someone else reads her phone: it names
neither the service nor its subject. The lines are texts of the flow (admins edit them
in the four varieties). They go through the outbox like every message to her: held if
she sent STOP, the approved template first if WhatsApp's window is closed."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Final, Literal

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from bot.flows.schema import Flow
from bot.outbox.queue import OutboxQueue
from bot.storage.models import Case, Message
from bot.types import DEFAULT_VARIETY, VARIETIES, Variety

logger = logging.getLogger(__name__)

CaseUpdate = Literal["taken", "moved", "closed"]
# The flow's text for each (REQUIRED_TEXTS of `bot.flows.loader` lists them).
TEXT_OF: Final[dict[CaseUpdate, str]] = {"taken": "case_taken", "moved": "case_moved",
                                         "closed": "case_closed"}


def her_variety(case: Case) -> Variety:
    return case.language if case.language in VARIETIES else DEFAULT_VARIETY  # type: ignore[return-value]


class UpdatesToHer:
    def __init__(self, outbox: OutboxQueue, current_flow: Callable[[], Flow]) -> None:
        self._outbox = outbox
        self._current_flow = current_flow

    def tell(self, db: AsyncSession, case: Case, update: CaseUpdate) -> Message | None:
        """Queue the line for `update` in the caller's transaction (none once her
        contact is erased). The outbox sends it after the commit."""
        if case.contact_id is None:
            return None
        text = self._current_flow().text(TEXT_OF[update], her_variety(case))
        message = self._outbox.enqueue(db, contact_id=case.contact_id, channel=case.channel,
                                       text=text, sender="bot", case_id=case.id)
        # The delivery loop, woken once the line is committed (not before: it would find
        # nothing yet, and the line would wait for its next pass).
        event.listen(db.sync_session, "after_commit", lambda _: self._outbox.wake(),
                     once=True)
        logger.info("case %s: she is told it was %s", case.reference, update)
        return message

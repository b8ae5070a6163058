"""Live notices about cases, for the console's queue (server-sent events).

A notice names a case and the queues it concerns, never her words or her address.
`CaseNotifier` is the seam: `MemoryCaseNotifier` serves one process (the embedded
default, tests); a Redis pub/sub notifier for many workers implements the same two
methods. `publish` is synchronous and must not block: it is called from the database
session's after-commit hook (`publish_after_commit`), so a console never hears of a
change it cannot read yet, and never of one that was rolled back.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

logger = logging.getLogger(__name__)

NOTICE_KINDS = ("created", "routed", "urgent", "claimed", "transferred", "escalated",
                "message", "closed")
SUBSCRIBER_BACKLOG = 256
_PENDING_KEY = "amane_case_notices"


@dataclass(frozen=True, slots=True)
class CaseNotice:
    kind: str  # one of NOTICE_KINDS
    reference: str
    center_ids: tuple[str | None, ...]  # the queues concerned; None is the national queue
    urgent: bool = False

    def concerns(self, center_id: str | None, *, everything: bool = False) -> bool:
        return everything or center_id in self.center_ids

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "reference": self.reference, "urgent": self.urgent}

    def to_json(self) -> str:
        return json.dumps({**self.to_dict(), "center_ids": list(self.center_ids)})

    @classmethod
    def from_json(cls, raw: str | bytes) -> CaseNotice:
        data = json.loads(raw)
        return cls(kind=str(data["kind"]), reference=str(data["reference"]),
                   center_ids=tuple(data.get("center_ids") or ()),
                   urgent=bool(data.get("urgent")))


class CaseSubscription(Protocol):
    async def get(self, timeout: float) -> CaseNotice | None:
        """The next notice, or None after `timeout` seconds without one."""


class CaseNotifier(Protocol):
    def publish(self, notice: CaseNotice) -> None: ...

    def subscribe(self) -> AbstractAsyncContextManager[CaseSubscription]: ...


class _QueueSubscription:
    def __init__(self) -> None:
        self.queue: asyncio.Queue[CaseNotice] = asyncio.Queue(maxsize=SUBSCRIBER_BACKLOG)

    async def get(self, timeout: float) -> CaseNotice | None:
        try:
            return await asyncio.wait_for(self.queue.get(), timeout=timeout)
        except asyncio.TimeoutError:
            return None


class MemoryCaseNotifier:
    """Notices within one process: each subscriber has its own bounded queue; a
    subscriber too slow to keep up loses the oldest notices, never blocks a publisher."""

    def __init__(self) -> None:
        self._subscribers: set[_QueueSubscription] = set()

    def publish(self, notice: CaseNotice) -> None:
        for subscriber in list(self._subscribers):
            if subscriber.queue.full():
                subscriber.queue.get_nowait()
            subscriber.queue.put_nowait(notice)
        logger.debug("case %s: %s notice to %d console(s)", notice.reference, notice.kind,
                     len(self._subscribers))

    @asynccontextmanager
    async def _subscription(self) -> AsyncIterator[CaseSubscription]:
        subscription = _QueueSubscription()
        self._subscribers.add(subscription)
        try:
            yield subscription
        finally:
            self._subscribers.discard(subscription)

    def subscribe(self) -> AbstractAsyncContextManager[CaseSubscription]:
        return self._subscription()

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)


def publish_after_commit(db: AsyncSession, notifier: CaseNotifier,
                         notices: Iterable[CaseNotice]) -> None:
    """Publish `notices` once the session's transaction commits; drop them if it does
    not."""
    sync: Session = db.sync_session
    if not sync.in_transaction():
        sync.begin()  # so that a rollback, even of nothing else, drops the notices
    pending: list[tuple[CaseNotifier, CaseNotice]] | None = sync.info.get(_PENDING_KEY)
    if pending is None:
        pending = sync.info[_PENDING_KEY] = []
        event.listen(sync, "after_commit", _after_commit)
        event.listen(sync, "after_transaction_end", _after_transaction_end)
    pending.extend((notifier, notice) for notice in notices)


def _after_commit(session: Session) -> None:
    pending: list[tuple[CaseNotifier, CaseNotice]] = session.info.get(_PENDING_KEY) or []
    session.info[_PENDING_KEY] = []
    for notifier, notice in pending:
        try:
            notifier.publish(notice)
        except Exception:  # a notice lost must never undo a committed change
            logger.exception("case %s: could not publish a %s notice", notice.reference,
                             notice.kind)


def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None and session.info.get(_PENDING_KEY):
        session.info[_PENDING_KEY] = []  # the outer transaction ended without a commit

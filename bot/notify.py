"""Live notices about cases, for the console's queue (server-sent events).

A notice names a case and the queues it concerns, never her words or her address.
`CaseNotifier` is the seam: `MemoryCaseNotifier` serves one process (the embedded
default, tests); `RedisCaseNotifier` (Redis pub/sub) serves many workers, with the same
contract (tests/test_notify.py). `publish` is synchronous and must not block: it is called from the database
session's after-commit hook (`publish_after_commit`), so a console never hears of a
change it cannot read yet, and never of one that was rolled back.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

logger = logging.getLogger(__name__)

NOTICE_KINDS = ("created", "routed", "urgent", "claimed", "transferred", "escalated",
                "message", "closed", "reopened")
SUBSCRIBER_BACKLOG = 256
_PENDING_KEY = "amane_case_notices"


@dataclass(frozen=True, slots=True)
class CaseNotice:
    kind: str  # one of NOTICE_KINDS
    reference: str
    center_ids: tuple[str | None, ...]  # the queues concerned; None is the national queue
    urgent: bool = False

    def concerns(self, center_id: str | None, *, everything: bool = False) -> bool:
        """Whether a console watching `center_id`'s queue hears it: its own queue's
        notices, and those of urgent cases in no center's queue (every counselor sees
        them until one claims it)."""
        return (everything or center_id in self.center_ids
                or (self.urgent and None in self.center_ids))

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

    async def aclose(self) -> None: ...


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

    async def aclose(self) -> None:
        return None


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


class RedisCaseNotifier:
    """Notices across workers, through Redis pub/sub: every worker's consoles hear of a
    change made on any worker.

    `publish` queues the notice for one publishing task (it must not block); each
    worker holds one subscription to the Redis channel, whatever the number of open
    consoles, and fans what it hears out to them through a `MemoryCaseNotifier` (so a
    slow console loses old notices, never blocks). If Redis goes away, notices sent
    meanwhile are lost (they are hints: a console reloads its queue on the next one,
    and on reconnection); both tasks reconnect by themselves."""

    RECONNECT_DELAY = 0.5

    def __init__(self, redis: Redis, channel: str = "amane:case-notices") -> None:
        self._redis = redis
        self._channel = channel
        self._local = MemoryCaseNotifier()
        self._outgoing: asyncio.Queue[CaseNotice] | None = None
        self._publisher: asyncio.Task[None] | None = None
        self._listener: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()

    def publish(self, notice: CaseNotice) -> None:
        if self._outgoing is None:
            self._outgoing = asyncio.Queue(maxsize=10_000)
            self._publisher = asyncio.get_running_loop().create_task(
                self._publish_forever(self._outgoing), name="case notices to redis")
        if self._outgoing.full():
            logger.warning("case %s: notice dropped, Redis is not keeping up",
                           notice.reference)
            return
        self._outgoing.put_nowait(notice)

    async def _publish_forever(self, queue: asyncio.Queue[CaseNotice]) -> None:
        while True:
            notice = await queue.get()
            try:
                await self._redis.publish(self._channel, notice.to_json())
            except (RedisError, OSError) as exc:
                logger.warning("case %s: %s notice not published (%s)", notice.reference,
                               notice.kind, type(exc).__name__)

    async def _listen_forever(self) -> None:
        while True:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self._channel)
                self._listening.set()
                while True:
                    message = await pubsub.get_message(timeout=1.0)
                    if message is not None and message.get("type") == "message":
                        try:
                            self._local.publish(CaseNotice.from_json(message["data"]))
                        except (ValueError, KeyError, TypeError):
                            logger.warning("an unreadable case notice was ignored")
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                self._listening.clear()
                logger.warning("case notices: Redis subscription lost (%s); reconnecting",
                               type(exc).__name__)
                await asyncio.sleep(self.RECONNECT_DELAY)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    @asynccontextmanager
    async def _subscription(self) -> AsyncIterator[CaseSubscription]:
        if self._listener is None:
            self._listener = asyncio.get_running_loop().create_task(
                self._listen_forever(), name="case notices from redis")
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._listening.wait(), timeout=5.0)
        async with self._local.subscribe() as subscription:
            yield subscription

    def subscribe(self) -> AbstractAsyncContextManager[CaseSubscription]:
        return self._subscription()

    @property
    def subscribers(self) -> int:
        return self._local.subscribers

    async def aclose(self) -> None:
        """Send what is queued (briefly), then stop both tasks."""
        if self._outgoing is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._drain(self._outgoing), timeout=1.0)
        for task in (self._publisher, self._listener):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._publisher = self._listener = None
        self._outgoing = None

    @staticmethod
    async def _drain(queue: asyncio.Queue[CaseNotice]) -> None:
        while not queue.empty():
            await asyncio.sleep(0.01)

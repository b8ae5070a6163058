"""The conversation manager: her messages processed one at a time, in her order, each
under her conversation lock, and a failure of one never the end of her conversation.

What each step does lives in its own module: the inbox stores and reads her messages
(`inbox.py`), a turn answers one of them (`turn.py`), her checkpoint keeps her session
(`checkpoints.py`). Here: the order of her messages, the lock, and the dispatch
boundary (a message that fails is marked failed and she gets a short apology; one that
meets an outage waits, with the ones after it, for the inbox sweep).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.channels.base import BotReply, InboundMessage
from bot.conversation.checkpoints import CheckpointStore
from bot.conversation.inbox import Inbox, StoredMessage
from bot.conversation.set_aside import SettingAside
from bot.conversation.turn import EarlierWaiting, HandleResult, Turn
from bot.flows import engine
from bot.outages import is_outage
from bot.outbox.queue import OutboxQueue
from bot.sessions import ConversationLock, HeldLock, LockBusy
from bot.types import Variety

logger = logging.getLogger(__name__)


class ConversationManager:
    def __init__(self, *, inbox: Inbox,
                 checkpoints: CheckpointStore, locks: ConversationLock, turn: Turn,
                 setting_aside: SettingAside, outbox: OutboxQueue) -> None:
        self._inbox = inbox
        self._checkpoints = checkpoints
        self._locks = locks
        self._turn = turn
        self._setting_aside = setting_aside
        self._outbox = outbox

    def conversation_key(self, channel: str, address: str) -> str:
        return self._inbox.conversation_key(channel, address)

    async def current_session(self, channel: str, address: str) -> engine.Session | None:
        """Her conversation as it stands, if there is one."""
        return await self._checkpoints.current_session(self.conversation_key(channel, address))

    async def variety_of(self, channel: str, address: str) -> Variety | None:
        """The variety of her current conversation, if there is one."""
        session = await self.current_session(channel, address)
        return session.language if session is not None else None

    # --- entry points --------------------------------------------------------------------

    async def accept(self, inbound: InboundMessage) -> StoredMessage | None:
        """Store her message (the inbox) and commit: after this, it may be acknowledged
        to the provider. None for a redelivery of a message already stored."""
        return await self._inbox.store(inbound)

    async def handle(self, inbound: InboundMessage, *, inline: bool,
                     key: str | None = None) -> HandleResult:
        """Store and process one message. `inline`: the replies travel in the webhook's
        answer (simulator, terminal) instead of through the outbox. `key`: her
        conversation's key, if the caller has it."""
        key = key if key is not None else self.conversation_key(inbound.channel,
                                                                inbound.address)
        async with self._locks.hold(key) as held:
            stored = await self._inbox.store(inbound, key=key)
            if stored is None:
                return HandleResult(duplicate=True)
            try:
                result = await self._turn.take(key, stored.message_id, inline=inline,
                                               held=held)
                assert not isinstance(result, EarlierWaiting), "only when in_order"
            except Exception as exc:
                if is_outage(exc):
                    raise  # stored, left for the inbox sweep; the caller says "later"
                # The dispatch boundary: her message is marked failed (never replayed
                # against a later state of her conversation) and she gets an apology.
                logger.exception("inbound message %s failed on %s", stored.message_id,
                                 inbound.channel)
                await self._checkpoints.rewind(key, stored.message_id)
                text = await self._setting_aside.failed(stored.message_id, inline=inline)
                return HandleResult(replies=[BotReply(text)] if text else [])
        if not inline:
            self._outbox.wake()
        return result or HandleResult()

    async def process(self, message_id: int, *, wait: float | None = None,
                      caller_delivers: bool = False, key: str | None = None,
                      channel: str = "") -> HandleResult:
        """Process a stored message, and before it any older one of hers still waiting,
        in order. A message that fails is marked failed and she gets a short apology;
        the next ones are still processed. One that meets an outage (database or Redis
        unreachable) stays waiting, with the ones after it. Replies go through the
        outbox. `wait`: seconds to wait for her conversation lock (0: raise `LockBusy`
        if another worker has it). `caller_delivers`: the caller sends
        `result.claimed` (her replies, claimed as they are queued when nothing else
        waits to go to her) and `result.outbound` itself, so the outbox loop is woken
        only for an apology (else it would race the caller for the same messages, a
        claim in vain each time).
        `key`, `channel`: her conversation's key and channel, when the caller has just
        stored the message: her lock is taken at once, and hers waiting before it are
        looked for only if the read of this one finds one, which saves a statement on
        almost every message."""
        # Hers stored before this one are all committed (`Inbox.store` orders them).
        queue = [message_id]
        if key is None:
            rows = await self._inbox.waiting_up_to(message_id)
            if not rows or rows[-1].id != message_id:
                return HandleResult(duplicate=True)  # processed meanwhile, or gone
            queue = [r.id for r in rows]
            key, channel = rows[-1].address_hash, rows[-1].channel
        async with self._locks.hold(key, wait=wait) as held:
            result, apologised = await self._process_in_order(
                key, queue, held, claim=caller_delivers and self._outbox.postgres,
                channel=channel)
        if apologised or not caller_delivers:
            self._outbox.wake()
        return result

    async def _process_in_order(self, key: str, queue: list[int], held: HeldLock, *,
                                claim: bool, channel: str) -> tuple[HandleResult, bool]:
        """Her waiting messages, in order, her lock held. Returns what they gave and
        whether she was sent an apology."""
        result = HandleResult()
        apologised = False
        while queue:
            waiting_id = queue.pop(0)
            try:
                # Only her last message's replies are claimed as they are queued: an
                # earlier one's would wait, claimed, while the next are read.
                done = await self._turn.take(key, waiting_id, inline=False, held=held,
                                             in_order=True, claim=claim and not queue)
            except Exception as exc:
                if is_outage(exc):
                    # Left as received, with the later ones (her order): the inbox
                    # sweep processes them once the server is back.
                    logger.warning("inbound message %s left for later: %s", waiting_id,
                                   type(exc).__name__)
                    break
                logger.exception("inbound message %s failed on %s", waiting_id, channel)
                await self._checkpoints.rewind(key, waiting_id)
                apologised = await self._setting_aside.failed(waiting_id) is not None or apologised
                continue
            if isinstance(done, EarlierWaiting):
                # An earlier one of hers waits (a worker died, an outage): all of them,
                # in order, this one last.
                queue = [r.id for r in await self._inbox.waiting_up_to(waiting_id)] + queue
            elif done is not None:
                result.replies.extend(done.replies)
                result.language = done.language
                result.outbound.extend(done.outbound)
                result.claimed.extend(done.claimed)
        return result, apologised

    async def process_pending(self, older_than: timedelta = timedelta(0), *,
                              wait: float | None = None) -> int:
        """Process what was stored but not processed (a crash between the
        acknowledgement and the processing, an outage), stored more than `older_than`
        ago. Returns how many such messages there were. Safe with many workers: a
        conversation another worker holds is skipped when `wait` is 0 (it is on it)."""
        count = 0
        for row in await self._inbox.waiting_by_woman(older_than):
            try:
                await self.process(int(row.last_id), wait=wait)
            except LockBusy:
                continue  # another worker is processing her messages
            count += int(row.waiting)
        if count:
            logger.info("%d stored message(s) processed by the inbox sweep", count)
        return count

    async def set_aside(self, message_id: int, *, say_so: bool) -> bool:
        """Over the rate limit: `SettingAside.rate_limited`."""
        return await self._setting_aside.rate_limited(message_id, say_so=say_so)

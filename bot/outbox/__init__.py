"""The outbox: every message to her is written here before it is sent, then sent by
the channel's sender with retries and exponential backoff. A provider that is down
delays messages, never drops them; a permanent failure is recorded on the message
(and so shown on her case).

A message that may not be sent now is held: she sent STOP (until START), or the
channel's free-text window is closed (WhatsApp, 24 hours after her last message), in
which case the channel's approved template is sent once instead. Held messages go
back to the queue when she writes again. Delivery reports (Twilio status callbacks)
move a sent message on to delivered, read, failed or undelivered.

One job a module:

- `queue.py`: writing messages for her (`OutboxQueue`), claimed by the worker that
  queues them or not, and releasing what was held when she writes;
- `claims.py`: the claim protocol (pending -> sending, her messages in order, one
  worker's claim holding her against the others) and what sending a claimed message
  needs;
- `delivery.py`: the delivery worker: claims, sends, retries with backoff, gives up;
- `holding.py`: why a message may not go now, and what is done with it then;
- `reports.py`: the providers' delivery reports, never moving a status back.

`Outbox` below only assembles them, for the runtime and the callers that send at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.base import OutboundSender
from bot.crypto import Cipher
from bot.outbox.claims import Claimed
from bot.outbox.delivery import STALE_SENDING, DeliveryWorker
from bot.outbox.queue import Doorbell, OutboxQueue
from bot.outbox.reports import DeliveryReports
from bot.storage.statements import Statements

__all__ = ["Claimed", "Outbox", "OutboxQueue"]


class Outbox:
    """The outbox as the runtime holds it: `queue` writes, `delivery` sends,
    `reports` records what the providers say. The methods below are the ones callers
    outside the conversation use."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], cipher: Cipher,
                 senders: Mapping[str, OutboundSender], *, statements: Statements,
                 stale_sending: timedelta = STALE_SENDING, concurrency: int = 8) -> None:
        doorbell = Doorbell()
        self.queue = OutboxQueue(cipher, doorbell, postgres=statements.postgres)
        self.delivery = DeliveryWorker(sessionmaker, cipher, senders, self.queue,
                                       statements=statements, doorbell=doorbell,
                                       stale_sending=stale_sending, concurrency=concurrency)
        self.reports = DeliveryReports(statements)

    def add_sender(self, sender: OutboundSender) -> None:
        self.delivery.add_sender(sender)

    async def deliver(self, message_ids: Sequence[int] | None = None, *,
                      limit: int = 100) -> int:
        return await self.delivery.deliver(message_ids, limit=limit)

    async def send_claimed(self, claimed: Sequence[Claimed]) -> int:
        return await self.delivery.send_claimed(claimed)

    async def requeue_stale(self) -> int:
        return await self.delivery.requeue_stale()

    async def run(self, interval: float = 1.0) -> None:
        await self.delivery.run(interval)

    async def record_delivery(self, channels: Sequence[str], provider_message_id: str,
                              reported: str, error_code: str | None = None,
                              message_id: int | None = None) -> bool:
        return await self.reports.record(channels, provider_message_id, reported,
                                         error_code, message_id)

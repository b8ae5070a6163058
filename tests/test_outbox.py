"""The outbox: what happens to a message the sender cannot send."""

from __future__ import annotations

from sqlalchemy import select

from bot.channels.base import InboundMessage, OutboundMessage, SendResult
from bot.runtime import Runtime
from bot.storage.models import Message


class BrokenSender:
    channel = "terminal"
    free_text_window = None

    def __init__(self) -> None:
        self.calls = 0

    async def send(self, message: OutboundMessage) -> SendResult:
        self.calls += 1
        raise KeyError("a bug in a sender")


async def test_a_fault_of_ours_fails_the_message_for_good_instead_of_looping(
        runtime: Runtime) -> None:
    broken = BrokenSender()
    runtime.outbox.add_sender(broken)  # type: ignore[arg-type]
    await runtime.dialogue.handle(InboundMessage(channel="terminal", address="x",
                                                 text="salam", provider_message_id="1"),
                                  inline=False)
    await runtime.outbox.deliver()
    await runtime.outbox.deliver()
    async with runtime.sessionmaker() as db:
        rows = (await db.scalars(select(Message).where(Message.direction == "out"))).all()
    assert rows and all(m.status == "failed" for m in rows)
    assert all(m.last_error == "unexpected error: KeyError" for m in rows)
    assert broken.calls == len(rows)  # one try each, not a loop

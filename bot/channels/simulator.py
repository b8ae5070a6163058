"""The web simulator channel: a JSON webhook for trying Amane with curl or a browser,
and its outbox of what was sent to her later (a counselor's reply)."""

from __future__ import annotations

import re
from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.channels.base import InboundMessage, OutboundMessage, SendResult
from bot.types import Channel

SENDER_PATTERN = r"^[A-Za-z0-9_.:@+\-]{1,64}$"
_SENDER_RE = re.compile(SENDER_PATTERN)
MAX_TEXT = 4096


class SimulatorRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)

    sender: str = Field(description="Any name for the person simulated: 1-64 letters, "
                        "digits or _ . : @ + -", examples=["amina"])
    text: str = Field(description="What she writes (1 to 4,096 characters)",
                      examples=["salam"])

    @field_validator("sender")
    @classmethod
    def _sender(cls, value: str) -> str:
        if not _SENDER_RE.match(value):
            raise ValueError("sender must be 1-64 characters among letters, digits and "
                             "_ . : @ + -")
        return value

    @field_validator("text")
    @classmethod
    def _text(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("text is empty")
        if len(value) > MAX_TEXT:
            raise ValueError(f"text is longer than {MAX_TEXT} characters")
        return value

    def to_inbound(self) -> InboundMessage:
        return InboundMessage(channel="simulator", address=self.sender, text=self.text)


class RecordingSender:
    """For the simulator and the terminal, sending is recording: the simulator's outbox
    endpoint and `run_bot.py chat` read the sent rows from the database."""

    free_text_window: timedelta | None = None

    def __init__(self, channel: Channel) -> None:
        self.channel = channel

    async def send(self, message: OutboundMessage) -> SendResult:
        return SendResult(provider_message_id=None)

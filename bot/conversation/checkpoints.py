"""Session checkpoints: what the session store holds for one conversation, so that a
worker killed between the database commit and the session write cannot leave her
session behind her messages (she would be asked the same question twice).

The turn saves `Checkpoint(applied=m, before=S, after=S')` *before* committing the
processing of her message `m`. Whoever reads it next knows which to use without asking
the database: if `m` is the message about to be processed, the commit did not happen
(it is still waiting), so `before` holds; for any later message, `m` was committed (or
erased), so `after` holds. A session `None` means no conversation (a quick exit).

Checkpoints are encrypted before they reach the store (Redis, or in-process): the store
never holds a word she wrote in clear. They expire after `SESSION_TTL_SECONDS` idle."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from bot.crypto import Cipher, DecryptionError
from bot.flows import engine
from bot.sessions import SessionStore

logger = logging.getLogger(__name__)

SessionData = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Checkpoint:
    applied: int | None = None  # the message whose processing produced `after`
    before: SessionData | None = None
    after: SessionData | None = None

    def session_for(self, message_id: int | None) -> SessionData | None:
        """The session to process `message_id` with (None: the current one)."""
        if message_id is not None and self.applied == message_id:
            return self.before
        return self.after

    def encode(self) -> str:
        return json.dumps({"v": 2, "applied": self.applied, "before": self.before,
                           "after": self.after}, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def decode(cls, text: str) -> Checkpoint:
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("checkpoint: not an object")
        if data.get("v") != 2:
            return cls(after=data)  # a bare session, as written before checkpoints
        applied = data.get("applied")
        return cls(applied=int(applied) if applied is not None else None,
                   before=data.get("before"), after=data.get("after"))


def session_from(key: str, data: SessionData | None) -> engine.Session | None:
    """The engine's session from a checkpoint's data; None if there is none, or if it
    cannot be read (she starts afresh rather than being stuck)."""
    if data is None:
        return None
    try:
        return engine.Session.from_dict(data)
    except (ValueError, KeyError, TypeError, AttributeError):
        logger.warning("session %s unreadable; starting afresh", key[:12])
        return None


class CheckpointStore:
    """Her conversation's checkpoint in the session store, encrypted."""

    def __init__(self, sessions: SessionStore, cipher: Cipher, *, ttl_seconds: int) -> None:
        self._sessions = sessions
        self._cipher = cipher
        self._ttl = ttl_seconds

    async def load(self, key: str) -> Checkpoint:
        raw = await self._sessions.load(key)
        if raw is None:
            return Checkpoint()
        try:
            return Checkpoint.decode(self._cipher.decrypt(raw))
        except (DecryptionError, ValueError, KeyError, TypeError):
            logger.warning("session %s unreadable; starting afresh", key[:12])
            return Checkpoint()

    async def current_session(self, key: str) -> engine.Session | None:
        """Her conversation as it stands, if there is one."""
        return session_from(key, (await self.load(key)).session_for(None))

    async def save(self, key: str, checkpoint: Checkpoint) -> None:
        await self._sessions.save(key, self._cipher.encrypt(checkpoint.encode()), self._ttl)

    async def rewind(self, key: str, message_id: int) -> None:
        """Processing `message_id` failed after its checkpoint was saved: the session
        goes back to what it was before (the message will not be processed again)."""
        checkpoint = await self.load(key)
        if checkpoint.applied == message_id:
            await self.save(key, Checkpoint(after=checkpoint.before))

    async def forget(self, key: str) -> None:
        """Her conversation is over (a quick exit, her erasure): nothing of it stays."""
        await self._sessions.delete(key)

"""Session checkpoints: what the session store holds for one conversation, so that a
worker killed between the database commit and the session write cannot leave her
session behind her messages (she would be asked the same question twice).

The dialogue saves `Checkpoint(applied=m, before=S, after=S')` *before* committing the
processing of her message `m`. Whoever reads it next knows which to use without asking
the database: if `m` is the message about to be processed, the commit did not happen
(it is still waiting), so `before` holds; for any later message, `m` was committed (or
erased), so `after` holds. A session `None` means no conversation (a quick exit)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

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

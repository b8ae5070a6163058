"""`RasaNlu`: intents from a Rasa server, safety always local.

When `RASA_URL` is set, the intent comes from that server's `POST /model/parse`.
Everything safety depends on is still computed here, by the local backend, whatever
the server says or whether it answers at all:

- `urgent` is the local reading (danger lexicon + local models), also true when Rasa
  says `emergency`;
- quick-exit words ("safi", "stop", "بركة") are `quick_exit` even if Rasa disagrees;
- language variety, town and violence types are local.

If the server fails (connection refused, timeout, HTTP error, a response that is
not Rasa's shape), the local intent is used and a warning is logged, without the
message text.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from types import TracebackType
from typing import Any, Final, Self, cast

import httpx

from bot.nlu.intents import FALLBACK_THRESHOLD, is_quick_exit
from bot.nlu.normalize import normalize
from bot.nlu.pipeline import LocalNlu
from bot.nlu.result import NluResult
from bot.nlu.urgency import EMERGENCY_PROBABILITY_THRESHOLD
from bot.types import INTENTS, Intent

__all__ = ["RasaNlu", "RasaResponseError"]

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT: Final = 2.0
# Rasa's own fallback intent, and anything Amane does not know, become out_of_scope.
_RASA_FALLBACK: Final = "nlu_fallback"


class RasaResponseError(ValueError):
    """The server answered, but not with Rasa's /model/parse shape."""


def _read_rasa(payload: Any) -> tuple[Intent, float, tuple[tuple[Intent, float], ...]]:
    if not isinstance(payload, dict) or not isinstance(payload.get("intent"), dict):
        raise RasaResponseError("no 'intent' object")
    raw_intent = payload["intent"]
    name = raw_intent.get("name")
    confidence = raw_intent.get("confidence")
    if not isinstance(confidence, int | float):
        raise RasaResponseError("intent confidence is not a number")
    ranking: list[tuple[Intent, float]] = []
    for item in payload.get("intent_ranking") or []:
        if isinstance(item, dict) and item.get("name") in INTENTS:
            score = item.get("confidence")
            if isinstance(score, int | float):
                ranking.append((cast(Intent, item["name"]), float(score)))
    if name in INTENTS:
        intent = cast(Intent, name)
    elif name == _RASA_FALLBACK or name is None:
        intent = "out_of_scope"
    else:
        logger.warning("rasa returned an intent Amane does not know; using out_of_scope")
        intent = "out_of_scope"
    return intent, float(confidence), tuple(ranking)


class RasaNlu:
    """NluBackend that asks a Rasa server for the intent (see the module docstring).

    `local` is the backend used for safety and as the fallback; build it once and
    share it. Use as an async context manager, or call `aclose()`, to close the
    HTTP client this backend creates (a client passed in is left open)."""

    def __init__(
        self,
        url: str,
        *,
        local: LocalNlu | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        token: str | None = None,
        client: httpx.AsyncClient | None = None,
        fallback_threshold: float = FALLBACK_THRESHOLD,
    ) -> None:
        self._endpoint = url.rstrip("/") + "/model/parse"
        self._local = local if local is not None else LocalNlu()
        self._params = {"token": token} if token else None
        self._owns_client = client is None
        self._client = client if client is not None else httpx.AsyncClient(timeout=timeout)
        self._threshold = fallback_threshold

    @property
    def local(self) -> LocalNlu:
        return self._local

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def parse(self, text: str, *, expecting: str | None = None) -> NluResult:
        local = self._local.parse_sync(text, expecting=expecting)
        try:
            response = await self._client.post(
                self._endpoint, json={"text": text}, params=self._params
            )
            response.raise_for_status()
            intent, confidence, ranking = _read_rasa(response.json())
        except (httpx.HTTPError, ValueError) as exc:  # JSON errors are ValueErrors
            logger.warning(
                "rasa /model/parse failed (%s); using the local intent", type(exc).__name__
            )
            return local
        if confidence < self._threshold:
            intent = "out_of_scope"
        if is_quick_exit(normalize(text)):
            intent, confidence = "quick_exit", 1.0
        rasa_says_emergency = intent == "emergency" or any(
            name == "emergency" and score >= EMERGENCY_PROBABILITY_THRESHOLD
            for name, score in ranking
        )
        return replace(
            local,
            intent=intent,
            confidence=round(confidence, 4),
            intent_ranking=ranking or ((intent, round(confidence, 4)),),
            urgent=local.urgent or rasa_says_emergency,
        )

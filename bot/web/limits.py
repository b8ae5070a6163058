"""Rate limits at the edge of the web app. Over the limit the simulator and the API
answer 429 with a polite text and Retry-After; provider webhooks (which must not be
made to retry) handle their own per-sender limit and answer 200."""

from __future__ import annotations

from fastapi import HTTPException, Request

from bot.ratelimit import SLOW_DOWN, Limit, Verdict, sender_verdict
from bot.runtime import Runtime
from bot.types import DEFAULT_VARIETY, Variety


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def check_ip(request: Request, runtime: Runtime, *, scope: str = "ip",
                   per_minute: int | None = None) -> None:
    limit = Limit(per_minute or runtime.settings.rate_limit_ip_per_minute, 60)
    verdict = await runtime.rate_limiter.hit(f"{scope}:{client_ip(request)}", limit)
    if not verdict.allowed:
        raise HTTPException(429, SLOW_DOWN["fr"], headers={"Retry-After": str(verdict.retry_after)})


async def check_sender(runtime: Runtime, key: str) -> Verdict:
    """The per-sender limit for her conversation's key (`conversation_key`)."""
    return await sender_verdict(runtime.rate_limiter, key,
                                runtime.settings.rate_limit_sender_per_minute)


def slow_down_text(variety: Variety | None) -> str:
    return SLOW_DOWN[variety or DEFAULT_VARIETY]

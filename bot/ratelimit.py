"""Rate limits per sender and per IP address: fixed windows counted in memory or in
Redis (shared by every worker). Over the limit, Amane answers politely; it never drops
her silently."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis

from bot.types import Variety


@dataclass(frozen=True, slots=True)
class Limit:
    count: int
    seconds: int


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    first_refusal: bool  # the first refusal in this window: say so, once
    retry_after: int


class RateLimiter(Protocol):
    async def hit(self, key: str, limit: Limit) -> Verdict: ...


class MemoryRateLimiter:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._windows: dict[str, tuple[int, int]] = {}

    async def hit(self, key: str, limit: Limit) -> Verdict:
        now = self._clock()
        window = int(now // limit.seconds)
        start, count = self._windows.get(key, (window, 0))
        if start != window:
            start, count = window, 0
        count += 1
        self._windows[key] = (start, count)
        if len(self._windows) > 100_000:
            self._windows = {k: v for k, v in self._windows.items() if v[0] == window}
        retry_after = int((window + 1) * limit.seconds - now) + 1
        return Verdict(count <= limit.count, count == limit.count + 1, retry_after)


# One hit: the window's count, and the window's key expiring after it; one command, run
# atomically by Redis (a MULTI/EXEC pipeline costs the client a third more CPU).
_HIT = """
local count = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[1])
return count
"""


class RedisRateLimiter:
    def __init__(self, redis: Redis, prefix: str = "amane:rate:",
                 clock: Callable[[], float] = time.time) -> None:
        self._prefix = prefix
        self._clock = clock
        # EVALSHA; loaded again by redis-py if Redis has forgotten it (a restart).
        self._hit = redis.register_script(_HIT)

    async def hit(self, key: str, limit: Limit) -> Verdict:
        now = self._clock()
        window = int(now // limit.seconds)
        redis_key = f"{self._prefix}{key}:{window}"
        count = await self._hit(keys=[redis_key], args=[limit.seconds + 1])
        retry_after = int((window + 1) * limit.seconds - now) + 1
        return Verdict(int(count) <= limit.count, int(count) == limit.count + 1, retry_after)


async def sender_verdict(limiter: RateLimiter, address_hash: str, per_minute: int) -> Verdict:
    """One more message from the sender whose keyed address hash this is: the same key
    on every channel's path (simulator, webhooks)."""
    return await limiter.hit(f"sender:{address_hash}", Limit(per_minute, 60))


SLOW_DOWN: dict[Variety, str] = {
    "ary": "كتبتي بزاف ف وقت قصير. تسناي دقيقة وعاودي كتبي.",
    "ary_latn": "Ktbti bzaf f w9t 9sir. Tsnay d9i9a o 3awdi ktbi.",
    "ar": "أرسلت رسائل كثيرة في وقت قصير. انتظري دقيقة ثم اكتبي من جديد.",
    "fr": "Vous avez écrit beaucoup en peu de temps. Attendez une minute, puis réécrivez.",
}

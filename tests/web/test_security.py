"""Security headers and rate limits at the edge."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from bot.ratelimit import SLOW_DOWN, Limit, MemoryRateLimiter, RedisRateLimiter
from bot.runtime import Runtime
from tests.conftest import TEST_REDIS_URL


async def test_security_headers_on_every_answer(client: httpx.AsyncClient) -> None:
    for response in (await client.get("/healthz"),
                     await client.post("/webhooks/simulator", json={}),
                     await client.get("/api/v1/cases")):
        headers = response.headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert "script-src 'self'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["x-frame-options"] == "DENY"
        assert headers["cache-control"] == "no-store"


async def test_no_page_loads_code_from_elsewhere(client: httpx.AsyncClient) -> None:
    assert (await client.get("/docs")).status_code == 404
    assert (await client.get("/openapi.json")).status_code == 200


async def test_a_sender_writing_too_fast_gets_a_polite_429(
        settings_factory: Any, database_url: str, nlu_cache_dir: Any) -> None:
    from bot.runtime import build_runtime
    from bot.web.app import create_app

    runtime = build_runtime(settings_factory(database_url=database_url,
                                             nlu_cache_dir=nlu_cache_dir,
                                             rate_limit_sender_per_minute=3))
    app = create_app(runtime, background=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://t") as client:
        for text in ("bonjour", "oui", "oui"):
            ok = await client.post("/webhooks/simulator", json={"sender": "a", "text": text})
            assert ok.status_code == 200
        over = await client.post("/webhooks/simulator", json={"sender": "a", "text": "1"})
        assert over.status_code == 429
        assert over.json()["replies"][0]["text"] == SLOW_DOWN["fr"]
        assert int(over.headers["retry-after"]) >= 1
        # Another woman is not affected.
        other = await client.post("/webhooks/simulator", json={"sender": "b", "text": "salam"})
        assert other.status_code == 200
    await runtime.close()


async def test_login_attempts_per_ip_are_limited(settings_factory: Any, database_url: str,
                                                 nlu_cache_dir: Any) -> None:
    from bot.runtime import build_runtime
    from bot.web.app import create_app

    from bot.ratelimit import MemoryRateLimiter

    runtime = build_runtime(settings_factory(database_url=database_url,
                                             nlu_cache_dir=nlu_cache_dir,
                                             rate_limit_login_per_minute=2))
    # One window for the three attempts, whatever the clock (a minute may turn between
    # them on a slow machine).
    runtime.rate_limiter = MemoryRateLimiter(clock=lambda: 120.0)
    app = create_app(runtime, background=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://t") as client:
        body = {"username": "x", "password": "y"}
        assert (await client.post("/api/v1/auth/token", json=body)).status_code == 401
        assert (await client.post("/api/v1/auth/token", json=body)).status_code == 401
        over = await client.post("/api/v1/auth/token", json=body)
        assert over.status_code == 429 and "Retry-After" in over.headers
    await runtime.close()


class Clock:
    def __init__(self) -> None:
        self.now = 120.0

    def __call__(self) -> float:
        return self.now


def _limiters() -> list[Any]:
    return [pytest.param("memory", id="memory"),
            pytest.param("redis", id="redis", marks=[pytest.mark.redis, pytest.mark.skipif(
                not TEST_REDIS_URL, reason="TEST_REDIS_URL is not set")])]


@pytest.mark.parametrize("kind", _limiters())
async def test_rate_limiter_contract(kind: str) -> None:
    clock = Clock()
    redis = None
    if kind == "memory":
        limiter: Any = MemoryRateLimiter(clock=clock)
    else:
        from redis.asyncio import Redis

        redis = Redis.from_url(TEST_REDIS_URL)
        await redis.flushdb()
        limiter = RedisRateLimiter(redis, prefix="test:rate:", clock=clock)
    limit = Limit(2, 60)
    verdicts = [await limiter.hit("k", limit) for _ in range(4)]
    assert [v.allowed for v in verdicts] == [True, True, False, False]
    assert [v.first_refusal for v in verdicts] == [False, False, True, False]
    assert (await limiter.hit("other", limit)).allowed
    clock.now += 60
    assert (await limiter.hit("k", limit)).allowed
    if redis is not None:
        # Every window's count goes by itself; a Redis that forgot the script (a
        # restart) still counts.
        keys = await redis.keys("test:rate:*")
        ttls = [await redis.ttl(k) for k in keys]
        assert len(ttls) == 3 and all(0 < ttl <= 61 for ttl in ttls)
        await redis.script_flush()
        assert not (await limiter.hit("k", Limit(1, 60))).allowed  # its second
        await redis.flushdb()
        await redis.aclose()


async def test_runtime_uses_redis_limiter_when_redis_is_set(runtime: Runtime) -> None:
    expected = RedisRateLimiter if runtime.settings.redis_url else MemoryRateLimiter
    assert isinstance(runtime.rate_limiter, expected)

"""Conversation sessions: a small store protocol, in-process and Redis.

Sessions are opaque bytes here (the dialogue manager encrypts them before saving), keyed
by the keyed hash of her address: Redis never holds a phone number, a name or a word
she wrote in clear. Every session expires after `ttl_seconds` of inactivity.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from pathlib import Path

from redis.asyncio import Redis

logger = logging.getLogger(__name__)


class SessionStore(Protocol):
    async def load(self, key: str) -> bytes | None: ...

    async def save(self, key: str, data: bytes, ttl_seconds: int) -> None: ...

    async def delete(self, key: str) -> None: ...

    async def close(self) -> None: ...


class MemorySessionStore:
    """In-process store for the embedded default and fast tests.

    With a `snapshot` path, sessions survive a clean restart: they are written there
    (already encrypted, mode 0600) when the store closes and read back when it opens.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 snapshot: Path | None = None, wall_clock: Callable[[], float] = time.time
                 ) -> None:
        self._clock = clock
        self._wall_clock = wall_clock
        self._items: dict[str, tuple[float, bytes]] = {}
        self._snapshot = snapshot
        if snapshot is not None:
            self._restore(snapshot)

    def _restore(self, path: Path) -> None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return
        except (OSError, ValueError):
            logger.warning("session snapshot %s unreadable; starting with no sessions", path)
            return
        finally:
            path.unlink(missing_ok=True)
        offset = self._clock() - self._wall_clock()
        for key, (expires_wall, blob) in data.items():
            expires = float(expires_wall) + offset
            if expires > self._clock():
                self._items[str(key)] = (expires, base64.b64decode(blob))

    def _write_snapshot(self, path: Path) -> None:
        offset = self._wall_clock() - self._clock()
        now = self._clock()
        data = {key: [expires + offset, base64.b64encode(blob).decode("ascii")]
                for key, (expires, blob) in self._items.items() if expires > now}
        if not data:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle)

    async def load(self, key: str) -> bytes | None:
        item = self._items.get(key)
        if item is None:
            return None
        expires_at, data = item
        if self._clock() >= expires_at:
            del self._items[key]
            return None
        return data

    async def save(self, key: str, data: bytes, ttl_seconds: int) -> None:
        if ttl_seconds <= 0:
            raise ValueError("ttl_seconds must be positive")
        self._items[key] = (self._clock() + ttl_seconds, data)
        if len(self._items) % 1024 == 0:
            self._sweep()

    async def delete(self, key: str) -> None:
        self._items.pop(key, None)

    async def close(self) -> None:
        if self._snapshot is not None:
            self._write_snapshot(self._snapshot)
        self._items.clear()

    def _sweep(self) -> None:
        now = self._clock()
        for key in [k for k, (exp, _) in self._items.items() if exp <= now]:
            del self._items[key]


class RedisSessionStore:
    """Sessions in Redis with a TTL and a key prefix, shared by every worker."""

    def __init__(self, redis: Redis, prefix: str = "amane:session:") -> None:
        self._redis = redis
        self._prefix = prefix

    async def load(self, key: str) -> bytes | None:
        value = await self._redis.get(self._prefix + key)
        return None if value is None else bytes(value)

    async def save(self, key: str, data: bytes, ttl_seconds: int) -> None:
        if ttl_seconds <= 0:
            raise ValueError("ttl_seconds must be positive")
        await self._redis.set(self._prefix + key, data, ex=ttl_seconds)

    async def delete(self, key: str) -> None:
        await self._redis.delete(self._prefix + key)

    async def close(self) -> None:
        await self._redis.aclose()


class ConversationLock(Protocol):
    """Serialises the processing of one woman's messages."""

    def hold(self, key: str) -> AbstractAsyncContextManager[None]: ...


class MemoryConversationLock:
    """One asyncio lock per conversation, dropped when nobody waits on it."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: dict[str, int] = {}

    def hold(self, key: str) -> AbstractAsyncContextManager[None]:
        return _MemoryHeld(self, key)


class _MemoryHeld(AbstractAsyncContextManager[None]):
    def __init__(self, owner: MemoryConversationLock, key: str) -> None:
        self._owner = owner
        self._key = key

    async def __aenter__(self) -> None:
        owner = self._owner
        lock = owner._locks.setdefault(self._key, asyncio.Lock())
        owner._users[self._key] = owner._users.get(self._key, 0) + 1
        try:
            await lock.acquire()
        except BaseException:
            self._release_user()
            raise

    async def __aexit__(self, *exc: object) -> None:  # type: ignore[override]
        self._owner._locks[self._key].release()
        self._release_user()

    def _release_user(self) -> None:
        owner = self._owner
        owner._users[self._key] -= 1
        if owner._users[self._key] == 0:
            del owner._users[self._key]
            del owner._locks[self._key]


class RedisConversationLock:
    """A Redis lock per conversation, so that any worker can take any message and one
    woman's messages are still processed one at a time."""

    def __init__(self, redis: Redis, prefix: str = "amane:lock:", timeout: float = 30.0,
                 wait: float = 30.0) -> None:
        self._redis = redis
        self._prefix = prefix
        self._timeout = timeout
        self._wait = wait

    def hold(self, key: str) -> AbstractAsyncContextManager[None]:
        return _RedisHeld(self._redis.lock(self._prefix + key, timeout=self._timeout,
                                           blocking_timeout=self._wait))


class _RedisHeld(AbstractAsyncContextManager[None]):
    def __init__(self, lock: object) -> None:
        self._lock = lock

    async def __aenter__(self) -> None:
        acquired = await self._lock.acquire()  # type: ignore[attr-defined]
        if not acquired:
            raise TimeoutError("conversation lock not acquired in time")

    async def __aexit__(self, *exc: object) -> None:  # type: ignore[override]
        await self._lock.release()  # type: ignore[attr-defined]

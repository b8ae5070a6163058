"""Conversation sessions: a small store protocol, in-process and Redis.

Sessions are opaque bytes here (the conversation's checkpoints are encrypted before they are saved), keyed
by the keyed hash of her address: Redis never holds a phone number, a name or a word
she wrote in clear. Every session expires after `ttl_seconds` of inactivity.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import os
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Protocol

from redis.asyncio import Redis
from redis.asyncio.lock import Lock as RedisLock
from redis.exceptions import LockError, LockNotOwnedError, RedisError

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


class LockBusy(TimeoutError):
    """Another task or worker holds her conversation (and we did not wait long enough)."""


class LockLost(Exception):
    """The conversation lock expired while held (Redis unreachable for longer than its
    timeout): another worker may hold it now, so the work in hand must not be committed."""


class HeldLock(Protocol):
    def ensure(self) -> None:
        """Raise `LockLost` unless the lock is surely still ours."""


class ConversationLock(Protocol):
    """Serialises the processing of one woman's messages. `wait`: seconds to wait for
    it (0: do not wait, raise `LockBusy` at once; None: the lock's default)."""

    def hold(self, key: str, *, wait: float | None = None
             ) -> AbstractAsyncContextManager[HeldLock]: ...


class _AlwaysHeld:
    def ensure(self) -> None:
        return None


class MemoryConversationLock:
    """One asyncio lock per conversation, dropped when nobody waits on it."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: dict[str, int] = {}

    def hold(self, key: str, *, wait: float | None = None
             ) -> AbstractAsyncContextManager[HeldLock]:
        return _MemoryHeld(self, key, wait)


class _MemoryHeld(AbstractAsyncContextManager[HeldLock]):
    def __init__(self, owner: MemoryConversationLock, key: str, wait: float | None) -> None:
        self._owner = owner
        self._key = key
        self._wait = wait

    async def __aenter__(self) -> HeldLock:
        owner = self._owner
        lock = owner._locks.setdefault(self._key, asyncio.Lock())
        if self._wait is not None and self._wait <= 0 and lock.locked():
            if not owner._users.get(self._key):
                del owner._locks[self._key]
            raise LockBusy("conversation busy")
        owner._users[self._key] = owner._users.get(self._key, 0) + 1
        try:
            if self._wait is None:
                await lock.acquire()
            else:
                await asyncio.wait_for(lock.acquire(), timeout=max(self._wait, 0.001))
        except asyncio.TimeoutError:
            self._release_user()
            raise LockBusy("conversation lock not acquired in time") from None
        except BaseException:
            self._release_user()
            raise
        return _AlwaysHeld()

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
    woman's messages are still processed one at a time, across workers.

    The lock expires `timeout` seconds after it was last renewed, so that a worker that
    dies (SIGKILL, power) does not block her for long; while held, a watchdog renews it
    every `timeout / 3` seconds, however long the work takes. If it cannot be renewed
    (Redis unreachable past the expiry, or the key gone after a Redis restart), the
    holder learns it from `ensure()` before committing and gives up its work; the
    database's conditional update of her message (`bot.conversation.inbox`, the fence) stops a second
    commit in any case."""

    def __init__(self, redis: Redis, prefix: str = "amane:lock:", timeout: float = 10.0,
                 wait: float = 30.0, poll: float = 0.02) -> None:
        if wait <= timeout:
            wait = timeout * 1.5  # long enough to outlast a dead holder's lock
        self._redis = redis
        self._prefix = prefix
        self._timeout = timeout
        self._wait = wait
        self._poll = poll

    def hold(self, key: str, *, wait: float | None = None
             ) -> AbstractAsyncContextManager[HeldLock]:
        lock = self._redis.lock(self._prefix + key, timeout=self._timeout, sleep=self._poll,
                                thread_local=False)
        return _RedisHeld(lock, self._timeout, self._wait if wait is None else wait)


class _RedisHeld(AbstractAsyncContextManager[HeldLock]):
    # Renewals are trusted until this long before the computed expiry, for clock skew
    # between this process and Redis and the time a commit takes.
    MARGIN = 0.25

    def __init__(self, lock: RedisLock, timeout: float, wait: float) -> None:
        self._lock = lock
        self._timeout = timeout
        self._wait = wait
        self._expires = 0.0
        self._lost = False
        self._watchdog: asyncio.Task[None] | None = None

    async def __aenter__(self) -> HeldLock:
        deadline = time.monotonic() + self._wait
        while True:
            attempt = time.monotonic()
            if await self._lock.acquire(blocking=False):
                break
            if attempt >= deadline:
                raise LockBusy("conversation lock not acquired in time")
            await asyncio.sleep(self._lock.sleep)
        # Counted from before the successful request: the lock cannot outlive this.
        self._expires = attempt + self._timeout
        self._watchdog = asyncio.create_task(self._renew(), name="conversation lock renewal")
        return self

    def ensure(self) -> None:
        if self._lost or time.monotonic() >= self._expires - self._timeout * self.MARGIN:
            self._lost = True
            raise LockLost("conversation lock expired while held")

    async def _renew(self) -> None:
        while True:
            await asyncio.sleep(self._timeout / 3)
            started = time.monotonic()
            try:
                await self._lock.reacquire()
            except LockNotOwnedError:
                self._lost = True
                logger.warning("conversation lock lost (expired or Redis restarted)")
                return
            except (RedisError, OSError):
                if time.monotonic() >= self._expires:
                    self._lost = True
                    return
                continue  # Redis hiccup: try again before the lock expires
            self._expires = started + self._timeout

    async def __aexit__(self, *exc: object) -> None:  # type: ignore[override]
        if self._watchdog is not None:
            self._watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watchdog
        if self._lost:
            return  # not ours any more: releasing could free another worker's lock
        try:
            await self._lock.release()
        except LockError:
            pass  # expired meanwhile
        except (RedisError, OSError) as exc:
            # It expires by itself within the timeout.
            logger.warning("conversation lock not released (%s)", type(exc).__name__)

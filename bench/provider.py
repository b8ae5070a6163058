"""A fake Twilio Messages API in the caller's event loop, for the benchmark and the
fault tests: it records what Amane sends to each woman (and when), can answer 500 for
a while (an outage), and posts signed status callbacks as Twilio does."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import defaultdict
from typing import Any

import aiohttp
from aiohttp import web
from twilio.request_validator import RequestValidator

from bench.servers import free_port


class FakeTwilioProvider:
    def __init__(self, auth_token: str, *, status_callbacks: bool = True) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.failing = False  # answer 500 to every send while True
        self.refused = 0  # how many sends were answered 500
        self.received: dict[str, list[tuple[float, str]]] = defaultdict(list)
        self._arrived: dict[str, asyncio.Event] = defaultdict(asyncio.Event)
        self._validator = RequestValidator(auth_token)
        self._status_callbacks = status_callbacks
        self._sids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._client: aiohttp.ClientSession | None = None
        self._callbacks: set[asyncio.Task[None]] = set()

    async def start(self) -> FakeTwilioProvider:
        app = web.Application()
        app.router.add_post("/2010-04-01/Accounts/{account}/Messages.json", self._create)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port, backlog=1024).start()
        self._client = aiohttp.ClientSession()
        return self

    async def stop(self) -> None:
        for task in list(self._callbacks):
            task.cancel()
        if self._client is not None:
            await self._client.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def texts(self, to: str) -> list[str]:
        return [text for _, text in self.received[to]]

    async def wait_for(self, to: str, count: int, timeout: float) -> float | None:
        """When the `count`-th message to `to` arrived (None: not within `timeout`)."""
        deadline = time.monotonic() + timeout
        while len(self.received[to]) < count:
            event = self._arrived[to]
            event.clear()
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                await asyncio.wait_for(event.wait(), timeout=left)
            except asyncio.TimeoutError:
                return None
        return self.received[to][count - 1][0]

    async def _create(self, request: web.Request) -> web.Response:
        params = {k: str(v) for k, v in (await request.post()).items()}
        if self.failing:
            self.refused += 1
            return web.json_response({"code": 20500, "message": "Internal Server Error",
                                      "status": 500}, status=500)
        to = params.get("To", "")
        self.received[to].append((time.monotonic(), params.get("Body", "")))
        self._arrived[to].set()
        sid = f"SM{next(self._sids):032x}"
        callback = params.get("StatusCallback")
        if callback and self._status_callbacks:
            task = asyncio.get_running_loop().create_task(self._report(callback, sid))
            self._callbacks.add(task)
            task.add_done_callback(self._callbacks.discard)
        return web.json_response({"sid": sid, "status": "queued", "to": to,
                                  "body": params.get("Body", ""), "error_code": None,
                                  "account_sid": request.match_info["account"]}, status=201)

    async def _report(self, url: str, sid: str) -> None:
        params = {"MessageSid": sid, "MessageStatus": "sent"}
        headers = {"X-Twilio-Signature": self._validator.compute_signature(url, params)}
        for _ in range(5):
            try:
                assert self._client is not None
                async with self._client.post(url, data=params, headers=headers) as response:
                    if response.status < 500:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(1.0)


def signed_form(auth_token: str, url: str, params: dict[str, str]) -> dict[str, Any]:
    return {"X-Twilio-Signature": RequestValidator(auth_token).compute_signature(url, params),
            "content-type": "application/x-www-form-urlencoded"}

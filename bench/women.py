"""Simulated women doing the whole intake by SMS through the signed Twilio webhook, as
Twilio would deliver her messages (and redeliver them, same MessageSid, when Amane
answers 5xx or cannot be reached)."""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

import aiohttp

from bench.provider import FakeTwilioProvider, signed_form

# She greets, says it is safe, consents, needs legal help, in Tiznit (confirmed), is
# best reached ... , and says a few words: the case is created (tests/channels).
INTAKE = ("salam", "1", "1", "2", "tiznit", "1", "2", "douzi")
AMANE_NUMBER = "+212500000001"
ACCOUNT_SID = "AC" + "0" * 32
_sids = itertools.count(1)


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)  # seconds, per message
    errors: list[str] = field(default_factory=list)
    messages: int = 0


class SmsWoman:
    def __init__(self, number: str, http: aiohttp.ClientSession, base_url: str,
                 public_url: str, auth_token: str, provider: FakeTwilioProvider) -> None:
        self.number = number
        self._http = http
        self._base = base_url
        self._public = public_url
        self._token = auth_token
        self._provider = provider

    def _params(self, text: str, sid: str) -> dict[str, str]:
        return {"ToCountry": "MA", "SmsMessageSid": sid, "NumMedia": "0", "SmsSid": sid,
                "SmsStatus": "received", "Body": text, "FromCountry": "MA",
                "To": AMANE_NUMBER, "NumSegments": "1", "MessageSid": sid,
                "AccountSid": ACCOUNT_SID, "From": self.number, "ApiVersion": "2010-04-01"}

    async def send(self, text: str, *, retry_for: float = 0.0) -> int:
        """Post one message; while Amane answers 5xx or is unreachable, post it again
        (the same MessageSid) for up to `retry_for` seconds. Returns the last status."""
        sid = f"SM{next(_sids):032x}"
        params = self._params(text, sid)
        path = "/webhooks/twilio"
        headers = signed_form(self._token, self._public + path, params)
        deadline = time.monotonic() + retry_for
        while True:
            try:
                async with self._http.post(self._base + path, data=urlencode(params),
                                           headers=headers) as response:
                    await response.read()
                    status = response.status
            except (aiohttp.ClientError, asyncio.TimeoutError):
                status = 0  # could not connect: as Twilio, try again
            if (status == 200 or (status and status < 500)
                    or time.monotonic() >= deadline):
                return status
            await asyncio.sleep(0.5)

    async def intake(self, expected: list[int], result: Result, *, timeout: float = 30.0,
                     retry_for: float = 0.0) -> None:
        """The whole intake; `expected[i]`: how many messages she has received once
        step i is answered. Latency: from posting her message to the last reply."""
        for text, count in zip(INTAKE, expected, strict=True):
            started = time.monotonic()
            status = await self.send(text, retry_for=retry_for)
            result.messages += 1
            if status != 200:
                result.errors.append(f"HTTP {status}")
                return
            arrived = await self._provider.wait_for(self.number, count, timeout)
            if arrived is None:
                result.errors.append(f"no reply to step {INTAKE.index(text) + 1}")
                return
            result.latencies.append(max(arrived - started, 0.0))


async def calibrate(http: aiohttp.ClientSession, base_url: str, public_url: str,
                    auth_token: str, provider: FakeTwilioProvider) -> tuple[list[int],
                                                                            list[str]]:
    """One woman's intake alone: how many replies each step brings, and what she reads
    (the reference for 'nothing lost, nothing twice' in the fault tests)."""
    woman = SmsWoman("+212699999999", http, base_url, public_url, auth_token, provider)
    expected: list[int] = []
    for text in INTAKE:
        before = len(provider.received[woman.number])
        assert await woman.send(text) == 200
        if await provider.wait_for(woman.number, before + 1, 30.0) is None:
            raise RuntimeError(f"calibration: no reply to step {INTAKE.index(text) + 1}")
        # The replies to one message go out one after the other: wait for quiet (a
        # reply late past it would be counted with the next step; the total is right).
        await _quiet(provider, woman.number, 0.5)
        expected.append(len(provider.received[woman.number]))
    # Her whole transcript is the reference: nothing may still be on its way.
    await _quiet(provider, woman.number, 2.0)
    expected[-1] = len(provider.received[woman.number])
    return expected, provider.texts(woman.number)


async def _quiet(provider: FakeTwilioProvider, number: str, seconds: float,
                 within: float = 60.0) -> None:
    """Until no message has reached `number` for `seconds` (at most `within`)."""
    deadline = time.monotonic() + within
    while True:
        seen = len(provider.received[number])
        await asyncio.sleep(seconds)
        if len(provider.received[number]) == seen:
            return
        if time.monotonic() >= deadline:
            raise RuntimeError(f"calibration: replies still coming after {within:g} s")

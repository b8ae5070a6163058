"""Local fake servers at the network boundary: a fake Telegram Bot API and a fake Twilio
REST API, on 127.0.0.1 with a random port, each in its own thread, recording every
request. The real python-telegram-bot and twilio clients talk to them."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

DATA = Path(__file__).resolve().parent.parent / "data"


@dataclass
class Call:
    method: str  # Bot API method, or "Messages" for Twilio
    params: dict[str, Any]
    headers: dict[str, str]
    status: int = 200  # what the fake answered


class FakeServer:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._failures: dict[str, deque[tuple[int, dict[str, Any]]]] = defaultdict(deque)
        self._loop = asyncio.new_event_loop()
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self.url = ""

    # --- what tests use --------------------------------------------------------------

    def fail_next(self, method: str, status: int, body: dict[str, Any], times: int = 1) -> None:
        for _ in range(times):
            self._failures[method].append((status, body))

    def calls_to(self, method: str, *, answered: bool = False) -> list[Call]:
        """Calls to `method`; `answered`: only those that succeeded."""
        return [c for c in self.calls if c.method == method
                and (not answered or c.status < 300)]

    # --- lifecycle ------------------------------------------------------------------

    def app(self) -> web.Application:
        raise NotImplementedError

    def start(self) -> str:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(self._loop)

            async def serve() -> None:
                self._runner = web.AppRunner(self.app(), access_log=None)
                await self._runner.setup()
                await web.SockSite(self._runner, sock).start()
                ready.set()

            self._loop.run_until_complete(serve())
            self._loop.run_forever()
            self._loop.run_until_complete(self._runner.cleanup())  # type: ignore[union-attr]
            self._loop.close()
            sock.close()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("fake server did not start")
        return self.url

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    def _failure(self, method: str) -> web.Response | None:
        queue = self._failures.get(method)
        if queue:
            status, body = queue.popleft()
            self.calls[-1].status = status
            return web.json_response(body, status=status)
        return None


def _decode(value: str) -> Any:
    if value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


class FakeTelegram(FakeServer):
    """Answers the Bot API methods Amane uses; `getUpdates` serves `queue_update`'d
    updates until an offset confirms them, as Telegram does."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token
        self.files: dict[str, bytes] = {}  # file_id -> content (getFile, then the file)
        self._updates: list[dict[str, Any]] = []
        self._message_id = 1000

    def queue_update(self, update: dict[str, Any]) -> None:
        self._loop.call_soon_threadsafe(self._updates.append, update)

    def sent_messages(self) -> list[dict[str, Any]]:
        return [c.params for c in self.calls_to("sendMessage", answered=True)]

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        return app

    async def _file(self, request: web.Request) -> web.Response:
        self.calls.append(Call("file", {"path": request.match_info["path"]},
                               dict(request.headers)))
        content = self.files.get(request.match_info["path"].rsplit("/", 1)[-1])
        if request.match_info["token"] != self.token or content is None:
            return web.Response(status=404)
        return web.Response(body=content, content_type="application/octet-stream")

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401,
                                      "description": "Unauthorized"}, status=401)
        method = request.match_info["method"]
        if request.content_type == "application/json":
            params = await request.json()
        else:
            params = {k: _decode(str(v)) for k, v in (await request.post()).items()}
        self.calls.append(Call(method, params, dict(request.headers)))
        failure = self._failure(method)
        if failure is not None:
            return failure
        if method == "getMe":
            result: Any = {"id": 7000001, "is_bot": True, "first_name": "Assistant",
                           "username": "assistant_test_bot"}
        elif method == "sendMessage":
            self._message_id += 1
            result = {"message_id": self._message_id, "date": int(time.time()),
                      "chat": {"id": int(params["chat_id"]), "type": "private"},
                      "text": params.get("text", "")}
        elif method == "getFile":
            file_id = str(params["file_id"])
            if file_id not in self.files:
                return web.json_response({"ok": False, "error_code": 400,
                                          "description": "Bad Request: invalid file_id"},
                                         status=400)
            result = {"file_id": file_id, "file_unique_id": "u" + file_id,
                      "file_size": len(self.files[file_id]), "file_path": f"voice/{file_id}"}
        elif method == "getUpdates":
            offset = int(params.get("offset") or 0)
            self._updates[:] = [u for u in self._updates if u["update_id"] >= offset]
            if not self._updates:
                await asyncio.sleep(0.05)
            result = list(self._updates)
        else:  # answerCallbackQuery, setWebhook, deleteWebhook
            result = True
        return web.json_response({"ok": True, "result": result})


class FakeTwilio(FakeServer):
    """The Messages resource of Twilio's REST API."""

    def __init__(self, auth_token: str = "") -> None:
        super().__init__()
        self.auth_token = auth_token
        self.media: dict[str, tuple[bytes, str]] = {}  # media sid -> content and its type
        self._count = 0
        self.template = json.loads((DATA / "twilio" / "message_created.json").read_text())

    def sent_messages(self) -> list[dict[str, Any]]:
        return [c.params for c in self.calls_to("Messages", answered=True)]

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/2010-04-01/Accounts/{account}/Messages.json", self._create)
        app.router.add_get("/2010-04-01/Accounts/{account}/Messages/{message}/Media/{media}",
                           self._media)
        app.router.add_get("/media-store/{media}", self._stored_media)
        return app

    async def _media(self, request: web.Request) -> web.Response:
        """As Twilio does: with the account's credentials, a redirect to the stored file."""
        self.calls.append(Call("Media", dict(request.match_info), dict(request.headers)))
        expected = "Basic " + base64.b64encode(
            f"{request.match_info['account']}:{self.auth_token}".encode()).decode()
        if request.headers.get("Authorization") != expected:
            return web.json_response({"code": 20003, "status": 401}, status=401)
        if request.match_info["media"] not in self.media:
            return web.json_response({"code": 20404, "status": 404}, status=404)
        raise web.HTTPTemporaryRedirect(f"/media-store/{request.match_info['media']}")

    async def _stored_media(self, request: web.Request) -> web.Response:
        self.calls.append(Call("MediaStore", dict(request.match_info), dict(request.headers)))
        content, content_type = self.media[request.match_info["media"]]
        return web.Response(body=content, content_type=content_type)

    async def _create(self, request: web.Request) -> web.Response:
        params = {k: str(v) for k, v in (await request.post()).items()}
        params["_account"] = request.match_info["account"]
        self.calls.append(Call("Messages", params, dict(request.headers)))
        failure = self._failure("Messages")
        if failure is not None:
            return failure
        self._count += 1
        body = dict(self.template)
        body.update(sid=f"SM{self._count:032x}", account_sid=request.match_info["account"],
                    to=params.get("To"), body=params.get("Body", ""),
                    messaging_service_sid=params.get("MessagingServiceSid"))
        body["from"] = params.get("From")
        return web.json_response(body, status=201)

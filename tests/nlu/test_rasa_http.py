"""RasaNlu against a fake Rasa server on loopback: intents from the server, safety
always local, local fallback when the server fails, no message text in logs."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from bot.nlu.pipeline import LocalNlu
from bot.nlu.rasa_http import RasaNlu

# Where Rasa's answer is expected: time enough on a busy machine (else the local model
# answers instead, and the test fails for the wrong reason).
ANSWER = 10.0


class FakeRasa(BaseHTTPRequestHandler):
    """Answers POST /model/parse the way the test says (class attributes)."""

    mode: ClassVar[str] = "ok"
    intent: ClassVar[dict[str, Any]] = {"name": "need_legal", "confidence": 0.91}
    requests: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        FakeRasa.requests.append({"path": self.path, "json": json.loads(body)})
        if self.mode == "error":
            self.send_response(500)
            self.end_headers()
            return
        if self.mode == "slow":
            time.sleep(1.0)
        if self.mode == "garbage":
            payload = b"<html>oops</html>"
        elif self.mode == "wrong_shape":
            payload = json.dumps({"hello": "world"}).encode()
        else:
            text = json.loads(body)["text"]
            payload = json.dumps(
                {
                    "text": text,
                    "intent": self.intent,
                    "intent_ranking": [self.intent, {"name": "greet", "confidence": 0.05}],
                    "entities": [],
                }
            ).encode()
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout test)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def rasa_url() -> Iterator[str]:
    FakeRasa.mode = "ok"
    FakeRasa.intent = {"name": "need_legal", "confidence": 0.91}
    FakeRasa.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeRasa)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


async def test_intent_comes_from_rasa(rasa_url: str, nlu: LocalNlu) -> None:
    async with RasaNlu(rasa_url + "/", local=nlu, token="s3cret", timeout=ANSWER) as backend:
        result = await backend.parse("ana f casa w bghit nhder m3a chi wa7da")
    assert result.intent == "need_legal" and result.confidence == 0.91
    assert result.intent_ranking[0] == ("need_legal", 0.91)
    assert result.city == "Casablanca"  # local
    assert result.language == "ary_latn"  # local
    request = FakeRasa.requests[0]
    assert request["path"] == "/model/parse?token=s3cret"
    assert request["json"] == {"text": "ana f casa w bghit nhder m3a chi wa7da"}


async def test_safety_stays_local(rasa_url: str, nlu: LocalNlu) -> None:
    FakeRasa.intent = {"name": "greet", "confidence": 0.99}
    async with RasaNlu(rasa_url, local=nlu, timeout=ANSWER) as backend:
        danger = await backend.parse("3teqni rah ghadi yqtlni daba")
        exit_word = await backend.parse("safi")
    assert danger.intent == "greet" and danger.urgent  # Rasa cannot switch urgency off
    assert danger.violence == ("physical",)
    assert exit_word.intent == "quick_exit"


async def test_rasa_emergency_makes_urgent(rasa_url: str, nlu: LocalNlu) -> None:
    FakeRasa.intent = {"name": "emergency", "confidence": 0.8}
    async with RasaNlu(rasa_url, local=nlu, timeout=ANSWER) as backend:
        result = await backend.parse("ok")
    assert result.intent == "emergency" and result.urgent


@pytest.mark.parametrize(
    ("name", "confidence", "expected"),
    [
        ("nlu_fallback", 0.3, "out_of_scope"),
        ("some_other_bot_intent", 0.9, "out_of_scope"),
        ("need_shelter", 0.2, "out_of_scope"),
    ],
)
async def test_unknown_or_unsure_rasa_intents(
    rasa_url: str, nlu: LocalNlu, name: str, confidence: float, expected: str
) -> None:
    FakeRasa.intent = {"name": name, "confidence": confidence}
    async with RasaNlu(rasa_url, local=nlu, timeout=ANSWER) as backend:
        result = await backend.parse("bghit chi 7aja")
    assert result.intent == expected


@pytest.mark.parametrize("mode", ["error", "garbage", "wrong_shape", "slow"])
async def test_falls_back_to_local_without_logging_text(
    rasa_url: str, nlu: LocalNlu, mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    FakeRasa.mode = mode
    text = "bghit m7ami secret-words-7"
    with caplog.at_level(logging.WARNING, logger="bot.nlu.rasa_http"):
        async with RasaNlu(rasa_url, local=nlu, timeout=0.3) as backend:
            result = await backend.parse(text)
    assert result == nlu.parse_sync(text)
    assert any("rasa /model/parse failed" in r.getMessage() for r in caplog.records)
    assert all("secret-words" not in r.getMessage() for r in caplog.records)


async def test_server_down(nlu: LocalNlu, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        async with RasaNlu("http://127.0.0.1:9", local=nlu, timeout=0.5) as backend:
            result = await backend.parse("j'ai besoin d'un avocat")
    assert result.intent == "need_legal"
    assert "ConnectError" in caplog.text
